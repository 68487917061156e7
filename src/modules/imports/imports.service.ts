import type { Readable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import secureJsonParse from 'secure-json-parse';
import type { DB } from '../../db/tables.js';
import type { ListQuery } from '../../http/list-query.js';
import { createJobsRepo } from '../../jobs/jobs.repo.js';
import { AppError, NotFoundError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parsePhone } from '../../lib/phone.js';
import { formatDate } from '../../lib/time.js';
import { checkAttributes, CONTACT_EXISTS, type ContactAttributes } from '../contacts/contacts.service.js';
import { allocateSeq, type NewContactRow } from '../contacts/contacts.repo.js';
import type { FieldsService } from '../fields/fields.service.js';
import { encodeFieldValue } from '../fields/fields.values.js';
import type { FieldType } from '../fields/fields.tables.js';
import type { GroupsService } from '../groups/groups.service.js';
import { DOUBLE_OPT_IN_ID } from '../optins/optins.seed.js';
import type { PhoneNumbersService } from '../phone-numbers/phone-numbers.service.js';
import { ImportFileError, MAX_IMPORT_ROWS, readRecords } from './imports.parse.js';
import { createImportsRepo, type ImportRecord, type RowOutcome } from './imports.repo.js';
import type { Import, ImportRow } from './imports.schema.js';

export const IMPORT_JOB = 'contacts.import';
export const STAGE_BATCH = 1000;
export const PROCESS_BATCH = 1000;

export type ImportsService = ReturnType<typeof createImportsService>;

/** The contact columns a CSV header may name (besides custom fields). */
const STANDARD_COLUMNS = ['phone_number', 'first_name', 'last_name', 'email', 'gender', 'birth_date', 'address', 'city', 'state', 'zip', 'reward_points', 'timezone'] as const;
const COLUMN_ALIASES: Record<string, string> = { phone: 'phone_number', mobile: 'phone_number', phonenumber: 'phone_number' };

export const toImport = (row: ImportRecord): Import => ({
  id: row.id,
  status: row.status,
  format: row.format,
  validate_only: row.validate_only,
  update_existing: row.update_existing,
  group_ids: row.group_ids,
  columns: row.columns,
  total_rows: row.total_rows,
  processed_rows: row.cursor,
  created: row.created,
  updated: row.updated,
  skipped: row.skipped,
  invalid: row.invalid,
  error: row.error,
  started_at: formatDate(row.started_at),
  completed_at: formatDate(row.completed_at),
  created_at: formatDate(row.created_at),
  updated_at: formatDate(row.updated_at),
});

type FieldDefs = Map<string, { id: string; name: string; type: FieldType }>;

interface CheckedRow {
  row: number;
  phone: string;
  attrs: ContactAttributes;
  fields: Array<{ fieldId: string; value: string }>;
  carrierId: string | null;
  timezone: string | null;
}

interface CheckedBatch {
  outcomes: RowOutcome[];
  valid: CheckedRow[];
  lastRow: number;
}

const describeErrors = (errors: FieldErrors) =>
  Object.entries(errors)
    .map(([field, messages]) => `${field}: ${messages.join(' ')}`)
    .join('; ')
    .slice(0, 1000);

export function createImportsService(deps: {
  db: Kysely<DB>;
  fields: FieldsService;
  groups: GroupsService;
  phoneNumbers: PhoneNumbersService;
  now?: () => Date;
  /** Rows one import may have (MAX_IMPORT_ROWS; lower in tests). */
  maxRows?: number;
  /** Bytes one upload may have (MAX_IMPORT_BYTES by default); more is a 413. */
  maxBytes?: number;
}) {
  const now = deps.now ?? (() => new Date());
  const maxRows = deps.maxRows ?? MAX_IMPORT_ROWS;
  const repo = createImportsRepo(deps.db);

  /** Maps a CSV header row to canonical column names; unknown columns refuse the file. */
  function mapHeader(header: string[], defs: FieldDefs): string[] {
    const columns: string[] = [];
    const errors: FieldErrors = {};
    header.forEach((raw, index) => {
      const name = raw.trim().toLowerCase().replace(/\s+/g, '_');
      const standard = COLUMN_ALIASES[name] ?? name;
      if ((STANDARD_COLUMNS as readonly string[]).includes(standard)) {
        if (columns.includes(standard)) errors[`header.${index + 1}`] = [`The column "${raw}" appears twice.`];
        columns.push(standard);
        return;
      }
      const fieldName = name.startsWith('fields.') ? name.slice('fields.'.length) : name;
      const def = defs.get(fieldName);
      if (def) {
        columns.push(`fields.${def.name}`);
        return;
      }
      if (name === '') columns.push('');
      else errors[`header.${index + 1}`] = [`Unknown column "${raw.slice(0, 100)}": use a contact attribute (${STANDARD_COLUMNS.join(', ')}) or a custom field name.`];
    });
    if (!columns.includes('phone_number')) errors.header = ['The header row must have a phone_number column.'];
    if (Object.keys(errors).length > 0) throw new AppError(400, 'The CSV header row is not understood.', errors);
    return columns;
  }

  /** One staged row to the API-shaped input it stands for. */
  function rowInput(format: 'csv' | 'ndjson', columns: readonly string[], data: string): { input?: Record<string, unknown>; error?: string } {
    if (format === 'ndjson') {
      try {
        const value: unknown = secureJsonParse.parse(data, undefined, { protoAction: 'error', constructorAction: 'error' });
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return { error: 'The line must be a JSON object.' };
        return { input: value as Record<string, unknown> };
      } catch {
        return { error: 'The line is not valid JSON.' };
      }
    }
    const cells = JSON.parse(data) as string[];
    if (cells.length !== columns.length) return { error: `The row has ${cells.length} values; the header has ${columns.length} columns.` };
    const input: Record<string, unknown> = {};
    const fields: Record<string, unknown> = {};
    columns.forEach((column, index) => {
      const cell = (cells[index] ?? '').trim();
      if (column === '' || cell === '') return;
      if (column.startsWith('fields.')) fields[column.slice('fields.'.length)] = cell;
      else if (column === 'reward_points') input.reward_points = /^\d{1,10}$/.test(cell) ? Number(cell) : cell;
      else input[column] = cell;
    });
    input.fields = fields;
    return { input };
  }

  async function checkRow(row: number, input: Record<string, unknown>, country: string, defs: FieldDefs): Promise<CheckedRow | { row: number; error: string; phone: string | null }> {
    const errors: FieldErrors = {};
    const rawPhone = input.phone_number;
    let phone: string | null = typeof rawPhone === 'string' ? rawPhone.slice(0, 100) : null;
    let parsed: ReturnType<typeof parsePhone> | null = null;
    if (typeof rawPhone !== 'string' && typeof rawPhone !== 'number') errors.phone_number = ['The phone number is required.'];
    else {
      parsed = parsePhone(String(rawPhone), country);
      if (!parsed.ok) errors.phone_number = [parsed.reason];
      else phone = parsed.e164;
    }
    if (input.reward_points !== undefined && typeof input.reward_points !== 'number') errors.reward_points = ['Must be a whole number.'];
    const attrs = checkAttributes(
      {
        first_name: input.first_name as string | undefined,
        last_name: input.last_name as string | undefined,
        email: input.email as string | undefined,
        gender: input.gender as string | undefined,
        birth_date: input.birth_date as string | undefined,
        address: input.address as string | undefined,
        city: input.city as string | undefined,
        state: input.state as string | undefined,
        zip: input.zip as string | undefined,
        reward_points: typeof input.reward_points === 'number' ? input.reward_points : undefined,
        timezone: input.timezone as string | undefined,
      },
      errors,
      now(),
    );
    const fields: CheckedRow['fields'] = [];
    const rawFields = input.fields;
    if (rawFields !== undefined && rawFields !== null) {
      if (typeof rawFields !== 'object' || Array.isArray(rawFields)) errors.fields = ['Must be an object of custom field values.'];
      else {
        for (const [name, value] of Object.entries(rawFields)) {
          const def = defs.get(name.toLowerCase());
          if (!def) errors[`fields.${name}`] = ['Unknown custom field.'];
          else if (value !== null) {
            const encoded = encodeFieldValue(def.type, value);
            if (encoded.ok) fields.push({ fieldId: def.id, value: encoded.value });
            else errors[`fields.${name}`] = [encoded.reason];
          }
        }
      }
    }
    if (!parsed?.ok || Object.keys(errors).length > 0) return { row, error: describeErrors(errors), phone };
    const resolved = await deps.phoneNumbers.resolve(parsed.phone);
    return {
      row,
      phone: parsed.e164,
      attrs,
      fields,
      carrierId: resolved.carrierId,
      timezone: attrs.timezone ?? deps.phoneNumbers.pickTimeZone(resolved.timezones),
    };
  }

  /** Checks one batch of staged rows (no writes): the invalid rows' outcomes and the valid rows. */
  async function checkBatch(imp: ImportRecord, batch: Array<{ row_number: number; data: string | null }>, country: string, defs: FieldDefs): Promise<CheckedBatch> {
    const outcomes: RowOutcome[] = [];
    const valid: CheckedRow[] = [];
    const firstRowOf = new Map<string, number>();
    for (const staged of batch) {
      const { input, error } = rowInput(imp.format, imp.columns, staged.data ?? '');
      if (!input) {
        outcomes.push({ row: staged.row_number, outcome: 'invalid', phoneNumber: null, contactId: null, message: error ?? 'Unreadable row.' });
        continue;
      }
      const checked = await checkRow(staged.row_number, input, country, defs);
      if ('error' in checked) {
        outcomes.push({ row: checked.row, outcome: 'invalid', phoneNumber: checked.phone, contactId: null, message: checked.error });
      } else if (firstRowOf.has(checked.phone)) {
        outcomes.push({ row: checked.row, outcome: 'skipped_duplicate', phoneNumber: checked.phone, contactId: null, message: `Duplicate of row ${firstRowOf.get(checked.phone)}.` });
      } else {
        firstRowOf.set(checked.phone, checked.row);
        valid.push(checked);
      }
    }
    return { outcomes, valid, lastRow: batch.at(-1)!.row_number };
  }

  /** Writes a checked batch (or, validate_only, works out what it would do) with its outcomes and the new cursor, atomically. */
  async function writeBatch(imp: ImportRecord, checked: CheckedBatch): Promise<void> {
    const { outcomes, valid } = checked;
    await deps.db.transaction().execute(async (trx) => {
      const tx = createImportsRepo(trx);
      const phones = valid.map((v) => v.phone);
      if (imp.validate_only) {
        const fresh = await tx.markSeen(imp.id, valid.map((v) => ({ phone: v.phone, row: v.row })));
        const existing = phones.length
          ? new Map((await trx.selectFrom('contacts').select(['id', 'phone_number']).where('account_id', '=', imp.account_id).where('phone_number', 'in', phones).execute()).map((r) => [r.phone_number, r.id]))
          : new Map<string, string>();
        for (const v of valid) {
          if (!fresh.has(v.phone)) outcomes.push({ row: v.row, outcome: 'skipped_duplicate', phoneNumber: v.phone, contactId: null, message: 'Duplicate of an earlier row.' });
          else if (existing.has(v.phone)) {
            outcomes.push({ row: v.row, outcome: imp.update_existing ? 'updated' : 'skipped_duplicate', phoneNumber: v.phone, contactId: existing.get(v.phone)!, message: imp.update_existing ? null : CONTACT_EXISTS });
          } else outcomes.push({ row: v.row, outcome: 'created', phoneNumber: v.phone, contactId: null, message: null });
        }
      } else if (valid.length > 0) {
        const firstSeq = await allocateSeq(trx, imp.account_id, valid.length);
        const rows: NewContactRow[] = valid.map((v, index) => ({
          id: newId(),
          seq: firstSeq + index,
          account_id: imp.account_id,
          phone_number: v.phone,
          first_name: v.attrs.first_name ?? null,
          last_name: v.attrs.last_name ?? null,
          email: v.attrs.email ?? null,
          gender: v.attrs.gender ?? null,
          birth_date: v.attrs.birth_date ?? null,
          address: v.attrs.address ?? null,
          city: v.attrs.city ?? null,
          state: v.attrs.state ?? null,
          zip: v.attrs.zip ?? null,
          reward_points: v.attrs.reward_points ?? 0,
          timezone: v.timezone,
          carrier_id: v.carrierId,
          opt_in_id: DOUBLE_OPT_IN_ID,
          source: 'import',
        }));
        const inserted = await trx
          .insertInto('contacts')
          .values(rows)
          .onConflict((oc) => oc.columns(['account_id', 'phone_number']).doNothing())
          .returning(['id', 'phone_number', 'seq'])
          .execute();
        const createdIds = new Map(inserted.map((r) => [r.phone_number, r.id]));
        if (inserted.length < rows.length) {
          // Numbers allocated to rows that already existed are recorded as gaps.
          const used = new Set(inserted.map((r) => Number(r.seq)));
          const unused = rows.filter((r) => !used.has(r.seq)).map((r) => ({ account_id: imp.account_id, seq: r.seq }));
          await trx.insertInto('contact_seq_gaps').values(unused).onConflict((oc) => oc.doNothing()).execute();
        }
        const others = valid.filter((v) => !createdIds.has(v.phone));
        const existing = others.length
          ? new Map((await trx.selectFrom('contacts').select(['id', 'phone_number']).where('account_id', '=', imp.account_id).where('phone_number', 'in', others.map((o) => o.phone)).execute()).map((r) => [r.phone_number, r.id]))
          : new Map<string, string>();
        const touched: Array<{ id: string; v: CheckedRow }> = [];
        for (const v of valid) {
          const createdId = createdIds.get(v.phone);
          if (createdId) {
            outcomes.push({ row: v.row, outcome: 'created', phoneNumber: v.phone, contactId: createdId, message: null });
            touched.push({ id: createdId, v });
            continue;
          }
          const existingId = existing.get(v.phone) ?? null;
          if (imp.update_existing && existingId) {
            outcomes.push({ row: v.row, outcome: 'updated', phoneNumber: v.phone, contactId: existingId, message: null });
            touched.push({ id: existingId, v });
          } else {
            outcomes.push({ row: v.row, outcome: 'skipped_duplicate', phoneNumber: v.phone, contactId: existingId, message: CONTACT_EXISTS });
          }
        }
        const updates = touched.filter((t) => !createdIds.has(t.v.phone));
        if (updates.length > 0) {
          const at = now();
          const values = sql.join(
            updates.map(
              ({ id, v }) =>
                sql`(${id}::uuid, ${v.attrs.first_name ?? null}::text, ${v.attrs.last_name ?? null}::text, ${v.attrs.email ?? null}::text, ${v.attrs.gender ?? null}::text,
                     ${v.attrs.birth_date ?? null}::date, ${v.attrs.address ?? null}::text, ${v.attrs.city ?? null}::text, ${v.attrs.state ?? null}::text,
                     ${v.attrs.zip ?? null}::text, ${v.attrs.reward_points ?? null}::int, ${v.attrs.timezone ?? null}::text)`,
            ),
          );
          await sql`UPDATE contacts c SET
                      first_name = COALESCE(v.first_name, c.first_name), last_name = COALESCE(v.last_name, c.last_name),
                      email = COALESCE(v.email, c.email), gender = COALESCE(v.gender, c.gender), birth_date = COALESCE(v.birth_date, c.birth_date),
                      address = COALESCE(v.address, c.address), city = COALESCE(v.city, c.city), state = COALESCE(v.state, c.state),
                      zip = COALESCE(v.zip, c.zip), reward_points = COALESCE(v.reward_points, c.reward_points),
                      timezone = COALESCE(v.timezone, c.timezone), updated_at = ${at}
                    FROM (VALUES ${values}) AS v(id, first_name, last_name, email, gender, birth_date, address, city, state, zip, reward_points, timezone)
                    WHERE c.id = v.id AND c.account_id = ${imp.account_id}`.execute(trx);
        }
        if (imp.group_ids.length > 0 && touched.length > 0) {
          await trx
            .insertInto('contact_groups')
            .values(touched.flatMap((t) => imp.group_ids.map((groupId) => ({ contact_id: t.id, group_id: groupId, account_id: imp.account_id }))))
            .onConflict((oc) => oc.columns(['contact_id', 'group_id']).doNothing())
            .execute();
        }
        const fieldRows = touched.flatMap((t) => t.v.fields.map((f) => ({ contact_id: t.id, field_id: f.fieldId, account_id: imp.account_id, value: f.value })));
        if (fieldRows.length > 0) {
          await trx
            .insertInto('contact_field_values')
            .values(fieldRows)
            .onConflict((oc) => oc.columns(['contact_id', 'field_id']).doUpdateSet((eb) => ({ value: eb.ref('excluded.value') })))
            .execute();
        }
      }
      await tx.recordOutcomes(imp.id, outcomes);
      const count = (o: RowOutcome['outcome']) => outcomes.filter((x) => x.outcome === o).length;
      await tx.advance(imp.id, checked.lastRow, { created: count('created'), updated: count('updated'), skipped: count('skipped_duplicate'), invalid: count('invalid') });
    });
  }

  return {
    /**
     * Receives an upload: rows are streamed from the request into contact_import_rows in
     * batches (the file is never held in memory), then one job is queued to process them.
     * A structural problem (encoding, broken quoting, unknown columns, too many rows) refuses
     * the whole upload and removes what was staged.
     */
    async receive(accountId: string, body: Readable, options: { format: 'csv' | 'ndjson'; validateOnly: boolean; updateExisting: boolean; groupIds: string[] }): Promise<Import> {
      const groupIds = [...new Set(options.groupIds)];
      if (groupIds.length > 0) await deps.groups.requireOwned(accountId, groupIds, 'group_id');
      const defs = await deps.fields.byName(accountId);
      // An upload cut off by a crash or restart stays "receiving"; its rows are useless, so the
      // account's next upload removes any that has not progressed for an hour.
      await repo.removeStale(accountId, new Date(now().getTime() - 3_600_000));
      const imp = await repo.insert({ id: newId(), accountId, format: options.format, validateOnly: options.validateOnly, updateExisting: options.updateExisting, groupIds });
      let total = 0;
      try {
        let columns: string[] | null = options.format === 'csv' ? null : [];
        let batch: Array<{ row: number; data: string }> = [];
        for await (const record of readRecords(body, options.format, deps.maxBytes)) {
          if (columns === null) {
            columns = mapHeader(record.value as string[], defs);
            await repo.setColumns(imp.id, columns);
            continue;
          }
          total += 1;
          if (total > maxRows) throw new ImportFileError('The file has too many rows.', 'file', `An import may have at most ${maxRows} rows.`, 422);
          batch.push({ row: total, data: typeof record.value === 'string' ? record.value : JSON.stringify(record.value) });
          if (batch.length >= STAGE_BATCH) {
            await repo.stageRows(imp.id, batch);
            batch = [];
            if (total % (STAGE_BATCH * 50) === 0) await repo.update(imp.id, { updated_at: now() });
          }
        }
        await repo.stageRows(imp.id, batch);
        if (columns === null) throw new ImportFileError('The file is empty.', 'file', 'Send a header row and at least one data row.', 422);
        if (total === 0) throw new ImportFileError('The file has no rows.', 'file', 'Send at least one data row.', 422);
      } catch (error) {
        body.resume();
        await repo.remove(imp.id);
        throw error;
      }
      await deps.db.transaction().execute(async (trx) => {
        await createImportsRepo(trx).update(imp.id, { status: 'queued', total_rows: total, updated_at: now() });
        await createJobsRepo(trx).enqueue({ kind: IMPORT_JOB, payload: { importId: imp.id }, accountId, dedupeKey: `${IMPORT_JOB}:${imp.id}`, maxAttempts: 20 });
      });
      return this.get(accountId, imp.id);
    },

    async get(accountId: string, id: string): Promise<Import> {
      const row = await repo.findById(accountId, id);
      if (!row) throw new NotFoundError('Import not found.');
      return toImport(row);
    },

    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: rows.map(toImport), total };
    },

    async rows(accountId: string, id: string, query: ListQuery): Promise<{ data: ImportRow[]; total: number }> {
      if (!(await repo.findById(accountId, id))) throw new NotFoundError('Import not found.');
      const { rows, total } = await repo.rows(id, query);
      return {
        data: rows.map((r) => ({ row: r.row_number, phone_number: r.phone_number, outcome: r.outcome, contact_id: r.contact_id, message: r.message })),
        total,
      };
    },

    /**
     * The job: processes staged rows from the import's cursor in batches, each batch in one
     * transaction with its outcomes and the new cursor, so a run that stops (restart, crash)
     * resumes exactly where it left off. Returns false when it stopped early on `signal`.
     */
    async process(importId: string, signal?: AbortSignal): Promise<boolean> {
      const imp = await repo.findForProcessing(importId);
      if (!imp || imp.status === 'completed' || imp.status === 'failed' || imp.status === 'receiving') return true;
      if (imp.status === 'queued') {
        await repo.update(imp.id, { status: 'processing', started_at: imp.started_at ?? now(), updated_at: now() });
      }
      const country = await deps.phoneNumbers.defaultCountry(imp.account_id);
      const defs = await deps.fields.byName(imp.account_id);
      const current = imp;
      // The next batch is read and checked while the current one is written.
      const prepare = async (after: number): Promise<CheckedBatch | null> => {
        const batch = await repo.nextRows(current.id, after, PROCESS_BATCH);
        return batch.length === 0 ? null : checkBatch(current, batch, country, defs);
      };
      let next = prepare(imp.cursor);
      for (;;) {
        const checked = await next;
        if (!checked) break;
        if (signal?.aborted) return false;
        next = prepare(checked.lastRow);
        try {
          await writeBatch(current, checked);
        } catch (error) {
          await next.catch(() => undefined);
          throw error;
        }
      }
      if (imp.validate_only) await repo.clearSeen(imp.id);
      await repo.update(imp.id, { status: 'completed', completed_at: now(), updated_at: now() });
      return true;
    },

    async markFailed(importId: string, error: string): Promise<void> {
      await repo.update(importId, { status: 'failed', error: error.slice(0, 1000), completed_at: now(), updated_at: now() });
    },
  };
}

