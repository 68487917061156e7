import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { messagingHarness } from './test-support.js';

let ctx: TestContext;
let auth: Record<string, string>;
let accountId: string;
let shortCode: string;
let other: Record<string, string>;
const h = messagingHarness(() => ctx);
const post = (url: string, payload: unknown, headers = auth) => h.inject('POST', url, headers, payload);
const get = (url: string, headers = auth) => h.inject('GET', url, headers);

beforeAll(async () => {
  ctx = await createTestApp();
  const main = await createAccountWithToken(ctx.app);
  auth = main.auth;
  accountId = main.account.id;
  await h.subscribeAll(accountId);
  shortCode = main.account.short_code;
  other = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('POST /v1/message', () => {
  it('accepts a message, charges one credit per segment and answers 201 before any carrier is contacted (happy)', async () => {
    const before = await h.credits(accountId);
    const phone = h.phone();
    const res = await post('/v1/message', { phone_number: phone, message: 'Hello there' });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      type: 'OUTGOING',
      from: shortCode,
      phone_number: phone,
      message: 'Hello there',
      segments: 1,
      encoding: 'GSM-7',
      status: 'queued',
      read: false,
      contact_id: null,
      campaign_id: null,
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(await h.credits(accountId)).toBe(before - 1);
    expect(await h.handset(phone)).toHaveLength(0);
  });

  it('normalises a national number with the account country and charges long and UCS-2 texts per segment', async () => {
    const res = await post('/v1/message', { phone_number: '(202) 555-0142', message: 'x'.repeat(161) });
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ phone_number: '+12025550142', segments: 2, encoding: 'GSM-7' });
    const before = await h.credits(accountId);
    const ucs = await post('/v1/message', { phone_number: h.phone(), message: 'Ünïcödé ✓ '.repeat(8) });
    expect(ucs.json().data).toMatchObject({ encoding: 'UCS-2', segments: 2 });
    expect(await h.credits(accountId)).toBe(before - 2);
  });

  it.each([
    ['an empty message', { message: '' }, 'message'],
    ['a blank message', { message: '   ' }, 'message'],
    ['a 10,000-character message', { message: 'a'.repeat(10_000) }, 'message'],
    ['a lone surrogate', { message: 'bad \ud800 text' }, 'message'],
    ['a control character', { message: 'bell \u0007' }, 'message'],
    ['a missing message', { message: undefined }, 'message'],
    ['an invalid number', { phone_number: '12345' }, 'phone_number'],
    ['letters for a number', { phone_number: 'call me maybe' }, 'phone_number'],
    ['a missing number', { phone_number: undefined }, 'phone_number'],
    ['a media URL that is not http', { media_url: 'javascript:alert(1)' }, 'media_url'],
  ])('refuses %s with a 422 on the field and charges nothing (error)', async (_what, override, field) => {
    const before = await h.credits(accountId);
    const body = { phone_number: h.phone(), message: 'ok', ...override };
    const res = await post('/v1/message', JSON.parse(JSON.stringify(body)));
    expect(res.statusCode, res.body).toBe(422);
    expect(res.json()).toMatchObject({ status: 422, message: 'A validation error occurred' });
    expect(Object.keys(res.json().errors)).toContain(field);
    expect(await h.credits(accountId)).toBe(before);
  });

  it('accepts mixed scripts (UCS-2) and emoji', async () => {
    const res = await post('/v1/message', { phone_number: h.phone(), message: 'Hi Привет 你好 👋' });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.encoding).toBe('UCS-2');
  });

  it('answers 402 and sends nothing when the balance cannot cover the send (error)', async () => {
    const { auth: poor, account } = await createAccountWithToken(ctx.app);
    await h.setCredits(account.id, 1);
    const res = await post('/v1/message', { phone_number: h.phone(), message: 'x'.repeat(200) }, poor);
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ status: 402, errors: { credits: ['2 credits are needed.'] } });
    expect(await h.credits(account.id)).toBe(1);
    const count = await ctx.database.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n')).where('account_id', '=', account.id).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(0);
  });

  it('never overdraws under concurrent sends: the atomic charge lets exactly the affordable ones through', async () => {
    const { auth: a, account } = await createAccountWithToken(ctx.app);
    await h.setCredits(account.id, 5);
    const results = await Promise.all(Array.from({ length: 12 }, () => post('/v1/message', { phone_number: h.phone(), message: 'race' }, a)));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(5);
    expect(results.filter((r) => r.statusCode === 402)).toHaveLength(7);
    expect(await h.credits(account.id)).toBe(0);
  });

  it('needs the messages.create scope (security)', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['messages.view']);
    const res = await post('/v1/message', { phone_number: h.phone(), message: 'x' }, narrow);
    expect(res.statusCode).toBe(403);
    expect((await post('/v1/message', { phone_number: h.phone(), message: 'x' }, {})).statusCode).toBe(401);
  });

  it('refuses a number whose contact is unsubscribed or pending, with a rejection event (consent)', async () => {
    const unsub = await h.contact(auth, 'unsubscribed');
    const res = await post('/v1/message', { phone_number: unsub.phone_number, message: 'hello?' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.phone_number).toEqual(['The contact has unsubscribed.']);
    const pending = await h.contact(auth, 'pending');
    expect((await post('/v1/message', { phone_number: pending.phone_number, message: 'hi' })).json().errors.phone_number).toEqual([
      'The contact has not confirmed the opt-in yet.',
    ]);
    const events = await h.events(accountId, 'rejected_message');
    expect(events).toContainEqual({ code: '', message: 'hello?', description: 'Unsubscribed' });
    expect(events).toContainEqual({ code: '', message: 'hi', description: 'Pending' });
  });

  it('refuses deactivated and bounced-out contacts; sends to subscribed ones, linking the contact', async () => {
    const deactivated = await h.contact(auth, 'subscribed');
    await sql`UPDATE contacts SET carrier_status = 'deactivated' WHERE id = ${deactivated.id}`.execute(ctx.database.db);
    expect((await post('/v1/message', { phone_number: deactivated.phone_number, message: 'x' })).statusCode).toBe(422);
    const bounced = await h.contact(auth, 'subscribed');
    await sql`UPDATE contacts SET bounces = 3 WHERE id = ${bounced.id}`.execute(ctx.database.db);
    expect((await post('/v1/message', { phone_number: bounced.phone_number, message: 'x' })).json().errors.phone_number).toEqual([
      'Messages to the contact have bounced too often.',
    ]);
    const ok = await h.contact(auth, 'subscribed');
    const res = await post('/v1/message', { phone_number: ok.phone_number, message: 'x' });
    expect(res.statusCode).toBe(201);
    expect(res.json().data.contact_id).toBe(ok.id);
  });
});

