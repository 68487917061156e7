import { NotFoundError } from '../../lib/errors.js';
import type { ListQuery } from '../../http/list-query.js';
import type { OptInsRepo } from './optins.repo.js';
import type { OptIn } from './optins.schema.js';

export type OptInsService = ReturnType<typeof createOptInsService>;

type OptInRow = Awaited<ReturnType<OptInsRepo['findById']>> & object;

export const toOptIn = (row: OptInRow): OptIn => ({ id: row.id, name: row.name, description: row.description, enabled: row.enabled });

export function createOptInsService(deps: { optInsRepo: OptInsRepo }) {
  return {
    async list(query: ListQuery) {
      const { rows, total } = await deps.optInsRepo.list(query);
      return { data: rows.map(toOptIn), total };
    },
    async get(id: string): Promise<OptIn> {
      const row = await deps.optInsRepo.findById(id);
      if (!row) throw new NotFoundError('Opt-in not found.');
      return toOptIn(row);
    },
    /** The opt-in, or null when the id is unknown (callers turn that into a 422 on their field). */
    async find(id: string): Promise<OptIn | null> {
      const row = await deps.optInsRepo.findById(id);
      return row ? toOptIn(row) : null;
    },
    async findMany(ids: readonly string[]): Promise<Map<string, OptIn>> {
      const rows = await deps.optInsRepo.findByIds([...new Set(ids)]);
      return new Map(rows.map((r) => [r.id, toOptIn(r)]));
    },
  };
}
