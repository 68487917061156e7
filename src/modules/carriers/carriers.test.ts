import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { CARRIER_SEED } from './carriers.seed.js';

let ctx: TestContext;
let auth: { authorization: string };

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('GET /v1/carriers (happy)', () => {
  it('lists the seeded carriers sorted by name with the reference pagination meta', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=2', headers: auth });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data).toHaveLength(2);
    const names = CARRIER_SEED.map((c) => c.name).sort((a, b) => a.localeCompare(b, 'en', { sensitivity: 'base' }));
    expect(body.data.map((c: { name: string }) => c.name)).toEqual([...names].sort().slice(0, 2));
    expect(body.meta).toEqual({
      pagination: {
        total: CARRIER_SEED.length,
        count: 2,
        per_page: 2,
        current_page: 1,
        total_pages: Math.ceil(CARRIER_SEED.length / 2),
        links: { next: 'http://shortcode.test/v1/carriers?limit=2&page=2' },
      },
    });
    expect(body.data[0]).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: expect.any(String),
      country: expect.stringMatching(/^[A-Z]{2}$/),
      created_at: '2026-01-01T00:00:00.000Z',
      updated_at: '2026-01-01T00:00:00.000Z',
    });
  });

  it('retrieves one carrier by id', async () => {
    const verizon = CARRIER_SEED.find((c) => c.name === 'Verizon Wireless')!;
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/carriers/${verizon.id}`, headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ id: verizon.id, name: 'Verizon Wireless', country: 'US' });
  });

  it('filters by country (exact) and name (partial)', async () => {
    const byCountry = await ctx.app.inject({ method: 'GET', url: '/v1/carriers?filter[country]=CA', headers: auth });
    const expected = CARRIER_SEED.filter((c) => c.country === 'CA').length;
    expect(byCountry.json().meta.pagination.total).toBe(expected);
    expect(byCountry.json().data.every((c: { country: string }) => c.country === 'CA')).toBe(true);

    const byName = await ctx.app.inject({ method: 'GET', url: '/v1/carriers?filter[name]=vodafone', headers: auth });
    const names = byName.json().data.map((c: { name: string }) => c.name);
    expect(names.length).toBe(CARRIER_SEED.filter((c) => /vodafone/i.test(c.name)).length);
    expect(names.every((n: string) => /vodafone/i.test(n))).toBe(true);
  });
});

describe('GET /v1/carriers (errors)', () => {
  it('answers 404 for an unknown or malformed id', async () => {
    const unknown = await ctx.app.inject({ method: 'GET', url: '/v1/carriers/00000000-0000-4000-8000-000000000000', headers: auth });
    expect(unknown.statusCode).toBe(404);
    expect(unknown.json()).toEqual({ status: 404, message: 'Carrier not found.', errors: {} });
    const malformed = await ctx.app.inject({ method: 'GET', url: '/v1/carriers/not-a-uuid', headers: auth });
    expect(malformed.statusCode).toBe(404);
    expect(malformed.json().status).toBe(404);
  });
});

describe('GET /v1/carriers (security)', () => {
  it('needs the carriers.view scope', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: narrow });
    expect(res.statusCode).toBe(403);
    expect(res.json().message).toMatch(/carriers\.view/);
  });
});