describe('Idempotency-Key', () => {
  it('returns the first answer for a retried POST and sends nothing new', async () => {
    const before = await h.credits(accountId);
    const body = { phone_number: h.phone(), message: 'once' };
    const headers = { ...auth, 'idempotency-key': `key-${Date.now()}` };
    const first = await post('/v1/message', body, headers);
    const second = await post('/v1/message', body, headers);
    expect(first.statusCode).toBe(201);
    expect(second.statusCode).toBe(201);
    expect(second.headers['idempotency-replayed']).toBe('true');
    expect(second.json()).toEqual(first.json());
    expect(await h.credits(accountId)).toBe(before - 1);
  });

  it('answers 422 for the same key with a different body, and keys are per account', async () => {
    const key = `k-${Date.now()}`;
    expect((await post('/v1/message', { phone_number: h.phone(), message: 'a' }, { ...auth, 'idempotency-key': key })).statusCode).toBe(201);
    const clash = await post('/v1/message', { phone_number: h.phone(), message: 'b' }, { ...auth, 'idempotency-key': key });
    expect(clash.statusCode).toBe(422);
    expect(clash.json().errors['Idempotency-Key']).toBeDefined();
    const elsewhere = await post('/v1/message', { phone_number: h.phone(), message: 'b' }, { ...other, 'idempotency-key': key });
    expect(elsewhere.statusCode).toBe(201);
  });

  it('sends once when the same request races with itself', async () => {
    const before = await h.credits(accountId);
    const body = { messages: [{ phone_number: h.phone(), message: 'race 1' }, { phone_number: h.phone(), message: 'race 2' }] };
    const headers = { ...auth, 'idempotency-key': `race-${Date.now()}` };
    const results = await Promise.all(Array.from({ length: 5 }, () => post('/v1/message/batch', body, headers)));
    expect(results.map((r) => r.statusCode)).toEqual([201, 201, 201, 201, 201]);
    expect(new Set(results.map((r) => r.body)).size).toBe(1);
    expect(await h.credits(accountId)).toBe(before - 2);
  });

  it('refuses a malformed key (400)', async () => {
    const res = await post('/v1/message', { phone_number: h.phone(), message: 'a' }, { ...auth, 'idempotency-key': 'x'.repeat(300) });
    expect(res.statusCode).toBe(400);
  });
});

