import { sql, type Kysely, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, subscribeToEvents, type TestContext } from '../../../test/helpers.js';
import { createGroup, insertContacts } from '../../../test/audience-fixtures.js';
import { createSendingHarness } from '../../../test/campaign-harness.js';
import type { DB } from '../../db/tables.js';
import type { OutboundSms, SmsTransport, SubmitResult } from '../../transports/transport.js';
import { createDispatcher } from '../messages/dispatcher.js';

/**
 * Campaign credits: what the launch reserves without rendering each recipient's text, the exact
 * price the fan-out charges before queuing anything, what a balance that runs out does, and that
 * a cancel racing with the send refunds each credit once: at the end, what the account paid is
 * exactly the credits of the messages handed to a carrier.
 */
let ctx: TestContext;
let harness: ReturnType<typeof createSendingHarness>;
type Account = Awaited<ReturnType<typeof createAccountWithToken>>;

beforeAll(async () => {
  ctx = await createTestApp({ CAMPAIGN_FANOUT_BATCH_SIZE: '100' });
  harness = createSendingHarness(ctx, { dispatchBatchSize: 3 });
});
afterAll(() => ctx.close());

const db = () => ctx.database.db;
const api = (who: Account, method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown) =>
  ctx.app.inject({ method, url, headers: { ...who.auth, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
const balance = async (accountId: string) => Number((await sql<{ b: number }>`SELECT credit_balance AS b FROM accounts WHERE id = ${accountId}`.execute(db())).rows[0]!.b);
const setBalance = (accountId: string, credits: number) => sql`UPDATE accounts SET credit_balance = ${credits} WHERE id = ${accountId}`.execute(db());
/** Credits of the campaign's messages that reached a carrier: all the account should have paid. */
const creditsSent = async (campaignId: string) =>
  Number((await sql<{ n: number }>`SELECT coalesce(sum(credits), 0)::int AS n FROM messages WHERE campaign_id = ${campaignId} AND sent_at IS NOT NULL`.execute(db())).rows[0]!.n);
const messagesOf = async (campaignId: string) => Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaignId}`.execute(db())).rows[0]!.n);

async function audience(prefix: string, subscribed: number, firstName: string | null = 'Ann') {
  const who = await createAccountWithToken(ctx.app);
  const group = await createGroup(db(), who.account.id, `G${prefix}`);
  await insertContacts(db(), who.account.id, { count: subscribed, prefix, firstName, groupId: group });
  return { who, group, acc: who.account.id };
}

// 'Hi , ' + 155 characters is 160: one segment with the name left out (the floor), two with any name.
const LONG = `Hi {first_name|there}, ${'x'.repeat(155)}`;

describe('pricing a launch without rendering every recipient', () => {
  it('reserves the floor at launch, then the fan-out charges the exact price before queuing anything', async () => {
    const { who, group, acc } = await audience('611', 4);
    await insertContacts(db(), acc, { count: 2, prefix: '615', firstName: null, groupId: group });
    const before = await balance(acc);
    // With the tracked link (http://shortcode.test/l/CODE/TOKEN: 54 characters): 157 characters
    // without the name (the floor: 1 segment), 160 with "Ann" (1 segment), 162 with "there" (2).
    const message = `Hi {first_name|there}, ${'x'.repeat(97)} https://shop.test/a`;
    const res = await api(who, 'POST', '/v1/campaigns', { name: 'Priced', message, groups: [group] });
    expect(res.statusCode, res.body).toBe(201);
    const campaign = res.json().data;
    expect(campaign).toMatchObject({ status: 'sending', stats: { credits: 6 } });
    expect(await balance(acc)).toBe(before - 6);

    // The fan-out job prices it exactly first (its worker stops before the first batch here).
    const aborted = AbortSignal.abort();
    expect(await ctx.app.services.campaigns.fanOut(campaign.id, aborted)).toBe('interrupted');
    expect((await api(who, 'GET', `/v1/campaigns/${campaign.id}`)).json().data).toMatchObject({ status: 'sending', stats: { recipients: 0, credits: 8 } });
    expect(await balance(acc)).toBe(before - 8);
    expect(await messagesOf(campaign.id)).toBe(0);

    await harness.sendAll(campaign.id);
    const sent = (await api(who, 'GET', `/v1/campaigns/${campaign.id}`)).json().data;
    expect(sent).toMatchObject({ status: 'sent', stats: { recipients: 6, delivered: 6, credits: 8 } });
    const texts = await sql<{ message: string; segments: number }>`SELECT message, segments FROM messages WHERE campaign_id = ${campaign.id} ORDER BY segments, message`.execute(db());
    expect(texts.rows.map((r) => [r.message.length, r.segments])).toEqual([[160, 1], [160, 1], [160, 1], [160, 1], [162, 2], [162, 2]]);
    expect(await balance(acc)).toBe(before - 8);
    expect(await creditsSent(campaign.id)).toBe(8);
  });

  it('answers 402 and sends nothing when the balance is below even the floor', async () => {
    const { who, group, acc } = await audience('612', 4);
    await setBalance(acc, 3);
    const res = await api(who, 'POST', '/v1/campaigns', { name: 'Long', message: LONG, groups: [group] });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ status: 402, errors: { credits: ['The campaign needs at least 4 credits.'] } });
    expect(await balance(acc)).toBe(3);
    expect((await api(who, 'GET', '/v1/campaigns')).json().data).toEqual([]);
  });

  it('cancels before queuing anything when the exact price is more than the balance, and gives the reservation back', async () => {
    const { who, group, acc } = await audience('613', 4);
    await setBalance(acc, 6); // covers the floor (4), not the price (8)
    const res = await api(who, 'POST', '/v1/campaigns', { name: 'Long', message: LONG, groups: [group] });
    expect(res.statusCode, res.body).toBe(201);
    expect(await balance(acc)).toBe(2);
    await harness.sendAll(res.json().data.id);
    const after = (await api(who, 'GET', `/v1/campaigns/${res.json().data.id}`)).json().data;
    expect(after).toMatchObject({ status: 'canceled', cancel_reason: 'Not sent: your credit balance (6) does not cover this campaign (8 credits); nothing was sent.', stats: { credits: 0, recipients: 0 } });
    expect(await balance(acc)).toBe(6);
    expect(await messagesOf(after.id)).toBe(0);
  });

  it('stops the send when a batch costs more than the balance can cover: nothing more goes out, every credit not spent comes back', async () => {
    const { who, group, acc } = await audience('614', 150);
    const res = await api(who, 'POST', '/v1/campaigns', { name: 'Short', message: 'Hi {first_name|there}!', groups: [group] });
    expect(res.statusCode, res.body).toBe(201);
    const id = res.json().data.id;
    // The fan-out prices the campaign and queues its first batch of 100, then its worker stops.
    let looks = 0;
    const stopsAfterOneBatch = { get aborted() { return ++looks > 1; } } as AbortSignal;
    expect(await ctx.app.services.campaigns.fanOut(id, stopsAfterOneBatch)).toBe('interrupted');
    expect(await messagesOf(id)).toBe(100);
    await harness.dispatcher.dispatchOnce(); // 3 of them reach the carrier
    // Meanwhile the other contacts' names grew (their texts now take 2 segments) and the balance was spent.
    await sql`UPDATE contacts SET first_name = ${'y'.repeat(200)} WHERE account_id = ${acc}
              AND id NOT IN (SELECT contact_id FROM messages WHERE campaign_id = ${id})`.execute(db());
    await setBalance(acc, 0);
    expect(await ctx.app.services.campaigns.fanOut(id, new AbortController().signal)).toBe('stopped');
    const after = (await api(who, 'GET', `/v1/campaigns/${id}`)).json().data;
    expect(after).toMatchObject({ status: 'canceled', cancel_reason: expect.stringMatching(/ran out/), stats: { recipients: 100, sent: 3, canceled: 97, credits: 3 } });
    await harness.dispatcher.drain();
    expect(await creditsSent(id)).toBe(3);
    // 150 were reserved at launch, then the balance was set to 0: all but the 3 sent came back.
    expect(await balance(acc)).toBe(147);
  });
});

