import { NotFoundError } from '../../lib/errors.js';
import { formatDate } from '../../lib/time.js';
import type { ListQuery } from '../../http/list-query.js';
import type { CarriersRepo } from './carriers.repo.js';
import type { Carrier } from './carriers.schema.js';

export type CarriersService = ReturnType<typeof createCarriersService>;

type CarrierRow = Awaited<ReturnType<CarriersRepo['findById']>> & object;

export const toCarrier = (row: CarrierRow): Carrier => ({
  id: row.id,
  name: row.name,
  country: row.country,
  created_at: formatDate(row.created_at),
  updated_at: formatDate(row.updated_at),
});

export function createCarriersService(deps: { carriersRepo: CarriersRepo }) {
  return {
    async list(query: ListQuery) {
      const { rows, total } = await deps.carriersRepo.list(query);
      return { data: rows.map(toCarrier), total };
    },
    async get(id: string): Promise<Carrier> {
      const row = await deps.carriersRepo.findById(id);
      if (!row) throw new NotFoundError('Carrier not found.');
      return toCarrier(row);
    },
  };
}
