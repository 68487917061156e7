import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { DOUBLE_OPT_IN_ID, EMAIL_OPT_IN_ID } from '../optins/optins.seed.js';

let ctx: TestContext;
let auth: { authorization: string };
let accountId: string;
let other: { authorization: string };
let n = 0;
/** A fresh valid US number for each call (201-555-01xx style, all valid in libphonenumber). */
const nextPhone = () => `+1201555${String(1000 + ++n).slice(-4)}`;

const inject = (method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, payload?: unknown, headers = auth) =>
  ctx.app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });

async function createContact(body: Record<string, unknown> = {}, headers = auth) {
  const res = await inject('POST', '/v1/contacts', { phone_number: nextPhone(), ...body }, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: string; phone_number: string; [k: string]: unknown };
}

async function createGroup(body: Record<string, unknown> = {}, headers = auth) {
  const res = await inject('POST', '/v1/groups', { name: `Group ${++n}`, ...body }, headers);
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: string };
}

beforeAll(async () => {
  ctx = await createTestApp();
  const main = await createAccountWithToken(ctx.app);
  auth = main.auth;
  accountId = main.account.id;
  other = (await createAccountWithToken(ctx.app)).auth;
  const field = await inject('POST', '/v1/fields', { name: 'color', type: 'text' });
  expect(field.statusCode).toBe(201);
  for (const [name, type] of [['visits', 'number'], ['vip', 'boolean'], ['joined', 'date']]) {
    expect((await inject('POST', '/v1/fields', { name, type })).statusCode).toBe(201);
  }
});
afterAll(() => ctx.close());

