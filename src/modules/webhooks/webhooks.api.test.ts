import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { createEventsRepo } from '../events/events.repo.js';
import { createWebhookDeliveryRepo } from './webhook-delivery.repo.js';
import { buildRejectedMessagePayload } from './webhook-payloads.js';
import { ROTATION_OVERLAP_MS } from './webhooks.service.js';

let ctx: TestContext;
let owner: Awaited<ReturnType<typeof createAccountWithToken>>;
let other: Awaited<ReturnType<typeof createAccountWithToken>>;

beforeAll(async () => {
  ctx = await createTestApp();
  owner = await createAccountWithToken(ctx.app);
  other = await createAccountWithToken(ctx.app);
});
afterAll(() => ctx.close());

const create = (auth: { authorization: string }, body: unknown) => ctx.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: body as object });

describe('POST /v1/webhooks', () => {
  it('creates an endpoint and shows its whsec_ secret once, encrypted at rest', async () => {
    const res = await create(owner.auth, { url: 'https://hooks.example.com/sms', events: ['unsubscribe', 'inbound_message', 'unsubscribe'] });
    expect(res.statusCode).toBe(201);
    const data = res.json().data;
    expect(data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      url: 'https://hooks.example.com/sms',
      events: ['inbound_message', 'unsubscribe'],
      enabled: true,
      disabled_reason: null,
      disabled_at: null,
      failing_since: null,
      secret_rotation_ends_at: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.any(String),
      secret: expect.stringMatching(/^whsec_[A-Za-z0-9+/]{43}=$/),
    });
    const stored = await ctx.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', data.id).executeTakeFirstOrThrow();
    expect(stored.secret_encrypted).toMatch(/^v1\./);
    expect(JSON.stringify(stored)).not.toContain(data.secret.slice(6));
    expect(ctx.app.services.secretBox().open(stored.secret_encrypted, data.id)).toBe(data.secret);

    const read = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${data.id}`, headers: owner.auth });
    expect(read.statusCode).toBe(200);
    expect(read.json().data).not.toHaveProperty('secret');
    expect(read.body).not.toContain('whsec_');
  });

  it('accepts enabled: false', async () => {
    const res = await create(owner.auth, { url: 'http://hooks.example.com/x', events: ['rejected_message'], enabled: false });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.enabled).toBe(false);
  });

  it.each([
    ['not-a-url', 'The URL is not valid.'],
    ['not a url', 'The URL may not contain spaces or control characters.'],
    ['javascript:alert(1)', 'The URL must use http or https.'],
    ['file:///etc/passwd', 'The URL must use http or https.'],
    ['ftp://example.com/x', 'The URL must use http or https.'],
    ['https://user:pw@example.com/', 'The URL may not contain credentials.'],
    ['', 'The URL is required.'],
    [' https://example.com', 'The URL may not contain spaces or control characters.'],
  ])('refuses the URL %j with a 422', async (url, message) => {
    const res = await create(owner.auth, { url, events: ['unsubscribe'] });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ status: 422, message: 'A validation error occurred', errors: { url: [message] } });
  });

  it('refuses unknown event names, an empty list and missing fields with a 422 keyed by field', async () => {
    const unknown = await create(owner.auth, { url: 'https://example.com/h', events: ['unsubscribe', 'message.sent'] });
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors.events[0]).toMatch(/^Unknown event: "message\.sent"\. Allowed: inbound_message, unsubscribe, delivery_report, contact_status, bounced_message, rejected_message\.$/);
    const empty = await create(owner.auth, { url: 'https://example.com/h', events: [] });
    expect(empty.statusCode).toBe(422);
    expect(Object.keys(empty.json().errors)).toEqual(['events']);
    const missing = await create(owner.auth, {});
    expect(missing.statusCode).toBe(422);
    expect(Object.keys(missing.json().errors).sort()).toEqual(['events', 'url']);
    const wrongTypes = await create(owner.auth, { url: { a: 1 }, events: 'unsubscribe', enabled: 'maybe' });
    expect(wrongTypes.statusCode).toBe(422);
    const tooLong = await create(owner.auth, { url: `https://example.com/${'a'.repeat(5000)}`, events: ['unsubscribe'] });
    expect(tooLong.statusCode).toBe(422);
  });

  it('refuses private and loopback addresses unless WEBHOOKS_ALLOW_PRIVATE_NETWORKS is set', async () => {
    const strict = await createTestApp({ WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'false' }, ctx.database);
    try {
      for (const url of ['http://127.0.0.1:8080/h', 'http://localhost/h', 'http://169.254.169.254/latest/meta-data', 'http://[::1]/h', 'http://10.1.2.3/h', 'http://2130706433/']) {
        const res = await strict.app.inject({ method: 'POST', url: '/v1/webhooks', headers: owner.auth, payload: { url, events: ['unsubscribe'] } });
        expect(res.statusCode, url).toBe(422);
        expect(res.json().errors.url).toEqual(['The URL points to a private or reserved network address.']);
      }
    } finally {
      await strict.app.close();
    }
    const allowed = await create(owner.auth, { url: 'http://127.0.0.1:8080/h', events: ['unsubscribe'] });
    expect(allowed.statusCode).toBe(201);
  });

  it('caps the endpoints of an account', async () => {
    const { auth } = await createAccountWithToken(ctx.app);
    for (let i = 0; i < 20; i++) expect((await create(auth, { url: `https://example.com/${i}`, events: ['unsubscribe'] })).statusCode).toBe(201);
    const over = await create(auth, { url: 'https://example.com/21', events: ['unsubscribe'] });
    expect(over.statusCode).toBe(422);
    expect(over.json().errors.url[0]).toMatch(/at most 20/);
  });
});

