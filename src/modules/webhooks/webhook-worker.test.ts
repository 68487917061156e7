import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { performance } from 'node:perf_hooks';
import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { startReceiver, waitFor, type TestReceiver } from '../../../test/webhook-receiver.js';
import type { WebhooksConfig } from '../../config.js';
import { createEventsRepo, type EventType } from '../events/events.repo.js';
import { createWebhookDeliveryRepo } from './webhook-delivery.repo.js';
import {
  buildBouncedMessagePayload,
  buildContactStatusPayload,
  buildDeliveryReportPayload,
  buildInboundMessagePayload,
  buildRejectedMessagePayload,
  buildUnsubscribePayload,
  type ContactSnapshot,
} from './webhook-payloads.js';
import { createWebhookWorker } from './webhook-worker.js';

let ctx: TestContext;
const silent = pino({ level: 'silent' });

beforeAll(async () => {
  ctx = await createTestApp();
});
afterAll(() => ctx.close());
beforeEach(async () => {
  await sql`DELETE FROM webhook_deliveries`.execute(ctx.database.db);
  await sql`DELETE FROM webhook_endpoints`.execute(ctx.database.db);
  await sql`DELETE FROM events`.execute(ctx.database.db);
});

const contact: ContactSnapshot = {
  id: 'f82e541a-a4b1-11e8-a85f-127fd0971098',
  firstName: null,
  lastName: 'Doe',
  email: null,
  phoneNumber: '+19999999999',
  unsubscribedAt: new Date('2016-07-01T15:11:09.553Z'),
  bounces: 3,
  createdAt: new Date('2016-07-01T15:11:09.553Z'),
  updatedAt: new Date('2016-07-01T15:11:09.553Z'),
};
const codeText = (code: string) => (code === '100' ? 'The message delivered successfully.' : `Code ${code}`);
const report = (n: number, code = 100) =>
  buildDeliveryReportPayload(
    [{ messageId: `00000000-0000-4000-8000-00000000000${n}`, from: '+15555555555', message: `m${n}`, phoneNumber: `+1999999999${n}`, code }],
    { codeText },
  );

/** The six events with the reference's bodies, as the messaging engine writes them. */
const SIX: Array<[EventType, unknown]> = [
  ['inbound_message', buildInboundMessagePayload({ contact, shortCode: '64600', message: 'Hello', receivedAt: new Date('2016-07-01T15:11:09.553Z') })],
  ['unsubscribe', buildUnsubscribePayload({ contact, to: '64600' })],
  ['delivery_report', report(1)],
  ['contact_status', buildContactStatusPayload({ contact, status: 'transferred', previousPhoneNumber: '+18888888888' })],
  ['bounced_message', buildBouncedMessagePayload({ contact })],
  ['rejected_message', buildRejectedMessagePayload({ code: null, message: 'Sale today', description: 'Unsubscribed' })],
];

function webhooksConfig(overrides: Partial<WebhooksConfig> = {}): WebhooksConfig {
  return { ...ctx.config.webhooks, batchWindowMs: 0, timeoutMs: 2_000, leaseMs: 5_000, ...overrides };
}

function worker(overrides: Partial<WebhooksConfig> = {}, retryDelayScale = 0.001) {
  return createWebhookWorker({
    db: ctx.database.db,
    secretBox: ctx.app.services.secretBox,
    log: silent,
    config: webhooksConfig(overrides),
    allowPrivateNetworks: true,
    pollIntervalMs: 10,
    retryDelayScale,
  });
}

async function endpoint(auth: { authorization: string }, url: string, events: string[]): Promise<{ id: string; secret: string }> {
  const res = await ctx.app.inject({ method: 'POST', url: '/v1/webhooks', headers: auth, payload: { url, events } });
  expect(res.statusCode).toBe(201);
  return res.json().data;
}

const deliveries = () => ctx.database.db.selectFrom('webhook_deliveries').selectAll().orderBy('created_at').execute();

/**
 * A receiver that accepts every connection and reads the request, then never answers and never
 * closes: only the sender can end such an attempt. It records each request (by webhook-id) with
 * when it arrived and when its connection closed.
 */