describe('POST /v1/message/batch', () => {
  it('sends personalised messages with metadata, rejecting entries of contacts who may not be texted (happy)', async () => {
    const unsub = await h.contact(auth, 'unsubscribed');
    const before = await h.credits(accountId);
    const a = h.phone();
    const b = h.phone();
    const res = await post('/v1/message/batch', {
      messages: [
        { phone_number: a, message: 'Hi Ann', metadata: { order: 1 } },
        { phone_number: unsub.phone_number, message: 'Hi Bob' },
        { phone_number: b, message: 'Hi Cy' },
      ],
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body.data.map((m: { phone_number: string }) => m.phone_number)).toEqual([a, b]);
    expect(body.meta).toEqual({
      accepted: 2,
      rejected: [{ index: 1, phone_number: unsub.phone_number, description: 'Unsubscribed', message: 'The contact has unsubscribed.' }],
    });
    expect(await h.credits(accountId)).toBe(before - 2);
    const row = await ctx.database.db.selectFrom('messages').select('metadata').where('id', '=', body.data[0].id).executeTakeFirstOrThrow();
    expect(row.metadata).toEqual({ order: 1 });
  });

  it('refuses duplicates, invalid entries and more than 1,000 messages as a whole (error)', async () => {
    const before = await h.credits(accountId);
    const p = h.phone();
    const dup = await post('/v1/message/batch', { messages: [{ phone_number: p, message: 'a' }, { phone_number: p, message: 'b' }] });
    expect(dup.statusCode).toBe(422);
    expect(dup.json().errors['messages.1.phone_number'][0]).toMatch(/Duplicate/);
    const bad = await post('/v1/message/batch', { messages: [{ phone_number: h.phone(), message: 'a' }, { phone_number: 'nope', message: '' }] });
    expect(bad.statusCode).toBe(422);
    expect(Object.keys(bad.json().errors).sort()).toEqual(['messages.1.message', 'messages.1.phone_number']);
    const big = await post('/v1/message/batch', { messages: Array.from({ length: 1001 }, (_, i) => ({ phone_number: `+1202555${String(i).padStart(4, '0')}`, message: 'x' })) });
    expect(big.statusCode).toBe(422);
    expect((await post('/v1/message/batch', { messages: [] })).statusCode).toBe(422);
    expect((await post('/v1/message/batch', { messages: 'no' })).statusCode).toBe(422);
    expect(await h.credits(accountId)).toBe(before);
  });

  it('answers 402 when the balance cannot cover the whole batch, sending none of it', async () => {
    const { auth: poor, account } = await createAccountWithToken(ctx.app);
    await h.setCredits(account.id, 2);
    const res = await post('/v1/message/batch', { messages: [1, 2, 3].map(() => ({ phone_number: h.phone(), message: 'x' })) }, poor);
    expect(res.statusCode).toBe(402);
    expect(await h.credits(account.id)).toBe(2);
  });

  it('needs messages.create (security)', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['messages.view']);
    expect((await post('/v1/message/batch', { messages: [{ phone_number: h.phone(), message: 'x' }] }, narrow)).statusCode).toBe(403);
  });
});

