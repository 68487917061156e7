import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { EMAIL_OPT_IN_ID } from '../optins/optins.seed.js';
import { keywordOf } from './inbound.js';
import { messagingHarness } from './test-support.js';

let ctx: TestContext;
let auth: Record<string, string>;
let accountId: string;
let shortCode: string;
let accountName: string;
let other: Record<string, string>;
const h = messagingHarness(() => ctx);
const db = () => ctx.database.db;
const inbound = (from: string, message: string, headers = auth) => h.inject('POST', '/simulator/inbound', headers, { from, message });

async function contactRow(phone: string) {
  return (await sql<{ id: string; status: string; email: string | null; carrier_status: string; unsubscribed_at: Date | null }>`
    SELECT id, status, email, carrier_status, unsubscribed_at FROM contacts WHERE account_id = ${accountId} AND phone_number = ${phone}`.execute(db())).rows[0];
}

async function received(phone: string): Promise<string[]> {
  await h.deliver();
  return (await h.handset(phone)).map((m) => m.message);
}

beforeAll(async () => {
  ctx = await createTestApp();
  const main = await createAccountWithToken(ctx.app);
  auth = main.auth;
  accountId = main.account.id;
  await h.subscribeAll(accountId);
  shortCode = main.account.short_code;
  accountName = main.account.name;
  other = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('keywords', () => {
  it('ignore case, surrounding spaces and punctuation', () => {
    expect(keywordOf('  stop! ')).toBe('STOP');
    expect(keywordOf('"Opt-Out"')).toBe('OPT-OUT');
    expect(keywordOf('Help?')).toBe('HELP');
    expect(keywordOf('...')).toBe('');
  });
});

describe('the newcomer flow on the simulator', () => {
  it('text a handset, see the delivery report, reply STOP from the handset, see the next send refused', async () => {
    const phone = h.phone();
    const sent = await h.inject('POST', '/v1/message', auth, { phone_number: phone, message: 'Welcome to our shop' });
    expect(sent.statusCode).toBe(201);
    await h.deliver();
    const handset = await h.inject('GET', `/simulator/handsets/${encodeURIComponent(phone)}/messages`, auth);
    expect(handset.statusCode).toBe(200);
    expect(handset.json().data).toEqual([
      {
        id: expect.any(String),
        direction: 'received',
        from: shortCode,
        to: phone,
        message: 'Welcome to our shop',
        message_id: sent.json().data.id,
        delivery_code: '100',
        reported_at: expect.any(String),
        created_at: expect.any(String),
      },
    ]);
    const log = await h.inject('GET', `/v1/messages/${sent.json().data.id}?include=receipt`, auth);
    expect(log.json().data).toMatchObject({ status: 'delivered', receipt: { code: '100', success: true } });

    const stop = await inbound(phone, 'Stop');
    expect(stop.statusCode).toBe(201);
    expect(stop.json().data).toMatchObject({ type: 'INCOMING', message: 'Stop', status: 'received', phone_number: phone });
    const refused = await h.inject('POST', '/v1/message', auth, { phone_number: phone, message: 'Are you there?' });
    expect(refused.statusCode).toBe(422);
    expect(refused.json().errors.phone_number).toEqual(['The contact has unsubscribed.']);
    const texts = await received(phone);
    expect(texts).toEqual(['Welcome to our shop', `${accountName}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`]);
  });
});

describe('inbound compliance words', () => {
  it.each(['STOP', 'stopall', ' Unsubscribe ', 'CANCEL.', 'end', 'Quit!', 'optout', 'REVOKE'])('%s unsubscribes at once, with one confirmation and an unsubscribe event', async (word) => {
    const contact = await h.contact(auth, 'subscribed');
    expect((await inbound(contact.phone_number, word)).statusCode).toBe(201);
    const row = await contactRow(contact.phone_number);
    expect(row).toMatchObject({ status: 'unsubscribed' });
    expect(row!.unsubscribed_at).toBeInstanceOf(Date);
    const events = (await h.events(accountId, 'unsubscribe')).filter((e) => e.id === contact.id);
    expect(events).toEqual([
      {
        id: contact.id,
        first_name: null,
        last_name: null,
        email: null,
        phone_number: contact.phone_number,
        to: shortCode,
        unsubscribed_at: row!.unsubscribed_at!.toISOString(),
        created_at: expect.any(String),
        updated_at: expect.any(String),
      },
    ]);
    // A second STOP is recorded but not answered again.
    await inbound(contact.phone_number, word);
    const confirmations = (await received(contact.phone_number)).filter((t) => t.includes('You are unsubscribed'));
    expect(confirmations).toHaveLength(1);
  });

  it('records every inbound message as an inbound_message event with the reference payload', async () => {
    const contact = await h.contact(auth, 'subscribed', { first_name: 'Ann', email: 'ann@example.com' });
    await inbound(contact.phone_number, 'What time do you open?');
    const events = (await h.events(accountId, 'inbound_message')).filter((e) => e.id === contact.id);
    expect(events).toEqual([
      {
        id: contact.id,
        first_name: 'Ann',
        last_name: null,
        email: 'ann@example.com',
        short_code: shortCode,
        phone_number: contact.phone_number,
        message: 'What time do you open?',
        unsubscribed_at: null,
        created_at: expect.any(String),
        updated_at: expect.any(String),
        received_at: expect.stringMatching(/Z$/),
      },
    ]);
  });

  it('HELP and INFO answer the account help text (a default when unset)', async () => {
    const phone = h.phone();
    await inbound(phone, 'help');
    expect(await received(phone)).toEqual([`${accountName}: Reply STOP to unsubscribe. Msg&data rates may apply.`]);
    await db().updateTable('accounts').set({ help_text: 'Shop help: call 555-0100.' }).where('id', '=', accountId).execute();
    await inbound(phone, 'INFO');
    expect((await received(phone)).at(-1)).toBe('Shop help: call 555-0100.');
  });

  it('START, UNSTOP and YES resubscribe', async () => {
    for (const word of ['START', 'unstop', 'Yes']) {
      const contact = await h.contact(auth, 'unsubscribed');
      await inbound(contact.phone_number, word);
      expect(await contactRow(contact.phone_number)).toMatchObject({ status: 'subscribed', unsubscribed_at: null });
      expect((await h.inject('POST', '/v1/messages', auth, { contact_id: contact.id, message: 'welcome back' })).statusCode).toBe(201);
    }
  });

  it('a contact created through the API gets the opt-in request and is subscribed when it replies Y', async () => {
    const phone = h.phone();
    const created = await h.inject('POST', '/v1/contacts', auth, { phone_number: phone });
    expect(created.statusCode).toBe(201);
    expect(await received(phone)).toEqual([`${accountName}: Reply Y to confirm your subscription. Msg&data rates may apply. Reply HELP for help, STOP to cancel.`]);
    expect((await h.inject('POST', '/v1/message', auth, { phone_number: phone, message: 'too early' })).statusCode).toBe(422);
    await inbound(phone, 'y');
    expect(await contactRow(phone)).toMatchObject({ status: 'subscribed' });
    expect((await h.inject('POST', '/v1/message', auth, { phone_number: phone, message: 'now' })).statusCode).toBe(201);
  });

  it('the email opt-in is confirmed by texting an email address', async () => {
    const phone = h.phone();
    const created = await h.inject('POST', '/v1/contacts', auth, { phone_number: phone });
    await sql`UPDATE contacts SET opt_in_id = ${EMAIL_OPT_IN_ID} WHERE id = ${created.json().data.id}`.execute(db());
    await inbound(phone, 'not an email');
    expect(await contactRow(phone)).toMatchObject({ status: 'pending' });
    await inbound(phone, 'me@example.com');
    expect(await contactRow(phone)).toMatchObject({ status: 'subscribed', email: 'me@example.com' });
  });

  it('a group keyword joins the group and sends its join message once (or always, per the group)', async () => {
    const group = await h.inject('POST', '/v1/groups', auth, { name: 'VIP', keyword: 'vip', join_message: 'Welcome to VIP!' });
    expect(group.statusCode, group.body).toBe(201);
    const phone = h.phone();
    await inbound(phone, ' VIP ');
    const row = await contactRow(phone);
    expect(row).toMatchObject({ status: 'subscribed' });
    const member = await sql`SELECT 1 FROM contact_groups WHERE contact_id = ${row!.id} AND group_id = ${group.json().data.id}`.execute(db());
    expect(member.rows).toHaveLength(1);
    await inbound(phone, 'vip');
    expect((await received(phone)).filter((t) => t === 'Welcome to VIP!')).toHaveLength(1);
    await sql`UPDATE groups SET always_send_join = true WHERE id = ${group.json().data.id}`.execute(db());
    await inbound(phone, 'vip');
    expect((await received(phone)).filter((t) => t === 'Welcome to VIP!')).toHaveLength(2);
  });
});

describe('carrier events', () => {
  it('suspended, deactivated, resumed and transferred update the contact and record contact_status events', async () => {
    const contact = await h.contact(auth, 'subscribed');
    const event = (body: Record<string, unknown>) => h.inject('POST', '/simulator/carrier-events', auth, body);
    expect((await event({ phone_number: contact.phone_number, status: 'deactivated' })).statusCode).toBe(202);
    expect(await contactRow(contact.phone_number)).toMatchObject({ carrier_status: 'deactivated' });
    expect((await h.inject('POST', '/v1/messages', auth, { contact_id: contact.id, message: 'x' })).json().errors.contact_id).toEqual([
      'The phone number of the contact has been deactivated by the carrier.',
    ]);
    await event({ phone_number: contact.phone_number, status: 'resumed' });
    expect(await contactRow(contact.phone_number)).toMatchObject({ carrier_status: 'active' });
    await event({ phone_number: contact.phone_number, status: 'suspended' });
    const moved = h.phone();
    expect((await event({ phone_number: moved, previous_phone_number: contact.phone_number, status: 'transferred' })).statusCode).toBe(202);
    expect(await contactRow(moved)).toMatchObject({ id: contact.id, carrier_status: 'active' });
    const events = (await h.events(accountId, 'contact_status')).filter((e) => e.id === contact.id);
    expect(events.map((e) => e.status)).toEqual(['deactivated', 'resumed', 'suspended', 'transferred']);
    expect(events[3]).toEqual({
      id: contact.id,
      first_name: null,
      last_name: null,
      email: null,
      phone_number: moved,
      previous_phone_number: contact.phone_number,
      status: 'transferred',
      created_at: expect.any(String),
      updated_at: expect.any(String),
    });
    expect(events[0]).not.toHaveProperty('previous_phone_number');
  });

  it('422 for an invalid number, an unknown status or a transfer without the previous number', async () => {
    expect((await h.inject('POST', '/simulator/carrier-events', auth, { phone_number: 'x', status: 'deactivated' })).statusCode).toBe(422);
    expect((await h.inject('POST', '/simulator/carrier-events', auth, { phone_number: h.phone(), status: 'exploded' })).statusCode).toBe(422);
    expect((await h.inject('POST', '/simulator/carrier-events', auth, { phone_number: h.phone(), status: 'transferred' })).statusCode).toBe(422);
  });
});

describe('simulator routes', () => {
  it('refuse bad input with 422 and never a 5xx', async () => {
    for (const body of [{ from: 'nope', message: 'x' }, { from: h.phone(), message: '' }, { from: h.phone() }, { from: h.phone(), message: 'a\ud800' }, { from: h.phone(), to: '99999', message: 'x' }]) {
      const res = await h.inject('POST', '/simulator/inbound', auth, body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
    }
    expect((await h.inject('GET', '/simulator/handsets/not-a-number/messages', auth)).statusCode).toBe(404);
  });

  it('act only on the token’s account and need a token with the scope (security)', async () => {
    const phone = h.phone();
    await h.inject('POST', '/v1/message', auth, { phone_number: phone, message: 'mine' });
    await h.deliver();
    const theirs = await h.inject('GET', `/simulator/handsets/${encodeURIComponent(phone)}/messages`, other);
    expect(theirs.json().data).toEqual([]);
    expect((await h.inject('POST', '/simulator/inbound', {}, { from: phone, message: 'x' })).statusCode).toBe(401);
    const { auth: viewOnly } = await createAccountWithToken(ctx.app, ['messages.view']);
    expect((await h.inject('POST', '/simulator/inbound', viewOnly, { from: phone, message: 'x' })).statusCode).toBe(403);
    expect((await h.inject('POST', '/simulator/carrier-events', viewOnly, { phone_number: phone, status: 'suspended' })).statusCode).toBe(403);
    const { auth: createOnly } = await createAccountWithToken(ctx.app, ['messages.create']);
    expect((await h.inject('GET', `/simulator/handsets/${encodeURIComponent(phone)}/messages`, createOnly)).statusCode).toBe(403);
  });

  it('do not exist when SMPP is the transport', async () => {
    const { createTestApp: make } = await import('../../../test/helpers.js');
    const smpp = await make({ SMPP_HOST: '127.0.0.1', SMPP_SYSTEM_ID: 'x' }, ctx.database);
    try {
      const res = await smpp.app.inject({ method: 'POST', url: '/simulator/inbound', headers: auth, payload: { from: h.phone(), message: 'x' } });
      expect(res.statusCode).toBe(404);
    } finally {
      await smpp.app.close();
    }
  });
});
