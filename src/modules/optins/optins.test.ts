import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { DOUBLE_OPT_IN_ID, EMAIL_OPT_IN_ID, OPT_IN_SEED, SINGLE_OPT_IN_ID } from './optins.seed.js';

let ctx: TestContext;
let auth: { authorization: string };

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('GET /v1/opt-ins', () => {
  it('lists the standard opt-ins with deterministic ids (happy)', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins', headers: auth });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual([
      { id: SINGLE_OPT_IN_ID, name: 'Single', description: expect.any(String), enabled: true },
      { id: DOUBLE_OPT_IN_ID, name: 'Double', description: 'Reply Y to confirm', enabled: true },
      { id: EMAIL_OPT_IN_ID, name: 'Email', description: 'Text Email Address to confirm', enabled: true },
    ]);
    expect(res.json().meta.pagination.total).toBe(OPT_IN_SEED.length);
    const sorted = await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins?sort=-name&filter[name]=ou', headers: auth });
    expect(sorted.json().data.map((o: { name: string }) => o.name)).toEqual(['Double']);
  });

  it('retrieves one (happy) and answers 404 for unknown or malformed ids (error)', async () => {
    const one = await ctx.app.inject({ method: 'GET', url: `/v1/opt-ins/${EMAIL_OPT_IN_ID}`, headers: auth });
    expect(one.json().data).toMatchObject({ id: EMAIL_OPT_IN_ID, name: 'Email' });
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins/00000000-0000-4000-8000-000000000000', headers: auth })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins/email', headers: auth })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins?filter[enabled]=maybe', headers: auth })).statusCode).toBe(400);
  });

  it('is read-only and needs optins.view (security)', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['groups.view']);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/opt-ins', headers: narrow })).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/opt-ins/${EMAIL_OPT_IN_ID}`, headers: narrow })).statusCode).toBe(403);
    const post = await ctx.app.inject({ method: 'POST', url: '/v1/opt-ins', headers: auth, payload: { name: 'Mine' } });
    expect(post.statusCode).toBe(405);
  });
});