describe('POST /v1/contacts', () => {
  it('creates a pending contact, normalising the number to E.164 in the account country (happy)', async () => {
    const res = await inject('POST', '/v1/contacts?include=status,carrier', {
      phone_number: '(201) 555-0100',
      first_name: '  Zoë ',
      last_name: 'O’Brien',
      email: 'zoe@example.com',
      gender: 'female',
      birth_date: '1990-02-28',
      address: '1 Main St',
      city: 'Newark',
      state: 'NJ',
      zip: '07102',
      reward_points: 10,
    });
    expect(res.statusCode).toBe(201);
    const c = res.json().data;
    expect(c).toMatchObject({
      phone_number: '+12015550100',
      first_name: 'Zoë',
      last_name: 'O’Brien',
      birth_date: '1990-02-28',
      reward_points: 10,
      timezone: 'America/New_York',
      bounces: 0,
      unsubscribed_at: null,
      carrier: null,
      status: { subscription: 'pending', carrier_status: 'active', opt_in_id: DOUBLE_OPT_IN_ID, sendable: false, bounces: 0 },
    });
    expect(c.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/);
    const got = await inject('GET', `/v1/contacts/${c.id}`);
    expect(got.json().data).toEqual(Object.fromEntries(Object.entries(c).filter(([k]) => k !== 'status' && k !== 'carrier')));
  });

  it('accepts international numbers, links the carrier and sets the time zone from the number', async () => {
    const res = await inject('POST', '/v1/contacts?include=carrier', { phone_number: '+33 6 12 34 56 78' });
    expect(res.statusCode).toBe(201);
    expect(res.json().data).toMatchObject({ phone_number: '+33612345678', timezone: 'Europe/Paris', carrier: { name: 'SFR', country: 'FR' } });
  });

  it('keeps a given time zone, emoji and right-to-left names as sent', async () => {
    const c = await createContact({ first_name: '😀 Ada', last_name: 'عبد الله', city: 'תל אביב', timezone: 'America/Chicago' });
    expect(c).toMatchObject({ first_name: '😀 Ada', last_name: 'عبد الله', city: 'תל אביב', timezone: 'America/Chicago' });
  });

  it('stores groups and custom fields, and the first group opt-in becomes the contact opt-in', async () => {
    const group = await createGroup({ optin_id: EMAIL_OPT_IN_ID });
    const res = await inject('POST', '/v1/contacts?include=groups,fields,status', {
      phone_number: nextPhone(),
      groups: [group.id],
      fields: { color: 'blue', visits: 3, vip: true, joined: '2024-05-01' },
    });
    expect(res.statusCode).toBe(201);
    const c = res.json().data;
    expect(c.groups.map((g: { id: string }) => g.id)).toEqual([group.id]);
    expect(c.fields).toEqual({ color: 'blue', visits: 3, vip: true, joined: '2024-05-01' });
    expect(c.status.opt_in_id).toBe(EMAIL_OPT_IN_ID);
  });

  it('ignores server-owned fields (security)', async () => {
    const res = await inject('POST', '/v1/contacts?include=status', {
      phone_number: nextPhone(),
      id: '00000000-0000-4000-8000-000000000001',
      account_id: '00000000-0000-4000-8000-000000000002',
      bounces: 7,
      unsubscribed_at: '2020-01-01T00:00:00.000Z',
      created_at: '2020-01-01T00:00:00.000Z',
      status: 'subscribed',
    });
    expect(res.statusCode).toBe(201);
    const c = res.json().data;
    expect(c.id).not.toBe('00000000-0000-4000-8000-000000000001');
    expect(c.bounces).toBe(0);
    expect(c.unsubscribed_at).toBeNull();
    expect(c.created_at).not.toBe('2020-01-01T00:00:00.000Z');
    expect(c.status.subscription).toBe('pending');
    const row = await ctx.database.db.selectFrom('contacts').select('account_id').where('id', '=', c.id).executeTakeFirstOrThrow();
    expect(row.account_id).toBe(accountId);
  });

  it('answers the reference 422 for a duplicate, however the number is written (error)', async () => {
    const c = await createContact();
    const national = c.phone_number.replace('+1', '');
    const res = await inject('POST', '/v1/contacts', { phone_number: `(${national.slice(0, 3)}) ${national.slice(3, 6)}-${national.slice(6)}` });
    expect(res.statusCode).toBe(422);
    expect(res.json()).toEqual({ status: 422, message: 'A validation error occurred', errors: { phone_number: ['The contact already exists.'] } });
  });

  it.each([
    ['letters', 'call me'],
    ['too short', '12345'],
    ['impossible', '+1 000 000 0000'],
    ['not assigned', '+1 201 055 0123'],
    ['another country written nationally', '07400 123456'],
    ['empty', ''],
    ['too long', '1'.repeat(10_000)],
  ])('refuses an invalid phone number (%s) with a 422 on phone_number (error)', async (_label, phone) => {
    const res = await inject('POST', '/v1/contacts', { phone_number: phone });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.phone_number).toBeDefined();
  });

  it('reads national numbers in the account default country', async () => {
    const { account, user } = await ctx.app.services.accounts.create({ name: 'UK shop', email: `uk-${Date.now()}@example.test`, password: 'correct horse battery', defaultCountry: 'GB' });
    const token = await ctx.app.services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 't' });
    const headers = { authorization: `Bearer ${token.token}` };
    const res = await inject('POST', '/v1/contacts', { phone_number: '07400 123456' }, headers);
    expect(res.statusCode).toBe(201);
    expect(res.json().data.phone_number).toBe('+447400123456');
    const us = await inject('POST', '/v1/contacts', { phone_number: '(415) 555-2671' }, headers);
    expect(us.statusCode).toBe(422);
  });

  it('refuses 10,000-character fields and bad attributes naming each field (error)', async () => {
    const long = 'x'.repeat(10_000);
    const res = await inject('POST', '/v1/contacts', {
      phone_number: nextPhone(),
      first_name: long,
      city: long,
      email: 'not-an-email',
      birth_date: '2021-02-30',
      timezone: 'Mars/Olympus',
      reward_points: -1,
    });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors).sort()).toEqual(['birth_date', 'city', 'first_name', 'reward_points']);
    const second = await inject('POST', '/v1/contacts', { phone_number: nextPhone(), email: 'not-an-email', birth_date: '2999-01-01', timezone: 'Mars/Olympus', first_name: 'a\u0000b' });
    expect(second.statusCode).toBe(422);
    expect(Object.keys(second.json().errors).sort()).toEqual(['birth_date', 'email', 'first_name', 'timezone']);
  });

  it('refuses unknown custom fields and values of the wrong type (error)', async () => {
    const res = await inject('POST', '/v1/contacts', { phone_number: nextPhone(), fields: { visits: 'many', vip: 'perhaps', joined: '2024-13-01', shoe: 'x', color: 7 } });
    expect(res.statusCode).toBe(422);
    expect(Object.keys(res.json().errors).sort()).toEqual(['fields.color', 'fields.joined', 'fields.shoe', 'fields.vip', 'fields.visits']);
    const total = await inject('GET', '/v1/contacts?filter[fields.visits]=1');
    expect(total.statusCode).toBe(200);
  });

  it("refuses another account's group without writing the contact (security)", async () => {
    const foreign = await createGroup({}, other);
    const phone = nextPhone();
    const res = await inject('POST', '/v1/contacts', { phone_number: phone, groups: [foreign.id] });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.groups).toBeDefined();
    const list = await inject('GET', `/v1/contacts?filter[phone_number]=${encodeURIComponent(phone)}`);
    expect(list.json().data).toEqual([]);
  });

  it('needs contacts.create (security)', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    const res = await inject('POST', '/v1/contacts', { phone_number: nextPhone() }, narrow);
    expect(res.statusCode).toBe(403);
  });
});