async function startHangingReceiver() {
  const sockets = new Set<Socket>();
  const requests: Array<{ id: string; arrivedAt: number; closedAt?: number }> = [];
  let connections = 0;
  let heldPeak = 0;
  const held = () => requests.filter((r) => r.closedAt === undefined).length;
  const server = http.createServer((req) => {
    const request: { id: string; arrivedAt: number; closedAt?: number } = { id: String(req.headers['webhook-id'] ?? ''), arrivedAt: performance.now() };
    requests.push(request);
    heldPeak = Math.max(heldPeak, held());
    req.socket.once('close', () => (request.closedAt = performance.now()));
    req.resume();
  });
  server.on('connection', (socket: Socket) => {
    connections += 1;
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    requests,
    /** Requests received whose connection is still open. */
    held,
    heldPeak: () => heldPeak,
    openConnections: () => sockets.size,
    connections: () => connections,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

describe('fan-out', () => {
  it('creates one delivery per matching enabled endpoint and marks events dispatched, in one pass', async () => {
    const a = await createAccountWithToken(ctx.app);
    const b = await createAccountWithToken(ctx.app);
    const all = await endpoint(a.auth, 'https://a.example.com/all', ['inbound_message', 'unsubscribe', 'rejected_message']);
    const rejectedOnly = await endpoint(a.auth, 'https://a.example.com/rejected', ['rejected_message']);
    const off = await endpoint(a.auth, 'https://a.example.com/off', ['rejected_message']);
    await ctx.app.inject({ method: 'PATCH', url: `/v1/webhooks/${off.id}`, headers: a.auth, payload: { enabled: false } });
    const events = createEventsRepo(ctx.database.db);
    await events.record(a.account.id, 'inbound_message', SIX[0]![1]);
    await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    await events.record(a.account.id, 'contact_status', SIX[3]![1]); // nobody subscribed
    await events.record(b.account.id, 'rejected_message', SIX[5]![1]); // account b has no endpoint

    const result = await createWebhookDeliveryRepo(ctx.database.db).fanOut(100, 0);
    expect(result).toEqual({ events: 4, deliveries: 3 });
    const rows = await deliveries();
    expect(rows.map((r) => [r.endpoint_id, r.event_type]).sort()).toEqual(
      [[all.id, 'inbound_message'], [all.id, 'rejected_message'], [rejectedOnly.id, 'rejected_message']].sort(),
    );
    expect(new Set(rows.map((r) => r.msg_id)).size).toBe(3);
    expect(await events.listUndispatched(10)).toEqual([]);
    expect(await createWebhookDeliveryRepo(ctx.database.db).fanOut(100, 0)).toEqual({ events: 0, deliveries: 0 });
  });

  it('restores the reference field order that jsonb storage loses', async () => {
    const a = await createAccountWithToken(ctx.app);
    await endpoint(a.auth, 'https://a.example.com/x', ['inbound_message', 'contact_status']);
    const events = createEventsRepo(ctx.database.db);
    await events.record(a.account.id, 'inbound_message', SIX[0]![1]);
    await events.record(a.account.id, 'contact_status', SIX[3]![1]);
    await createWebhookDeliveryRepo(ctx.database.db).fanOut(100, 0);
    const bodies = Object.fromEntries((await deliveries()).map((r) => [r.event_type, r.payload]));
    expect(bodies.inbound_message).toBe(JSON.stringify(SIX[0]![1]));
    expect(bodies.contact_status).toBe(JSON.stringify(SIX[3]![1]));
    expect(Object.keys(JSON.parse(bodies.contact_status!))).toEqual(['id', 'first_name', 'last_name', 'email', 'phone_number', 'previous_phone_number', 'status', 'created_at', 'updated_at']);
  });

  it('merges an account\'s delivery reports into one aggregated payload once the oldest is a window old', async () => {
    const a = await createAccountWithToken(ctx.app);
    const b = await createAccountWithToken(ctx.app);
    await endpoint(a.auth, 'https://a.example.com/dr', ['delivery_report']);
    await endpoint(b.auth, 'https://b.example.com/dr', ['delivery_report']);
    const events = createEventsRepo(ctx.database.db);
    await events.record(a.account.id, 'delivery_report', report(1, 100));
    await events.record(a.account.id, 'delivery_report', report(2, 101));
    await events.record(b.account.id, 'delivery_report', report(3, 100));
    await events.record(a.account.id, 'delivery_report', report(4, 100));
    await events.record(a.account.id, 'inbound_message', SIX[0]![1]);
    const repo = createWebhookDeliveryRepo(ctx.database.db);

    // Within the window the reports wait; other events do not.
    expect(await repo.fanOut(100, 60_000)).toEqual({ events: 1, deliveries: 0 });
    await sql`UPDATE events SET created_at = created_at - interval '2 minutes' WHERE id = (SELECT id FROM events WHERE account_id = ${a.account.id} AND type = 'delivery_report' ORDER BY created_at LIMIT 1)`.execute(ctx.database.db);
    // The account's oldest report is old enough: all its reports go, merged; account b's wait.
    expect(await repo.fanOut(100, 60_000)).toEqual({ events: 3, deliveries: 1 });
    const [merged] = await deliveries();
    expect(merged!.event_ids).toHaveLength(3);
    expect(JSON.parse(merged!.payload)).toEqual({
      total_messages: 3,
      statuses: [
        { code: '100', status: 'The message delivered successfully.', count: 2, recipients: ['19999999991', '19999999994'], success: true, bounce: false },
        { code: '101', status: 'Code 101', count: 1, recipients: ['19999999992'], success: false, bounce: true },
      ],
      messages: [1, 2, 4].map((n) => ({ id: `00000000-0000-4000-8000-00000000000${n}`, from: '+15555555555', message: `m${n}`, phone_number: `999999999${n}`, metadata: [] })),
    });
    expect(Object.keys(JSON.parse(merged!.payload).statuses[0])).toEqual(['code', 'status', 'count', 'recipients', 'success', 'bounce']);
  });

  it('two concurrent fan-out passes never fan out one event twice', async () => {
    const a = await createAccountWithToken(ctx.app);
    await endpoint(a.auth, 'https://a.example.com/r', ['rejected_message']);
    const events = createEventsRepo(ctx.database.db);
    for (let i = 0; i < 60; i++) await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    const repo = createWebhookDeliveryRepo(ctx.database.db);
    const results = await Promise.all([repo.fanOut(25, 0), repo.fanOut(25, 0), repo.fanOut(25, 0)]);
    const again = await repo.fanOut(100, 0);
    expect(results.reduce((n, r) => n + r.deliveries, 0) + again.deliveries).toBe(60);
    expect((await deliveries()).length).toBe(60);
  });
});

describe('delivery', () => {
  let receiver: TestReceiver | undefined;
  afterAll(async () => receiver?.close());

  it('delivers all six events signed so that the standardwebhooks package verifies them, and logs each attempt', async () => {
    const a = await createAccountWithToken(ctx.app);
    let secret = '';
    receiver = await startReceiver({ secrets: () => [secret] });
    const ep = await endpoint(a.auth, receiver.url, SIX.map(([type]) => type));
    secret = ep.secret;
    const events = createEventsRepo(ctx.database.db);
    for (const [type, payload] of SIX) await events.record(a.account.id, type, payload);
    await worker().drain();

    expect(receiver.requests).toHaveLength(6);
    expect(receiver.verified()).toHaveLength(6);
    for (const [type, payload] of SIX) {
      expect(receiver.requests.map((r) => r.body), type).toContain(JSON.stringify(payload));
    }
    const rows = await deliveries();
    expect(rows.every((r) => r.status === 'delivered' && r.attempts === 1 && r.last_status_code === 204 && r.delivered_at !== null)).toBe(true);
    expect(new Set(receiver.requests.map((r) => r.id))).toEqual(new Set(rows.map((r) => r.msg_id)));
    const attempts = await ctx.database.db.selectFrom('webhook_attempts').selectAll().execute();
    expect(attempts).toHaveLength(6);
    expect(attempts.every((x) => x.outcome === 'success' && x.status_code === 204 && x.attempt === 1)).toBe(true);
    const endpointRow = await ctx.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', ep.id).executeTakeFirstOrThrow();
    expect(endpointRow.failing_since).toBeNull();
    await receiver.close();
    receiver = undefined;
  });

  it('signs with both secrets during a rotation overlap, and only the new one after it', async () => {
    const a = await createAccountWithToken(ctx.app);
    let secrets: string[] = [];
    receiver = await startReceiver({ secrets: () => secrets });
    const ep = await endpoint(a.auth, receiver.url, ['rejected_message']);
    const rotated = (await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${ep.id}/rotate-secret`, headers: a.auth })).json().data;
    secrets = [ep.secret, rotated.secret];
    const events = createEventsRepo(ctx.database.db);
    await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    await worker().drain();
    expect(receiver.requests[0]!.signature.split(' ')).toHaveLength(2);
    expect(receiver.requests[0]!.verifiedWith.sort()).toEqual([ep.secret, rotated.secret].sort());

    await sql`UPDATE webhook_endpoints SET previous_secret_expires_at = now() - interval '1 second' WHERE id = ${ep.id}`.execute(ctx.database.db);
    await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    await worker().drain();
    expect(receiver.requests[1]!.signature.split(' ')).toHaveLength(1);
    expect(receiver.requests[1]!.verifiedWith).toEqual([rotated.secret]);
    await receiver.close();
    receiver = undefined;
  });

  it('receiver down for the first attempts, then up: every event arrives, with the same webhook-id on every attempt', async () => {
    const a = await createAccountWithToken(ctx.app);
    let secret = '';
    let up = false;
    receiver = await startReceiver({ secrets: () => [secret], respond: () => (up ? { status: 200 } : { status: 503 }) });
    const ep = await endpoint(a.auth, receiver.url, SIX.map(([type]) => type));
    secret = ep.secret;
    const events = createEventsRepo(ctx.database.db);
    for (const [type, payload] of SIX) await events.record(a.account.id, type, payload);
    const w = worker({}, 0.002); // 5 s → 10 ms, 5 min → 600 ms
    w.start();
    try {
      await waitFor(() => receiver!.requests.length >= 12, 10_000, 'two failed rounds');
      up = true;
      await waitFor(async () => (await deliveries()).every((d) => d.status === 'delivered'), 15_000, 'all delivered');
    } finally {
      await w.stop();
    }
    const rows = await deliveries();
    expect(rows).toHaveLength(6);
    for (const row of rows) {
      const seen = receiver.requests.filter((r) => r.id === row.msg_id);
      expect(seen.length, row.event_type).toBeGreaterThanOrEqual(3);
      expect(seen.every((r) => r.body === row.payload && r.verifiedWith.length === 1)).toBe(true);
      expect(row.attempts).toBe(seen.length);
    }
    const log = await ctx.database.db.selectFrom('webhook_attempts').select(['delivery_id', 'attempt', 'outcome', 'status_code']).orderBy('attempt').execute();
    const first = log.filter((x) => x.delivery_id === rows[0]!.id);
    expect(first.map((x) => x.attempt)).toEqual(first.map((_, i) => i + 1));
    expect(first.at(-1)).toMatchObject({ outcome: 'success', status_code: 200 });
    expect(first[0]).toMatchObject({ outcome: 'failure', status_code: 503 });
    await receiver.close();
    receiver = undefined;
  });

  it('retries the first failure about 5 seconds later and honours a longer Retry-After', async () => {
    const a = await createAccountWithToken(ctx.app);
    receiver = await startReceiver({
      secrets: () => [],
      respond: (r) => (r.path.endsWith('/later') ? { status: 429, headers: { 'retry-after': '120' } } : { status: 500, body: 'x'.repeat(5000) }),
    });
    await endpoint(a.auth, receiver.url, ['rejected_message']);
    await endpoint(a.auth, receiver.url.replace('/hooks', '/later'), ['rejected_message']);
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    const before = Date.now();
    await worker({}, 1).drain();
    const rows = await ctx.database.db
      .selectFrom('webhook_deliveries')
      .innerJoin('webhook_endpoints', 'webhook_endpoints.id', 'webhook_deliveries.endpoint_id')
      .select(['webhook_endpoints.url', 'webhook_deliveries.status', 'webhook_deliveries.next_attempt_at', 'webhook_deliveries.last_status_code', 'webhook_deliveries.attempts', 'webhook_deliveries.id'])
      .execute();
    const plain = rows.find((r) => r.url.endsWith('/hooks'))!;
    const later = rows.find((r) => r.url.endsWith('/later'))!;
    expect(plain).toMatchObject({ status: 'pending', last_status_code: 500, attempts: 1 });
    const delay = plain.next_attempt_at!.getTime() - before;
    expect(delay).toBeGreaterThanOrEqual(4_000 - 50);
    expect(delay).toBeLessThanOrEqual(6_000 + 2_000);
    expect(later.next_attempt_at!.getTime() - before).toBeGreaterThanOrEqual(119_000);
    const [attempt] = await ctx.database.db.selectFrom('webhook_attempts').selectAll().where('delivery_id', '=', plain.id).execute();
    expect(attempt!.response_snippet!.length).toBeLessThanOrEqual(1025);
    await receiver.close();
    receiver = undefined;
  });

  it('410 Gone gives up the delivery and disables the endpoint; redirects are not followed', async () => {
    const a = await createAccountWithToken(ctx.app);
    let followed = 0;
    receiver = await startReceiver({
      secrets: () => [],
      respond: (r) => {
        if (r.path.endsWith('/gone')) return { status: 410 };
        if (r.path.endsWith('/target')) {
          followed += 1;
          return { status: 200 };
        }
        return { status: 302, headers: { location: `http://127.0.0.1:${receiver!.port}/target` } };
      },
    });
    const gone = await endpoint(a.auth, receiver.url.replace('/hooks', '/gone'), ['rejected_message']);
    const redirecting = await endpoint(a.auth, receiver.url, ['rejected_message']);
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    await worker().drain();
    const ep = await ctx.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', gone.id).executeTakeFirstOrThrow();
    expect(ep).toMatchObject({ enabled: false, disabled_reason: 'gone' });
    expect(ep.disabled_at).toBeInstanceOf(Date);
    const byEndpoint = Object.fromEntries((await deliveries()).map((d) => [d.endpoint_id, d]));
    expect(byEndpoint[gone.id]).toMatchObject({ status: 'failed', last_status_code: 410, next_attempt_at: null });
    expect(byEndpoint[redirecting.id]).toMatchObject({ status: 'pending', last_status_code: 302 });
    expect(byEndpoint[redirecting.id]!.last_error).toMatch(/redirect not followed/);
    expect(followed).toBe(0);
    // A disabled endpoint receives no new deliveries.
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    await createWebhookDeliveryRepo(ctx.database.db).fanOut(10, 0);
    expect((await deliveries()).filter((d) => d.endpoint_id === gone.id)).toHaveLength(1);
    await receiver.close();
    receiver = undefined;
  });

  it('disables an endpoint that has failed for more than 5 days, records and logs the notice; a success ends a streak', async () => {
    const a = await createAccountWithToken(ctx.app);
    receiver = await startReceiver({ secrets: () => [], respond: (r) => ({ status: r.path.endsWith('/ok') ? 200 : 500 }) });
    const failing = await endpoint(a.auth, receiver.url, ['rejected_message']);
    const recovering = await endpoint(a.auth, receiver.url.replace('/hooks', '/ok'), ['rejected_message']);
    await sql`UPDATE webhook_endpoints SET failing_since = now() - interval '6 days'`.execute(ctx.database.db);
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    const warnings: unknown[] = [];
    const log = pino({ level: 'warn' }, { write: (line: string) => void warnings.push(JSON.parse(line)) });
    await createWebhookWorker({ db: ctx.database.db, secretBox: ctx.app.services.secretBox, log, config: webhooksConfig(), allowPrivateNetworks: true }).drain();
    const rows = Object.fromEntries((await ctx.database.db.selectFrom('webhook_endpoints').selectAll().execute()).map((e) => [e.id, e]));
    expect(rows[failing.id]).toMatchObject({ enabled: false, disabled_reason: 'failing' });
    expect(rows[recovering.id]).toMatchObject({ enabled: true, disabled_reason: null, failing_since: null });
    expect(warnings).toEqual([expect.objectContaining({ endpointId: failing.id, reason: 'failing', msg: expect.stringMatching(/more than 5 days/) })]);
    expect(JSON.stringify(warnings)).not.toMatch(/whsec_/);
    const api = await ctx.app.inject({ method: 'GET', url: `/v1/webhooks/${failing.id}`, headers: a.auth });
    expect(api.json().data).toMatchObject({ enabled: false, disabled_reason: 'failing', disabled_at: expect.any(String) });
    await receiver.close();
    receiver = undefined;
  });

  it('a slow receiver holds at most its per-endpoint limit across workers and does not stall the others', async () => {
    const a = await createAccountWithToken(ctx.app);
    // The slow endpoint's answers are held until the test lets them go, so "the others were not
    // stalled" is a count (all fast deliveries arrived while every slow one was still waiting),
    // not a race between the fast endpoint and a fixed delay. Both endpoints are on the same
    // receiver (host and port), as two endpoints of one customer's server would be.
    let letGo!: () => void;
    const released = new Promise<void>((resolve) => (letGo = resolve));
    let slowHeld = 0;
    let slowHeldPeak = 0;
    receiver = await startReceiver({
      secrets: () => [],
      respond: (r) => {
        if (!r.path.endsWith('/slow')) return { status: 200 };
        slowHeld += 1;
        slowHeldPeak = Math.max(slowHeldPeak, slowHeld);
        // Answered once released, still slowly, so the later rounds overlap too.
        const until = released.then(() => new Promise((resolve) => setTimeout(resolve, 50))).then(() => {
          slowHeld -= 1;
        });
        return { status: 200, until };
      },
    });
    const slow = await endpoint(a.auth, receiver.url.replace('/hooks', '/slow'), ['rejected_message']);
    const fast = await endpoint(a.auth, receiver.url, ['rejected_message']);
    const events = createEventsRepo(ctx.database.db);
    for (let i = 0; i < 12; i++) await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    // An attempt deadline far beyond every wait below: however loaded the machine, no held
    // attempt times out and is retried, so the receiver's counts are exact.
    const options = { maxInFlightPerEndpoint: 3, concurrency: 20, timeoutMs: 30_000, leaseMs: 60_000 };
    const workers = [worker(options), worker(options)];
    for (const w of workers) w.start();
    let slowPeak = 0;
    const count = async (endpointId: string, status: string) =>
      (await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE endpoint_id = ${endpointId} AND status = ${status}`.execute(ctx.database.db)).rows[0]!.n;
    const slowRequests = () => receiver!.requests.filter((r) => r.path.endsWith('/slow'));
    try {
      await waitFor(async () => {
        slowPeak = Math.max(slowPeak, await count(slow.id, 'delivering'));
        return (await count(fast.id, 'delivered')) === 12 && slowHeld === 3;
      }, 20_000, 'fast endpoint delivered while the slow one holds its limit');
      // Every fast delivery arrived while the slow endpoint had its 3 attempts stuck, and only 3:
      // the two workers' claims never gave it a fourth.
      expect(receiver.requests.filter((r) => !r.path.endsWith('/slow'))).toHaveLength(12);
      expect(slowRequests()).toHaveLength(3);
      expect(await count(slow.id, 'delivering')).toBe(3);
      expect(await count(slow.id, 'delivered')).toBe(0);

      letGo();
      await waitFor(async () => {
        slowPeak = Math.max(slowPeak, await count(slow.id, 'delivering'));
        return (await count(slow.id, 'delivered')) === 12;
      }, 20_000, 'slow endpoint delivered');
    } finally {
      letGo();
      await Promise.all(workers.map((w) => w.stop()));
    }
    expect(slowPeak).toBeGreaterThan(0);
    expect(slowPeak).toBeLessThanOrEqual(3);
    expect(slowHeldPeak).toBe(3);
    // Each slow delivery arrived exactly once: none timed out or was retried.
    expect(slowRequests()).toHaveLength(12);
    expect(new Set(slowRequests().map((r) => r.id)).size).toBe(12);
    await receiver.close();
    receiver = undefined;
  });

  it('a receiver that hangs holds at most its limit and does not stall the others; each attempt times out, closes its socket and is retried later; stop() returns within the deadline', async () => {
    const a = await createAccountWithToken(ctx.app);
    const timeoutMs = 400;
    const hanging = await startHangingReceiver();
    // At each healthy delivery's arrival: how many attempts the hanging receiver was holding.
    const heldAtArrival: number[] = [];
    receiver = await startReceiver({
      secrets: () => [],
      respond: () => {
        heldAtArrival.push(hanging.held());
        return { status: 200 };
      },
    });
    const hung = await endpoint(a.auth, hanging.url, ['rejected_message']);
    const healthy = await endpoint(a.auth, receiver.url, ['inbound_message']);
    const events = createEventsRepo(ctx.database.db);
    // More deliveries to the hanging receiver than this test will get through (2 at a time,
    // 400 ms each), so it is stuck from start to stop however slow the machine.
    for (let i = 0; i < 20; i++) await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    for (let i = 0; i < 10; i++) await events.record(a.account.id, 'inbound_message', SIX[0]![1]);
    // Retry delays ten times their real length (the first retry 40-60 s away, beyond every wait
    // below): each delivery is attempted at most once here, so every request the hanging
    // receiver saw is one attempt.
    const options = { maxInFlightPerEndpoint: 2, concurrency: 20, timeoutMs };
    const workers = [worker(options, 10), worker(options, 10)];
    const hungAttempts = () =>
      ctx.database.db
        .selectFrom('webhook_attempts')
        .innerJoin('webhook_deliveries', 'webhook_deliveries.id', 'webhook_attempts.delivery_id')
        .select(['webhook_deliveries.msg_id', 'webhook_attempts.outcome', 'webhook_attempts.status_code', 'webhook_attempts.error', 'webhook_attempts.latency_ms'])
        .where('webhook_deliveries.endpoint_id', '=', hung.id)
        .execute();
    const hungDeliveries = async () => (await deliveries()).filter((d) => d.endpoint_id === hung.id);
    // Counted as the receiver sees them: with a 400 ms deadline for every endpoint, a healthy
    // attempt can time out when the test's own thread (PGlite runs in it) is busy that long.
    const healthyReceived = () => new Set(receiver!.requests.map((r) => r.id));
    let stopped = false;
    const stopAll = async () => {
      if (stopped) return;
      stopped = true;
      await Promise.all(workers.map((w) => w.stop()));
    };
    for (const w of workers) w.start();
    try {
      // While the hanging receiver holds attempts, the healthy endpoint keeps receiving: its 10,
      // then 10 more recorded once the hanging receiver is seen holding requests.
      await waitFor(() => healthyReceived().size >= 10 && hanging.held() > 0, 10_000, 'healthy deliveries while the receiver hangs');
      for (let i = 0; i < 10; i++) await events.record(a.account.id, 'inbound_message', SIX[0]![1]);
      await waitFor(() => healthyReceived().size === 20, 10_000, 'more healthy deliveries while the receiver hangs');
      // Meanwhile the hanging receiver never held more than the endpoint's limit, across both workers.
      expect(hanging.heldPeak()).toBeLessThanOrEqual(2);
      // The first attempts to the hanging receiver have ended and been recorded by now.
      await waitFor(async () => (await hungAttempts()).length >= 2, 10_000, 'first attempts to the hanging receiver recorded');
      const recorded = await hungAttempts();
      for (const attempt of recorded) {
        expect(attempt).toMatchObject({ outcome: 'failure', status_code: null, error: `timed out after ${timeoutMs} ms` });
        // Their connections are closed on the receiver's side: nothing outlives its attempt.
        await waitFor(() => hanging.requests.find((r) => r.id === attempt.msg_id)?.closedAt !== undefined, 2_000, 'connection of a timed-out attempt closed');
      }

      // Stop while the hanging receiver holds a request that arrived less than half the deadline
      // ago (its attempt still running): stop() waits for the attempts in flight, each bounded by
      // the deadline, records them, and returns.
      await waitFor(
        () => hanging.requests.some((r) => r.closedAt === undefined && performance.now() - r.arrivedAt < timeoutMs / 2),
        5_000,
        'an attempt to the hanging receiver in flight',
      );
      const inFlightAtStop = hanging.requests.filter((r) => r.closedAt === undefined).map((r) => r.id);
      const stopStarted = performance.now();
      await stopAll();
      const stopMs = performance.now() - stopStarted;
      expect(inFlightAtStop.length).toBeGreaterThan(0);
      expect(stopMs).toBeLessThan(timeoutMs + 1_000);
      const afterStop = await hungDeliveries();
      for (const id of inFlightAtStop) {
        expect(afterStop.find((d) => d.msg_id === id), 'an attempt in flight at stop()').toMatchObject({ status: 'pending', attempts: 1, last_error: `timed out after ${timeoutMs} ms`, locked_by: null });
      }
    } finally {
      await stopAll();
    }

    // The receiver's view: never more than the limit held at once, across both workers; every
    // connection was closed by us, one per attempt, each about the deadline after it arrived.
    await waitFor(() => hanging.openConnections() === 0, 2_000, 'every connection to the hanging receiver closed');
    expect(hanging.heldPeak()).toBeGreaterThan(0);
    expect(hanging.heldPeak()).toBeLessThanOrEqual(2);
    expect(hanging.connections()).toBe(hanging.requests.length);
    for (const r of hanging.requests) expect(r.closedAt! - r.arrivedAt).toBeLessThan(timeoutMs + 1_000);

    // Every request it received is one recorded failed attempt that timed out near the deadline,
    // with a retry scheduled; the deliveries not attempted yet are still due, never claimed.
    const attempts = await hungAttempts();
    const now = Date.now();
    expect(attempts.map((x) => x.msg_id).sort()).toEqual(hanging.requests.map((r) => r.id).sort());
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'failure', status_code: null, error: `timed out after ${timeoutMs} ms` });
      expect(attempt.latency_ms).toBeGreaterThanOrEqual(timeoutMs - 10);
      expect(attempt.latency_ms).toBeLessThan(timeoutMs + 1_000);
    }
    const rows = await hungDeliveries();
    expect(rows).toHaveLength(20);
    const attempted = rows.filter((d) => d.attempts === 1);
    expect(attempted).toHaveLength(attempts.length);
    for (const d of attempted) {
      expect(d).toMatchObject({ status: 'pending', last_status_code: null, last_error: `timed out after ${timeoutMs} ms`, locked_by: null });
      // The second attempt comes 5 s ± 20 % after the first ended (here × 10).
      expect(d.next_attempt_at!.getTime()).toBeGreaterThan(now);
      expect(d.next_attempt_at!.getTime() - d.last_attempt_at!.getTime()).toBeGreaterThanOrEqual(40_000);
    }
    for (const d of rows.filter((x) => x.attempts === 0)) expect(d).toMatchObject({ status: 'pending', locked_by: null, last_attempt_at: null });
    const endpointRow = await ctx.database.db.selectFrom('webhook_endpoints').selectAll().where('id', '=', hung.id).executeTakeFirstOrThrow();
    expect(endpointRow).toMatchObject({ enabled: true, failing_since: expect.any(Date) });

    // The healthy endpoint's receiver got every delivery, many while attempts to the other were stuck.
    const healthyRows = (await deliveries()).filter((d) => d.endpoint_id === healthy.id);
    expect(healthyRows).toHaveLength(20);
    expect(healthyReceived()).toEqual(new Set(healthyRows.map((d) => d.msg_id)));
    expect(heldAtArrival.filter((n) => n > 0).length).toBeGreaterThan(0);
    await hanging.close();
    await receiver.close();
    receiver = undefined;
  });

  it('stop() lets attempts in flight finish and gives back nothing claimed; an expired lease is due again', async () => {
    const a = await createAccountWithToken(ctx.app);
    receiver = await startReceiver({ secrets: () => [], respond: () => ({ status: 200, delayMs: 200 }) });
    await endpoint(a.auth, receiver.url, ['rejected_message']);
    const events = createEventsRepo(ctx.database.db);
    for (let i = 0; i < 4; i++) await events.record(a.account.id, 'rejected_message', SIX[5]![1]);
    const w = worker({ maxInFlightPerEndpoint: 2 });
    w.start();
    await waitFor(() => receiver!.requests.length >= 2, 5_000, 'two in flight');
    await w.stop();
    const rows = await deliveries();
    expect(rows.filter((d) => d.status === 'delivered')).toHaveLength(2);
    expect(rows.filter((d) => d.status === 'pending')).toHaveLength(2);
    expect(rows.every((d) => d.locked_by === null)).toBe(true);
    expect(rows.filter((d) => d.status === 'pending').every((d) => d.attempts === 0)).toBe(true);

    // A worker that died: its claim stays until the lease expires, then the delivery is due again.
    const repo = createWebhookDeliveryRepo(ctx.database.db);
    const claimed = await repo.claim('dead-worker', 10, 10, 50);
    expect(claimed).toHaveLength(2);
    expect(await repo.claim('other', 10, 10, 50)).toHaveLength(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(await repo.requeueExpired()).toBe(2);
    await worker().drain();
    expect((await deliveries()).every((d) => d.status === 'delivered')).toBe(true);
    await receiver.close();
    receiver = undefined;
  });

  it('an endpoint deleted while its attempt is in flight: the cycle records the others, and deleting an endpoint takes its attempt log with it', async () => {
    const a = await createAccountWithToken(ctx.app);
    const gone = await endpoint(a.auth, 'http://127.0.0.1:9/gone', ['rejected_message']);
    const kept = await endpoint(a.auth, 'http://127.0.0.1:9/kept', ['rejected_message']);
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    const repo = createWebhookDeliveryRepo(ctx.database.db);
    await repo.fanOut(10, 0);
    const claimed = await repo.claim('w1', 10, 10, 60_000);
    expect(claimed.map((d) => d.endpoint_id).sort()).toEqual([gone.id, kept.id].sort());

    // The endpoint goes (its deliveries with it) while both attempts are in flight.
    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/webhooks/${gone.id}`, headers: a.auth })).statusCode).toBe(204);
    const attempt = (deliveryId: string) => ({
      deliveryId, attempt: 1, attemptedAt: new Date(), outcome: 'success' as const, statusCode: 200, latencyMs: 5,
      error: null, responseSnippet: null, status: 'delivered' as const, nextAttemptAt: null,
    });
    const result = await repo.exchange({
      workerId: 'w1', attempts: claimed.map((d) => attempt(d.id)), health: { healthy: [], failing: [], disable: [] },
      claimLimit: 10, maxPerEndpoint: 10, leaseMs: 60_000,
    });
    expect(result.claimed).toEqual([]);
    const rows = await deliveries();
    expect(rows.map((d) => [d.endpoint_id, d.status])).toEqual([[kept.id, 'delivered']]);
    const log = await ctx.database.db.selectFrom('webhook_attempts').select(['delivery_id', 'outcome']).execute();
    expect(log).toEqual([{ delivery_id: rows[0]!.id, outcome: 'success' }]);

    expect((await ctx.app.inject({ method: 'DELETE', url: `/v1/webhooks/${kept.id}`, headers: a.auth })).statusCode).toBe(204);
    expect(await deliveries()).toEqual([]);
    expect(await ctx.database.db.selectFrom('webhook_attempts').selectAll().execute()).toEqual([]);
  });

  it('gives up after the schedule is exhausted (9 attempts) and the delivery can be redelivered', async () => {
    const a = await createAccountWithToken(ctx.app);
    let up = false;
    receiver = await startReceiver({ secrets: () => [], respond: () => ({ status: up ? 200 : 500 }) });
    const ep = await endpoint(a.auth, receiver.url, ['rejected_message']);
    await createEventsRepo(ctx.database.db).record(a.account.id, 'rejected_message', SIX[5]![1]);
    const w = worker();
    for (let i = 0; i < 9; i++) {
      await w.drain();
      await sql`UPDATE webhook_deliveries SET next_attempt_at = now() WHERE status = 'pending'`.execute(ctx.database.db);
    }
    const [row] = await deliveries();
    expect(row).toMatchObject({ status: 'failed', attempts: 9, next_attempt_at: null });
    expect(receiver.requests).toHaveLength(9);
    up = true;
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/webhooks/${ep.id}/deliveries/${row!.id}/redeliver`, headers: a.auth });
    expect(res.statusCode).toBe(202);
    await w.drain();
    expect((await deliveries())[0]).toMatchObject({ status: 'delivered', attempts: 1 });
    expect(new Set(receiver.requests.map((r) => r.id)).size).toBe(1);
    await receiver.close();
    receiver = undefined;
  });
});
