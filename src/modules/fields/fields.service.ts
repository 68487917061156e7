import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import type { ListQuery } from '../../http/list-query.js';
import type { FieldsRepo } from './fields.repo.js';
import type { Field } from './fields.schema.js';
import type { FieldType } from './fields.tables.js';

export type FieldsService = ReturnType<typeof createFieldsService>;

type FieldRow = Awaited<ReturnType<FieldsRepo['findById']>> & object;

export const MAX_FIELDS_PER_ACCOUNT = 200;

export const toField = (row: FieldRow): Field => ({
  id: row.id,
  name: row.name,
  type: row.type,
  created_at: formatDate(row.created_at),
  updated_at: formatDate(row.updated_at),
});

const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

export function createFieldsService(deps: { fieldsRepo: FieldsRepo }) {
  const repo = deps.fieldsRepo;

  async function get(accountId: string, id: string): Promise<Field> {
    const row = await repo.findById(accountId, id);
    if (!row) throw new NotFoundError('Custom field not found.');
    return toField(row);
  }

  return {
    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: rows.map(toField), total };
    },
    get,
    /** Every field of the account, by lower-cased name (for contact validation and filters). */
    async byName(accountId: string): Promise<Map<string, { id: string; name: string; type: FieldType }>> {
      const rows = await repo.all(accountId);
      return new Map(rows.map((r) => [r.name.toLowerCase(), { id: r.id, name: r.name, type: r.type }]));
    },
    async create(accountId: string, input: { name: string; type: FieldType }): Promise<Field> {
      if (await repo.findByName(accountId, input.name)) throw ValidationError.field('name', 'A custom field with this name already exists.');
      if ((await repo.all(accountId)).length >= MAX_FIELDS_PER_ACCOUNT) {
        throw ValidationError.field('name', `An account may define at most ${MAX_FIELDS_PER_ACCOUNT} custom fields.`);
      }
      try {
        return toField(await repo.insert({ id: newId(), accountId, name: input.name, type: input.type }));
      } catch (error) {
        if (isUniqueViolation(error)) throw ValidationError.field('name', 'A custom field with this name already exists.');
        throw error;
      }
    },
    async update(accountId: string, id: string, input: { name?: string | undefined; type?: FieldType | undefined }): Promise<Field> {
      const current = await repo.findById(accountId, id);
      if (!current) throw new NotFoundError('Custom field not found.');
      if (input.type !== undefined && input.type !== current.type) {
        throw ValidationError.field('type', 'The type of a custom field cannot be changed; create a new field instead.');
      }
      if (input.name === undefined || input.name === current.name) return toField(current);
      const clash = await repo.findByName(accountId, input.name);
      if (clash && clash.id !== id) throw ValidationError.field('name', 'A custom field with this name already exists.');
      try {
        const row = await repo.rename(accountId, id, input.name);
        if (!row) throw new NotFoundError('Custom field not found.');
        return toField(row);
      } catch (error) {
        if (isUniqueViolation(error)) throw ValidationError.field('name', 'A custom field with this name already exists.');
        throw error;
      }
    },
    async remove(accountId: string, id: string): Promise<void> {
      if (!(await repo.remove(accountId, id))) throw new NotFoundError('Custom field not found.');
    },
  };
}