describe('GET /v1/contacts', () => {
  it('lists with filters, sorts, includes and a counter-backed total (happy)', async () => {
    const { auth: fresh } = await createAccountWithToken(ctx.app);
    const a = await createContact({ first_name: 'Bea', reward_points: 5 }, fresh);
    const b = await createContact({ first_name: 'Al', reward_points: 7 }, fresh);
    const c = await createContact({ first_name: 'Cy', reward_points: 5 }, fresh);
    const all = await inject('GET', '/v1/contacts?limit=2', undefined, fresh);
    expect(all.json().data.map((x: { id: string }) => x.id)).toEqual([a.id, b.id]);
    expect(all.json().meta.pagination).toMatchObject({ total: 3, count: 2, total_pages: 2 });

    const byPoints = await inject('GET', '/v1/contacts?filter[reward_points]=5&sort=-first_name', undefined, fresh);
    expect(byPoints.json().data.map((x: { id: string }) => x.id)).toEqual([c.id, a.id]);
    expect(byPoints.json().meta.pagination.total).toBe(2);

    const national = b.phone_number.slice(2);
    const byPhone = await inject('GET', `/v1/contacts?filter[phone_number]=${national}&include=carrier`, undefined, fresh);
    expect(byPhone.json().data).toHaveLength(1);
    expect(byPhone.json().data[0]).toMatchObject({ id: b.id, carrier: null });

    const sorted = await inject('GET', '/v1/contacts?sort=-reward_points,first_name', undefined, fresh);
    expect(sorted.json().data.map((x: { id: string }) => x.id)).toEqual([b.id, a.id, c.id]);
    for (const sort of ['updated_at', '-created_at', 'phone_number', 'last_name']) {
      expect((await inject('GET', `/v1/contacts?sort=${sort}`, undefined, fresh)).statusCode).toBe(200);
    }
    expect((await inject('DELETE', `/v1/contacts/${a.id}`, undefined, fresh)).statusCode).toBe(204);
    expect((await inject('GET', '/v1/contacts', undefined, fresh)).json().meta.pagination.total).toBe(2);
  });

  it('pages in creation order at any depth, ascending and descending, across deleted contacts', async () => {
    const { auth: fresh } = await createAccountWithToken(ctx.app);
    const made: string[] = [];
    for (let i = 0; i < 9; i++) made.push((await createContact({ first_name: `P${i}` }, fresh)).id);
    for (const gone of [made[0]!, made[4]!, made[5]!]) expect((await inject('DELETE', `/v1/contacts/${gone}`, undefined, fresh)).statusCode).toBe(204);
    const kept = made.filter((_, i) => ![0, 4, 5].includes(i));
    const pages = async (sort: string) => {
      const ids: string[] = [];
      for (let page = 1; page <= 4; page++) {
        const res = await inject('GET', `/v1/contacts?limit=2&page=${page}&sort=${sort}`, undefined, fresh);
        expect(res.json().meta.pagination.total).toBe(6);
        ids.push(...res.json().data.map((c: { id: string }) => c.id));
      }
      return ids;
    };
    expect(await pages('created_at')).toEqual(kept);
    expect(await pages('-created_at')).toEqual([...kept].reverse());
    // The filtered (generic) path agrees with the fast path.
    const viaFilter = await inject('GET', '/v1/contacts?filter[reward_points]=0&limit=100', undefined, fresh);
    expect(viaFilter.json().data.map((c: { id: string }) => c.id)).toEqual(kept);
    const created = viaFilter.json().data.map((c: { created_at: string }) => c.created_at);
    expect([...created].sort()).toEqual(created);
  });

  it('pages in creation order after a deleted run of contacts (a removed batch)', async () => {
    const { auth: fresh } = await createAccountWithToken(ctx.app);
    const made: string[] = [];
    for (let i = 0; i < 11; i++) made.push((await createContact({ first_name: `R${i}` }, fresh)).id);
    // Seven contiguous deletions: more gaps in a row than the quick count settles.
    for (const gone of made.slice(2, 9)) expect((await inject('DELETE', `/v1/contacts/${gone}`, undefined, fresh)).statusCode).toBe(204);
    const kept = [...made.slice(0, 2), ...made.slice(9)];
    for (const limit of [1, 3]) {
      for (const sort of ['created_at', '-created_at']) {
        const expected = sort === 'created_at' ? kept : [...kept].reverse();
        const ids: string[] = [];
        for (let page = 1; page <= Math.ceil(kept.length / limit) + 1; page++) {
          const res = await inject('GET', `/v1/contacts?limit=${limit}&page=${page}&sort=${sort}`, undefined, fresh);
          expect(res.json().meta.pagination).toMatchObject({ total: 4, current_page: page });
          ids.push(...res.json().data.map((c: { id: string }) => c.id));
        }
        expect(ids).toEqual(expected);
      }
    }
  });

  it('filters by custom field', async () => {
    const c = await createContact({ fields: { color: 'teal', visits: 42, vip: false } });
    for (const q of ['filter[fields.color]=teal', 'filter[fields.visits]=42.0', 'filter[fields.vip]=false&filter[fields.color]=teal']) {
      const res = await inject('GET', `/v1/contacts?${q}&include=fields`);
      expect(res.statusCode).toBe(200);
      expect(res.json().data.map((x: { id: string }) => x.id)).toEqual([c.id]);
      expect(res.json().data[0].fields).toEqual({ color: 'teal', visits: 42, vip: false });
    }
  });

  it('answers 400 for unknown filters, sorts, includes and badly typed filter values (error)', async () => {
    for (const q of ['filter[email]=x', 'sort=password', 'include=secrets', 'filter[reward_points]=lots', 'filter[fields.visits]=abc', 'filter[fields.nope]=1']) {
      const res = await inject('GET', `/v1/contacts?${q}`);
      expect(res.statusCode, q).toBe(400);
      expect(res.json().status).toBe(400);
    }
  });

  it("never shows another account's contacts, and needs contacts.view (security)", async () => {
    const mine = await createContact();
    const res = await inject('GET', `/v1/contacts?filter[phone_number]=${encodeURIComponent(mine.phone_number)}`, undefined, other);
    expect(res.json().data).toEqual([]);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['groups.view']);
    expect((await inject('GET', '/v1/contacts', undefined, narrow)).statusCode).toBe(403);
  });
});

