import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';

const COLUMNS: ColumnMap = { name: 'name', enabled: 'enabled', created_at: 'created_at', updated_at: 'updated_at' };

export type OptInsRepo = ReturnType<typeof createOptInsRepo>;

/** Opt-ins are the product's reference data, shared by every account: no account scope. */
export function createOptInsRepo(db: Kysely<DB>) {
  return {
    async list(query: ListQuery) {
      const base = applyFilters(db.selectFrom('opt_ins'), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      const total = await countRows(base);
      return { rows, total };
    },
    findById(id: string) {
      return db.selectFrom('opt_ins').selectAll().where('id', '=', id).executeTakeFirst();
    },
    findByIds(ids: readonly string[]) {
      if (ids.length === 0) return Promise.resolve([]);
      return db.selectFrom('opt_ins').selectAll().where('id', 'in', ids).execute();
    },
  };
}