describe('GET, PUT, PATCH, DELETE /v1/webhooks/{id}', () => {
  it('lists the account\'s endpoints with pagination and filters', async () => {
    const { auth } = await createAccountWithToken(ctx.app);
    await create(auth, { url: 'https://a.example.com/1', events: ['unsubscribe'] });
    await create(auth, { url: 'https://b.example.com/2', events: ['inbound_message'], enabled: false });
    const page = await ctx.app.inject({ method: 'GET', url: '/v1/webhooks?limit=1', headers: auth });
    expect(page.statusCode).toBe(200);
    expect(page.json().data).toHaveLength(1);
    expect(page.json().meta.pagination).toMatchObject({ total: 2, count: 1, per_page: 1, total_pages: 2 });
    const disabled = await ctx.app.inject({ method: 'GET', url: '/v1/webhooks?filter[enabled]=false', headers: auth });
    expect(disabled.json().data.map((e: { url: string }) => e.url)).toEqual(['https://b.example.com/2']);
    const bad = await ctx.app.inject({ method: 'GET', url: '/v1/webhooks?filter[secret]=x', headers: auth });
    expect(bad.statusCode).toBe(400);
  });

  it('updates url, events and enabled (PUT and PATCH), re-enabling clears the disabled state', async () => {
    const id = (await create(owner.auth, { url: 'https://example.com/u', events: ['unsubscribe'] })).json().data.id;
    await ctx.database.db
      .updateTable('webhook_endpoints')
      .set({ enabled: false, disabled_reason: 'gone', disabled_at: new Date(), failing_since: new Date() })
      .where('id', '=', id)
      .execute();
    const put = await ctx.app.inject({ method: 'PUT', url: `/v1/webhooks/${id}`, headers: owner.auth, payload: { url: 'https://example.com/v', events: ['rejected_message', 'delivery_report'] } });
    expect(put.statusCode).toBe(200);
    expect(put.json().data).toMatchObject({ url: 'https://example.com/v', events: ['delivery_report', 'rejected_message'], enabled: false, disabled_reason: 'gone' });
    const patch = await ctx.app.inject({ method: 'PATCH', url: `/v1/webhooks/${id}`, headers: owner.auth, payload: { enabled: true } });
    expect(patch.statusCode).toBe(200);
    expect(patch.json().data).toMatchObject({ enabled: true, disabled_reason: null, disabled_at: null, failing_since: null, url: 'https://example.com/v' });
    const bad = await ctx.app.inject({ method: 'PUT', url: `/v1/webhooks/${id}`, headers: owner.auth, payload: { url: 'javascript:void(0)', events: ['nope'] } });
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['events', 'url']);
  });

  it('deletes an endpoint (204), then it is gone (404)', async () => {
    const id = (await create(owner.auth, { url: 'https://example.com/d', events: ['unsubscribe'] })).json().data.id;
    const del = await ctx.app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: owner.auth });
    expect(del.statusCode).toBe(204);
    expect(del.body).toBe('');
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${id}`, headers: owner.auth })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/webhooks/${id}`, headers: owner.auth })).statusCode).toBe(404);
  });

  it('answers 404 for unknown and malformed ids', async () => {
    for (const url of ['/v1/webhooks/00000000-0000-4000-8000-000000000000', '/v1/webhooks/nope', '/v1/webhooks/nope/deliveries']) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: owner.auth });
      expect(res.statusCode, url).toBe(404);
    }
  });
});

