import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { parsePhone } from '../../lib/phone.js';
import { createOfflineCarrierLookup } from './carrier-lookup.js';

let ctx: TestContext;
let auth: { authorization: string };

const lookup = (phone_numbers: unknown, headers = auth) => ctx.app.inject({ method: 'POST', url: '/v1/phone-numbers/lookup', headers, payload: { phone_numbers } });

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
});
afterAll(() => ctx.close());

describe('offline carrier lookup', () => {
  it('finds carriers and time zones from libphonenumber data', async () => {
    const offline = createOfflineCarrierLookup();
    const cn = parsePhone('+8619912345678', 'US');
    expect(cn.ok).toBe(true);
    if (!cn.ok) return;
    expect(await offline.lookup(cn.phone)).toEqual({ carrier: 'China Telecom', timezones: ['Asia/Shanghai'] });
    const us = parsePhone('2125550143', 'US');
    if (!us.ok) throw new Error('expected a valid number');
    expect(await offline.lookup(us.phone)).toEqual({ carrier: null, timezones: ['America/New_York'] });
  });
});

describe('POST /v1/phone-numbers/lookup', () => {
  it('answers E.164, validity, country, type, carrier and time zones (happy)', async () => {
    const res = await lookup(['+33 6 12 34 56 78', '(212) 555-0143', '+44 7400 123456']);
    expect(res.statusCode).toBe(200);
    const [fr, us, gb] = res.json().data;
    expect(fr).toMatchObject({ input: '+33 6 12 34 56 78', phone_number: '+33612345678', valid: true, country: 'FR', type: 'MOBILE', timezones: ['Europe/Paris'], error: null });
    expect(fr.carrier).toEqual({ id: expect.any(String), name: 'SFR' });
    expect(us).toMatchObject({ phone_number: '+12125550143', valid: true, country: 'US', carrier: null, timezones: ['America/New_York'] });
    expect(gb.carrier.name).toBe('Three');
    const carrier = await ctx.app.inject({ method: 'GET', url: `/v1/carriers/${gb.carrier.id}`, headers: auth });
    expect(carrier.json().data.name).toBe('Three UK');
  });

  it('reports invalid and impossible numbers per entry', async () => {
    const res = await lookup(['+1 201 055 0123', '12', 'not a number']);
    expect(res.statusCode).toBe(200);
    for (const r of res.json().data) {
      expect(r.valid).toBe(false);
      expect(r.error).toEqual(expect.any(String));
      expect(r.timezones).toEqual([]);
    }
  });

  it('refuses more than 10 numbers, none, and 10,000-character input (error)', async () => {
    const eleven = Array.from({ length: 11 }, (_, i) => `+1201555${1000 + i}`);
    const res = await lookup(eleven);
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.phone_numbers).toBeDefined();
    expect((await lookup([])).statusCode).toBe(422);
    expect((await lookup(['1'.repeat(10_000)])).statusCode).toBe(422);
    expect((await lookup('2015550123')).statusCode).toBe(200);
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/phone-numbers/lookup', headers: auth, payload: {} })).statusCode).toBe(422);
  });

  it('needs phone-numbers.lookup (security)', async () => {
    const { auth: narrow } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await lookup(['+12015550123'], narrow)).statusCode).toBe(403);
    expect((await ctx.app.inject({ method: 'POST', url: '/v1/phone-numbers/lookup', payload: { phone_numbers: ['+12015550123'] } })).statusCode).toBe(401);
  });
});