describe('a cancel racing with the send refunds each credit once', () => {
  it('after the fan-out gave back the unused reservation, a DELETE does not give it back again', async () => {
    const { who, group, acc } = await audience('621', 8);
    const before = await balance(acc);
    const campaign = (await api(who, 'POST', '/v1/campaigns', { name: 'Race', message: 'Hi', groups: [group] })).json().data;
    expect(await balance(acc)).toBe(before - 8);
    // Two recipients unsubscribe between the launch and the fan-out: 8 reserved, 6 used.
    await sql`UPDATE contacts SET status = 'unsubscribed', unsubscribed_at = now()
              WHERE id IN (SELECT id FROM contacts WHERE account_id = ${acc} ORDER BY id LIMIT 2)`.execute(db());
    await harness.jobs(); // fan-out done (2 credits back); the campaign is sending until its messages leave
    expect(await balance(acc)).toBe(before - 6);
    await harness.dispatcher.dispatchOnce(); // 3 handed over
    expect((await api(who, 'DELETE', `/v1/campaigns/${campaign.id}`)).statusCode).toBe(204);
    await harness.dispatcher.drain();
    const after = (await api(who, 'GET', `/v1/campaigns/${campaign.id}`)).json().data;
    expect(after).toMatchObject({ status: 'canceled', stats: { recipients: 6, sent: 3, canceled: 3, credits: 3 } });
    expect(await creditsSent(campaign.id)).toBe(3);
    expect(before - (await balance(acc))).toBe(3);
  });

  it('a DELETE before the fan-out finished gives back the unused reservation once', async () => {
    const { who, group, acc } = await audience('622', 150);
    const before = await balance(acc);
    const campaign = (await api(who, 'POST', '/v1/campaigns', { name: 'Race', message: 'Hi', groups: [group] })).json().data;
    let looks = 0;
    const stopsAfterOneBatch = { get aborted() { return ++looks > 1; } } as AbortSignal;
    expect(await ctx.app.services.campaigns.fanOut(campaign.id, stopsAfterOneBatch)).toBe('interrupted');
    await harness.dispatcher.dispatchOnce();
    expect((await api(who, 'DELETE', `/v1/campaigns/${campaign.id}`)).statusCode).toBe(204);
    await harness.jobs();
    await harness.dispatcher.drain();
    expect(await creditsSent(campaign.id)).toBe(3);
    expect(before - (await balance(acc))).toBe(3);
    expect((await api(who, 'GET', `/v1/campaigns/${campaign.id}`)).json().data.stats).toMatchObject({ recipients: 100, sent: 3, canceled: 97, credits: 3 });
  });

  // PostgreSQL only: the embedded database has one connection, so no DELETE can run while a
  // dispatcher's transaction is open there; the two are serialised and this race cannot occur.
  if (process.env.DATABASE_URL) it('a DELETE that arrives while an external-carrier dispatcher is checking consent waits for its claim: what it claimed goes out or is refused and refunded once', async () => {
    const { who, group, acc } = await audience('623', 3);
    // Its refusal is recorded as an event only for a subscribed account.
    await subscribeToEvents(db(), acc, ['rejected_message']);
    const before = await balance(acc);
    const campaign = (await api(who, 'POST', '/v1/campaigns', { name: 'Race', message: 'Hi', groups: [group] })).json().data;
    await harness.jobs();
    await sql`UPDATE contacts SET status = 'unsubscribed', unsubscribed_at = now()
              WHERE id IN (SELECT id FROM contacts WHERE account_id = ${acc} ORDER BY id LIMIT 1)`.execute(db());
    const carrier = new AcceptingCarrier();
    // The dispatcher claims the three messages and is held just after the claim, before its
    // consent check, inside the claim's transaction (claim, consent check and ledger rows commit together)…
    const paused = pauseAfter(db(), /SET status = 'sending'/);
    const dispatcher = createDispatcher({ db: paused.db, transport: carrier });
    const dispatching = dispatcher.dispatchOnce();
    await Promise.race([paused.reached, dispatching.then(() => Promise.reject(new Error('the dispatcher never claimed')))]);
    // …so nobody else sees them claimed yet, and a DELETE now cannot take them: it waits.
    expect(Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaign.id} AND status = 'sending'`.execute(db())).rows[0]!.n)).toBe(0);
    let deleted = false;
    const deleting = api(who, 'DELETE', `/v1/campaigns/${campaign.id}`).then((res) => {
      deleted = true;
      return res;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(deleted).toBe(false);
    paused.release();
    expect(await dispatching).toBe(3);
    expect((await deleting).statusCode).toBe(204);
    // The two subscribed contacts' messages were handed over (they were claimed before the
    // DELETE); the unsubscribed contact's was refused and refunded, once.
    expect(carrier.submitted).toHaveLength(2);
    const statuses = await sql<{ status: string; n: number }>`SELECT status, count(*)::int AS n FROM messages WHERE campaign_id = ${campaign.id} GROUP BY status ORDER BY status`.execute(db());
    expect(statuses.rows).toEqual([
      { status: 'failed', n: 1 },
      { status: 'sent', n: 2 },
    ]);
    expect(before - (await balance(acc))).toBe(2);
    expect(await creditsSent(campaign.id)).toBe(2);
    expect(Number((await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE account_id = ${acc} AND type = 'rejected_message'`.execute(db())).rows[0]!.n)).toBe(1);
  });
});