describe('POST /v1/webhooks/{id}/rotate-secret', () => {
  it('returns a new secret once and keeps the previous one signing for 24 hours', async () => {
    const created = (await create(owner.auth, { url: 'https://example.com/r', events: ['unsubscribe'] })).json().data;
    const before = Date.now();
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${created.id}/rotate-secret`, headers: owner.auth });
    expect(res.statusCode).toBe(200);
    const rotated = res.json().data;
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    const ends = Date.parse(rotated.secret_rotation_ends_at);
    expect(ends).toBeGreaterThanOrEqual(before + ROTATION_OVERLAP_MS - 1000);
    expect(ends).toBeLessThanOrEqual(Date.now() + ROTATION_OVERLAP_MS + 1000);
    const stored = await ctx.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', created.id).executeTakeFirstOrThrow();
    const box = ctx.app.services.secretBox();
    expect(box.open(stored.secret_encrypted, created.id)).toBe(rotated.secret);
    expect(box.open(stored.previous_secret_encrypted!, created.id)).toBe(created.secret);
  });

  it('404s for another account and needs the scope', async () => {
    const created = (await create(owner.auth, { url: 'https://example.com/r2', events: ['unsubscribe'] })).json().data;
    expect((await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${created.id}/rotate-secret`, headers: other.auth })).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${created.id}/rotate-secret`, headers: narrow })).statusCode).toBe(403);
  });
});

describe('deliveries log and redelivery', () => {
  it('lists deliveries with status, code, latency and next retry; shows one with its body; redelivers', async () => {
    const { account, auth } = await createAccountWithToken(ctx.app);
    const endpoint = (await create(auth, { url: 'http://127.0.0.1:9/never', events: ['rejected_message'] })).json().data;
    const events = createEventsRepo(ctx.database.db);
    await events.record(account.id, 'rejected_message', buildRejectedMessagePayload({ code: null, message: 'Hi', description: 'Unsubscribed' }));
    await createWebhookDeliveryRepo(ctx.database.db).fanOut(100, 0);

    const list = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries`, headers: auth });
    expect(list.statusCode).toBe(200);
    const [delivery] = list.json().data;
    expect(list.json().meta.pagination.total).toBe(1);
    expect(delivery).toEqual({
      id: expect.any(String),
      webhook_id: expect.stringMatching(/^msg_[0-9a-f]{32}$/),
      event: 'rejected_message',
      status: 'pending',
      attempts: 0,
      response_code: null,
      latency_ms: null,
      error: null,
      next_attempt_at: expect.any(String),
      last_attempt_at: null,
      delivered_at: null,
      created_at: expect.any(String),
    });

    const one = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}`, headers: auth });
    expect(one.statusCode).toBe(200);
    expect(one.json().data.payload).toEqual({ code: '', message: 'Hi', description: 'Unsubscribed' });
    expect(one.json().data.attempt_log).toEqual([]);

    // A finished, failed delivery is queued again with the same webhook-id.
    await ctx.database.db
      .updateTable('webhook_deliveries')
      .set({ status: 'failed', attempts: 9, next_attempt_at: null, last_status_code: 500, last_latency_ms: 12, last_error: 'HTTP 500' })
      .where('id', '=', delivery.id)
      .execute();
    const failed = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries?filter[status]=failed`, headers: auth });
    expect(failed.json().data[0]).toMatchObject({ status: 'failed', response_code: 500, latency_ms: 12, error: 'HTTP 500', next_attempt_at: null });
    const redo = await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`, headers: auth });
    expect(redo.statusCode).toBe(202);
    expect(redo.json().data).toMatchObject({ id: delivery.id, webhook_id: delivery.webhook_id, status: 'pending', attempts: 0 });
    expect(Date.parse(redo.json().data.next_attempt_at)).toBeLessThanOrEqual(Date.now() + 1000);

    // While an attempt is in flight: 409. On a disabled endpoint: 409.
    await ctx.database.db.updateTable('webhook_deliveries').set({ status: 'delivering' }).where('id', '=', delivery.id).execute();
    const busy = await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`, headers: auth });
    expect(busy.statusCode).toBe(409);
    await ctx.database.db.updateTable('webhook_deliveries').set({ status: 'failed' }).where('id', '=', delivery.id).execute();
    await ctx.app.inject({ method: 'PATCH', url: `/v1/webhooks/${endpoint.id}`, headers: auth, payload: { enabled: false } });
    const disabled = await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`, headers: auth });
    expect(disabled.statusCode).toBe(409);
    expect(disabled.json().message).toMatch(/disabled/);

    // Another account sees none of it.
    for (const [method, url] of [
      ['GET', `/v1/webhooks/${endpoint.id}/deliveries`],
      ['GET', `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}`],
      ['POST', `/v1/webhooks/${endpoint.id}/deliveries/${delivery.id}/redeliver`],
    ] as const) {
      const res = await ctx.app.inject({ method, url, headers: other.auth });
      expect(res.statusCode, url).toBe(404);
    }
    // A delivery id under another endpoint of the same account: 404.
    const second = (await create(auth, { url: 'https://example.com/second', events: ['unsubscribe'] })).json().data;
    expect((await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${second.id}/deliveries/${delivery.id}`, headers: auth })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${endpoint.id}/deliveries/not-a-uuid/redeliver`, headers: auth })).statusCode).toBe(404);
    const badFilter = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${endpoint.id}/deliveries?filter[status]=lost`, headers: auth });
    expect(badFilter.statusCode).toBe(400);
    // Deleting the endpoint removes its log.
    await ctx.app.inject({ method: 'DELETE', url: `/v1/webhooks/${endpoint.id}`, headers: auth });
    const left = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${endpoint.id}`.execute(ctx.database.db);
    expect(left.rows[0]!.n).toBe(0);
  });
});

describe('security', () => {
  it('another account\'s endpoint is a 404 on every route', async () => {
    const id = (await create(owner.auth, { url: 'https://example.com/s', events: ['unsubscribe'] })).json().data.id;
    const routes: Array<['GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', string, object?]> = [
      ['GET', `/v1/webhooks/${id}`],
      ['PUT', `/v1/webhooks/${id}`, { enabled: false }],
      ['PATCH', `/v1/webhooks/${id}`, { url: 'javascript:x' }],
      ['DELETE', `/v1/webhooks/${id}`],
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
    ];
    for (const [method, url, payload] of routes) {
      const res = await ctx.app.inject({ method, url, headers: other.auth, ...(payload ? { payload } : {}) });
      expect(res.statusCode, `${method} ${url}`).toBe(404);
    }
    const list = await ctx.app.inject({ method: 'GET', url: '/v1/webhooks', headers: other.auth });
    expect(list.json().data.map((e: { id: string }) => e.id)).not.toContain(id);
    const still = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${id}`, headers: owner.auth });
    expect(still.json().data).toMatchObject({ enabled: true, url: 'https://example.com/s' });
  });

  it('needs a token (401) with the webhooks.manage scope (403) on every route', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view', 'carriers.view']);
    const id = '00000000-0000-4000-8000-000000000000';
    const routes: Array<['GET' | 'PUT' | 'PATCH' | 'DELETE' | 'POST', string]> = [
      ['GET', '/v1/webhooks'],
      ['POST', '/v1/webhooks'],
      ['GET', `/v1/webhooks/${id}`],
      ['PUT', `/v1/webhooks/${id}`],
      ['PATCH', `/v1/webhooks/${id}`],
      ['DELETE', `/v1/webhooks/${id}`],
      ['POST', `/v1/webhooks/${id}/rotate-secret`],
      ['GET', `/v1/webhooks/${id}/deliveries`],
      ['GET', `/v1/webhooks/${id}/deliveries/${id}`],
      ['POST', `/v1/webhooks/${id}/deliveries/${id}/redeliver`],
    ];
    for (const [method, url] of routes) {
      const forbidden = await ctx.app.inject({ method, url, headers: narrow, payload: {} });
      expect(forbidden.statusCode, `${method} ${url}`).toBe(403);
      expect(forbidden.json().message).toMatch(/webhooks\.manage/);
      const anonymous = await ctx.app.inject({ method, url, payload: {} });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
    }
  });

  it('never answers 5xx to hostile bodies', async () => {
    const bodies = ['{"url":', '[]', 'null', '{"__proto__":{"x":1},"url":"https://e.com","events":["unsubscribe"]}', '"x"', '{"url":"https://e.com","events":[null, 1, {}]}', '{"events":["unsubscribe"],"url":"http://[::1"}'];
    for (const payload of bodies) {
      const res = await ctx.app.inject({ method: 'POST', url: '/v1/webhooks', headers: { ...owner.auth, 'content-type': 'application/json' }, payload });
      expect(res.statusCode, payload).toBeGreaterThanOrEqual(400);
      expect(res.statusCode, payload).toBeLessThan(500);
    }
  });
});
