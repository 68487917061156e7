import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CARRIER_SEED } from '../src/modules/carriers/carriers.seed.js';
import { createAccountWithToken, createTestApp, type TestContext } from './helpers.js';

let ctx: TestContext;
let auth: { authorization: string };
const total = CARRIER_SEED.length;

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

const get = (url: string, headers: Record<string, string> = auth) => ctx.app.inject({ method: 'GET', url, headers });

describe('authentication', () => {
  it('401 without a token, in the error shape, with WWW-Authenticate', async () => {
    const res = await get('/v1/carriers', {});
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.json()).toEqual({ status: 401, message: expect.stringMatching(/Unauthenticated/), errors: {} });
  });

  it('401 for an unknown token and for a malformed header', async () => {
    expect((await get('/v1/carriers', { authorization: 'Bearer 00000000-0000-4000-8000-000000000000' })).statusCode).toBe(401);
    expect((await get('/v1/carriers', { authorization: 'Basic abc' })).statusCode).toBe(401);
    expect((await get('/v1/carriers', { authorization: 'Bearer' })).statusCode).toBe(401);
  });

  it('401 for a revoked token', async () => {
    const { account, token, tokenId } = await createAccountWithToken(ctx.app);
    expect((await get('/v1/carriers', { authorization: `Bearer ${token}` })).statusCode).toBe(200);
    expect(await ctx.app.services.tokens.revoke(account.id, tokenId)).toBe(true);
    expect((await get('/v1/carriers', { authorization: `Bearer ${token}` })).statusCode).toBe(401);
  });

  it('403 for a token without the route scope', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['groups.view']);
    const res = await get('/v1/carriers', narrow);
    expect(res.statusCode).toBe(403);
    expect(res.json().status).toBe(403);
  });

  it('records when a token was last used', async () => {
    const { account, token, tokenId } = await createAccountWithToken(ctx.app);
    await get('/v1/carriers', { authorization: `Bearer ${token}` });
    const tokens = await ctx.app.services.tokens.listPersonal(account.id);
    expect(tokens.find((t) => t.id === tokenId)?.last_used_at).toBeInstanceOf(Date);
  });

  it('stores only a hash of the token', async () => {
    const { token } = await createAccountWithToken(ctx.app);
    const rows = await ctx.database.db.selectFrom('access_tokens').select('token_hash').execute();
    expect(rows.some((r) => r.token_hash === token)).toBe(false);
    expect(rows.every((r) => /^[0-9a-f]{64}$/.test(r.token_hash))).toBe(true);
  });
});

