import { sql } from 'kysely';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { SmppTransport } from '../../transports/smpp/smpp-transport.js';
import { TestSmsc } from '../../transports/smpp/test-smsc.js';
import { createDispatcher } from './dispatcher.js';
import { createMessagingRuntime } from './messaging-runtime.js';
import { messagingHarness } from './test-support.js';

let ctx: TestContext;
let smsc: TestSmsc | undefined;
let runtime: ReturnType<typeof createMessagingRuntime> | undefined;
const h = messagingHarness(() => ctx);
const db = () => ctx.database.db;

beforeAll(async () => {
  ctx = await createTestApp();
});
afterEach(async () => {
  await runtime?.stop();
  await smsc?.close();
  runtime = undefined;
  smsc = undefined;
});
afterAll(() => ctx.close());

function smppRuntime(port: number, dispatcher: Record<string, unknown> = {}) {
  const transport = new SmppTransport({
    host: '127.0.0.1',
    port,
    systemId: 'test',
    password: 'secret',
    window: 10,
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    responseTimeoutMs: 1000,
    connectWaitMs: 3000,
    startTimeoutMs: 3000,
  });
  return createMessagingRuntime({
    db: db(),
    config: ctx.config,
    inbound: ctx.app.services.inbound,
    transport,
    dispatcher: { batchSize: 50, concurrency: 1, backoffMs: () => 10, pollIntervalMs: 10, ...dispatcher },
  });
}