describe('POST /v1/messages (to a contact)', () => {
  it('sends to a subscribed contact (happy)', async () => {
    const c = await h.contact(auth, 'subscribed');
    const res = await post('/v1/messages', { contact_id: c.id, message: 'For you' });
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ contact_id: c.id, phone_number: c.phone_number, message: 'For you' });
  });

  it('422 for an unknown contact, another account’s contact, or one who may not be texted (error, security)', async () => {
    expect((await post('/v1/messages', { contact_id: '00000000-0000-4000-8000-000000000000', message: 'x' })).json().errors).toEqual({ contact_id: ['The contact does not exist.'] });
    expect((await post('/v1/messages', { contact_id: 'not-a-uuid', message: 'x' })).statusCode).toBe(422);
    const theirs = await h.contact(other, 'subscribed');
    expect((await post('/v1/messages', { contact_id: theirs.id, message: 'x' })).statusCode).toBe(422);
    const pending = await h.contact(auth, 'pending');
    const res = await post('/v1/messages', { contact_id: pending.id, message: 'x' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.contact_id).toEqual(['The contact has not confirmed the opt-in yet.']);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['messages.view']);
    expect((await post('/v1/messages', { contact_id: pending.id, message: 'x' }, narrow)).statusCode).toBe(403);
  });
});

describe('POST /v1/message/preview', () => {
  it('shows encoding, segments, credits and the characters forcing UCS-2 (happy)', async () => {
    const res = await post('/v1/message/preview', { message: 'Price: 5€ — café ✓' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ encoding: 'UCS-2', segments: 1, credits: 1, characters: 18, units: 18, per_segment: 70, non_gsm_characters: ['—', '✓'] });
    const long = await post('/v1/message/preview', { message: 'a'.repeat(306) });
    expect(long.json().data).toMatchObject({ encoding: 'GSM-7', segments: 2, per_segment: 153 });
  });

  it('422 for an empty or too long text; 403 without the scope', async () => {
    expect((await post('/v1/message/preview', { message: '' })).statusCode).toBe(422);
    expect((await post('/v1/message/preview', { message: 'a'.repeat(10_000) })).statusCode).toBe(422);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['messages.view']);
    expect((await post('/v1/message/preview', { message: 'x' }, narrow)).statusCode).toBe(403);
  });
});

