import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { EMAIL_OPT_IN_ID } from '../optins/optins.seed.js';
import { RESERVED_KEYWORDS } from './groups.schema.js';

let ctx: TestContext;
let auth: { authorization: string };
let other: { authorization: string };
let n = 0;

const inject = (method: 'GET' | 'POST' | 'PUT', url: string, payload?: unknown, headers = auth) =>
  ctx.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

async function createGroup(body: Record<string, unknown> = {}, headers = auth) {
  const res = await inject('POST', '/v1/groups', { name: `Group ${++n}`, ...body }, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: string; name: string };
}

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
  other = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('POST /v1/groups', () => {
  it('creates a group with the reference fields, its opt-in and a keyword (happy)', async () => {
    const res = await inject('POST', '/v1/groups', {
      name: 'My test group',
      join_message: 'My new message',
      one_time_message: true,
      always_send_join: false,
      social_profiling: false,
      email_new_contact: true,
      optin_id: EMAIL_OPT_IN_ID,
      keyword: 'Pizza',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({
      name: 'My test group',
      join_message: 'My new message',
      one_time_message: true,
      always_send_join: false,
      social_profiling: false,
      email_new_contact: true,
      optin: { id: EMAIL_OPT_IN_ID, name: 'Email', description: 'Text Email Address to confirm', enabled: true },
      keyword: { keyword: 'PIZZA' },
    });
    const plain = await createGroup();
    expect(plain).toMatchObject({ join_message: null, one_time_message: false, optin: null, keyword: null });
  });

  it('refuses reserved, duplicate (any case) and malformed keywords, and unknown opt-ins (error)', async () => {
    await createGroup({ keyword: 'Tacos' });
    const dup = await inject('POST', '/v1/groups', { name: 'x', keyword: 'tAcOs' });
    expect(dup.statusCode).toBe(422);
    expect(dup.json().errors.keyword).toEqual(['The keyword is already used by another group of this account.']);
    for (const word of RESERVED_KEYWORDS) {
      const res = await inject('POST', '/v1/groups', { name: 'x', keyword: word.toLowerCase() });
      expect(res.statusCode, word).toBe(422);
      expect(res.json().errors.keyword[0]).toMatch(/reserved/);
    }
    for (const bad of ['two words', 'x'.repeat(21), 'émoji😀', 'a-b']) {
      expect((await inject('POST', '/v1/groups', { name: 'x', keyword: bad })).statusCode, bad).toBe(422);
    }
    const optin = await inject('POST', '/v1/groups', { name: 'x', optin_id: '00000000-0000-4000-8000-000000000000' });
    expect(optin.statusCode).toBe(422);
    expect(optin.json().errors.optin_id).toBeDefined();
    const noName = await inject('POST', '/v1/groups', { join_message: 'x'.repeat(10_000) });
    expect(noName.statusCode).toBe(422);
    expect(Object.keys(noName.json().errors).sort()).toEqual(['join_message', 'name']);
  });

  it("allows the same keyword in another account, ignores server-owned fields, needs groups.create (security)", async () => {
    await createGroup({ keyword: 'Burger' });
    const theirs = await createGroup({ keyword: 'burger', id: '00000000-0000-4000-8000-000000000001', created_at: '2001-01-01T00:00:00Z' }, other);
    expect(theirs.id).not.toBe('00000000-0000-4000-8000-000000000001');
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['groups.view']);
    expect((await inject('POST', '/v1/groups', { name: 'x' }, narrow)).statusCode).toBe(403);
  });
});

describe('GET /v1/groups and /v1/groups/{id}', () => {
  it('lists with pagination, sorts, filters and the keyword include (happy)', async () => {
    const { auth: fresh } = await createAccountWithToken(ctx.app);
    const a = await createGroup({ name: 'Beta', keyword: 'BETA' }, fresh);
    const b = await createGroup({ name: 'Alpha' }, fresh);
    const page = await inject('GET', '/v1/groups?limit=1', undefined, fresh);
    expect(page.json().data.map((g: { id: string }) => g.id)).toEqual([a.id]);
    expect(page.json().data[0].keyword).toBeUndefined();
    expect(page.json().meta.pagination).toMatchObject({ total: 2, total_pages: 2, links: { next: 'http://shortcode.test/v1/groups?limit=1&page=2' } });
    const byName = await inject('GET', '/v1/groups?sort=name&include=keyword', undefined, fresh);
    expect(byName.json().data.map((g: { id: string; keyword: unknown }) => [g.id, g.keyword === null])).toEqual([[b.id, true], [a.id, false]]);
    const byKeyword = await inject('GET', '/v1/groups?filter[keyword]=beta', undefined, fresh);
    expect(byKeyword.json().data.map((g: { id: string }) => g.id)).toEqual([a.id]);
    const one = await inject('GET', `/v1/groups/${a.id}?include=keyword`, undefined, fresh);
    expect(one.json().data).toMatchObject({ id: a.id, keyword: { keyword: 'BETA' } });
    for (const sort of ['-created_at', 'updated_at', '-name']) expect((await inject('GET', `/v1/groups?sort=${sort}`, undefined, fresh)).statusCode).toBe(200);
  });

  it('answers 400 for unknown includes or sorts and 404 for unknown ids (error)', async () => {
    expect((await inject('GET', '/v1/groups?include=contacts')).statusCode).toBe(400);
    expect((await inject('GET', '/v1/groups?sort=keyword_created_at')).statusCode).toBe(400);
    expect((await inject('GET', '/v1/groups/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await inject('GET', '/v1/groups/abc')).statusCode).toBe(404);
  });

  it("hides another account's groups and needs groups.view (security)", async () => {
    const mine = await createGroup();
    expect((await inject('GET', `/v1/groups/${mine.id}`, undefined, other)).statusCode).toBe(404);
    const list = await inject('GET', '/v1/groups?limit=100', undefined, other);
    expect(list.json().data.some((g: { id: string }) => g.id === mine.id)).toBe(false);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('GET', '/v1/groups', undefined, narrow)).statusCode).toBe(403);
    expect((await inject('GET', `/v1/groups/${mine.id}`, undefined, narrow)).statusCode).toBe(403);
  });
});

describe('PUT /v1/groups/{id}', () => {
  it('changes only what is given; a keyword can move, change case or be removed (happy)', async () => {
    const g = await createGroup({ name: 'Keep', join_message: 'Hi', keyword: 'OLDKW' });
    const res = await inject('PUT', `/v1/groups/${g.id}`, { join_message: 'Hello', keyword: 'newkw' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ name: 'Keep', join_message: 'Hello', keyword: { keyword: 'NEWKW' } });
    const other2 = await createGroup({ keyword: 'OLDKW' });
    expect(other2.id).toBeDefined();
    const same = await inject('PUT', `/v1/groups/${g.id}`, { keyword: 'NewKw' });
    expect(same.statusCode).toBe(200);
    const removed = await inject('PUT', `/v1/groups/${g.id}`, { keyword: null, optin_id: EMAIL_OPT_IN_ID });
    expect(removed.json().data).toMatchObject({ keyword: null, optin: { id: EMAIL_OPT_IN_ID } });
  });

  it('refuses a taken or reserved keyword and bad values (error)', async () => {
    await createGroup({ keyword: 'TAKEN' });
    const g = await createGroup();
    expect((await inject('PUT', `/v1/groups/${g.id}`, { keyword: 'taken' })).statusCode).toBe(422);
    expect((await inject('PUT', `/v1/groups/${g.id}`, { keyword: 'Stop' })).statusCode).toBe(422);
    expect((await inject('PUT', `/v1/groups/${g.id}`, { name: '' })).statusCode).toBe(422);
    expect((await inject('PUT', `/v1/groups/${g.id}`, { one_time_message: 'maybe' })).statusCode).toBe(422);
    expect((await inject('PUT', '/v1/groups/00000000-0000-4000-8000-000000000000', { name: 'x' })).statusCode).toBe(404);
  });

  it("refuses another account's group, ignores server-owned fields and needs groups.update (security)", async () => {
    const g = await createGroup({ name: 'Mine' });
    expect((await inject('PUT', `/v1/groups/${g.id}`, { name: 'Stolen' }, other)).statusCode).toBe(404);
    const res = await inject('PUT', `/v1/groups/${g.id}`, { id: '00000000-0000-4000-8000-000000000001', account_id: '00000000-0000-4000-8000-000000000001', created_at: '2001-01-01T00:00:00Z' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data.id).toBe(g.id);
    expect(res.json().data.created_at).not.toBe('2001-01-01T00:00:00.000Z');
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['groups.create']);
    expect((await inject('PUT', `/v1/groups/${g.id}`, { name: 'x' }, narrow)).statusCode).toBe(403);
    expect((await inject('GET', `/v1/groups/${g.id}`)).json().data.name).toBe('Mine');
  });
});

describe('GET /v1/groups/{id}/contacts', () => {
  it('lists the members with filters and includes (happy)', async () => {
    const g = await createGroup();
    const outside = await inject('POST', '/v1/contacts', { phone_number: '+12015559001' });
    expect(outside.statusCode).toBe(201);
    const a = await inject('POST', '/v1/contacts', { phone_number: '+12015559002', groups: [g.id], reward_points: 3 });
    const b = await inject('POST', '/v1/contacts', { phone_number: '+12015559003', groups: [g.id] });
    const res = await inject('GET', `/v1/groups/${g.id}/contacts?include[]=status&include[]=groups&include[]=fields`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.map((c: { id: string }) => c.id)).toEqual([a.json().data.id, b.json().data.id]);
    expect(res.json().data[0]).toMatchObject({ status: { subscription: 'pending' }, fields: {}, groups: [{ id: g.id }] });
    expect(res.json().meta.pagination.total).toBe(2);
    const filtered = await inject('GET', `/v1/groups/${g.id}/contacts?filter[reward_points]=3`);
    expect(filtered.json().data.map((c: { id: string }) => c.id)).toEqual([a.json().data.id]);
    const byPhone = await inject('GET', `/v1/groups/${g.id}/contacts?filter[phone_number]=2015559001`);
    expect(byPhone.json().data).toEqual([]);
  });

  it('answers 404 for unknown groups and 400 for unknown filters (error)', async () => {
    expect((await inject('GET', '/v1/groups/00000000-0000-4000-8000-000000000000/contacts')).statusCode).toBe(404);
    const g = await createGroup();
    expect((await inject('GET', `/v1/groups/${g.id}/contacts?filter[name]=x`)).statusCode).toBe(400);
  });

  it("refuses another account's group and needs groups.view (security)", async () => {
    const g = await createGroup();
    expect((await inject('GET', `/v1/groups/${g.id}/contacts`, undefined, other)).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('GET', `/v1/groups/${g.id}/contacts`, undefined, narrow)).statusCode).toBe(403);
  });
});
