import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';

let ctx: TestContext;
let auth: { authorization: string };
let other: { authorization: string };

const inject = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
  ctx.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
  other = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('/v1/fields', () => {
  it('creates, lists, retrieves, renames and deletes custom fields (happy)', async () => {
    const created = await inject('POST', '/v1/fields', { name: 'shoe_size', type: 'number' });
    expect(created.statusCode).toBe(201);
    const field = created.json().data;
    expect(field).toMatchObject({ name: 'shoe_size', type: 'number' });
    await inject('POST', '/v1/fields', { name: 'anniversary', type: 'date' });
    const list = await inject('GET', '/v1/fields?sort=name');
    expect(list.json().data.map((f: { name: string }) => f.name)).toEqual(['anniversary', 'shoe_size']);
    expect((await inject('GET', '/v1/fields?filter[type]=date')).json().data).toHaveLength(1);
    expect((await inject('GET', `/v1/fields/${field.id}`)).json().data.id).toBe(field.id);
    const renamed = await inject('PUT', `/v1/fields/${field.id}`, { name: 'shoe' });
    expect(renamed.json().data).toMatchObject({ id: field.id, name: 'shoe', type: 'number' });

    const contact = await inject('POST', '/v1/contacts', { phone_number: '+12015550777', fields: { shoe: 42 } });
    expect(contact.statusCode).toBe(201);
    expect((await inject('DELETE', `/v1/fields/${field.id}`)).statusCode).toBe(204);
    const after = await inject('GET', `/v1/contacts/${contact.json().data.id}?include=fields`);
    expect(after.json().data.fields).toEqual({});
    expect((await inject('GET', `/v1/fields/${field.id}`)).statusCode).toBe(404);
  });

  it('refuses duplicate names (any case), bad names and types, and type changes (error)', async () => {
    await inject('POST', '/v1/fields', { name: 'Color', type: 'text' });
    const dup = await inject('POST', '/v1/fields', { name: 'color', type: 'text' });
    expect(dup.statusCode).toBe(422);
    expect(dup.json().errors.name).toBeDefined();
    for (const body of [{ name: '1abc', type: 'text' }, { name: 'has space', type: 'text' }, { name: 'x'.repeat(10_000), type: 'text' }, { name: 'ok', type: 'json' }, { type: 'text' }]) {
      const res = await inject('POST', '/v1/fields', body);
      expect(res.statusCode, JSON.stringify(body).slice(0, 50)).toBe(422);
    }
    const field = (await inject('POST', '/v1/fields', { name: 'flag', type: 'boolean' })).json().data;
    const change = await inject('PUT', `/v1/fields/${field.id}`, { type: 'text' });
    expect(change.statusCode).toBe(422);
    expect(change.json().errors.type).toBeDefined();
    expect((await inject('PUT', `/v1/fields/${field.id}`, { name: 'COLOR' })).statusCode).toBe(422);
  });

  it("keeps accounts apart and needs contacts.view / contacts.update (security)", async () => {
    const mine = (await inject('POST', '/v1/fields', { name: 'secret', type: 'text', id: '00000000-0000-4000-8000-000000000001' })).json().data;
    expect(mine.id).not.toBe('00000000-0000-4000-8000-000000000001');
    expect((await inject('GET', `/v1/fields/${mine.id}`, undefined, other)).statusCode).toBe(404);
    expect((await inject('PUT', `/v1/fields/${mine.id}`, { name: 'x' }, other)).statusCode).toBe(404);
    expect((await inject('DELETE', `/v1/fields/${mine.id}`, undefined, other)).statusCode).toBe(404);
    expect((await inject('GET', '/v1/fields', undefined, other)).json().data.some((f: { id: string }) => f.id === mine.id)).toBe(false);
    // Same name in another account is fine.
    expect((await inject('POST', '/v1/fields', { name: 'secret', type: 'number' }, other)).statusCode).toBe(201);
    const { auth: viewOnly } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('GET', '/v1/fields', undefined, viewOnly)).statusCode).toBe(200);
    expect((await inject('POST', '/v1/fields', { name: 'x', type: 'text' }, viewOnly)).statusCode).toBe(403);
    expect((await inject('PUT', `/v1/fields/${mine.id}`, { name: 'x' }, viewOnly)).statusCode).toBe(403);
    expect((await inject('DELETE', `/v1/fields/${mine.id}`, undefined, viewOnly)).statusCode).toBe(403);
    const { auth: none } = await createAccountWithToken(ctx.app, ['groups.view']);
    expect((await inject('GET', '/v1/fields', undefined, none)).statusCode).toBe(403);
    expect((await inject('GET', `/v1/fields/${mine.id}`, undefined, none)).statusCode).toBe(403);
  });
});
