import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import type { FieldType } from './fields.tables.js';

const COLUMNS: ColumnMap = { name: 'name', type: 'type', created_at: 'created_at', updated_at: 'updated_at' };

export type FieldsRepo = ReturnType<typeof createFieldsRepo>;

export function createFieldsRepo(db: Kysely<DB>) {
  return {
    async list(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('custom_fields').where('account_id', '=', accountId), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      const total = await countRows(base);
      return { rows, total };
    },
    all(accountId: string) {
      return db.selectFrom('custom_fields').selectAll().where('account_id', '=', accountId).orderBy('name').execute();
    },
    findById(accountId: string, id: string) {
      return db.selectFrom('custom_fields').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },
    findByName(accountId: string, name: string) {
      return db
        .selectFrom('custom_fields')
        .selectAll()
        .where('account_id', '=', accountId)
        .where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase()))
        .executeTakeFirst();
    },
    insert(row: { id: string; accountId: string; name: string; type: FieldType }) {
      return db
        .insertInto('custom_fields')
        .values({ id: row.id, account_id: row.accountId, name: row.name, type: row.type })
        .returningAll()
        .executeTakeFirstOrThrow();
    },
    rename(accountId: string, id: string, name: string) {
      return db
        .updateTable('custom_fields')
        .set({ name, updated_at: new Date() })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst();
    },
    async remove(accountId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('custom_fields').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
