import { sql, type Kysely } from 'kysely';
import type { DB } from '../src/db/tables.js';
import { newId } from '../src/lib/ids.js';
import { allocateSeq } from '../src/modules/contacts/contacts.repo.js';

/**
 * Set-based audience fixtures for campaign tests: contacts are inserted by generate_series in
 * SQL (a 100,000-contact audience takes a second), straight into the audience module's tables.
 */
export interface ContactSeed {
  count: number;
  /** Phone numbers are +1 555 PPP NNNN with this 3-digit prefix, plus the index. */
  prefix?: string;
  status?: 'pending' | 'subscribed' | 'unsubscribed';
  carrierStatus?: 'active' | 'suspended' | 'deactivated';
  bounces?: number;
  firstName?: string | null;
  timezone?: string | null;
  groupId?: string;
}

export async function insertContacts(db: Kysely<DB>, accountId: string, seed: ContactSeed): Promise<void> {
  const prefix = seed.prefix ?? '200';
  const first = await allocateSeq(db, accountId, seed.count);
  await sql`
    INSERT INTO contacts (id, account_id, phone_number, first_name, status, carrier_status, bounces, timezone, seq, created_at, updated_at)
    SELECT gen_random_uuid(), ${accountId}::uuid, '+1555' || ${prefix}::text || lpad(g::text, 4, '0'), ${seed.firstName ?? null}::text,
           ${seed.status ?? 'subscribed'}::text, ${seed.carrierStatus ?? 'active'}::text, ${seed.bounces ?? 0}::int, ${seed.timezone ?? null}::text,
           ${first}::bigint + g - 1, now() - interval '1 minute', now() - interval '1 minute'
    FROM generate_series(1, ${seed.count}::int) AS g`.execute(db);
  if (seed.groupId) {
    await sql`INSERT INTO contact_groups (contact_id, group_id, account_id, created_at)
              SELECT id, ${seed.groupId}::uuid, account_id, now() - interval '1 minute' FROM contacts
              WHERE account_id = ${accountId} AND phone_number LIKE ${`+1555${prefix}%`}
              ON CONFLICT DO NOTHING`.execute(db);
  }
}

/** Contacts beyond 9,999 per prefix: numbers +1 NNNNNNNNNN from a 10-digit series. */
export async function insertManyContacts(db: Kysely<DB>, accountId: string, count: number, groupId: string, batch = 50_000): Promise<void> {
  for (let start = 0; start < count; start += batch) {
    const n = Math.min(batch, count - start);
    const first = await allocateSeq(db, accountId, n);
    await sql`
      WITH c AS (
        INSERT INTO contacts (id, account_id, phone_number, first_name, status, seq, created_at, updated_at)
        SELECT gen_random_uuid(), ${accountId}::uuid, '+1' || (2000000000 + g)::text, 'C' || g::text, 'subscribed', ${first - start - 1}::bigint + g, now() - interval '1 minute', now() - interval '1 minute'
        FROM generate_series(${start + 1}::int, ${start + n}::int) AS g
        RETURNING id, account_id)
      INSERT INTO contact_groups (contact_id, group_id, account_id, created_at)
      SELECT id, ${groupId}::uuid, account_id, now() - interval '1 minute' FROM c`.execute(db);
  }
}

export async function createGroup(db: Kysely<DB>, accountId: string, name: string): Promise<string> {
  const id = newId();
  await db.insertInto('groups').values({ id, account_id: accountId, name, join_message: null, optin_id: null, keyword: null, keyword_created_at: null }).execute();
  return id;
}

export async function addToGroup(db: Kysely<DB>, groupId: string, phonePrefix: string, accountId: string): Promise<void> {
  await sql`INSERT INTO contact_groups (contact_id, group_id, account_id, created_at)
            SELECT id, ${groupId}::uuid, account_id, now() - interval '1 minute' FROM contacts
            WHERE account_id = ${accountId} AND phone_number LIKE ${`+1555${phonePrefix}%`}
            ON CONFLICT DO NOTHING`.execute(db);
}

export async function contactIds(db: Kysely<DB>, accountId: string, phonePrefix: string): Promise<string[]> {
  const rows = await sql<{ id: string }>`SELECT id FROM contacts WHERE account_id = ${accountId} AND phone_number LIKE ${`+1555${phonePrefix}%`} ORDER BY id`.execute(db);
  return rows.rows.map((r) => r.id);
}
