import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

/**
 * What campaigns and coupons read from the audience module's tables (contacts, groups,
 * custom fields). Kept in one place, as SQL, so the audience module's own types stay its own.
 */
export function createAudienceReader(db: Kysely<DB>) {
  return {
    async contactExists(accountId: string, contactId: string): Promise<boolean> {
      const result = await sql`SELECT 1 FROM contacts WHERE account_id = ${accountId} AND id = ${contactId}`.execute(db);
      return result.rows.length > 0;
    },
    /** Lower-cased custom field names of the account, with their ids. */
    async customFields(accountId: string): Promise<Map<string, string>> {
      const result = await sql<{ id: string; name: string }>`SELECT id, name FROM custom_fields WHERE account_id = ${accountId}`.execute(db);
      return new Map(result.rows.map((r) => [r.name.toLowerCase(), r.id]));
    },
    /** The ids among `groupIds` that are not groups of the account. */
    async unknownGroups(accountId: string, groupIds: readonly string[]): Promise<string[]> {
      if (groupIds.length === 0) return [];
      const result = await sql<{ id: string }>`SELECT id FROM groups WHERE account_id = ${accountId} AND id = ANY(${[...groupIds]}::uuid[])`.execute(db);
      const known = new Set(result.rows.map((r) => r.id));
      return groupIds.filter((id) => !known.has(id));
    },
  };
}
export type AudienceReader = ReturnType<typeof createAudienceReader>;