describe('the message log', () => {
  let acct: { auth: Record<string, string>; id: string };
  let outgoingId: string;
  let incomingId: string;
  beforeAll(async () => {
    const created = await createAccountWithToken(ctx.app);
    acct = { auth: created.auth, id: created.account.id };
    const sent = await post('/v1/message', { phone_number: '+12025550101', message: 'Bounce me' }, acct.auth);
    outgoingId = sent.json().data.id;
    await post('/v1/message', { phone_number: '+13125550199', message: 'Deliver me' }, acct.auth);
    const inbound = await post('/simulator/inbound', { from: '+14155550199', message: 'Hello shop' }, acct.auth);
    expect(inbound.statusCode, inbound.body).toBe(201);
    incomingId = inbound.json().data.id;
    await h.deliver();
  });

  it('lists newest first with filters and the receipt include (happy)', async () => {
    const all = (await get('/v1/messages?include=receipt', acct.auth)).json();
    expect(all.meta.pagination.total).toBe(3);
    expect(all.data[0].id).toBe(incomingId);
    const bounced = all.data.find((m: { id: string }) => m.id === outgoingId);
    expect(bounced).toMatchObject({ status: 'failed', receipt: { code: '101', success: false, bounce: true, status: 'The MSISDN is inactive or no longer active.' } });
    const incoming = (await get('/v1/messages?filter[type]=INCOMING_ALL', acct.auth)).json();
    expect(incoming.data.map((m: { id: string }) => m.id)).toEqual([incomingId]);
    const outgoing = (await get('/v1/messages?filter[type]=OUTGOING_ALL&sort=created_at', acct.auth)).json();
    expect(outgoing.data.map((m: { message: string }) => m.message)).toEqual(['Bounce me', 'Deliver me']);
    const partial = (await get('/v1/messages?filter[phone_number]=312555', acct.auth)).json();
    expect(partial.data.map((m: { message: string }) => m.message)).toEqual(['Deliver me']);
    const future = (await get('/v1/messages?filter[created_at_min]=2999-01-01T00:00:00Z', acct.auth)).json();
    expect(future.data).toEqual([]);
    const combined = await get('/v1/messages?include=receipt,contact.carrier,type', acct.auth);
    expect(combined.statusCode).toBe(200);
    expect(combined.json().data.find((m: { id: string }) => m.id === incomingId).contact).toMatchObject({ phone_number: '+14155550199' });
  });

  it('400 for unknown filters, includes and bad dates (error)', async () => {
    expect((await get('/v1/messages?filter[type]=SIDEWAYS', acct.auth)).statusCode).toBe(400);
    expect((await get('/v1/messages?include=everything', acct.auth)).statusCode).toBe(400);
    expect((await get('/v1/messages?filter[created_at_min]=yesterday', acct.auth)).statusCode).toBe(400);
    expect((await get('/v1/messages?filter[nope]=1', acct.auth)).statusCode).toBe(400);
  });

  it('retrieves one message with its receipt; 404 for another account’s or a malformed id (security)', async () => {
    const res = await get(`/v1/messages/${outgoingId}?include=receipt`, acct.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().data.receipt.code).toBe('101');
    expect((await get(`/v1/messages/${outgoingId}`, other)).statusCode).toBe(404);
    expect((await get('/v1/messages/nope', acct.auth)).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['messages.create']);
    expect((await get('/v1/messages', narrow)).statusCode).toBe(403);
  });

  it('marks read and unread with PUT, and the unread inbox lists only unread incoming messages', async () => {
    const inbox = (await get('/v1/messages/unread', acct.auth)).json();
    expect(inbox.data.map((m: { id: string }) => m.id)).toEqual([incomingId]);
    const put = await h.inject('PUT', `/v1/messages/${incomingId}`, acct.auth, { read: true });
    expect(put.statusCode).toBe(200);
    expect(put.json().data.read).toBe(true);
    expect((await get('/v1/messages/unread', acct.auth)).json().data).toEqual([]);
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, acct.auth, { read: false })).json().data.read).toBe(false);
  });

  it('PUT changes read only (422 otherwise), 404 across accounts, needs messages.update; the inbox needs messages.unread.view', async () => {
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, acct.auth, { message: 'rewrite' })).statusCode).toBe(422);
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, acct.auth, { read: 'maybe' })).statusCode).toBe(422);
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, acct.auth, {})).statusCode).toBe(422);
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, other, { read: true })).statusCode).toBe(404);
    const { auth: viewOnly } = await createAccountWithToken(ctx.app, ['messages.view']);
    expect((await h.inject('PUT', `/v1/messages/${incomingId}`, viewOnly, { read: true })).statusCode).toBe(403);
    expect((await get('/v1/messages/unread', viewOnly)).statusCode).toBe(403);
    const { auth: unreadOnly } = await createAccountWithToken(ctx.app, ['messages.unread.view']);
    expect((await get('/v1/messages/unread', unreadOnly)).statusCode).toBe(200);
  });
});
