import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseListQuery } from '../../http/list-query.js';
import type { CarriersRepo } from './carriers.repo.js';
import { carrierListSpec } from './carriers.schema.js';
import { createCarriersService } from './carriers.service.js';

const row = (name: string) => ({ id: `00000000-0000-4000-8000-${name.padStart(12, '0')}`, name, country: 'US', created_at: new Date(0), updated_at: new Date(0) });

/** A repository that answers from a fixed table and counts the list queries it receives. */
function fakeRepo() {
  const table = ['a', 'b', 'c'].map(row);
  const queries: unknown[] = [];
  const repo = {
    list: async (query: { offset: number; limit: number }) => {
      queries.push(query);
      return { rows: table.slice(query.offset, query.offset + query.limit), total: table.length };
    },
    listAll: async () => table,
    findById: async (id: string) => table.find((r) => r.id === id),
    findByName: async (name: string) => table.find((r) => r.name === name),
  } as unknown as CarriersRepo;
  return { repo, queries, table };
}

afterEach(() => vi.useRealTimers());

describe('carrier list pages', () => {
  it('are read from the database once per query, then from memory, with the same rows', async () => {
    const { repo, queries } = fakeRepo();
    const carriers = createCarriersService({ carriersRepo: repo });
    const first = parseListQuery({ limit: 2 }, carrierListSpec);
    const second = parseListQuery({ limit: 2, page: 2 }, carrierListSpec);
    const a = await carriers.list(first);
    expect(a.data.map((c) => c.name)).toEqual(['a', 'b']);
    expect(a.total).toBe(3);
    expect(await carriers.list(parseListQuery({ limit: 2 }, carrierListSpec))).toEqual(a);
    expect(queries).toHaveLength(1);
    // Another page, filter or sort is its own query.
    expect((await carriers.list(second)).data.map((c) => c.name)).toEqual(['c']);
    await carriers.list(parseListQuery({ limit: 2, filter: { country: 'US' } }, carrierListSpec));
    await carriers.list(parseListQuery({ limit: 2, sort: '-name' }, carrierListSpec));
    expect(queries).toHaveLength(4);
  });

  it('are read again after ten minutes, and at most 200 distinct pages are kept', async () => {
    vi.useFakeTimers({ now: new Date('2026-12-02T00:00:00Z') });
    const { repo, queries } = fakeRepo();
    const carriers = createCarriersService({ carriersRepo: repo });
    const query = parseListQuery({ limit: 1 }, carrierListSpec);
    await carriers.list(query);
    vi.setSystemTime(new Date('2026-12-02T00:09:59Z'));
    await carriers.list(query);
    expect(queries).toHaveLength(1);
    vi.setSystemTime(new Date('2026-12-02T00:10:01Z'));
    await carriers.list(query);
    expect(queries).toHaveLength(2);

    for (let page = 2; page <= 201; page++) await carriers.list(parseListQuery({ limit: 1, page }, carrierListSpec));
    expect(queries).toHaveLength(202);
    await carriers.list(query); // evicted by the 200 pages after it
    expect(queries).toHaveLength(203);
    await carriers.list(parseListQuery({ limit: 1, page: 201 }, carrierListSpec)); // still kept
    expect(queries).toHaveLength(203);
  });
});
