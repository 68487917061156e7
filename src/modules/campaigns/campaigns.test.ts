import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { contactIds, createGroup, insertContacts } from '../../../test/audience-fixtures.js';
import { createSendingHarness } from '../../../test/campaign-harness.js';
import { newId } from '../../lib/ids.js';
import { allocateSeq } from '../contacts/contacts.repo.js';

let ctx: TestContext;
let harness: ReturnType<typeof createSendingHarness>;
type Account = Awaited<ReturnType<typeof createAccountWithToken>>;
let owner: Account;
let other: Account;
const hour = 3_600_000;

beforeAll(async () => {
  ctx = await createTestApp();
  harness = createSendingHarness(ctx);
  owner = await createAccountWithToken(ctx.app);
  other = await createAccountWithToken(ctx.app);
});
afterAll(() => ctx.close());

const db = () => ctx.database.db;
const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, who: Account = owner) =>
  ctx.app.inject({ method, url, headers: { ...who.auth, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
const balance = async (accountId: string) => (await sql<{ b: number }>`SELECT credit_balance AS b FROM accounts WHERE id = ${accountId}`.execute(db())).rows[0]!.b;
const count = async (query: ReturnType<typeof sql<{ n: number }>>) => (await query.execute(db())).rows[0]!.n;

/** A fresh account with an audience: per group, subscribed contacts and one of every kind to skip. */
async function audience(prefix: string, subscribed = 10) {
  const who = await createAccountWithToken(ctx.app);
  const group = await createGroup(db(), who.account.id, `G${prefix}`);
  const acc = who.account.id;
  await insertContacts(db(), acc, { count: subscribed, prefix: `${prefix}1`, firstName: 'Ann', groupId: group });
  await insertContacts(db(), acc, { count: 1, prefix: `${prefix}2`, status: 'unsubscribed', groupId: group });
  await insertContacts(db(), acc, { count: 2, prefix: `${prefix}3`, status: 'pending', groupId: group });
  await insertContacts(db(), acc, { count: 1, prefix: `${prefix}4`, status: 'unsubscribed', bounces: 3, groupId: group });
  await insertContacts(db(), acc, { count: 1, prefix: `${prefix}5`, carrierStatus: 'deactivated', groupId: group });
  return { who, group };
}

describe('campaign lifecycle (happy path)', () => {
  it('sends once to each subscribed contact of several groups, skips and counts the rest, tracks links, keeps stats current', async () => {
    const { who, group } = await audience('41', 10);
    const acc = who.account.id;
    // A second group overlapping the first (the 10 subscribed) plus 5 of its own.
    const second = await createGroup(db(), acc, 'Second');
    await sql`INSERT INTO contact_groups (contact_id, group_id, account_id) SELECT id, ${second}::uuid, account_id FROM contacts WHERE account_id = ${acc} AND phone_number LIKE '+1555411%'`.execute(db());
    await insertContacts(db(), acc, { count: 5, prefix: '416', groupId: second });
    // Contacts outside both groups get nothing.
    await insertContacts(db(), acc, { count: 3, prefix: '417' });
    const before = await balance(acc);

    const res = await api('POST', '/v1/campaigns', { name: 'Launch', message: 'Hi {first_name|there}! Sale: https://shop.test/sale.', groups: [group, second] }, who);
    expect(res.statusCode, res.body).toBe(201);
    const campaign = res.json().data;
    expect(campaign).toMatchObject({ name: 'Launch', status: 'sending', groups: [group, second].sort(), send_at: null, coupon_id: null, track_links: true });
    expect(campaign.stats.credits).toBe(15);
    expect(await balance(acc)).toBe(before - 15);

    await harness.sendAll(campaign.id);
    const sent = (await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data;
    expect(sent.status).toBe('sent');
    expect(sent.completed_at).toEqual(expect.any(String));
    expect(sent.stats).toMatchObject({
      recipients: 15,
      queued: 0,
      sent: 15,
      delivered: 15,
      failed: 0,
      skipped: { unsubscribed: 1, pending: 2, bounced: 1, deactivated: 1 },
      credits: 15,
    });
    const rows = await sql<{ contact_id: string; message: string; n: number }>`
      SELECT contact_id, min(message) AS message, count(*)::int AS n FROM messages WHERE campaign_id = ${campaign.id} GROUP BY contact_id`.execute(db());
    expect(rows.rows).toHaveLength(15);
    expect(rows.rows.every((r) => r.n === 1)).toBe(true);
    const texts = rows.rows.map((r) => r.message);
    expect(texts.filter((t) => t.startsWith('Hi Ann! Sale: http://shortcode.test/l/'))).toHaveLength(10);
    expect(texts.filter((t) => t.startsWith('Hi there! Sale: '))).toHaveLength(5);
    expect(texts.every((t) => /\/l\/[0-9A-Za-z]{7}\/[A-Za-z0-9_-]{22}\.$/.test(t))).toBe(true);
    expect(await count(sql`SELECT count(*)::int AS n FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = ${campaign.id}`)).toBe(15);

    // Link tracking: the short link redirects and counts the click per campaign and contact.
    const link = /(\/l\/[^\s]+)\.$/.exec(texts[0]!)![1]!;
    const click = await ctx.app.inject({ method: 'GET', url: link });
    expect(click.statusCode).toBe(302);
    expect(click.headers.location).toBe('https://shop.test/sale');
    await ctx.app.inject({ method: 'GET', url: link });
    await ctx.app.inject({ method: 'GET', url: link.replace(/\/[^/]+$/, '') });
    const withClicks = (await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.stats;
    expect(withClicks).toMatchObject({ clicks: 3, unique_clicks: 1 });
    expect((await ctx.app.inject({ method: 'GET', url: '/l/AAAAAAA' })).statusCode).toBe(404);

    // A recipient who unsubscribes afterwards is counted.
    await sql`UPDATE contacts SET status = 'unsubscribed', unsubscribed_at = now() WHERE id = ${rows.rows[0]!.contact_id}`.execute(db());
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.stats.unsubscribed).toBe(1);

    // Sent: no more edits, no delete.
    const put = await api('PUT', `/v1/campaigns/${campaign.id}`, { name: 'x' }, who);
    expect(put.statusCode).toBe(422);
    const del = await api('DELETE', `/v1/campaigns/${campaign.id}`, undefined, who);
    expect(del.statusCode).toBe(422);
    expect(del.json()).toMatchObject({ status: 422, errors: { status: [expect.stringMatching(/sent/)] } });

    const list = await api('GET', '/v1/campaigns?filter[status]=sent', undefined, who);
    expect(list.json().data.map((c: { id: string }) => c.id)).toEqual([campaign.id]);
  });

  it('counts failures and bounces from delivery reports', async () => {
    const who = await createAccountWithToken(ctx.app);
    const group = await createGroup(db(), who.account.id, 'Codes');
    // The simulator reports the code named by a number's last three digits (105: failed, 106: bounce).
    for (const phone of ['+15559990105', '+15559990106', '+15559990200']) {
      const id = newId();
      const seq = await allocateSeq(db(), who.account.id, 1);
      await sql`INSERT INTO contacts (id, account_id, phone_number, status, seq, created_at) VALUES (${id}, ${who.account.id}, ${phone}, 'subscribed', ${seq}, now() - interval '1 minute')`.execute(db());
      await sql`INSERT INTO contact_groups (contact_id, group_id, account_id, created_at) VALUES (${id}, ${group}, ${who.account.id}, now() - interval '1 minute')`.execute(db());
    }
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Codes', message: 'Hello', groups: [group] }, who)).json().data;
    await harness.sendAll(campaign.id);
    const stats = (await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.stats;
    expect(stats).toMatchObject({ recipients: 3, sent: 3, delivered: 1, failed: 2, bounced: 1 });
  });
});

describe('dry run', () => {
  it('reports audience, skips, segments, credits and a rendered sample without sending', async () => {
    const { who, group } = await audience('42', 4);
    const fieldId = newId();
    await sql`INSERT INTO custom_fields (id, account_id, name, type) VALUES (${fieldId}, ${who.account.id}, 'Favorite color', 'text')`.execute(db());
    const ids = await contactIds(db(), who.account.id, '421');
    await sql`INSERT INTO contact_field_values (contact_id, field_id, account_id, value) VALUES (${ids[0]!}, ${fieldId}, ${who.account.id}, 'teal')`.execute(db());
    const before = await balance(who.account.id);
    const draft = await api('POST', '/v1/campaigns', { name: 'Dry', message: '{first_name}, your {favorite color|blue} deal: ' + 'x'.repeat(150), groups: [group], draft: true }, who);
    expect(draft.statusCode, draft.body).toBe(201);
    expect(draft.json().data.status).toBe('draft');
    const res = await api('POST', `/v1/campaigns/${draft.json().data.id}/preview`, undefined, who);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({
      audience: 9,
      recipients: 4,
      skipped: { unsubscribed: 1, pending: 2, bounced: 1, deactivated: 1 },
      segments: 8,
      segments_per_message: { min: 2, max: 2 },
      encoding: 'GSM-7',
      credits: 8,
      balance: before,
      sufficient_credits: true,
      sample: { contact_id: ids[0], message: `Ann, your teal deal: ${'x'.repeat(150)}`, segments: 2, encoding: 'GSM-7' },
    });
    expect(await balance(who.account.id)).toBe(before);
    expect(await count(sql`SELECT count(*)::int AS n FROM messages WHERE account_id = ${who.account.id}`)).toBe(0);
  });

  it('says when the balance would not cover it', async () => {
    const { who, group } = await audience('43', 3);
    await sql`UPDATE accounts SET credit_balance = 2 WHERE id = ${who.account.id}`.execute(db());
    const draft = (await api('POST', '/v1/campaigns', { name: 'Poor', message: 'Hi ☃', groups: [group], draft: true }, who)).json().data;
    const preview = (await api('POST', `/v1/campaigns/${draft.id}/preview`, undefined, who)).json().data;
    expect(preview).toMatchObject({ recipients: 3, credits: 3, encoding: 'UCS-2', balance: 2, sufficient_credits: false });
  });
});

describe('sending rules', () => {
  it('answers 402 when the balance cannot cover the send, and sends nothing', async () => {
    const { who, group } = await audience('44', 5);
    await sql`UPDATE accounts SET credit_balance = 4 WHERE id = ${who.account.id}`.execute(db());
    const res = await api('POST', '/v1/campaigns', { name: 'Too big', message: 'Hello', groups: [group] }, who);
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ status: 402, errors: { credits: [expect.stringMatching(/5 credits/)] } });
    expect(await balance(who.account.id)).toBe(4);
    expect((await api('GET', '/v1/campaigns', undefined, who)).json().data).toEqual([]);
    await harness.jobs();
    expect(await count(sql`SELECT count(*)::int AS n FROM messages WHERE account_id = ${who.account.id}`)).toBe(0);

    // The same as a draft, launched later: 402 on the PUT, and it stays a draft.
    const draft = (await api('POST', '/v1/campaigns', { name: 'Later', message: 'Hello', groups: [group], draft: true }, who)).json().data;
    const launch = await api('PUT', `/v1/campaigns/${draft.id}`, { draft: false }, who);
    expect(launch.statusCode).toBe(402);
    expect((await api('GET', `/v1/campaigns/${draft.id}`, undefined, who)).json().data.status).toBe('draft');
  });

  it('sends to every subscribed contact when no group is given', async () => {
    const who = await createAccountWithToken(ctx.app);
    await insertContacts(db(), who.account.id, { count: 4, prefix: '451' });
    await insertContacts(db(), who.account.id, { count: 2, prefix: '452', status: 'pending' });
    const campaign = (await api('POST', '/v1/campaigns', { name: 'All', message: 'Hello all' }, who)).json().data;
    expect(campaign.groups).toEqual([]);
    await harness.sendAll(campaign.id);
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.stats).toMatchObject({ recipients: 4, delivered: 4, skipped: { pending: 2 } });
  });

  it('holds messages for quiet hours in each recipient’s time zone', async () => {
    const who = await createAccountWithToken(ctx.app);
    const acc = who.account.id;
    // A window that is closed right now in UTC (it opens 2 hours from now, for one hour).
    const now = new Date();
    const open = (now.getUTCHours() * 60 + now.getUTCMinutes() + 120) % 1440;
    await sql`UPDATE accounts SET quiet_hours_enabled = true, quiet_hours_start = ${open}, quiet_hours_end = ${(open + 60) % 1440}, timezone = 'UTC' WHERE id = ${acc}`.execute(db());
    await insertContacts(db(), acc, { count: 1, prefix: '461', timezone: 'UTC' });
    await insertContacts(db(), acc, { count: 1, prefix: '462', timezone: 'Not/AZone' });
    // Two hours ahead of UTC the window is open now.
    const ahead = 'Etc/GMT-2';
    await insertContacts(db(), acc, { count: 1, prefix: '463', timezone: ahead });
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Quiet', message: 'Shh' }, who)).json().data;
    await harness.jobs();
    const rows = await sql<{ phone_number: string; next_attempt_at: Date }>`SELECT phone_number, next_attempt_at FROM messages WHERE campaign_id = ${campaign.id} ORDER BY phone_number`.execute(db());
    const at = Object.fromEntries(rows.rows.map((r) => [r.phone_number.slice(5, 8), r.next_attempt_at.getTime()]));
    const opening = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()) + open * 60_000;
    const expected = opening > now.getTime() - 60_000 ? opening : opening + 24 * hour;
    expect(Math.abs(at['461']! - expected)).toBeLessThan(120_000);
    expect(Math.abs(at['462']! - expected)).toBeLessThan(120_000); // unknown zone: the account's
    expect(at['463']!).toBeLessThanOrEqual(Date.now());
    await harness.dispatcher.drain();
    const handed = await count(sql`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaign.id} AND sent_at IS NOT NULL`);
    expect(handed).toBe(1);
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data).toMatchObject({ status: 'sending', stats: { queued: 2, sent: 1 } });
  });

  it('schedules, reschedules, and launches when send_at comes', async () => {
    const { who, group } = await audience('47', 3);
    const sendAt = new Date(Date.now() + 2 * hour).toISOString();
    const res = await api('POST', '/v1/campaigns', { name: 'Later', message: 'Soon', groups: [group], send_at: sendAt }, who);
    expect(res.statusCode).toBe(201);
    const campaign = res.json().data;
    expect(campaign).toMatchObject({ status: 'scheduled', send_at: sendAt, stats: { credits: 0 } });
    const moved = new Date(Date.now() + 3 * hour).toISOString();
    expect((await api('PUT', `/v1/campaigns/${campaign.id}`, { send_at: moved, message: 'Soon!' }, who)).json().data).toMatchObject({ status: 'scheduled', send_at: moved, message: 'Soon!' });
    const jobs = await sql<{ run_at: Date }>`SELECT run_at FROM jobs WHERE dedupe_key = ${`campaign-launch:${campaign.id}`}`.execute(db());
    expect(jobs.rows.map((j) => j.run_at.toISOString())).toEqual([moved]);
    await harness.jobs();
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.status).toBe('scheduled');
    // Time passes.
    await sql`UPDATE campaigns SET send_at = now() - interval '1 second' WHERE id = ${campaign.id}`.execute(db());
    await sql`UPDATE jobs SET run_at = now() WHERE dedupe_key = ${`campaign-launch:${campaign.id}`}`.execute(db());
    await harness.sendAll(campaign.id);
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data).toMatchObject({ status: 'sent', stats: { recipients: 3, delivered: 3 } });
  });

  it('a scheduled campaign the balance cannot cover when send_at comes is canceled, and sends nothing', async () => {
    const { who, group } = await audience('48', 3);
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Broke', message: 'Hi', groups: [group], send_at: new Date(Date.now() + hour).toISOString() }, who)).json().data;
    await sql`UPDATE accounts SET credit_balance = 1 WHERE id = ${who.account.id}`.execute(db());
    await sql`UPDATE campaigns SET send_at = now() - interval '1 second' WHERE id = ${campaign.id}`.execute(db());
    await sql`UPDATE jobs SET run_at = now() WHERE dedupe_key = ${`campaign-launch:${campaign.id}`}`.execute(db());
    await harness.jobs();
    const after = (await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data;
    expect(after).toMatchObject({ status: 'canceled', cancel_reason: expect.stringMatching(/does not cover/) });
    expect(await balance(who.account.id)).toBe(1);
    expect(await count(sql`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaign.id}`)).toBe(0);
  });

  it('a scheduled campaign whose audience is empty when send_at comes is canceled', async () => {
    const { who, group } = await audience('56', 1);
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Gone', message: 'Hi', groups: [group], send_at: new Date(Date.now() + hour).toISOString() }, who)).json().data;
    await sql`UPDATE contacts SET status = 'unsubscribed' WHERE account_id = ${who.account.id}`.execute(db());
    await sql`UPDATE campaigns SET send_at = now() - interval '1 second' WHERE id = ${campaign.id}`.execute(db());
    await sql`UPDATE jobs SET run_at = now() WHERE dedupe_key = ${`campaign-launch:${campaign.id}`}`.execute(db());
    const before = await balance(who.account.id);
    await harness.jobs();
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data).toMatchObject({ status: 'canceled', cancel_reason: expect.stringMatching(/no contact/) });
    expect(await balance(who.account.id)).toBe(before);
  });

  it('DELETE while sending stops it: queued messages are canceled and refunded, those a dispatcher has claimed count as handed over', async () => {
    const { who, group } = await audience('49', 8);
    const before = await balance(who.account.id);
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Stop', message: 'Hi', groups: [group] }, who)).json().data;
    await harness.jobs(); // fanned out, nothing handed over yet
    const charged = before - (await balance(who.account.id));
    // A dispatcher has claimed three of them for an external carrier (its claim committed, its
    // submit under way) when the DELETE comes: those may reach the carrier whatever we do now.
    await sql`UPDATE messages SET status = 'sending', claimed_by = 'elsewhere', lease_until = now() + interval '1 minute'
              WHERE id IN (SELECT id FROM messages WHERE campaign_id = ${campaign.id} ORDER BY id LIMIT 3)`.execute(db());
    const del = await api('DELETE', `/v1/campaigns/${campaign.id}`, undefined, who);
    expect(del.statusCode).toBe(204);
    const after = (await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data;
    expect(after).toMatchObject({ status: 'canceled', stats: { recipients: 8, canceled: 5 } });
    expect(before - (await balance(who.account.id))).toBe((charged / 8) * 3);
    // Nothing canceled goes out afterwards.
    await harness.dispatcher.drain();
    expect(await count(sql`SELECT count(*)::int AS n FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = ${campaign.id}`)).toBe(0);
    // Canceled: PUT is refused; DELETE removes it.
    expect((await api('PUT', `/v1/campaigns/${campaign.id}`, { name: 'x' }, who)).statusCode).toBe(422);
    expect((await api('DELETE', `/v1/campaigns/${campaign.id}`, undefined, who)).statusCode).toBe(204);
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).statusCode).toBe(404);
  });

  it('deletes drafts and scheduled campaigns (and their launch job)', async () => {
    const { who, group } = await audience('50', 1);
    const draft = (await api('POST', '/v1/campaigns', { name: 'D', message: 'x', groups: [group], draft: true }, who)).json().data;
    const scheduled = (await api('POST', '/v1/campaigns', { name: 'S', message: 'x', groups: [group], send_at: new Date(Date.now() + hour).toISOString() }, who)).json().data;
    for (const c of [draft, scheduled]) {
      expect((await api('DELETE', `/v1/campaigns/${c.id}`, undefined, who)).statusCode).toBe(204);
      expect((await api('GET', `/v1/campaigns/${c.id}`, undefined, who)).statusCode).toBe(404);
    }
    expect(await count(sql`SELECT count(*)::int AS n FROM jobs WHERE dedupe_key = ${`campaign-launch:${scheduled.id}`}`)).toBe(0);
  });
});

