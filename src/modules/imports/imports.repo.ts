import { sql, type Kysely, type Updateable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import type { ContactImportsTable, ImportOutcome } from './imports.tables.js';

export type ImportsRepo = ReturnType<typeof createImportsRepo>;
export type ImportRecord = Awaited<ReturnType<ImportsRepo['findById']>> & object;

export interface RowOutcome {
  row: number;
  outcome: ImportOutcome;
  phoneNumber: string | null;
  contactId: string | null;
  message: string | null;
}

const LIST_COLUMNS: ColumnMap = { status: 'status', created_at: 'created_at', updated_at: 'updated_at' };
const ROW_COLUMNS: ColumnMap = { outcome: 'outcome', row: 'row_number' };

export function createImportsRepo(db: Kysely<DB>) {
  return {
    insert(row: { id: string; accountId: string; format: 'csv' | 'ndjson'; validateOnly: boolean; updateExisting: boolean; groupIds: string[] }) {
      return db
        .insertInto('contact_imports')
        .values({
          id: row.id,
          account_id: row.accountId,
          status: 'receiving',
          format: row.format,
          validate_only: row.validateOnly,
          update_existing: row.updateExisting,
          group_ids: row.groupIds,
          error: null,
          lease_until: null,
          started_at: null,
          completed_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    findById(accountId: string, id: string) {
      return db.selectFrom('contact_imports').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },

    /** For the worker: the import by id alone (the job payload carries only the id). */
    findForProcessing(id: string) {
      return db.selectFrom('contact_imports').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async list(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('contact_imports').where('account_id', '=', accountId), query, LIST_COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, LIST_COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },

    async rows(importId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('contact_import_rows').where('import_id', '=', importId), query, ROW_COLUMNS);
      const rows = await applySortAndPage(base.select(['row_number', 'phone_number', 'outcome', 'contact_id', 'message']), query, ROW_COLUMNS, 'row_number').execute();
      return { rows, total: await countRows(base) };
    },

    async update(id: string, changes: Updateable<ContactImportsTable>): Promise<void> {
      await db.updateTable('contact_imports').set(changes).where('id', '=', id).execute();
    },

    async setColumns(id: string, columns: string[]): Promise<void> {
      await db.updateTable('contact_imports').set({ columns }).where('id', '=', id).execute();
    },

    async removeStale(accountId: string, before: Date): Promise<void> {
      await db.deleteFrom('contact_imports').where('account_id', '=', accountId).where('status', '=', 'receiving').where('updated_at', '<', before).execute();
    },

    async remove(id: string): Promise<void> {
      await db.deleteFrom('contact_imports').where('id', '=', id).execute();
    },

    /** Stores received rows in one multi-row INSERT. */
    async stageRows(importId: string, rows: ReadonlyArray<{ row: number; data: string }>): Promise<void> {
      if (rows.length === 0) return;
      await db
        .insertInto('contact_import_rows')
        .values(rows.map((r) => ({ import_id: importId, row_number: r.row, data: r.data, phone_number: null, outcome: null, contact_id: null, message: null })))
        .execute();
    },

    nextRows(importId: string, after: number, limit: number) {
      return db
        .selectFrom('contact_import_rows')
        .select(['row_number', 'data'])
        .where('import_id', '=', importId)
        .where('row_number', '>', after)
        .orderBy('row_number')
        .limit(limit)
        .execute();
    },

    /** Records the outcome of a batch of rows in one statement, dropping their raw data. */
    async recordOutcomes(importId: string, outcomes: readonly RowOutcome[]): Promise<void> {
      if (outcomes.length === 0) return;
      const values = sql.join(outcomes.map((o) => sql`(${o.row}::int, ${o.outcome}::text, ${o.phoneNumber}::text, ${o.contactId}::uuid, ${o.message}::text)`));
      await sql`UPDATE contact_import_rows r
                SET outcome = v.outcome, phone_number = v.phone_number, contact_id = v.contact_id, message = v.message, data = NULL
                FROM (VALUES ${values}) AS v(row_number, outcome, phone_number, contact_id, message)
                WHERE r.import_id = ${importId} AND r.row_number = v.row_number`.execute(db);
    },

    /** validate_only: marks numbers seen; returns those seen for the first time. */
    async markSeen(importId: string, phones: ReadonlyArray<{ phone: string; row: number }>): Promise<Set<string>> {
      if (phones.length === 0) return new Set();
      const rows = await db
        .insertInto('contact_import_seen')
        .values(phones.map((p) => ({ import_id: importId, phone_number: p.phone, row_number: p.row })))
        .onConflict((oc) => oc.columns(['import_id', 'phone_number']).doNothing())
        .returning('phone_number')
        .execute();
      return new Set(rows.map((r) => r.phone_number));
    },

    async clearSeen(importId: string): Promise<void> {
      await db.deleteFrom('contact_import_seen').where('import_id', '=', importId).execute();
    },

    async advance(id: string, cursor: number, counts: { created: number; updated: number; skipped: number; invalid: number }): Promise<void> {
      await db
        .updateTable('contact_imports')
        .set((eb) => ({
          cursor,
          created: eb('created', '+', counts.created),
          updated: eb('updated', '+', counts.updated),
          skipped: eb('skipped', '+', counts.skipped),
          invalid: eb('invalid', '+', counts.invalid),
          updated_at: new Date(),
        }))
        .where('id', '=', id)
        .execute();
    },
  };
}
