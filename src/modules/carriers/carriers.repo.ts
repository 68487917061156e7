import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';

const COLUMNS: ColumnMap = { name: 'name', country: 'country', created_at: 'created_at', updated_at: 'updated_at' };

export type CarriersRepo = ReturnType<typeof createCarriersRepo>;

/** Carriers are reference data shared by every account, so these queries have no account scope. */
export function createCarriersRepo(db: Kysely<DB>) {
  return {
    async list(query: ListQuery) {
      const base = applyFilters(db.selectFrom('carriers'), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      const total = await countRows(base);
      return { rows, total };
    },
    /** The whole table: bounded reference data (a few hundred rows at most). */
    listAll() {
      return db.selectFrom('carriers').selectAll().orderBy('name').limit(10_000).execute();
    },
    findById(id: string) {
      return db.selectFrom('carriers').selectAll().where('id', '=', id).executeTakeFirst();
    },
    findByName(name: string) {
      return db.selectFrom('carriers').selectAll().where((eb) => eb(eb.fn('lower', ['name']), '=', name.toLowerCase())).executeTakeFirst();
    },
  };
}
