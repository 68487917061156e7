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
  // Ties break by creation order, in the direction of the last sort key: seq is unique within
  // the account, so an index ending in seq (such as (account_id, reward_points, seq)) serves
  // the filter and the sort on its column, scanned forwards or backwards.
  if (!query.sort.some(({ field }) => field === 'created_at')) {
    parts.push(sql`${sql.ref(`${alias}.seq`)} ${sql.raw(query.sort.at(-1)?.desc ? 'DESC' : 'ASC')}`);
  }
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

/**
 * The list's total as one SQL expression. Unfiltered, it is the account's counter (contact_counts,
 * kept by triggers in the same transaction as each insert and delete), so it never scans the
 * table; a group's total counts its memberships by index; other filters count the matches.
 */
function totalSql(accountId: string, filters: ContactFilters): RawBuilder<unknown> {
  const filtered = filters.phoneNumber !== undefined || filters.rewardPoints !== undefined || filters.fields.length > 0;
  if (!filtered && filters.groupId === undefined) {
    return sql`coalesce((SELECT n.contacts FROM contact_counts n WHERE n.account_id = ${accountId}), 0)`;
  }
  if (!filtered) return sql`(SELECT count(*) FROM contact_groups g WHERE g.group_id = ${filters.groupId} AND g.account_id = ${accountId})`;
  if (filters.fields.length === 1 && filters.phoneNumber === undefined && filters.rewardPoints === undefined && filters.groupId === undefined) {
    // One custom field: its values carry the account, so the count is one index-only range.
    const [f] = filters.fields;
    return sql`(SELECT count(*) FROM contact_field_values v WHERE v.field_id = ${f!.fieldId} AND v.value = ${f!.value} AND v.account_id = ${accountId})`;
  }
  return sql`(SELECT count(*) FROM contacts c WHERE ${whereSql(accountId, filters)})`;
}

export function createContactsRepo(db: Kysely<DB>) {
  return {
    /**
     * One page and the list's total, in one statement (one round trip). The unfiltered list in
     * creation order (the default) jumps straight to its page through seq and contact_seq_at
     * (migration 0009), so any depth costs the same; otherwise the ids are chosen first from the
     * narrow indexes (a deep OFFSET then skips index entries, not rows) and only the page is
     * read in full.
     */
    async list(accountId: string, filters: ContactFilters, query: ListQuery): Promise<{ rows: ContactRow[]; total: number }> {
      const [sort] = query.sort;
      let page: RawBuilder<unknown>;
      if (isUnfiltered(filters) && query.sort.length === 1 && sort?.field === 'created_at') {
        const position = sort.desc ? sql`t.list_total - 1 - ${query.offset}` : sql`${query.offset}`;
        page = sql`LATERAL (
          SELECT c.* FROM contacts c
          WHERE t.list_total > ${query.offset}
            AND c.account_id = ${accountId}
            AND c.seq ${sql.raw(sort.desc ? '<=' : '>=')} contact_seq_at(${accountId}::uuid, (${position})::bigint)
          ORDER BY c.seq ${sql.raw(sort.desc ? 'DESC' : 'ASC')}
          LIMIT ${query.limit})`;
      } else {
        page = sql`(
          SELECT c.* FROM contacts c
          JOIN (
            SELECT c.id FROM contacts c
            WHERE ${whereSql(accountId, filters)}
            ORDER BY ${orderSql(query, 'c')}
            LIMIT ${query.limit} OFFSET ${query.offset}
          ) ids ON ids.id = c.id)`;
      }
      const result = await sql<ContactRow & { list_total: number }>`
        SELECT t.list_total, p.*
        FROM (SELECT ${totalSql(accountId, filters)} AS list_total) t
        LEFT JOIN ${page} p ON true
        ORDER BY ${orderSql(query, 'p')}`.execute(db);
      const first = result.rows[0];
      const total = Number(first?.list_total ?? 0);
      const rows: ContactRow[] = [];
      for (const { list_total: _total, ...row } of result.rows) if (row.id !== null) rows.push(row);
      return { rows, total };
    },

    findById(accountId: string, id: string) {
      return db.selectFrom('contacts').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },

    findByPhones(accountId: string, phones: readonly string[]) {
      if (phones.length === 0) return Promise.resolve([]);
      return db.selectFrom('contacts').select(['id', 'phone_number', 'status']).where('account_id', '=', accountId).where('phone_number', 'in', phones).execute();
    },

    /**
     * Inserts unless the number is already a contact of the account (then returns undefined),
     * allocating its creation sequence number in the same statement. The allocation locks the
     * account's counter row until commit, so call this late in the transaction; a caller that
     * gets undefined must roll back (the number allocated would otherwise be an unrecorded gap).
     */
    insertWithNewSeq(row: Omit<NewContactRow, 'seq'>) {
      return db
        .with('allocated', (qb) =>
          qb
            .insertInto('contact_counts')
            .values({ account_id: row.account_id, contacts: 0, next_seq: 1 })
            .onConflict((oc) => oc.column('account_id').doUpdateSet({ next_seq: sql`contact_counts.next_seq + 1` }))
            .returning('next_seq'),
        )
        .insertInto('contacts')
        .values({ ...row, seq: sql<number>`(SELECT next_seq FROM allocated)` })
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
