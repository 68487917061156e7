import { sql, type Kysely, type RawBuilder, type Selectable, type Updateable } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { ListQuery } from '../../http/list-query.js';
import type { ContactsTable } from './contacts.tables.js';

/** Public sort names to columns of the contacts table (nothing else from the query reaches SQL). */
// created_at sorts by seq, its creation order (the same order: see migration 0002, without ties).
const SORT_COLUMNS: Record<string, string> = {
  created_at: 'seq',
  updated_at: 'updated_at',
  phone_number: 'phone_number',
  first_name: 'first_name',
  last_name: 'last_name',
  reward_points: 'reward_points',
};

export interface ContactFilters {
  phoneNumber?: string | undefined;
  rewardPoints?: number | undefined;
  /** Custom-field filters: field id and canonical value. */
  fields: Array<{ fieldId: string; value: string }>;
  groupId?: string | undefined;
}

export type ContactsRepo = ReturnType<typeof createContactsRepo>;
export type ContactRow = Selectable<ContactsTable>;

export interface NewContactRow {
  id: string;
  seq: number;
  account_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  gender: string | null;
  birth_date: string | null;
  address: string | null;
  city: string | null;
  state: string | null;
  zip: string | null;
  reward_points: number;
  timezone: string | null;
  carrier_id: string | null;
  opt_in_id: string | null;
  source: string;
}

function whereSql(accountId: string, filters: ContactFilters): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`c.account_id = ${accountId}`];
  if (filters.phoneNumber !== undefined) parts.push(sql`c.phone_number = ${filters.phoneNumber}`);
  if (filters.rewardPoints !== undefined) parts.push(sql`c.reward_points = ${filters.rewardPoints}`);
  if (filters.groupId !== undefined) {
    parts.push(sql`EXISTS (SELECT 1 FROM contact_groups g WHERE g.contact_id = c.id AND g.group_id = ${filters.groupId})`);
  }
  for (const f of filters.fields) {
    parts.push(sql`EXISTS (SELECT 1 FROM contact_field_values v WHERE v.contact_id = c.id AND v.field_id = ${f.fieldId} AND v.value = ${f.value})`);
  }
  return sql.join(parts, sql` AND `);
}

function orderSql(query: ListQuery, alias: string): RawBuilder<unknown> {
  const parts = query.sort.map(({ field, desc }) => {
    const column = SORT_COLUMNS[field];
    if (!column) throw new Error(`No column mapped for sort ${field}`);
    return sql`${sql.ref(`${alias}.${column}`)} ${sql.raw(desc ? 'DESC' : 'ASC')}`;
  });
  parts.push(sql`${sql.ref(`${alias}.id`)} ASC`);
  return sql.join(parts, sql`, `);
}

const isUnfiltered = (f: ContactFilters) => f.phoneNumber === undefined && f.rewardPoints === undefined && f.fields.length === 0 && f.groupId === undefined;

/** Allocates `count` creation sequence numbers for the account; returns the first. */
export async function allocateSeq(db: Kysely<DB>, accountId: string, count: number): Promise<number> {
  const result = await sql<{ next_seq: number }>`
    INSERT INTO contact_counts AS c (account_id, contacts, next_seq) VALUES (${accountId}, 0, ${count})
    ON CONFLICT (account_id) DO UPDATE SET next_seq = c.next_seq + ${count}
    RETURNING next_seq`.execute(db);
  return Number(result.rows[0]!.next_seq) - count + 1;
}

