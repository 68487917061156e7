import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { newId } from '../../lib/ids.js';

let ctx: TestContext;
type Account = Awaited<ReturnType<typeof createAccountWithToken>>;
let owner: Account;
let other: Account;

beforeAll(async () => {
  ctx = await createTestApp();
  owner = await createAccountWithToken(ctx.app);
  other = await createAccountWithToken(ctx.app);
});
afterAll(() => ctx.close());

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, who: Account = owner) =>
  ctx.app.inject({ method, url, headers: { ...who.auth, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

describe('campaign templates', () => {
  it('creates, lists, reads, updates and deletes', async () => {
    const created = await api('POST', '/v1/campaigns/templates', { name: 'Welcome', message: 'Welcome {first_name|friend}!' });
    expect(created.statusCode).toBe(201);
    const t = created.json().data;
    expect(t).toEqual({ id: expect.any(String), name: 'Welcome', message: 'Welcome {first_name|friend}!', created_at: expect.any(String), updated_at: expect.any(String) });
    await api('POST', '/v1/campaigns/templates', { name: 'Another', message: 'Hi' });
    const list = await api('GET', '/v1/campaigns/templates?sort=name&limit=1');
    expect(list.json()).toMatchObject({ data: [{ name: 'Another' }], meta: { pagination: { total: 2, per_page: 1, links: { next: expect.stringContaining('page=2') } } } });
    expect((await api('GET', '/v1/campaigns/templates?filter[name]=welc')).json().data.map((x: { id: string }) => x.id)).toEqual([t.id]);
    expect((await api('GET', `/v1/campaigns/templates/${t.id}`)).json().data).toEqual(t);
    const put = await api('PUT', `/v1/campaigns/templates/${t.id}`, { message: 'Hello {first_name}' });
    expect(put.statusCode).toBe(200);
    expect(put.json().data).toMatchObject({ name: 'Welcome', message: 'Hello {first_name}' });
    expect((await api('DELETE', `/v1/campaigns/templates/${t.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/v1/campaigns/templates/${t.id}`)).statusCode).toBe(404);
    expect((await api('DELETE', `/v1/campaigns/templates/${t.id}`)).statusCode).toBe(404);
  });

  it('accepts custom fields of the account as merge tags', async () => {
    await sql`INSERT INTO custom_fields (id, account_id, name, type) VALUES (${newId()}, ${owner.account.id}, 'Shoe size', 'number')`.execute(ctx.database.db);
    expect((await api('POST', '/v1/campaigns/templates', { name: 'Shoes', message: 'Size {shoe size|?} is back' })).statusCode).toBe(201);
    expect((await api('POST', '/v1/campaigns/templates', { name: 'Shoes', message: 'Size {shoe size|?} is back' }, other)).statusCode).toBe(422);
  });

  it('refuses bad input with 422', async () => {
    const cases: Array<[unknown, string]> = [
      [{ name: 'x', message: 'Hi {first_name' }, 'message'],
      [{ name: 'x', message: 'Hi }' }, 'message'],
      [{ name: 'x', message: 'Hi {nope}' }, 'message'],
      [{ name: 'x', message: '' }, 'message'],
      [{ name: 'x', message: 'y'.repeat(1601) }, 'message'],
      [{ message: 'Hi' }, 'name'],
      [{ name: ' ', message: 'Hi' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/v1/campaigns/templates', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.json().errors), JSON.stringify(body)).toContain(field);
    }
    const t = (await api('POST', '/v1/campaigns/templates', { name: 'ok', message: 'ok' })).json().data;
    expect((await api('PUT', `/v1/campaigns/templates/${t.id}`, { message: '{{unbalanced}' })).statusCode).toBe(422);
    expect((await api('GET', `/v1/campaigns/templates/${t.id}`)).json().data.message).toBe('ok');
  });

  it('keeps accounts apart', async () => {
    const t = (await api('POST', '/v1/campaigns/templates', { name: 'Private', message: 'x' })).json().data;
    expect((await api('GET', `/v1/campaigns/templates/${t.id}`, undefined, other)).statusCode).toBe(404);
    expect((await api('PUT', `/v1/campaigns/templates/${t.id}`, { name: 'y' }, other)).statusCode).toBe(404);
    expect((await api('DELETE', `/v1/campaigns/templates/${t.id}`, undefined, other)).statusCode).toBe(404);
    expect((await api('GET', '/v1/campaigns/templates', undefined, other)).json().data).toEqual([]);
    expect((await api('GET', `/v1/campaigns/templates/${t.id}`)).statusCode).toBe(200);
  });
});