describe('GET /v1/contacts/{id}', () => {
  it('returns every include (happy)', async () => {
    const group = await createGroup();
    const c = await createContact({ groups: [group.id], fields: { color: 'red' } });
    const res = await inject('GET', `/v1/contacts/${c.id}?include[]=carrier&include[]=status&include[]=groups&include[]=fields`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ id: c.id, carrier: null, status: { subscription: 'pending' }, fields: { color: 'red' } });
    expect(res.json().data.groups[0].id).toBe(group.id);
  });

  it('answers 404 for unknown, malformed and foreign ids (error, security)', async () => {
    const c = await createContact();
    expect((await inject('GET', '/v1/contacts/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await inject('GET', '/v1/contacts/nope')).statusCode).toBe(404);
    const foreign = await inject('GET', `/v1/contacts/${c.id}`, undefined, other);
    expect(foreign.statusCode).toBe(404);
    expect(foreign.json()).toEqual({ status: 404, message: 'Contact not found.', errors: {} });
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.create']);
    expect((await inject('GET', `/v1/contacts/${c.id}`, undefined, narrow)).statusCode).toBe(403);
  });
});

describe('PUT /v1/contacts/{id}', () => {
  it('changes only what it is given; [] groups removes all; fields merge and null removes (happy)', async () => {
    const g1 = await createGroup();
    const g2 = await createGroup();
    const c = await createContact({ first_name: 'Old', last_name: 'Name', groups: [g1.id], fields: { color: 'red', visits: 1 } });
    const res = await inject('PUT', `/v1/contacts/${c.id}?include=groups,fields`, { first_name: 'New', groups: [g2.id], fields: { visits: null, vip: true }, phone_number: c.phone_number });
    expect(res.json().errors, res.body).toBeUndefined();
    expect(res.statusCode).toBe(200);
    const body = res.json().data;
    expect(body).toMatchObject({ first_name: 'New', last_name: 'Name', phone_number: c.phone_number, fields: { color: 'red', vip: true } });
    expect(body.fields.visits).toBeUndefined();
    expect(body.groups.map((g: { id: string }) => g.id)).toEqual([g2.id]);
    const cleared = await inject('PUT', `/v1/contacts/${c.id}?include=groups`, { groups: [], last_name: null });
    expect(cleared.json().data).toMatchObject({ groups: [], last_name: null, first_name: 'New' });
    const untouched = await inject('PUT', `/v1/contacts/${c.id}?include=groups`, { city: 'Paris' });
    expect(untouched.json().data.groups).toEqual([]);
  });

  it('refuses a phone number change and bad values, changing nothing (error)', async () => {
    const c = await createContact({ first_name: 'Keep' });
    const res = await inject('PUT', `/v1/contacts/${c.id}`, { phone_number: nextPhone(), first_name: 'Changed' });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.phone_number).toEqual(['The phone number of a contact cannot be changed.']);
    const bad = await inject('PUT', `/v1/contacts/${c.id}`, { first_name: 'y'.repeat(10_000), fields: { visits: 'x' } });
    expect(bad.statusCode).toBe(422);
    expect((await inject('GET', `/v1/contacts/${c.id}`)).json().data.first_name).toBe('Keep');
  });

  it('ignores server-owned fields, refuses foreign ids and needs contacts.update (security)', async () => {
    const c = await createContact();
    const res = await inject('PUT', `/v1/contacts/${c.id}?include=status`, { bounces: 9, unsubscribed_at: '2020-01-01T00:00:00Z', id: '00000000-0000-4000-8000-000000000009', created_at: '2001-01-01T00:00:00Z', account_id: '00000000-0000-4000-8000-000000000009' });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ id: c.id, bounces: 0, unsubscribed_at: null, created_at: c.created_at });
    expect((await inject('PUT', `/v1/contacts/${c.id}`, { first_name: 'X' }, other)).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('PUT', `/v1/contacts/${c.id}`, { first_name: 'X' }, narrow)).statusCode).toBe(403);
  });
});