describe('campaigns with coupons and templates', () => {
  it('carries a coupon: a per-recipient link, visits and redemptions counted in the campaign and the coupon', async () => {
    const { who, group } = await audience('51', 2);
    const coupon = (await api('POST', '/v1/coupons', { name: 'C', title: 'Free coffee', code: 'COFFEE' }, who)).json().data;
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Coffee', message: 'Treat yourself', groups: [group], coupon_id: coupon.id }, who)).json().data;
    await harness.sendAll(campaign.id);
    const texts = (await sql<{ message: string }>`SELECT message FROM messages WHERE campaign_id = ${campaign.id}`.execute(db())).rows.map((r) => r.message);
    expect(texts).toHaveLength(2);
    const path = /^Treat yourself http:\/\/shortcode\.test(\/c\/[0-9A-Za-z]{7}\/[A-Za-z0-9_-]{22})$/.exec(texts[0]!)![1]!;
    const page = await ctx.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Free coffee');
    const nonce = /name="nonce" value="([^"]+)"/.exec(page.body)![1]!;
    const signature = /name="signature" value="([^"]+)"/.exec(page.body)![1]!;
    const form = new URLSearchParams({ nonce, signature }).toString();
    for (let i = 0; i < 2; i++) {
      const r = await ctx.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form });
      expect(r.statusCode).toBe(200);
    }
    expect((await api('GET', `/v1/campaigns/${campaign.id}`, undefined, who)).json().data.stats).toMatchObject({ clicks: 1, unique_clicks: 1, redemptions: 1 });
    expect((await api('GET', `/v1/coupons/${coupon.id}`, undefined, who)).json().data.redemptions).toBe(1);
    // The coupon cannot be deleted while an unsent campaign carries it.
    const pending = (await api('POST', '/v1/campaigns', { name: 'Again', message: 'x {coupon_url}', groups: [group], coupon_id: coupon.id, draft: true }, who)).json().data;
    expect((await api('DELETE', `/v1/coupons/${coupon.id}`, undefined, who)).statusCode).toBe(422);
    await api('DELETE', `/v1/campaigns/${pending.id}`, undefined, who);
    expect((await api('DELETE', `/v1/coupons/${coupon.id}`, undefined, who)).statusCode).toBe(204);
  });

  it('starts from a campaign template', async () => {
    const { who, group } = await audience('52', 1);
    const template = (await api('POST', '/v1/campaigns/templates', { name: 'Weekly', message: 'This week: {first_name|friend}' }, who)).json().data;
    const res = await api('POST', '/v1/campaigns', { name: 'From template', template_id: template.id, groups: [group], draft: true }, who);
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ message: 'This week: {first_name|friend}', template_id: template.id });
    const unknown = await api('POST', '/v1/campaigns', { name: 'x', template_id: newId(), draft: true }, who);
    expect(unknown.statusCode).toBe(422);
    expect(unknown.json().errors.template_id).toBeDefined();
  });
});

