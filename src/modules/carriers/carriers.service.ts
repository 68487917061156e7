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

/** Carriers change only through migrations, so each process may keep them for a while. */
const CARRIER_CACHE_TTL_MS = 10 * 60_000;
/** List pages kept per process: distinct queries (filters, sort, page, limit) beyond this evict the oldest. */
const LIST_CACHE_SIZE = 200;

export function createCarriersService(deps: { carriersRepo: CarriersRepo }) {
  // The carrier table is small, bounded reference data read on every message and contact
  // include; it is loaded whole and refreshed periodically instead of queried per request.
  let byId: Map<string, Carrier> | undefined;
  let loadedAt = 0;
  let loading: Promise<Map<string, Carrier>> | undefined;
  async function carriersById(): Promise<Map<string, Carrier>> {
    if (byId && Date.now() - loadedAt < CARRIER_CACHE_TTL_MS) return byId;
    loading ??= deps.carriersRepo
      .listAll()
      .then((rows) => {
        byId = new Map(rows.map((row) => [row.id, toCarrier(row)]));
        loadedAt = Date.now();
        return byId;
      })
      .finally(() => {
        loading = undefined;
      });
    return loading;
  }

  // A list page is answered by the database once, then from memory until the TTL: the same
  // rows in the same order as the query gives, without two round trips per request.
  const pages = new Map<string, { value: { data: Carrier[]; total: number }; at: number }>();
  const pageKey = (q: ListQuery) => JSON.stringify([q.limit, q.offset, q.filters, q.sort]);

  return {
    async list(query: ListQuery) {
      const key = pageKey(query);
      const hit = pages.get(key);
      if (hit && Date.now() - hit.at < CARRIER_CACHE_TTL_MS) return hit.value;
      const { rows, total } = await deps.carriersRepo.list(query);
      const value = { data: rows.map(toCarrier), total };
      pages.delete(key);
      if (pages.size >= LIST_CACHE_SIZE) pages.delete(pages.keys().next().value as string);
      pages.set(key, { value, at: Date.now() });
      return value;
    },
    async get(id: string): Promise<Carrier> {
      const carrier = (await carriersById()).get(id);
      if (!carrier) throw new NotFoundError('Carrier not found.');
      return carrier;
    },
  };
}
