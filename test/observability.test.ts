import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { addObserver, observe, observerCount } from '../src/lib/observe.js';
import http from 'node:http';
import { sql } from 'kysely';
import { deliverWebhook } from '../src/modules/webhooks/webhook-http.js';
import { SmppTransport } from '../src/transports/smpp/smpp-transport.js';
import { TestSmsc } from '../src/transports/smpp/test-smsc.js';
import { createTestApp, type TestContext } from './helpers.js';

describe('metrics reported by the services', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestApp();
  });
  afterAll(() => ctx.close());

  const scrape = async () => (await ctx.app.inject({ method: 'GET', url: '/metrics' })).body;

  it('counts webhook attempts by outcome and shows the SMPP window', async () => {
    observe.webhookAttempt('delivered');
    observe.webhookAttempt('timeout');
    observe.smppWindow('smsc-1', 7, 10);
    const body = await scrape();
    expect(body).toMatch(/shortcode_webhook_attempts_total\{outcome="timeout"\} 1/);
    expect(body).toMatch(/shortcode_smpp_window_in_flight\{bind="smsc-1"\} 7/);
    expect(body).toMatch(/shortcode_smpp_window_size\{bind="smsc-1"\} 10/);
  });

  it('reads messages by status and delivery code from the database at scrape time (none before the messages table exists)', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.body).toMatch(/# TYPE shortcode_messages gauge/);
    expect(res.body).toMatch(/# TYPE shortcode_message_credits gauge/);
    const table = (await sql<{ t: string | null }>`SELECT to_regclass('messages')::text AS t`.execute(ctx.database.db)).rows[0]!.t;
    const messages = table ? (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages`.execute(ctx.database.db)).rows[0]!.n : 0;
    // Every message is counted under some status; none means no series at all.
    if (messages === 0) expect(res.body).not.toMatch(/^shortcode_messages\{/m);
    else expect(res.body).toMatch(/^shortcode_messages\{/m);
  });

  it('stops counting for an app once it is closed', async () => {
    const listening = observerCount();
    const other = await createTestApp();
    expect(observerCount()).toBe(listening + 1);
    await other.close();
    expect(observerCount()).toBe(listening);
    observe.webhookAttempt('delivered');
    expect(await scrape()).toMatch(/shortcode_webhook_attempts_total\{outcome="delivered"\} 2/);
  });
});

describe('SMPP window use', () => {
  it('reports the submits holding a window slot, never more than the window', async () => {
    const smsc = await TestSmsc.start({ answerDelayMs: 150 });
    const transport = new SmppTransport({ host: '127.0.0.1', port: smsc.port, systemId: 'test', password: 'secret', window: 3, responseTimeoutMs: 5_000, startTimeoutMs: 5_000 });
    const seen: Array<[number, number]> = [];
    const remove = addObserver({ smppWindow: (bind, inFlight, size) => bind === transport.name && seen.push([inFlight, size]) });
    try {
      await transport.start({ onDeliveryReport: async () => undefined, onInbound: async () => undefined });
      const results = await transport.submit(Array.from({ length: 8 }, (_, i) => ({ messageId: `m${i}`, from: '64600', to: `+1555000${String(i).padStart(4, '0')}`, text: `Hi ${i}` })));
      expect(results.every((r) => r.ok)).toBe(true);
      expect(Math.max(...seen.map(([n]) => n))).toBe(3);
      expect(seen.every(([, size]) => size === 3)).toBe(true);
      expect(seen.at(-1)![0]).toBe(0);
    } finally {
      remove();
      await transport.stop();
      await smsc.close();
    }
  });
});

describe('webhook attempts', () => {
  it('are counted by outcome as they are made', async () => {
    const server = http.createServer((req, res) => {
      res.statusCode = req.url === '/gone' ? 410 : req.url === '/fail' ? 500 : 200;
      res.end('ok');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const port = (server.address() as { port: number }).port;
    const outcomes: string[] = [];
    const remove = addObserver({ webhookAttempt: (outcome) => outcomes.push(outcome) });
    try {
      for (const path of ['/ok', '/fail', '/gone']) {
        await deliverWebhook({ url: `http://127.0.0.1:${port}${path}`, body: '{}', headers: {}, timeoutMs: 5_000, maxResponseBytes: 1024, allowPrivateNetworks: true });
      }
      await deliverWebhook({ url: 'http://127.0.0.1:1/refused', body: '{}', headers: {}, timeoutMs: 5_000, maxResponseBytes: 1024, allowPrivateNetworks: true });
      expect(outcomes).toEqual(['success', 'failure', 'gone', 'failure']);
    } finally {
      remove();
      server.close();
    }
  });
});