/** An external carrier (not in the database) that accepts everything. */
class AcceptingCarrier implements SmsTransport {
  readonly name = 'accepting';
  submitted: OutboundSms[] = [];
  async start() {}
  async stop() {}
  async submit(batch: OutboundSms[]): Promise<SubmitResult[]> {
    this.submitted.push(...batch);
    return batch.map((m) => ({ messageId: m.messageId, ok: true, carrierMessageId: m.messageId, carrierMessageIds: [m.messageId] }));
  }
}

/**
 * The same database handle, except that the first statement whose SQL text matches `pattern`
 * holds its result until `release()` — inside a transaction too (a Kysely plugin, which
 * transactions inherit): a deterministic interleaving point just after that statement.
 */
function pauseAfter(db: Kysely<DB>, pattern: RegExp) {
  let reach!: () => void;
  let release!: () => void;
  const reached = new Promise<void>((resolve) => (reach = resolve));
  const gate = new Promise<void>((resolve) => (release = resolve));
  let matched: unknown;
  const plugin: KyselyPlugin = {
    transformQuery(args) {
      const node = args.node as { kind: string; sqlFragments?: readonly string[] };
      if (matched === undefined && node.kind === 'RawNode' && pattern.test((node.sqlFragments ?? []).join('?'))) matched = args.queryId;
      return args.node;
    },
    async transformResult(args) {
      if (args.queryId === matched) {
        reach();
        await gate;
      }
      return args.result;
    },
  };
  return { db: db.withPlugin(plugin), reached, release };
}