export function createContactsRepo(db: Kysely<DB>) {
  /**
   * The seq of the contact at 0-based position `position` in creation order: the least s with
   * s - gaps(<= s) = position + 1. Iterating s = position + 1 + gaps(<= s) from below reaches it
   * in a few index-only counts; null when the gaps are too many to converge quickly.
   */
  async function seqAtPosition(accountId: string, position: number): Promise<number | null> {
    let gaps = 0;
    for (let i = 0; i < 8; i++) {
      const candidate = position + 1 + gaps;
      const row = await sql<{ n: number }>`SELECT count(*) AS n FROM contact_seq_gaps WHERE account_id = ${accountId} AND seq <= ${candidate}`.execute(db);
      const counted = Number(row.rows[0]?.n ?? 0);
      if (counted === gaps) return candidate;
      gaps = counted;
    }
    return null;
  }

  async function fastPage(accountId: string, query: ListQuery, total: number): Promise<ContactRow[] | null> {
    const [sort] = query.sort;
    if (query.sort.length !== 1 || sort?.field !== 'created_at') return null;
    if (query.offset >= total) return [];
    const position = sort.desc ? total - 1 - query.offset : query.offset;
    const seq = await seqAtPosition(accountId, position);
    if (seq === null) return null;
    return db
      .selectFrom('contacts')
      .selectAll()
      .where('account_id', '=', accountId)
      .where('seq', sort.desc ? '<=' : '>=', seq)
      .orderBy('seq', sort.desc ? 'desc' : 'asc')
      .limit(query.limit)
      .execute();
  }

  return {
    /**
     * One page. The unfiltered list in creation order (the default) jumps straight to its page
     * through seq (any depth costs the same); otherwise the ids are chosen first from the narrow
     * indexes (a deep OFFSET then skips index entries, not rows) and only the page is read in full.
     */
    /** `total` is the list's total (from `total()`), which the creation-order jump needs. */
    async page(accountId: string, filters: ContactFilters, query: ListQuery, total: number): Promise<ContactRow[]> {
      if (isUnfiltered(filters)) {
        const rows = await fastPage(accountId, query, total);
        if (rows) return rows;
      }
      const result = await sql<ContactRow>`
        SELECT c.* FROM contacts c
        JOIN (
          SELECT c.id FROM contacts c
          WHERE ${whereSql(accountId, filters)}
          ORDER BY ${orderSql(query, 'c')}
          LIMIT ${query.limit} OFFSET ${query.offset}
        ) p ON p.id = c.id
        ORDER BY ${orderSql(query, 'c')}`.execute(db);
      return result.rows;
    },

    /**
     * The total for a list. Unfiltered, it is the account's counter (contact_counts, kept by
     * triggers in the same transaction as each insert and delete), so it never scans the table;
     * a group's total counts its memberships by index; other filters count the matches.
     */
    async total(accountId: string, filters: ContactFilters): Promise<number> {
      const filtered = filters.phoneNumber !== undefined || filters.rewardPoints !== undefined || filters.fields.length > 0;
      if (!filtered && filters.groupId === undefined) {
        const row = await db.selectFrom('contact_counts').select('contacts').where('account_id', '=', accountId).executeTakeFirst();
        return Number(row?.contacts ?? 0);
      }
      if (!filtered && filters.groupId !== undefined) {
        const row = await sql<{ n: number }>`SELECT count(*) AS n FROM contact_groups WHERE group_id = ${filters.groupId} AND account_id = ${accountId}`.execute(db);
        return Number(row.rows[0]?.n ?? 0);
      }
      const row = await sql<{ n: number }>`SELECT count(*) AS n FROM contacts c WHERE ${whereSql(accountId, filters)}`.execute(db);
      return Number(row.rows[0]?.n ?? 0);
    },

    findById(accountId: string, id: string) {
      return db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },

    findByPhones(accountId: string, phones: readonly string[]) {
      if (phones.length === 0) return Promise.resolve([]);
      return db.selectFrom('contacts').select(['id', 'phone_number', 'status']).where('account_id', '=', accountId).where('phone_number', 'in', phones).execute();
    },

    /** Inserts unless the number is already a contact of the account (then returns undefined). */
    insert(row: NewContactRow) {
      return db
        .insertInto('contacts')
        .values(row)
        .onConflict((oc) => oc.columns(['account_id', 'phone_number']).doNothing())
        .returningAll()
        .executeTakeFirst();
    },

    update(accountId: string, id: string, changes: Updateable<ContactsTable>) {
      return db.updateTable('contacts').set(changes).where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirst();
    },

    async remove(accountId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('contacts').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    unsubscribe(accountId: string, phones: readonly string[], at: Date) {
      return db
        .updateTable('contacts')
        .set({ status: 'unsubscribed', unsubscribed_at: at, updated_at: at })
        .where('account_id', '=', accountId)
        .where('phone_number', 'in', phones)
        .where('status', '!=', 'unsubscribed')
        .returning(['id', 'phone_number'])
        .execute();
    },

    async addGroups(accountId: string, contactId: string, groupIds: readonly string[]): Promise<void> {
      if (groupIds.length === 0) return;
      await db
        .insertInto('contact_groups')
        .values(groupIds.map((groupId) => ({ contact_id: contactId, group_id: groupId, account_id: accountId })))
        .onConflict((oc) => oc.columns(['contact_id', 'group_id']).doNothing())
        .execute();
    },

    async setGroups(accountId: string, contactId: string, groupIds: readonly string[]): Promise<void> {
      let del = db.deleteFrom('contact_groups').where('account_id', '=', accountId).where('contact_id', '=', contactId);
      if (groupIds.length > 0) del = del.where('group_id', 'not in', groupIds);
      await del.execute();
      if (groupIds.length > 0) {
        await db
          .insertInto('contact_groups')
          .values(groupIds.map((groupId) => ({ contact_id: contactId, group_id: groupId, account_id: accountId })))
          .onConflict((oc) => oc.columns(['contact_id', 'group_id']).doNothing())
          .execute();
      }
    },

    async removeGroup(accountId: string, contactId: string, groupId: string): Promise<boolean> {
      const result = await db
        .deleteFrom('contact_groups')
        .where('account_id', '=', accountId)
        .where('contact_id', '=', contactId)
        .where('group_id', '=', groupId)
        .executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async setFieldValues(accountId: string, contactId: string, values: ReadonlyArray<{ fieldId: string; value: string | null }>): Promise<void> {
      const remove = values.filter((v) => v.value === null).map((v) => v.fieldId);
      const upsert = values.filter((v): v is { fieldId: string; value: string } => v.value !== null);
      if (remove.length > 0) {
        await db.deleteFrom('contact_field_values').where('contact_id', '=', contactId).where('field_id', 'in', remove).execute();
      }
      if (upsert.length > 0) {
        await db
          .insertInto('contact_field_values')
          .values(upsert.map((v) => ({ contact_id: contactId, field_id: v.fieldId, account_id: accountId, value: v.value })))
          .onConflict((oc) => oc.columns(['contact_id', 'field_id']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
          .execute();
      }
    },

    groupsOf(accountId: string, contactIds: readonly string[]) {
      if (contactIds.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('contact_groups as cg')
        .innerJoin('groups as g', 'g.id', 'cg.group_id')
        .selectAll('g')
        .select('cg.contact_id')
        .where('cg.account_id', '=', accountId)
        .where('cg.contact_id', 'in', contactIds)
        .orderBy('g.created_at')
        .orderBy('g.id')
        .execute();
    },

    fieldValuesOf(accountId: string, contactIds: readonly string[]) {
      if (contactIds.length === 0) return Promise.resolve([]);
      return db
        .selectFrom('contact_field_values as v')
        .innerJoin('custom_fields as f', 'f.id', 'v.field_id')
        .select(['v.contact_id', 'v.value', 'f.name', 'f.type'])
        .where('v.account_id', '=', accountId)
        .where('v.contact_id', 'in', contactIds)
        .orderBy('f.name')
        .execute();
    },

    carriersByIds(ids: readonly string[]) {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('carriers').selectAll().where('id', 'in', ids).execute();
    },
  };
}
