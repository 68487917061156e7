import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { messagingHarness } from '../messages/test-support.js';

let ctx: TestContext;
let owner: Awaited<ReturnType<typeof createAccountWithToken>>;
let other: Awaited<ReturnType<typeof createAccountWithToken>>;
const h = messagingHarness(() => ctx);

beforeAll(async () => {
  ctx = await createTestApp();
  owner = await createAccountWithToken(ctx.app);
  other = await createAccountWithToken(ctx.app);
});
afterAll(() => ctx.close());

const get = (auth: Record<string, string>) => ctx.app.inject({ method: 'GET', url: '/v1/account', headers: auth });
const put = (auth: Record<string, string>, body: unknown) => ctx.app.inject({ method: 'PUT', url: '/v1/account', headers: auth, payload: body as object });

describe('GET /v1/account', () => {
  it('shows the token’s account with its settings and the default help text', async () => {
    const res = await get(owner.auth);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toEqual({
      id: owner.account.id,
      name: owner.account.name,
      short_code: owner.account.short_code,
      default_country: 'US',
      timezone: 'America/New_York',
      credit_balance: Number(owner.account.credit_balance),
      help_text: `${owner.account.name}: Reply STOP to unsubscribe. Msg&data rates may apply.`,
      help_text_is_default: true,
      quiet_hours: { enabled: false, start: '08:00', end: '21:00' },
      created_at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updated_at: expect.any(String),
    });
  });
});

describe('PUT /v1/account', () => {
  it('changes only what it is given, and an inbound HELP answers the new text', async () => {
    const res = await put(owner.auth, { help_text: '  Shop help: call 555-0100.  ', quiet_hours: { enabled: true, start: '09:30' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({
      name: owner.account.name,
      timezone: 'America/New_York',
      help_text: 'Shop help: call 555-0100.',
      help_text_is_default: false,
      quiet_hours: { enabled: true, start: '09:30', end: '21:00' },
    });
    expect((await get(owner.auth)).json().data.quiet_hours).toEqual({ enabled: true, start: '09:30', end: '21:00' });

    const phone = h.phone();
    await h.inject('POST', '/simulator/inbound', owner.auth, { from: phone, message: 'HELP' });
    await h.deliver();
    expect((await h.handset(phone)).map((m) => m.message)).toEqual(['Shop help: call 555-0100.']);
  });

  it('null or an empty text restores the default help text; an overnight window and a time zone are accepted', async () => {
    await put(owner.auth, { help_text: 'Custom.' });
    expect((await put(owner.auth, { help_text: '  ' })).json().data).toMatchObject({ help_text_is_default: true });
    await put(owner.auth, { help_text: 'Custom.' });
    const res = await put(owner.auth, { help_text: null, timezone: 'Europe/Paris', default_country: 'fr', quiet_hours: { start: '22:00', end: '06:00' } });
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ help_text_is_default: true, timezone: 'Europe/Paris', default_country: 'FR', quiet_hours: { start: '22:00', end: '06:00' } });
  });

  it.each([
    [{ timezone: 'Mars/Olympus' }, 'timezone'],
    [{ default_country: 'ZZ' }, 'default_country'],
    [{ help_text: 'x'.repeat(321) }, 'help_text'],
    [{ help_text: 'bad \u0007 bell' }, 'help_text'],
    [{ help_text: 'lone \ud800 surrogate' }, 'help_text'],
    [{ quiet_hours: { start: '25:00' } }, 'quiet_hours.start'],
    [{ quiet_hours: { start: '24:00', end: '08:00' } }, 'quiet_hours.start'],
    [{ quiet_hours: { start: '10:00', end: '10:00' } }, 'quiet_hours.end'],
    [{ quiet_hours: { enabled: 'yes' } }, 'quiet_hours.enabled'],
    [{ name: '   ' }, 'name'],
  ])('refuses %j with a 422 naming %s, and changes nothing', async (body, field) => {
    const before = (await get(owner.auth)).json().data;
    const res = await put(owner.auth, body);
    expect(res.statusCode).toBe(422);
    expect(res.json()).toMatchObject({ status: 422, message: expect.any(String) });
    expect(Object.keys(res.json().errors).join(' ')).toContain(field.split('.').at(-1));
    expect((await get(owner.auth)).json().data).toEqual(before);
  });

  it('refuses a body that is not an object', async () => {
    const res = await ctx.app.inject({ method: 'PUT', url: '/v1/account', headers: { ...owner.auth, 'content-type': 'application/json' }, payload: '[1,2]' });
    expect(res.statusCode).toBe(422);
  });
});

describe('security', () => {
  it('needs a token', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/account' })).statusCode).toBe(401);
    expect((await ctx.app.inject({ method: 'PUT', url: '/v1/account', payload: { help_text: 'x' } })).statusCode).toBe(401);
  });

  it('needs account.view to read and account.update to change', async () => {
    const reader = await createAccountWithToken(ctx.app, ['account.view']);
    expect((await get(reader.auth)).statusCode).toBe(200);
    expect((await put(reader.auth, { help_text: 'nope' })).statusCode).toBe(403);
    const noScopes = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await get(noScopes.auth)).statusCode).toBe(403);
  });

  it('each token sees and changes only its own account', async () => {
    await put(other.auth, { help_text: 'Other account help.' });
    expect((await get(other.auth)).json().data.id).toBe(other.account.id);
    expect((await get(owner.auth)).json().data.help_text).not.toBe('Other account help.');
  });
});
