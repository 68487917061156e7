import { sql, type Kysely, type Updateable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import type { GroupsTable } from './groups.tables.js';

const COLUMNS: ColumnMap = { name: 'name', keyword: 'keyword_upper', created_at: 'created_at', updated_at: 'updated_at' };

export type GroupsRepo = ReturnType<typeof createGroupsRepo>;
export type GroupRow = Awaited<ReturnType<GroupsRepo['findById']>> & object;

export function createGroupsRepo(db: Kysely<DB>) {
  return {
    async list(accountId: string, query: ListQuery) {
      // keyword filters compare upper-cased (keywords are case-insensitive).
      const upperQuery = { ...query, filters: query.filters.map((f) => (f.field === 'keyword' ? { ...f, value: String(f.value).toUpperCase() } : f)) };
      const scoped = db
        .selectFrom((eb) => eb.selectFrom('groups').selectAll().select(sql<string>`upper(keyword)`.as('keyword_upper')).where('account_id', '=', accountId).as('g'));
      const base = applyFilters(scoped, upperQuery, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), upperQuery, COLUMNS, 'id').execute();
      const total = await countRows(base);
      return { rows, total };
    },
    findById(accountId: string, id: string) {
      return db.selectFrom('groups').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },
    findByIds(accountId: string, ids: readonly string[]) {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('groups').selectAll().where('account_id', '=', accountId).where('id', 'in', ids).execute();
    },
    findByKeyword(accountId: string, keyword: string) {
      return db
        .selectFrom('groups')
        .select(['id'])
        .where('account_id', '=', accountId)
        .where(sql<boolean>`upper(keyword) = ${keyword.toUpperCase()}`)
        .executeTakeFirst();
    },
    insert(row: {
      id: string;
      account_id: string;
      name: string;
      join_message: string | null;
      one_time_message: boolean;
      always_send_join: boolean;
      social_profiling: boolean;
      email_new_contact: boolean;
      optin_id: string | null;
      keyword: string | null;
      keyword_created_at: Date | null;
    }) {
      return db.insertInto('groups').values(row).returningAll().executeTakeFirstOrThrow();
    },
    update(accountId: string, id: string, changes: Updateable<GroupsTable>) {
      return db.updateTable('groups').set(changes).where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirst();
    },
  };
}