describe('DELETE /v1/contacts/{id}', () => {
  it('deletes the contact and its memberships (happy)', async () => {
    const g = await createGroup();
    const c = await createContact({ groups: [g.id] });
    expect((await inject('DELETE', `/v1/contacts/${c.id}`)).statusCode).toBe(204);
    expect((await inject('GET', `/v1/contacts/${c.id}`)).statusCode).toBe(404);
    const members = await ctx.database.db.selectFrom('contact_groups').select('group_id').where('contact_id', '=', c.id).execute();
    expect(members).toEqual([]);
    expect((await inject('DELETE', `/v1/contacts/${c.id}`)).statusCode).toBe(404);
  });

  it('keeps the deleted contact’s messages, countable and no longer pointing at it', async () => {
    const { auth: fresh, account } = await createAccountWithToken(ctx.app);
    await ctx.database.db.updateTable('accounts').set({ credit_balance: 10 }).where('id', '=', account.id).execute();
    const c = await createContact({}, fresh);
    // As if the contact had confirmed its opt-in (the messaging tests cover the confirmation).
    await ctx.database.db.updateTable('contacts').set({ status: 'subscribed', subscribed_at: new Date() }).where('id', '=', c.id).execute();
    const sent = await inject('POST', '/v1/message', { phone_number: c.phone_number, message: 'Your order shipped' }, fresh);
    expect(sent.statusCode, sent.body).toBe(201);
    const messageId = sent.json().data.id as string;
    expect(sent.json().data.contact_id).toBe(c.id);
    const before = (await inject('GET', '/v1/messages', undefined, fresh)).json().meta.pagination.total as number;
    expect(before).toBeGreaterThanOrEqual(1);

    expect((await inject('DELETE', `/v1/contacts/${c.id}`, undefined, fresh)).statusCode).toBe(204);
    expect((await inject('GET', '/v1/messages', undefined, fresh)).json().meta.pagination.total).toBe(before);
    const kept = await inject('GET', `/v1/messages/${messageId}`, undefined, fresh);
    expect(kept.statusCode).toBe(200);
    expect(kept.json().data).toMatchObject({ id: messageId, contact_id: null, message: 'Your order shipped' });
  });

  it('refuses foreign ids and needs contacts.delete (security)', async () => {
    const c = await createContact();
    expect((await inject('DELETE', `/v1/contacts/${c.id}`, undefined, other)).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.update']);
    expect((await inject('DELETE', `/v1/contacts/${c.id}`, undefined, narrow)).statusCode).toBe(403);
    expect((await inject('GET', `/v1/contacts/${c.id}`)).statusCode).toBe(200);
  });
});

describe('PATCH /v1/contacts/unsubscribe', () => {
  it('unsubscribes up to 100 numbers and reports each (happy)', async () => {
    const a = await createContact();
    const b = await createContact();
    const unknown = nextPhone();
    const res = await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [a.phone_number, b.phone_number.slice(2), unknown] });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({ unsubscribed: [a.phone_number, b.phone_number], already_unsubscribed: [], not_found: [unknown] });
    const again = await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [a.phone_number] });
    expect(again.json().data.already_unsubscribed).toEqual([a.phone_number]);
    const got = await inject('GET', `/v1/contacts/${a.id}?include=status`);
    expect(got.json().data.unsubscribed_at).not.toBeNull();
    expect(got.json().data.status).toMatchObject({ subscription: 'unsubscribed', sendable: false });
  });

  it('refuses more than 100 numbers, an empty list and invalid numbers by index (error)', async () => {
    const many = Array.from({ length: 101 }, (_, i) => `+1201555${String(2000 + i)}`);
    const tooMany = await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: many });
    expect(tooMany.statusCode).toBe(422);
    expect(tooMany.json().errors.phone_numbers).toBeDefined();
    expect((await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [] })).statusCode).toBe(422);
    const c = await createContact();
    const invalid = await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [c.phone_number, 'nope'] });
    expect(invalid.statusCode).toBe(422);
    expect(invalid.json().errors['phone_numbers.1']).toBeDefined();
    expect((await inject('GET', `/v1/contacts/${c.id}`)).json().data.unsubscribed_at).toBeNull();
  });

  it("cannot unsubscribe another account's contact and needs contacts.update (security)", async () => {
    const c = await createContact();
    const res = await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [c.phone_number] }, other);
    expect(res.json().data.not_found).toEqual([c.phone_number]);
    expect((await inject('GET', `/v1/contacts/${c.id}`)).json().data.unsubscribed_at).toBeNull();
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('PATCH', '/v1/contacts/unsubscribe', { phone_numbers: [c.phone_number] }, narrow)).statusCode).toBe(403);
  });
});

