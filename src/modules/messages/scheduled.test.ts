import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { messagingHarness } from './test-support.js';

let ctx: TestContext;
let auth: Record<string, string>;
let accountId: string;
let other: Record<string, string>;
const h = messagingHarness(() => ctx);
const db = () => ctx.database.db;
const inOneHour = () => new Date(Date.now() + 3600_000).toISOString();

beforeAll(async () => {
  ctx = await createTestApp();
  const main = await createAccountWithToken(ctx.app);
  auth = main.auth;
  accountId = main.account.id;
  other = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

async function schedule(body: Record<string, unknown> = {}, headers = auth, base = '/v1/message/schedule') {
  return h.inject('POST', base, headers, { phone_number: h.phone(), message: 'Later', send_at: inOneHour(), ...body });
}

/** Makes a scheduled message due now (as if its time had come). */
async function makeDue(id: string) {
  await sql`UPDATE messages SET next_attempt_at = now() - interval '1 second' FROM scheduled_messages s WHERE s.id = ${id} AND messages.id = s.message_id`.execute(db());
}

describe('POST /v1/message/schedule', () => {
  it('creates a scheduled message, charged now, not in the message log until sent (happy)', async () => {
    const before = await h.credits(accountId);
    const sendAt = inOneHour();
    const phone = h.phone();
    const res = await schedule({ phone_number: phone, send_at: sendAt });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().data).toEqual({
      id: expect.any(String),
      phone_number: phone,
      message: 'Later',
      send_at: sendAt,
      status: 'scheduled',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(await h.credits(accountId)).toBe(before - 1);
    await h.deliver();
    expect(await h.handset(phone)).toEqual([]);
    const log = (await h.inject('GET', `/v1/messages?filter[phone_number]=${encodeURIComponent(phone.slice(1))}`, auth)).json();
    expect(log.data).toEqual([]);
  });

  it('goes out once when due, even if many dispatch passes run, and then shows as sent', async () => {
    const phone = h.phone();
    const id = (await schedule({ phone_number: phone })).json().data.id as string;
    await makeDue(id);
    await h.deliver();
    await h.deliver();
    expect((await h.handset(phone)).map((m) => m.message)).toEqual(['Later']);
    expect((await h.inject('GET', `/v1/message/schedule/${id}`, auth)).json().data.status).toBe('sent');
  });

  it.each([
    ['in the past', { send_at: '2001-01-01T00:00:00Z' }, 'send_at'],
    ['now-ish (not in the future)', { send_at: new Date(Date.now() - 1000).toISOString() }, 'send_at'],
    ['unparseable', { send_at: 'next tuesday' }, 'send_at'],
    ['a number', { send_at: 12345 }, 'send_at'],
    ['missing', { send_at: null }, 'send_at'],
    ['more than a year ahead', { send_at: new Date(Date.now() + 400 * 86_400_000).toISOString() }, 'send_at'],
    ['with an invalid number', { phone_number: '+1' }, 'phone_number'],
    ['with an empty message', { message: '' }, 'message'],
    ['with a lone surrogate', { message: '\udc00' }, 'message'],
  ])('refuses send_at %s with a 422 (error)', async (_what, override, field) => {
    const before = await h.credits(accountId);
    const res = await schedule(JSON.parse(JSON.stringify(override)));
    expect(res.statusCode, res.body).toBe(422);
    expect(Object.keys(res.json().errors)).toContain(field);
    expect(await h.credits(accountId)).toBe(before);
  });

  it('402 when the balance cannot cover it; refuses numbers of unsubscribed contacts', async () => {
    const { auth: poor, account } = await createAccountWithToken(ctx.app);
    await h.setCredits(account.id, 0);
    expect((await schedule({}, poor)).statusCode).toBe(402);
    const unsub = await h.contact(auth, 'unsubscribed');
    expect((await schedule({ phone_number: unsub.phone_number })).statusCode).toBe(422);
  });

  it('honours Idempotency-Key', async () => {
    const headers = { ...auth, 'idempotency-key': `sched-${Date.now()}` };
    const body = { phone_number: h.phone(), message: 'once', send_at: inOneHour() };
    const a = await h.inject('POST', '/v1/message/schedule', headers, body);
    const b = await h.inject('POST', '/v1/message/schedule', headers, body);
    expect(b.json()).toEqual(a.json());
  });
});

describe('GET, PUT, DELETE /v1/message/schedule/{id} and the /v1/messages/schedule alias', () => {
  it('lists and retrieves through both paths (happy)', async () => {
    const id = (await schedule({ message: 'listed' })).json().data.id as string;
    for (const base of ['/v1/message/schedule', '/v1/messages/schedule']) {
      const list = (await h.inject('GET', `${base}?limit=100`, auth)).json();
      expect(list.data.map((s: { id: string }) => s.id)).toContain(id);
      expect(list.meta.pagination).toBeDefined();
      expect((await h.inject('GET', `${base}/${id}`, auth)).json().data.message).toBe('listed');
    }
    const created = await schedule({ message: 'via alias' }, auth, '/v1/messages/schedule');
    expect(created.statusCode).toBe(201);
  });

  it('updates text and time, charging or refunding the difference', async () => {
    const id = (await schedule({ message: 'short' })).json().data.id as string;
    const before = await h.credits(accountId);
    const later = new Date(Date.now() + 7200_000).toISOString();
    const res = await h.inject('PUT', `/v1/message/schedule/${id}`, auth, { message: 'y'.repeat(300), send_at: later });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().data).toMatchObject({ message: 'y'.repeat(300), send_at: later, status: 'scheduled' });
    expect(await h.credits(accountId)).toBe(before - 1);
    await h.inject('PUT', `/v1/message/schedule/${id}`, auth, { message: 'short again' });
    expect(await h.credits(accountId)).toBe(before);
    expect((await h.inject('PUT', `/v1/message/schedule/${id}`, auth, { send_at: 'soon' })).statusCode).toBe(422);
  });

  it('DELETE cancels and refunds; a canceled message is never sent; a sent one cannot be deleted', async () => {
    const phone = h.phone();
    const id = (await schedule({ phone_number: phone })).json().data.id as string;
    const before = await h.credits(accountId);
    const del = await h.inject('DELETE', `/v1/message/schedule/${id}`, auth);
    expect(del.statusCode).toBe(204);
    expect(await h.credits(accountId)).toBe(before + 1);
    expect((await h.inject('GET', `/v1/message/schedule/${id}`, auth)).json().data.status).toBe('canceled');
    expect((await h.inject('DELETE', `/v1/message/schedule/${id}`, auth)).statusCode).toBe(204);
    expect(await h.credits(accountId)).toBe(before + 1);
    await makeDue(id);
    await h.deliver();
    expect(await h.handset(phone)).toEqual([]);
    expect((await h.inject('PUT', `/v1/message/schedule/${id}`, auth, { message: 'revive' })).statusCode).toBe(422);

    const sentId = (await schedule()).json().data.id as string;
    await makeDue(sentId);
    await h.deliver();
    expect((await h.inject('DELETE', `/v1/message/schedule/${sentId}`, auth)).statusCode).toBe(422);
    expect((await h.inject('PUT', `/v1/message/schedule/${sentId}`, auth, { message: 'too late' })).statusCode).toBe(422);
  });

  it('another account’s ids are 404; each verb needs its message.schedule.* scope (security)', async () => {
    const id = (await schedule()).json().data.id as string;
    expect((await h.inject('GET', `/v1/message/schedule/${id}`, other)).statusCode).toBe(404);
    expect((await h.inject('PUT', `/v1/message/schedule/${id}`, other, { message: 'x' })).statusCode).toBe(404);
    expect((await h.inject('DELETE', `/v1/messages/schedule/${id}`, other)).statusCode).toBe(404);
    expect((await h.inject('GET', '/v1/message/schedule/not-a-uuid', auth)).statusCode).toBe(404);
    expect((await h.inject('GET', '/v1/message/schedule', other)).json().data).toEqual([]);
    const { auth: none } = await createAccountWithToken(ctx.app, ['messages.create', 'messages.view']);
    expect((await h.inject('GET', '/v1/message/schedule', none)).statusCode).toBe(403);
    expect((await schedule({}, none)).statusCode).toBe(403);
    expect((await h.inject('PUT', `/v1/message/schedule/${id}`, none, { message: 'x' })).statusCode).toBe(403);
    expect((await h.inject('DELETE', `/v1/message/schedule/${id}`, none)).statusCode).toBe(403);
    const { auth: viewer } = await createAccountWithToken(ctx.app, ['message.schedule.view']);
    expect((await h.inject('GET', '/v1/messages/schedule', viewer)).statusCode).toBe(200);
  });
});
