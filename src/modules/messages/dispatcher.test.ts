import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import type { OutboundSms, SmsTransport, SubmitResult } from '../../transports/transport.js';
import { SimulatorTransport, simulatedDeliveryCode } from '../../transports/simulator/simulator-transport.js';
import { applyDeliveryReports } from './delivery-reports.js';
import { createDispatcher, normalizeResults } from './dispatcher.js';
import { messagingHarness } from './test-support.js';

let ctx: TestContext;
let auth: Record<string, string>;
let accountId: string;
let shortCode: string;
const h = messagingHarness(() => ctx);
const db = () => ctx.database.db;

beforeAll(async () => {
  ctx = await createTestApp();
  const main = await createAccountWithToken(ctx.app);
  auth = main.auth;
  accountId = main.account.id;
  await h.subscribeAll(accountId);
  shortCode = main.account.short_code;
});
afterAll(() => ctx.close());

async function send(phone: string, message = 'hello') {
  const res = await h.inject('POST', '/v1/message', auth, { phone_number: phone, message });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: string };
}

async function messageRow(id: string) {
  return db().selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
}

/** A scripted external carrier. */
class ScriptedTransport implements SmsTransport {
  readonly name = 'scripted';
  submitted: OutboundSms[] = [];
  constructor(private readonly answer: (batch: OutboundSms[], call: number) => Promise<unknown> | unknown) {}
  private calls = 0;
  async start() {}
  async stop() {}
  async submit(batch: OutboundSms[]): Promise<SubmitResult[]> {
    this.submitted.push(...batch);
    return (await this.answer(batch, ++this.calls)) as SubmitResult[];
  }
}