describe('pagination', () => {
  const limit = 10;
  const lastPage = Math.ceil(total / limit);

  it('first page: next link only', async () => {
    const { meta, data } = (await get(`/v1/carriers?limit=${limit}`)).json();
    expect(data).toHaveLength(limit);
    expect(meta.pagination).toEqual({
      total,
      count: limit,
      per_page: limit,
      current_page: 1,
      total_pages: lastPage,
      links: { next: `http://shortcode.test/v1/carriers?limit=${limit}&page=2` },
    });
  });

  it('middle page: both links, keeping the other parameters as sent', async () => {
    const { meta } = (await get(`/v1/carriers?sort=-name&limit=${limit}&page=2&filter[name]=`)).json();
    expect(meta.pagination.current_page).toBe(2);
    expect(meta.pagination.links).toEqual({
      next: `http://shortcode.test/v1/carriers?sort=-name&limit=${limit}&filter[name]=&page=3`,
      previous: `http://shortcode.test/v1/carriers?sort=-name&limit=${limit}&filter[name]=&page=1`,
    });
  });

  it('last page: previous link only, and the remaining rows', async () => {
    const { meta, data } = (await get(`/v1/carriers?limit=${limit}&page=${lastPage}`)).json();
    expect(data).toHaveLength(total - (lastPage - 1) * limit);
    expect(meta.pagination.links).toEqual({ previous: `http://shortcode.test/v1/carriers?limit=${limit}&page=${lastPage - 1}` });
  });

  it('out-of-range page: empty data with correct meta', async () => {
    const { meta, data } = (await get(`/v1/carriers?limit=${limit}&page=${lastPage + 5}`)).json();
    expect(data).toEqual([]);
    expect(meta.pagination).toMatchObject({ total, count: 0, current_page: lastPage + 5, total_pages: lastPage });
    expect(meta.pagination.links.next).toBeUndefined();
  });

  it('pages never overlap and together cover every row', async () => {
    const seen: string[] = [];
    for (let page = 1; page <= lastPage; page++) seen.push(...(await get(`/v1/carriers?limit=${limit}&page=${page}`)).json().data.map((c: { id: string }) => c.id));
    expect(new Set(seen).size).toBe(total);
  });

  it('limit defaults to 100 and is clamped to 100', async () => {
    expect((await get('/v1/carriers')).json().meta.pagination.per_page).toBe(100);
    expect((await get('/v1/carriers?limit=5000')).json().meta.pagination.per_page).toBe(100);
  });

  it('absurd limit and page values are a 400', async () => {
    for (const q of ['limit=0', 'limit=-1', 'limit=abc', 'page=0', 'page=-3', 'page=1.5', 'page=99999999999999']) {
      const res = await get(`/v1/carriers?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().status).toBe(400);
      expect(Object.keys(res.json().errors).length, q).toBeGreaterThan(0);
    }
  });
});

describe('sorting, filtering, includes', () => {
  it('sorts ascending and descending', async () => {
    const asc = (await get('/v1/carriers?sort=name&limit=100')).json().data.map((c: { name: string }) => c.name);
    const desc = (await get('/v1/carriers?sort=-name&limit=100')).json().data.map((c: { name: string }) => c.name);
    expect(desc).toEqual([...asc].reverse());
  });

  it('sorts by several fields', async () => {
    const data = (await get('/v1/carriers?sort=country,-name&limit=100')).json().data as Array<{ name: string; country: string }>;
    for (let i = 1; i < data.length; i++) {
      const [a, b] = [data[i - 1]!, data[i]!];
      expect(a.country <= b.country).toBe(true);
    }
    const us = data.filter((c) => c.country === 'US').map((c) => c.name);
    expect(us).toEqual(CARRIER_SEED.filter((c) => c.country === 'US').map((c) => c.name).sort().reverse());
  });

  it('400 for an unknown sort field, filter or include', async () => {
    const sort = await get('/v1/carriers?sort=password');
    expect(sort.statusCode).toBe(400);
    expect(sort.json().errors.sort[0]).toMatch(/Allowed sort fields/);
    const filter = await get('/v1/carriers?filter[secret]=1');
    expect(filter.statusCode).toBe(400);
    expect(filter.json().errors['filter[secret]']).toBeDefined();
    const include = await get('/v1/carriers?include[]=everything');
    expect(include.statusCode).toBe(400);
    expect((await get('/v1/carriers?include=a,b')).statusCode).toBe(400);
  });

  it('treats SQL metacharacters in filters as plain text', async () => {
    const res = await get(`/v1/carriers?filter[name]=${encodeURIComponent("' OR 1=1 --")}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([]);
    const pct = await get('/v1/carriers?filter[name]=%25');
    expect(pct.json().data).toEqual([]);
  });
});

describe('request ids', () => {
  it('generates one per request', async () => {
    const a = await get('/v1/carriers?limit=1');
    const b = await get('/v1/carriers?limit=1');
    expect(a.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(a.headers['x-request-id']).not.toBe(b.headers['x-request-id']);
  });

  it('honours a sane incoming id and replaces an insane one', async () => {
    expect((await get('/v1/carriers?limit=1', { ...auth, 'x-request-id': 'client-req-12345' })).headers['x-request-id']).toBe('client-req-12345');
    const bad = await get('/v1/carriers?limit=1', { ...auth, 'x-request-id': 'bad id\twith spaces <script>' });
    expect(bad.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('is present on errors too', async () => {
    const res = await get('/v1/nothing-here', {});
    expect(res.statusCode).toBe(404);
    expect(res.headers['x-request-id']).toBeTruthy();
  });
});

describe('status codes and the error shape', () => {
  it('404 for unknown paths and ids, 404 for malformed ids', async () => {
    for (const url of ['/v1/nothing', '/v1/carriers/123', "/v1/carriers/' or 1=1", '/v1/carriers/00000000-0000-4000-8000-000000000000']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toMatchObject({ status: 404, errors: {} });
    }
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await ctx.app.inject({ method: 'DELETE', url: '/v1/carriers', headers: auth });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toContain('GET');
    expect(res.json()).toMatchObject({ status: 405 });
  });

  it('406 when Accept excludes JSON; */* and JSON are fine', async () => {
    expect((await get('/v1/carriers?limit=1', { ...auth, accept: 'text/html' })).statusCode).toBe(406);
    expect((await get('/v1/carriers?limit=1', { ...auth, accept: 'text/html' })).json().status).toBe(406);
    expect((await get('/v1/carriers?limit=1', { ...auth, accept: '*/*' })).statusCode).toBe(200);
    expect((await get('/v1/carriers?limit=1', { ...auth, accept: 'application/json' })).statusCode).toBe(200);
  });

  it('accepts the bodies old clients send on GET and DELETE (JSON [] or {} or empty)', async () => {
    for (const payload of ['[]', '{}', '']) {
      const res = await ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: { ...auth, 'content-type': 'application/json' }, payload });
      expect(res.statusCode, JSON.stringify(payload)).toBe(200);
    }
  });

  it('responds JSON with dates in the reference format', async () => {
    const res = await get('/v1/carriers?limit=1');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.json().data[0].created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
  });
});

describe('health', () => {
  it('/healthz and /readyz answer without a token', async () => {
    expect((await get('/healthz', {})).json()).toEqual({ status: 'ok' });
    const ready = await get('/readyz', {});
    expect(ready.statusCode).toBe(200);
    expect(ready.json()).toEqual({ status: 'ready' });
  });
});

describe('OpenAPI', () => {
  it('serves a 3.1 document generated from the route schemas', async () => {
    const res = await get('/v1/openapi.json', {});
    expect(res.statusCode).toBe(200);
    const doc = res.json();
    expect(doc.openapi).toBe('3.1.0');
    expect(doc.paths['/v1/carriers'].get).toBeDefined();
    expect(doc.paths['/v1/carriers/{id}'].get.responses['200']).toBeDefined();
    expect(doc.paths['/v1/carriers'].get.description).toMatch(/carriers\.view/);
  });

  it('serves the interactive reference page', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/docs/' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('request bodies', () => {
  const post = (payload: string, headers: Record<string, string>) =>
    ctx.app.inject({ method: 'POST', url: '/v1/contacts', headers: { ...auth, ...headers }, payload });
  const contactCount = async () => (await get('/v1/contacts?limit=1')).json().meta.pagination.total as number;

  it('brackets inside JSON strings do not count as nesting', async () => {
    const res = await post(JSON.stringify({ phone_number: '+12025550144', first_name: `${'[{'.repeat(40)}\\"` }), { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.first_name).toBe(`${'[{'.repeat(40)}\\"`);
  });

  it('400 for malformed or too deeply nested JSON, 415 for a body that is not JSON, 413 above the size limit: nothing written', async () => {
    const before = await contactCount();
    const malformed = await post('{"phone_number": "+12025550143",', { 'content-type': 'application/json' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json()).toEqual({ status: 400, message: 'The request body is not valid JSON.', errors: {} });

    // Deep nesting is refused before parsing; brackets inside strings do not count.
    const deep = await post(`{"phone_number": "+12025550143", "x": ${'['.repeat(40)}${']'.repeat(40)}}`, { 'content-type': 'application/json' });
    expect(deep.statusCode).toBe(400);
    expect(deep.json()).toEqual({ status: 400, message: 'The request body is nested more than 32 levels deep.', errors: {} });

    const form = await post('phone_number=%2B12025550143', { 'content-type': 'application/x-www-form-urlencoded' });
    expect(form.statusCode).toBe(415);
    expect(form.json()).toMatchObject({ status: 415, errors: {} });
    const text = await post('+12025550143', { 'content-type': 'text/plain' });
    expect(text.statusCode).toBe(415);

    const huge = await post(JSON.stringify({ phone_number: '+12025550143', first_name: 'x'.repeat(ctx.config.bodyLimitBytes) }), {
      'content-type': 'application/json',
    });
    expect(huge.statusCode).toBe(413);
    expect(huge.json()).toMatchObject({ status: 413, errors: {} });

    const poisoned = await post('{"phone_number": "+12025550143", "__proto__": {"admin": true}}', { 'content-type': 'application/json' });
    expect(poisoned.statusCode).toBe(400);
    expect(await contactCount()).toBe(before);
  });

  it('422 with errors keyed by field for wrong types', async () => {
    const res = await post(JSON.stringify({ phone_number: { nested: true }, reward_points: 'many' }), { 'content-type': 'application/json' });
    expect(res.statusCode).toBe(422);
    const body = res.json();
    expect(body.status).toBe(422);
    expect(Object.keys(body.errors)).toEqual(expect.arrayContaining(['phone_number']));
  });
});

describe('values the database cannot take', () => {
  it('a NUL character in a filter is a 400, not a 500', async () => {
    const res = await get('/v1/carriers?filter[name]=a%00b');
    expect(res.statusCode).toBe(400);
    expect(res.json().errors['filter[name]']).toBeDefined();
  });

  it('a NUL character in a stored field is a 4xx, not a 500, and nothing is written', async () => {
    const before = (await get('/v1/contacts?limit=1')).json().meta.pagination.total;
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/contacts',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ phone_number: '+12025550177', first_name: 'Nul\u0000Byte' }),
    });
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    expect((await get('/v1/contacts?limit=1')).json().meta.pagination.total).toBe(before);
  });
});