async function statuses(accountId: string) {
  const rows = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM messages WHERE account_id = ${accountId} GROUP BY status`.execute(db());
  return Object.fromEntries(rows.rows.map((r) => [r.status, r.n]));
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('the dispatcher over SMPP (test SMSC)', () => {
  it('sends, records every part’s carrier id and applies the receipts, including long messages', async () => {
    smsc = await TestSmsc.start({ receiptDelayMs: 5 });
    const { auth, account } = await createAccountWithToken(ctx.app);
    await h.inject('POST', '/v1/message/batch', auth, {
      messages: [
        { phone_number: h.phone(), message: 'short one' },
        { phone_number: h.phone(), message: 'long '.repeat(70) },
      ],
    });
    runtime = smppRuntime(smsc.port);
    await runtime.start();
    await waitFor('delivered', async () => (await statuses(account.id)).delivered === 2);
    expect(smsc.messages().map((m) => m.text).sort()).toEqual(['long '.repeat(70), 'short one']);
    const parts = await db().selectFrom('message_parts').selectAll().execute();
    expect(parts.length).toBeGreaterThanOrEqual(2);
  });

  it('maps receipts onto codes: an undelivered receipt fails the message with a rejection event', async () => {
    smsc = await TestSmsc.start({ receiptDelayMs: 5, receiptFor: () => ({ stat: 'UNDELIV', err: '001' }) });
    const { auth, account } = await createAccountWithToken(ctx.app);
    await h.inject('POST', '/v1/message', auth, { phone_number: h.phone(), message: 'nobody home' });
    runtime = smppRuntime(smsc.port);
    await runtime.start();
    await waitFor('failed', async () => (await statuses(account.id)).failed === 1);
    const row = await db().selectFrom('messages').select(['receipt_code', 'bounce']).where('account_id', '=', account.id).executeTakeFirstOrThrow();
    expect(row).toEqual({ receipt_code: 101, bounce: true });
  });

  it('connection dropped mid-window: nothing lost; only submits the SMSC never answered are sent again', async () => {
    smsc = await TestSmsc.start({ receiptDelayMs: 5 });
    const { auth, account } = await createAccountWithToken(ctx.app);
    const count = 300;
    for (let b = 0; b < 3; b++) {
      const res = await h.inject('POST', '/v1/message/batch', auth, { messages: Array.from({ length: count / 3 }, (_, i) => ({ phone_number: h.phone(), message: `m-${b}-${i}` })) });
      expect(res.statusCode).toBe(201);
    }
    // The SMSC answers 40 submits, then takes 6 more without answering and drops the connection.
    smsc.dropConnections({ answerFirst: 40, withhold: 6 });
    runtime = smppRuntime(smsc.port);
    await runtime.start();
    // Every message handed over and accepted. (Receipts the test SMSC wrote into the dropped
    // connection are lost, as it does not re-send unacknowledged deliver_sm: those messages stay
    // "sent" without a report, which is what a carrier that loses reports looks like.)
    await waitFor('all accepted', async () => {
      const s = await statuses(account.id);
      return (s.sent ?? 0) + (s.delivered ?? 0) === count;
    });
    expect(smsc.binds).toBeGreaterThanOrEqual(2);

    const byText = new Map<string, typeof smsc.submits>();
    for (const s of smsc.submits) byText.set(s.text, [...(byText.get(s.text) ?? []), s]);
    // Nothing lost: every message reached the SMSC, and was accepted there.
    expect(byText.size).toBe(count);
    for (const submits of byText.values()) expect(submits.some((s) => s.answered && s.messageId !== '')).toBe(true);
    // Nothing sent twice that we knew had been accepted: a message goes to the SMSC again only
    // when we never saw the answer to the earlier submit (left unanswered, or answered into a
    // connection that was going down). For every message, the carrier id we recorded is that of
    // its last submit; no earlier submit's id was ever recorded.
    const recorded = new Map(
      (await db().selectFrom('messages').select(['message', 'carrier_message_id']).where('account_id', '=', account.id).execute()).map((r) => [r.message, r.carrier_message_id]),
    );
    for (const [text, submits] of byText) {
      expect(recorded.get(text)).toBe(`smpp:127.0.0.1:${smsc.port}/${submits.at(-1)!.messageId}`);
    }
    const duplicated = [...byText.values()].filter((s) => s.length > 1);
    // At most a window's worth (10): the withheld submits and those in flight when it dropped.
    expect(duplicated.length).toBeLessThanOrEqual(10);
    // Our side: every message settled with one carrier id, none left in doubt; credits charged once.
    const settled = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE account_id = ${account.id} AND status IN ('sent', 'delivered') AND carrier_message_id IS NOT NULL AND receipt_code IS DISTINCT FROM 104`.execute(db());
    expect(settled.rows[0]!.n).toBe(count);
  });

  it('the SMSC vanishes mid-send (connections cut, port closed) and comes back later: nothing lost, nothing failed, only unanswered submits repeated', async () => {
    const first = await TestSmsc.start({ receiptDelayMs: 5 });
    smsc = first;
    const port = first.port;
    const { auth, account } = await createAccountWithToken(ctx.app);
    const count = 200;
    for (let b = 0; b < 2; b++) {
      const res = await h.inject('POST', '/v1/message/batch', auth, { messages: Array.from({ length: count / 2 }, (_, i) => ({ phone_number: h.phone(), message: `v-${b}-${i}` })) });
      expect(res.statusCode).toBe(201);
    }
    // It answers 60 submits, takes 4 more without answering, cuts every connection and stops
    // listening: reconnects are refused while it is away.
    first.dropConnections({ answerFirst: 60, withhold: 4 });
    runtime = smppRuntime(port, { backoffMs: () => 200 });
    await runtime.start();
    await first.waitFor(() => first.submits.length >= 64 && first.connectionCount === 0, 10_000, 'the drop');
    await first.close();
    await new Promise((r) => setTimeout(r, 1_500));
    // While it is away the rest waits: nothing is marked sent without an SMSC, nothing gives up.
    const during = await statuses(account.id);
    expect(during.failed ?? 0).toBe(0);
    expect((during.sent ?? 0) + (during.delivered ?? 0)).toBeLessThanOrEqual(60);

    // Back on the same port (with ids of its own): the rest goes out.
    const second = await TestSmsc.start({ receiptDelayMs: 5, port, firstMessageId: 0x100000 });
    smsc = second;
    await waitFor('all accepted', async () => {
      const s = await statuses(account.id);
      return (s.sent ?? 0) + (s.delivered ?? 0) === count;
    });
    expect((await statuses(account.id)).failed ?? 0).toBe(0);
    const submits = [...first.submits, ...second.submits];
    const byText = new Map<string, typeof submits>();
    for (const x of submits) byText.set(x.text, [...(byText.get(x.text) ?? []), x]);
    // Nothing lost: every message reached an SMSC and was accepted there.
    expect(byText.size).toBe(count);
    for (const list of byText.values()) expect(list.filter((x) => x.answered && x.messageId !== '')).toHaveLength(1);
    // Nothing doubled that was answered: a repeat always follows a submit whose answer never came.
    for (const list of byText.values()) for (const earlier of list.slice(0, -1)) expect(earlier.answered && earlier.messageId !== '').toBe(false);
    expect([...byText.values()].filter((l) => l.length > 1).length).toBeLessThanOrEqual(10);
    // Our side: the carrier id recorded is the accepting submit's; every message settled, none in doubt.
    const recorded = new Map(
      (await db().selectFrom('messages').select(['message', 'carrier_message_id']).where('account_id', '=', account.id).execute()).map((r) => [r.message, r.carrier_message_id]),
    );
    for (const [text, list] of byText) expect(recorded.get(text)).toBe(`smpp:127.0.0.1:${port}/${list.find((x) => x.answered && x.messageId !== '')!.messageId}`);
    const settled = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE account_id = ${account.id} AND status IN ('sent', 'delivered') AND carrier_message_id IS NOT NULL AND receipt_code IS DISTINCT FROM 104`.execute(db());
    expect(settled.rows[0]!.n).toBe(count);
  });

  it('the SMSC down at first: messages wait and go out once it answers', async () => {
    smsc = await TestSmsc.start({ receiptDelayMs: 5, submitStatus: () => 0x58 });
    const { auth, account } = await createAccountWithToken(ctx.app);
    await h.inject('POST', '/v1/message', auth, { phone_number: h.phone(), message: 'throttled first' });
    const transport = new SmppTransport({ host: '127.0.0.1', port: smsc.port, systemId: 'test', password: 'secret', throttleBackoffMs: 10, startTimeoutMs: 3000 });
    await transport.start({ onDeliveryReport: async () => undefined, onInbound: async () => undefined });
    try {
      const dispatcher = createDispatcher({ db: db(), transport, backoffMs: () => 0, maxAttempts: 3 });
      await dispatcher.dispatchOnce();
      expect((await statuses(account.id)).queued).toBe(1);
      smsc.options.submitStatus = () => 0;
      await dispatcher.drain();
      expect((await statuses(account.id)).sent).toBe(1);
      expect(smsc.submits.filter((s) => s.text === 'throttled first' && s.commandStatus === 0)).toHaveLength(1);
    } finally {
      await transport.stop();
    }
  });

  it('inbound deliver_sm becomes an incoming message and a STOP unsubscribes', async () => {
    smsc = await TestSmsc.start({ receiptDelayMs: 5 });
    const { auth, account } = await createAccountWithToken(ctx.app);
    const contact = await h.contact(auth, 'subscribed');
    runtime = smppRuntime(smsc.port);
    await runtime.start();
    const statusesAck = await smsc.injectInbound({ from: contact.phone_number, to: account.short_code, text: 'STOP' });
    expect(statusesAck).toEqual([0]);
    const row = (await sql<{ status: string }>`SELECT status FROM contacts WHERE id = ${contact.id}`.execute(db())).rows[0]!;
    expect(row.status).toBe('unsubscribed');
    await waitFor('the confirmation', async () => smsc!.submits.some((s) => s.to === contact.phone_number.slice(1) && /unsubscribed/.test(s.text)));
  });
});