describe('POST /v1/contacts/{id}/groups and DELETE /v1/contacts/{id}/groups/{group}', () => {
  it('adds and removes a group (happy)', async () => {
    const g = await createGroup();
    const c = await createContact();
    const added = await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: g.id });
    expect(added.statusCode).toBe(200);
    expect(added.json().data.groups.map((x: { id: string }) => x.id)).toEqual([g.id]);
    expect((await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: g.id })).statusCode).toBe(200);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/${g.id}`)).statusCode).toBe(204);
    expect((await inject('GET', `/v1/contacts/${c.id}?include=groups`)).json().data.groups).toEqual([]);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/${g.id}`)).statusCode).toBe(404);
  });

  it('answers 422 for a missing or unknown group and 404 for an unknown contact (error)', async () => {
    const c = await createContact();
    expect((await inject('POST', `/v1/contacts/${c.id}/groups`, {})).statusCode).toBe(422);
    const unknownGroup = await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknownGroup.statusCode).toBe(422);
    expect(unknownGroup.json().errors.group_id).toBeDefined();
    const g = await createGroup();
    expect((await inject('POST', '/v1/contacts/00000000-0000-4000-8000-000000000000/groups', { group_id: g.id })).statusCode).toBe(404);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/not-a-uuid`)).statusCode).toBe(404);
  });

  it('refuses foreign contacts and groups and needs the scopes (security)', async () => {
    const g = await createGroup();
    const c = await createContact({ groups: [g.id] });
    const foreignGroup = await createGroup({}, other);
    expect((await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: g.id }, other)).statusCode).toBe(404);
    expect((await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: foreignGroup.id })).statusCode).toBe(422);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/${g.id}`, undefined, other)).statusCode).toBe(404);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/${foreignGroup.id}`)).statusCode).toBe(404);
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await inject('POST', `/v1/contacts/${c.id}/groups`, { group_id: g.id }, narrow)).statusCode).toBe(403);
    expect((await inject('DELETE', `/v1/contacts/${c.id}/groups/${g.id}`, undefined, narrow)).statusCode).toBe(403);
    expect((await inject('GET', `/v1/contacts/${c.id}?include=groups`)).json().data.groups).toHaveLength(1);
  });
});
