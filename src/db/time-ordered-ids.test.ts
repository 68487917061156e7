import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers.js';

let database: TestDatabase;
beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(async () => {
  await database.dispose();
});

const millisOf = (id: string) => Number.parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('uuid_v7() (migration 0012)', () => {
  it('makes version-7 UUIDs stamped with the current time, distinct and in time order', async () => {
    const before = Date.now();
    const first = (await sql<{ id: string }>`SELECT uuid_v7()::text AS id`.execute(database.db)).rows[0]!.id;
    await new Promise((resolve) => setTimeout(resolve, 3));
    const later = (await sql<{ id: string }>`SELECT uuid_v7()::text AS id FROM generate_series(1, 1000)`.execute(database.db)).rows.map((r) => r.id);
    const after = Date.now();

    expect(first).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    // The database's clock and ours may differ by a little on a server; not by seconds.
    expect(Math.abs(millisOf(first) - before)).toBeLessThan(5_000);
    expect(Math.abs(millisOf(later.at(-1)!) - after)).toBeLessThan(5_000);
    expect(new Set(later).size).toBe(1000);
    for (const id of later) {
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab]/);
      expect(id > first).toBe(true);
    }
  });
});
