import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { messagingHarness } from '../src/modules/messages/test-support.js';
import { WEBHOOK_EVENTS } from '../src/modules/webhooks/webhook-payloads.js';
import { createWebhookWorker } from '../src/modules/webhooks/webhook-worker.js';
import { createAccountWithToken, createTestApp, type TestContext } from './helpers.js';
import { startReceiver, type TestReceiver } from './webhook-receiver.js';

/**
 * Issue 6's "done means": the six events fire from real flows on the simulator (an inbound
 * text, a STOP, a delivery report, a carrier status change, a third bounce, a refused send) and
 * arrive signed at a receiver that verifies them with the `standardwebhooks` package.
 */
let ctx: TestContext;
let receiver: TestReceiver;
let secret = '';
const h = messagingHarness(() => ctx);

beforeAll(async () => {
  ctx = await createTestApp();
  receiver = await startReceiver({ secrets: () => [secret] });
});
afterAll(async () => {
  await receiver.close();
  await ctx.close();
});

describe('webhooks end to end on the simulator', () => {
  it('delivers all six events from real flows, signed and verified', { timeout: 120_000 }, async () => {
    const { auth, account } = await createAccountWithToken(ctx.app);
    const created = await h.inject('POST', '/v1/webhooks', auth, { url: receiver.url, events: [...WEBHOOK_EVENTS] });
    expect(created.statusCode).toBe(201);
    secret = created.json().data.secret;

    // 1. An inbound text from a subscribed contact.
    const fan = await h.contact(auth, 'subscribed', { first_name: 'Ann' });
    expect((await h.inject('POST', '/simulator/inbound', auth, { from: fan.phone_number, message: 'What time do you open?' })).statusCode).toBe(201);
    // 2. A STOP.
    expect((await h.inject('POST', '/simulator/inbound', auth, { from: fan.phone_number, message: 'STOP' })).statusCode).toBe(201);
    // 3. A delivery report for a send.
    const recipient = h.phone();
    const sent = await h.inject('POST', '/v1/message', auth, { phone_number: recipient, message: 'Flash sale today' });
    expect(sent.statusCode).toBe(201);
    await h.deliver();
    // 4. A carrier status change.
    const carrierContact = await h.contact(auth, 'subscribed');
    expect((await h.inject('POST', '/simulator/carrier-events', auth, { phone_number: carrierContact.phone_number, status: 'deactivated' })).statusCode).toBe(202);
    // 5. A third bounce (the simulator answers 101 to numbers ending in 101).
    const bouncer = await h.contact(auth, 'subscribed', {}, '101');
    await h.deliver();
    await sql`UPDATE contacts SET bounces = 0, status = 'subscribed', unsubscribed_at = NULL WHERE id = ${bouncer.id}`.execute(ctx.database.db);
    for (let i = 0; i < 3; i++) {
      expect((await h.inject('POST', '/v1/messages', auth, { contact_id: bouncer.id, message: `try ${i}` })).statusCode).toBe(201);
      await h.deliver();
    }
    // 6. A refused send (the contact said STOP).
    const refused = await h.inject('POST', '/v1/message', auth, { phone_number: fan.phone_number, message: 'Are you there?' });
    expect(refused.statusCode).toBe(422);

    const worker = createWebhookWorker({
      db: ctx.database.db,
      secretBox: ctx.app.services.secretBox,
      log: pino({ level: 'silent' }),
      config: { ...ctx.config.webhooks, batchWindowMs: 0 },
      allowPrivateNetworks: true,
    });
    await worker.drain();

    const deliveries = await ctx.database.db.selectFrom('webhook_deliveries').select(['msg_id', 'event_type', 'status', 'payload']).where('account_id', '=', account.id).execute();
    expect(deliveries.length).toBeGreaterThanOrEqual(6);
    expect(deliveries.every((d) => d.status === 'delivered')).toBe(true);
    expect(new Set(deliveries.map((d) => d.event_type))).toEqual(new Set(WEBHOOK_EVENTS));
    // Every request verified with the endpoint's secret; each delivery arrived with its body.
    expect(receiver.requests.length).toBe(deliveries.length);
    expect(receiver.requests.every((r) => r.verifiedWith.length === 1)).toBe(true);
    const byId = new Map(receiver.requests.map((r) => [r.id, r]));
    for (const d of deliveries) expect(byId.get(d.msg_id)?.body, d.event_type).toBe(d.payload);

    const payloads = (type: string) => deliveries.filter((d) => d.event_type === type).map((d) => JSON.parse(d.payload) as Record<string, unknown>);
    expect(payloads('inbound_message')).toContainEqual(expect.objectContaining({ id: fan.id, first_name: 'Ann', message: 'What time do you open?', short_code: account.short_code }));
    expect(payloads('unsubscribe')).toContainEqual(expect.objectContaining({ id: fan.id, to: account.short_code, unsubscribed_at: expect.stringMatching(/Z$/) }));
    const reports = payloads('delivery_report');
    const messages = reports.flatMap((r) => r.messages as Array<{ id: string }>);
    expect(messages.map((m) => m.id)).toContain(sent.json().data.id);
    expect(Object.keys(reports[0]!)).toEqual(['total_messages', 'statuses', 'messages']);
    expect(payloads('contact_status')).toContainEqual(expect.objectContaining({ id: carrierContact.id, status: 'deactivated' }));
    expect(payloads('bounced_message')).toContainEqual(expect.objectContaining({ id: bouncer.id, bounces: 3, unsubscribed_at: expect.stringMatching(/Z$/) }));
    expect(payloads('rejected_message')).toContainEqual({ code: '', message: 'Are you there?', description: expect.any(String) });
    expect(Object.keys(payloads('inbound_message')[0]!)).toEqual([
      'id', 'first_name', 'last_name', 'email', 'short_code', 'phone_number', 'message', 'unsubscribed_at', 'created_at', 'updated_at', 'received_at',
    ]);
  });
});