describe('bad input', () => {
  it('refuses unknown groups, empty audiences, bad merge tags, past send_at, missing coupons', async () => {
    const { who, group } = await audience('53', 1);
    const onlyUnsubscribed = await createGroup(db(), who.account.id, 'Gone');
    await insertContacts(db(), who.account.id, { count: 2, prefix: '539', status: 'unsubscribed', groupId: onlyUnsubscribed });
    const empty = await createGroup(db(), who.account.id, 'Empty');
    const foreignGroup = await createGroup(db(), other.account.id, 'Not yours');
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ groups: [newId()] }, 'groups', /Unknown group ids/],
      [{ groups: [foreignGroup] }, 'groups', /Unknown group ids/],
      [{ groups: [onlyUnsubscribed] }, 'groups', /no recipients/],
      [{ groups: [empty] }, 'groups', /no recipients/],
      [{ message: 'Hi {first_name' }, 'message', /never closed/],
      [{ message: 'Hi first_name}' }, 'message', /closes nothing/],
      [{ message: 'Hi {shoe_size}' }, 'message', /Unknown merge tag/],
      [{ message: 'Get it {coupon_url}' }, 'message', /needs a coupon/],
      [{ message: '   ' }, 'message', /blank/],
      [{ send_at: new Date(Date.now() - 60_000).toISOString() }, 'send_at', /future/],
      [{ coupon_id: newId() }, 'coupon_id', /does not exist/],
      [{ media_url: 'ftp://x.test/a.png' }, 'media_url', /./],
      [{ groups: 'abc' }, 'groups.0', /uuid/],
    ];
    for (const [patch, field, pattern] of cases) {
      const res = await api('POST', '/v1/campaigns', { name: 'Bad', message: 'Hi', groups: [group], ...patch }, who);
      expect(res.statusCode, JSON.stringify(patch)).toBe(422);
      expect(Object.keys(res.json().errors), JSON.stringify(res.json())).toContain(field);
      expect(res.json().errors[field].join(" "), JSON.stringify(patch)).toMatch(pattern);
    }
    expect((await api('POST', '/v1/campaigns', { message: 'no name' }, who)).json().errors.name).toBeDefined();
    expect((await api('POST', '/v1/campaigns', { name: 'no message' }, who)).json().errors.message).toBeDefined();
    expect((await api('GET', '/v1/campaigns', undefined, who)).json().data).toEqual([]);
    expect(await count(sql`SELECT count(*)::int AS n FROM messages WHERE account_id = ${who.account.id}`)).toBe(0);
  });

  it('refuses edits of a sending campaign', async () => {
    const { who, group } = await audience('54', 2);
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Busy', message: 'Hi', groups: [group] }, who)).json().data;
    const res = await api('PUT', `/v1/campaigns/${campaign.id}`, { message: 'Changed' }, who);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.status[0]).toMatch(/sending/);
    const draft = (await api('POST', '/v1/campaigns', { name: 'Draft', message: 'Hi', groups: [group], draft: true }, who)).json().data;
    const bad = await api('PUT', `/v1/campaigns/${draft.id}`, { message: 'Hi {oops', send_at: new Date(Date.now() - 1000).toISOString() }, who);
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['message', 'send_at']);
  });
});