describe('the simulator', () => {
  it('chooses the delivery code by the last three digits of the number', () => {
    expect(simulatedDeliveryCode('+12025550101')).toBe(101);
    expect(simulatedDeliveryCode('+12025550214')).toBe(214);
    expect(simulatedDeliveryCode('+12025550144')).toBe(144);
    expect(simulatedDeliveryCode('+12025550145')).toBe(100);
    expect(simulatedDeliveryCode('+12025550199')).toBe(100);
    expect(simulatedDeliveryCode('+12025550100')).toBe(100);
  });

  it('hands a message over once, reports delivery, and records the reference delivery_report payload', async () => {
    const phone = '+12025550199';
    const { id } = await send(phone, 'Delivered?');
    await h.deliver();
    const row = await messageRow(id);
    expect(row).toMatchObject({ status: 'delivered', receipt_code: 100, bounce: false });
    expect(row.carrier_message_id).toBeTruthy();
    const handset = await h.handset(phone);
    expect(handset.filter((m) => m.message_id === id)).toHaveLength(1);
    const reports = (await h.events(accountId, 'delivery_report')).filter((p) => (p.messages as Array<{ id: string }>)[0]!.id === id);
    expect(reports).toEqual([
      {
        total_messages: 1,
        statuses: [{ code: '100', status: 'The message delivered successfully.', count: 1, recipients: ['12025550199'], success: true, bounce: false }],
        messages: [{ id, from: shortCode, message: 'Delivered?', phone_number: '2025550199', metadata: [] }],
      },
    ]);
    // The same report again (carriers redeliver) changes nothing and records nothing.
    const applied = await db().transaction().execute((trx) => applyDeliveryReports(trx, [{ carrierMessageId: row.carrier_message_id!, code: 100, receivedAt: new Date() }]));
    expect(applied).toBe(0);
    expect((await h.events(accountId, 'delivery_report')).filter((p) => (p.messages as Array<{ id: string }>)[0]!.id === id)).toHaveLength(1);
  });

  it('returns metadata in the delivery report of a batch message', async () => {
    const res = await h.inject('POST', '/v1/message/batch', auth, { messages: [{ phone_number: h.phone(), message: 'meta', metadata: { campaign: 'x', n: 1 } }] });
    const id = res.json().data[0].id as string;
    await h.deliver();
    const report = (await h.events(accountId, 'delivery_report')).find((p) => (p.messages as Array<{ id: string }>)[0]!.id === id)!;
    expect((report.messages as Array<{ metadata: unknown }>)[0]!.metadata).toEqual({ campaign: 'x', n: 1 });
  });

  it('reports failures as failed with the code, a rejection event, and keeps the credits (it was sent)', async () => {
    const before = await h.credits(accountId);
    const { id } = await send('+12025550120', 'fails');
    await h.deliver();
    expect(await messageRow(id)).toMatchObject({ status: 'failed', receipt_code: 120 });
    expect(await h.events(accountId, 'rejected_message')).toContainEqual({ code: '120', message: 'fails', description: 'Generic delivery failure.' });
    expect(await h.credits(accountId)).toBe(before - 1);
  });

  it('unsubscribes a contact after three bounces, with a bounced_message event each time, and refuses the next send', async () => {
    const contact = await h.contact(auth, 'subscribed', {}, '101');
    // The opt-in request sent on creation bounces too; start counting from zero.
    await h.deliver();
    await sql`UPDATE contacts SET bounces = 0, status = 'subscribed', unsubscribed_at = NULL WHERE id = ${contact.id}`.execute(db());
    for (let i = 0; i < 3; i++) {
      expect((await h.inject('POST', '/v1/messages', auth, { contact_id: contact.id, message: `try ${i}` })).statusCode).toBe(201);
      await h.deliver();
    }
    const bounced = (await h.events(accountId, 'bounced_message')).filter((p) => p.id === contact.id);
    expect(bounced.map((b) => b.bounces)).toEqual([1, 1, 2, 3]); // the opt-in request's bounce, then ours

    expect(bounced[3]).toEqual({
      id: contact.id,
      first_name: null,
      last_name: null,
      email: null,
      phone_number: contact.phone_number,
      unsubscribed_at: expect.stringMatching(/Z$/),
      bounces: 3,
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    const c = (await sql<{ status: string; bounces: number }>`SELECT status, bounces FROM contacts WHERE id = ${contact.id}`.execute(db())).rows[0]!;
    expect(c).toEqual({ status: 'unsubscribed', bounces: 3 });
    expect((await h.inject('POST', '/v1/messages', auth, { contact_id: contact.id, message: 'again' })).statusCode).toBe(422);
  });

  it('never hands a message over twice when several dispatchers race (in one process)', async () => {
    const { auth: a, account } = await createAccountWithToken(ctx.app);
    await h.setCredits(account.id, 10_000);
    for (let i = 0; i < 3; i++) {
      const res = await h.inject('POST', '/v1/message/batch', a, { messages: Array.from({ length: 200 }, () => ({ phone_number: h.phone(), message: 'race' })) });
      expect(res.statusCode).toBe(201);
    }
    const transport = new SimulatorTransport({ db: db(), reportDelayMs: 0, applyReports: applyDeliveryReports });
    const dispatchers = Array.from({ length: 4 }, () => createDispatcher({ db: db(), transport, batchSize: 50 }));
    await Promise.all(dispatchers.map((d) => d.drain()));
    const counts = await sql<{ n: number; c: number }>`
      SELECT count(*)::int AS n, count(DISTINCT s.message_id)::int AS c FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.account_id = ${account.id}`.execute(db());
    expect(counts.rows[0]).toEqual({ n: 600, c: 600 });
  });
});

describe('dispatching to an external carrier', () => {
  it('retries transient failures with backoff and sends each message once accepted', async () => {
    const { id } = await send(h.phone(), 'retry me');
    const transport = new ScriptedTransport((batch, call) =>
      batch.map((m) => (call === 1 ? { messageId: m.messageId, ok: false, transient: true, code: 140, error: 'busy' } : { messageId: m.messageId, ok: true, carrierMessageId: `c-${m.messageId}`, carrierMessageIds: [`c-${m.messageId}`] })),
    );
    const dispatcher = createDispatcher({ db: db(), transport, backoffMs: () => 0 });
    await dispatcher.drain();
    expect(transport.submitted.filter((m) => m.messageId === id)).toHaveLength(2);
    expect(await messageRow(id)).toMatchObject({ status: 'sent', carrier_message_id: `scripted/c-${id}`, attempts: 2 });
  });

  it('a final rejection fails the message, refunds it and records a rejection event', async () => {
    const before = await h.credits(accountId);
    const { id } = await send(h.phone(), 'reject me');
    const transport = new ScriptedTransport((batch) => batch.map((m) => ({ messageId: m.messageId, ok: false, transient: false, code: 138, error: 'SMSC rejected: ESME_RSUBMITFAIL' })));
    await createDispatcher({ db: db(), transport }).drain();
    expect(await messageRow(id)).toMatchObject({ status: 'failed', receipt_code: 138 });
    expect(await h.credits(accountId)).toBe(before);
    expect((await h.events(accountId, 'rejected_message')).find((e) => e.message === 'reject me')).toMatchObject({ code: '138' });
  });

  it('a transport that answers garbage or throws never loses or double-sends a message, and nothing is charged for what failed', async () => {
    const before = await h.credits(accountId);
    const a = await send(h.phone(), 'garbage 1');
    const b = await send(h.phone(), 'garbage 2');
    let call = 0;
    const transport = new ScriptedTransport((batch) => {
      call += 1;
      if (call === 1) return 'not an array';
      if (call === 2) return [{ messageId: batch[0]!.messageId, ok: true }, null, { nonsense: true }];
      if (call === 3) throw new Error('socket hang up');
      return batch.map((m) => ({ messageId: m.messageId, ok: false, transient: false, code: 99999, error: 42 }));
    });
    const dispatcher = createDispatcher({ db: db(), transport, backoffMs: () => 0 });
    await dispatcher.drain();
    for (const { id } of [a, b]) expect(await messageRow(id)).toMatchObject({ status: 'failed', receipt_code: 139 });
    expect(await h.credits(accountId)).toBe(before - 2 + 2);
  });

  it('a transport that never answers times out: the messages are retried, then fail after the maximum attempts and are refunded', async () => {
    const before = await h.credits(accountId);
    const { id } = await send(h.phone(), 'hang');
    const transport = new ScriptedTransport(() => new Promise(() => undefined));
    await createDispatcher({ db: db(), transport, submitTimeoutMs: 50, maxAttempts: 2, backoffMs: () => 0 }).drain();
    expect(await messageRow(id)).toMatchObject({ status: 'failed', receipt_code: 140, attempts: 2 });
    expect(await h.credits(accountId)).toBe(before);
  });

  it('keeps a report that arrives before the carrier id is recorded and applies it then', async () => {
    const { id } = await send(h.phone(), 'fast report');
    const transport = new ScriptedTransport(async (batch) => {
      await db().transaction().execute((trx) => applyDeliveryReports(trx, [{ carrierMessageId: 'scripted/early-1', code: 100, receivedAt: new Date() }]));
      return batch.map((m) => ({ messageId: m.messageId, ok: true, carrierMessageId: 'early-1', carrierMessageIds: ['early-1', 'early-2'] }));
    });
    await createDispatcher({ db: db(), transport }).drain();
    expect(await messageRow(id)).toMatchObject({ status: 'delivered', receipt_code: 100 });
    // A failed second part decides the outcome of the whole message.
    await db().transaction().execute((trx) => applyDeliveryReports(trx, [{ carrierMessageId: 'scripted/early-2', code: 110, receivedAt: new Date() }]));
    expect(await messageRow(id)).toMatchObject({ status: 'failed', receipt_code: 110 });
  });

  it('marks a dead worker’s claimed messages in doubt and never hands them over again; live claims are left alone', async () => {
    const dead = await send(h.phone(), 'lease 1');
    const live = await send(h.phone(), 'lease 2');
    await sql`UPDATE messages SET status = 'sending', lease_until = now() - interval '1 second', claimed_by = 'dead' WHERE id = ${dead.id}`.execute(db());
    await sql`UPDATE messages SET status = 'sending', lease_until = now() + interval '1 minute', claimed_by = 'alive' WHERE id = ${live.id}`.execute(db());
    const transport = new ScriptedTransport((batch) => batch.map((m) => ({ messageId: m.messageId, ok: true, carrierMessageId: `x-${m.messageId}`, carrierMessageIds: [`x-${m.messageId}`] })));
    const dispatcher = createDispatcher({ db: db(), transport });
    expect(await dispatcher.reap()).toEqual({ inDoubt: 1 });
    await dispatcher.drain();
    expect(transport.submitted).toEqual([]);
    expect(await messageRow(dead.id)).toMatchObject({ status: 'sent', receipt_code: 104, credits: 1 });
    expect(await messageRow(live.id)).toMatchObject({ status: 'sending', claimed_by: 'alive' });
  });

  it('paces each sender to its rate', async () => {
    const { auth: a, account } = await createAccountWithToken(ctx.app);
    await h.inject('POST', '/v1/message/batch', a, { messages: Array.from({ length: 30 }, () => ({ phone_number: h.phone(), message: 'paced' })) });
    const transport = new ScriptedTransport((batch) => batch.map((m) => ({ messageId: m.messageId, ok: true, carrierMessageId: `p-${m.messageId}`, carrierMessageIds: [`p-${m.messageId}`] })));
    const dispatcher = createDispatcher({ db: db(), transport, senderRatePerSecond: 10 });
    await dispatcher.dispatchOnce();
    const sent = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE account_id = ${account.id} AND status = 'sent'`.execute(db());
    expect(sent.rows[0]!.n).toBe(10);
    // The rest wait (not counted as an attempt) until the sender's bucket has refilled.
    const queued = await sql<{ n: number; attempts: number }>`SELECT count(*)::int AS n, max(attempts)::int AS attempts FROM messages WHERE account_id = ${account.id} AND status = 'queued'`.execute(db());
    expect(queued.rows[0]).toEqual({ n: 20, attempts: 0 });
  });

  it('normalizeResults maps every message to exactly one well-formed result', () => {
    const sent = [{ messageId: 'a' }, { messageId: 'b' }, { messageId: 'c' }];
    const out = normalizeResults(sent, [
      { messageId: 'b', ok: true, carrierMessageId: 'B' },
      { messageId: 'b', ok: false, transient: false, code: 138, error: 'late duplicate' },
      { messageId: 'zzz', ok: true, carrierMessageId: 'Z' },
      { messageId: 'c', ok: false, transient: false, code: 138, error: 'no' },
    ]);
    expect(out).toEqual([
      { messageId: 'a', ok: false, transient: true, code: 140, error: 'the transport gave no valid result for this message' },
      { messageId: 'b', ok: true, carrierMessageId: 'B', carrierMessageIds: ['B'] },
      { messageId: 'c', ok: false, transient: false, code: 138, error: 'no' },
    ]);
  });
});

describe('consent at dispatch time', () => {
  it('does not send a queued message to a contact who said STOP after it was accepted; refunds it', async () => {
    const contact = await h.contact(auth, 'subscribed');
    const before = await h.credits(accountId);
    const res = await h.inject('POST', '/v1/messages', auth, { contact_id: contact.id, message: 'too late' });
    expect(res.statusCode).toBe(201);
    const inbound = await h.inject('POST', '/simulator/inbound', auth, { from: contact.phone_number, message: 'STOP' });
    expect(inbound.statusCode).toBe(201);
    await h.deliver();
    const handset = await h.handset(contact.phone_number);
    expect(handset.map((m) => m.message)).not.toContain('too late');
    expect(handset.filter((m) => /unsubscribed/.test(m.message))).toHaveLength(1);
    expect(await messageRow(res.json().data.id)).toMatchObject({ status: 'failed' });
    expect(await h.credits(accountId)).toBe(before);
  });
});

describe('housekeeping job', () => {
  it('messages.cleanup drops idempotency keys after 24 hours and reschedules itself', async () => {
    const { createJobHandlers } = await import('../../jobs/job-handlers.js');
    const key = `old-${Date.now()}`;
    await h.inject('POST', '/v1/message', { ...auth, 'idempotency-key': key }, { phone_number: h.phone(), message: 'old' });
    await sql`UPDATE idempotency_keys SET created_at = now() - interval '25 hours' WHERE key = ${key}`.execute(db());
    const handlers = createJobHandlers(ctx.app.services, db());
    await handlers['messages.cleanup']!({}, { job: {} as never, signal: new AbortController().signal });
    expect(await db().selectFrom('idempotency_keys').select('key').where('key', '=', key).execute()).toEqual([]);
    const next = await db().selectFrom('jobs').select(['kind', 'run_at']).where('kind', '=', 'messages.cleanup').execute();
    expect(next).toHaveLength(1);
    expect(next[0]!.run_at.getTime()).toBeGreaterThan(Date.now() + 3000_000);
  });
});