describe('security', () => {
  it('answers 404 for another account’s campaigns and templates', async () => {
    const { who, group } = await audience('55', 1);
    const campaign = (await api('POST', '/v1/campaigns', { name: 'Mine', message: 'Hi', groups: [group], draft: true }, who)).json().data;
    const template = (await api('POST', '/v1/campaigns/templates', { name: 'Mine', message: 'Hi' }, who)).json().data;
    for (const [method, url, body] of [
      ['GET', `/v1/campaigns/${campaign.id}`],
      ['PUT', `/v1/campaigns/${campaign.id}`, { name: 'x' }],
      ['DELETE', `/v1/campaigns/${campaign.id}`],
      ['POST', `/v1/campaigns/${campaign.id}/preview`],
      ['GET', `/v1/campaigns/templates/${template.id}`],
      ['PUT', `/v1/campaigns/templates/${template.id}`, { name: 'x' }],
      ['DELETE', `/v1/campaigns/templates/${template.id}`],
    ] as const) {
      expect((await api(method, url, body, other)).statusCode, `${method} ${url}`).toBe(404);
    }
    expect((await api('POST', '/v1/campaigns', { name: 'x', template_id: template.id, draft: true }, other)).statusCode).toBe(422);
    expect((await api('GET', '/v1/campaigns', undefined, other)).json().data.map((c: { id: string }) => c.id)).not.toContain(campaign.id);
    expect((await api('GET', '/v1/campaigns/not-a-uuid', undefined, who)).statusCode).toBe(404);
  });

  it('needs the campaigns scopes', async () => {
    const id = newId();
    const routes: Array<[string, 'GET' | 'POST' | 'PUT' | 'DELETE', string, unknown?]> = [
      ['campaigns.view', 'GET', '/v1/campaigns'],
      ['campaigns.view', 'GET', `/v1/campaigns/${id}`],
      ['campaigns.view', 'POST', `/v1/campaigns/${id}/preview`],
      ['campaigns.create', 'POST', '/v1/campaigns', { name: 'x', message: 'y' }],
      ['campaigns.update', 'PUT', `/v1/campaigns/${id}`, { name: 'x' }],
      ['campaigns.delete', 'DELETE', `/v1/campaigns/${id}`],
      ['campaigns.view', 'GET', '/v1/campaigns/templates'],
      ['campaigns.view', 'GET', `/v1/campaigns/templates/${id}`],
      ['campaigns.create', 'POST', '/v1/campaigns/templates', { name: 'x', message: 'y' }],
      ['campaigns.update', 'PUT', `/v1/campaigns/templates/${id}`, { name: 'x' }],
      ['campaigns.delete', 'DELETE', `/v1/campaigns/templates/${id}`],
    ];
    const all = ['campaigns.view', 'campaigns.create', 'campaigns.update', 'campaigns.delete'];
    for (const [scope, method, url, body] of routes) {
      const lacking = await createAccountWithToken(ctx.app, all.filter((s) => s !== scope).concat('coupons.view'));
      expect((await api(method, url, body, lacking)).statusCode, `${method} ${url}`).toBe(403);
      const holding = await createAccountWithToken(ctx.app, [scope]);
      expect((await api(method, url, body, holding)).statusCode, `${method} ${url}`).not.toBe(403);
    }
  });
});
