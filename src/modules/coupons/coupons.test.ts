import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { contactIds, insertContacts } from '../../../test/audience-fixtures.js';
import { contactToken } from '../campaigns/merge-tags.js';
import { COUPON_TEMPLATE_SEED } from './coupon-templates.seed.js';

let ctx: TestContext;
let owner: Awaited<ReturnType<typeof createAccountWithToken>>;
let other: Awaited<ReturnType<typeof createAccountWithToken>>;
const day = 86_400_000;
const future = (ms: number) => new Date(Date.now() + ms).toISOString();

beforeAll(async () => {
  ctx = await createTestApp();
  owner = await createAccountWithToken(ctx.app);
  other = await createAccountWithToken(ctx.app);
});
afterAll(() => ctx.close());

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, body?: unknown, auth = owner.auth) =>
  ctx.app.inject({ method, url, headers: { ...auth, 'content-type': 'application/json' }, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });

async function createCoupon(body: Record<string, unknown> = {}) {
  const res = await api('POST', '/v1/coupons', { name: 'Spring', title: '20% off', code: 'SPRING20', expires_at: future(30 * day), ...body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().data as { id: string; url: string; code: string | null; redemptions: number; codes: { total: number; available: number } };
}

/** Reads the hidden redeem form fields from a page. */
function formOf(html: string) {
  const nonce = /name="nonce" value="([^"]+)"/.exec(html)?.[1];
  const signature = /name="signature" value="([^"]+)"/.exec(html)?.[1];
  return { nonce: nonce!, signature: signature! };
}
const pathOf = (url: string) => new URL(url).pathname;
const redeemPost = (path: string, form: { nonce: string; signature: string }, headers: Record<string, string> = {}) =>
  ctx.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(form).toString() });

describe('coupon templates', () => {
  it('lists the shipped designs, each with a preview that renders', async () => {
    const res = await api('GET', '/v1/coupon_templates');
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body.data.length).toBeGreaterThanOrEqual(4);
    expect(body.meta.pagination.total).toBe(COUPON_TEMPLATE_SEED.length);
    for (const t of body.data) {
      expect(t.preview_url).toBe(`http://shortcode.test/coupon-templates/${t.id}/preview`);
      const page = await ctx.app.inject({ method: 'GET', url: pathOf(t.preview_url) });
      expect(page.statusCode).toBe(200);
      expect(page.headers['content-type']).toContain('text/html');
      expect(page.body).toContain('20% off your next visit');
    }
    const ids = body.data.map((t: { id: string }) => t.id).sort();
    expect(ids).toEqual(COUPON_TEMPLATE_SEED.map((t) => t.id).sort());
  });

  it('retrieves one; an unknown or malformed id is a 404; templates are read-only', async () => {
    const id = COUPON_TEMPLATE_SEED[1]!.id;
    const res = await api('GET', `/v1/coupon_templates/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.json().data).toMatchObject({ id, name: 'Bold banner', design: { layout: 'banner' } });
    expect((await api('GET', '/v1/coupon_templates/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await api('GET', '/v1/coupon_templates/nope')).statusCode).toBe(404);
    expect((await api('POST', '/v1/coupon_templates', { name: 'x' })).statusCode).toBe(405);
    expect((await ctx.app.inject({ method: 'GET', url: '/coupon-templates/00000000-0000-4000-8000-000000000000/preview' })).statusCode).toBe(404);
  });

  it('needs coupons.view', async () => {
    const limited = await createAccountWithToken(ctx.app, ['campaigns.view']);
    expect((await api('GET', '/v1/coupon_templates', undefined, limited.auth)).statusCode).toBe(403);
    expect((await api('GET', `/v1/coupon_templates/${COUPON_TEMPLATE_SEED[0]!.id}`, undefined, limited.auth)).statusCode).toBe(403);
  });
});

describe('coupons CRUD', () => {
  it('creates, reads, lists, updates and deletes a coupon', async () => {
    const created = await createCoupon({ description: 'On everything', disclaimer: 'One per visit', redemption_limit: 5, coupon_template_id: COUPON_TEMPLATE_SEED[2]!.id });
    expect(created).toMatchObject({ code: 'SPRING20', redemptions: 0, codes: { total: 0, available: 0 } });
    expect(created.url).toMatch(/^http:\/\/shortcode\.test\/c\/[0-9A-Za-z]{7}$/);
    const got = await api('GET', `/v1/coupons/${created.id}`);
    expect(got.json().data).toMatchObject({ id: created.id, name: 'Spring', title: '20% off', description: 'On everything', disclaimer: 'One per visit', redemption_limit: 5, unique_codes: false, url: created.url });
    const list = await api('GET', '/v1/coupons?filter[name]=spr');
    expect(list.json().data.map((c: { id: string }) => c.id)).toContain(created.id);
    const put = await api('PUT', `/v1/coupons/${created.id}`, { title: '25% off', redemption_limit: null });
    expect(put.statusCode).toBe(200);
    expect(put.json().data).toMatchObject({ title: '25% off', redemption_limit: null, name: 'Spring' });
    expect((await api('DELETE', `/v1/coupons/${created.id}`)).statusCode).toBe(204);
    expect((await api('GET', `/v1/coupons/${created.id}`)).statusCode).toBe(404);
  });

  it('refuses bad input with 422 by field', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 'x', title: 't', starts_at: future(10 * day), expires_at: future(5 * day) }, 'expires_at'],
      [{ name: 'x', title: 't', expires_at: new Date(Date.now() - day).toISOString() }, 'expires_at'],
      [{ name: 'x', title: 't', coupon_template_id: '00000000-0000-4000-8000-000000000000' }, 'coupon_template_id'],
      [{ name: 'x', title: 't', unique_codes: true, code: 'ABC' }, 'code'],
      [{ name: 'x', title: 't', codes: ['A1'], unique_codes: false }, 'codes'],
      [{ name: 'x', title: 't', redemption_limit: 0 }, 'redemption_limit'],
      [{ name: 'x', title: 't', code: 'bad code!' }, 'code'],
      [{ title: 't' }, 'name'],
      [{ name: '   ', title: 't' }, 'name'],
    ];
    for (const [body, field] of cases) {
      const res = await api('POST', '/v1/coupons', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(422);
      expect(Object.keys(res.json().errors), JSON.stringify(body)).toContain(field);
      expect(res.json().status).toBe(422);
    }
    const coupon = await createCoupon({ starts_at: future(day), expires_at: future(3 * day) });
    const res = await api('PUT', `/v1/coupons/${coupon.id}`, { expires_at: future(day / 2) });
    expect(res.statusCode).toBe(422);
    expect(res.json().errors.expires_at[0]).toMatch(/expire after it starts/);
  });

  it('keeps accounts apart (404) and checks scopes (403)', async () => {
    const coupon = await createCoupon();
    for (const [method, body] of [['GET'], ['PUT', { name: 'x' }], ['DELETE']] as const) {
      expect((await api(method, `/v1/coupons/${coupon.id}`, body, other.auth)).statusCode).toBe(404);
    }
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, {}, other.auth)).statusCode).toBe(404);
    expect((await api('GET', '/v1/coupons', undefined, other.auth)).json().data).toEqual([]);
    const viewer = await createAccountWithToken(ctx.app, ['coupons.view']);
    expect((await api('POST', '/v1/coupons', { name: 'x', title: 'y' }, viewer.auth)).statusCode).toBe(403);
    expect((await api('PUT', `/v1/coupons/${coupon.id}`, { name: 'x' }, viewer.auth)).statusCode).toBe(403);
    expect((await api('DELETE', `/v1/coupons/${coupon.id}`, undefined, viewer.auth)).statusCode).toBe(403);
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, {}, viewer.auth)).statusCode).toBe(403);
    const creator = await createAccountWithToken(ctx.app, ['coupons.create']);
    expect((await api('GET', '/v1/coupons', undefined, creator.auth)).statusCode).toBe(403);
    expect((await api('GET', `/v1/coupons/${coupon.id}`, undefined, creator.auth)).statusCode).toBe(403);
  });
});

describe('redemption through the API', () => {
  it('counts a redemption, and the same reference only once', async () => {
    const coupon = await createCoupon({ redemption_limit: 2 });
    const first = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code: 'SPRING20', reference: 'till-1-0001' });
    expect(first.statusCode).toBe(201);
    expect(first.json().data).toMatchObject({ coupon_id: coupon.id, code: null, source: 'api', campaign_id: null });
    const again = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code: 'SPRING20', reference: 'till-1-0001' });
    expect(again.statusCode).toBe(200);
    expect(again.json().data.id).toBe(first.json().data.id);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(1);
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, {})).statusCode).toBe(201);
    const over = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, {});
    expect(over.statusCode).toBe(422);
    expect(over.json().errors.coupon[0]).toMatch(/redemption limit/);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(2);
  });

  it('refuses a wrong code, an unknown contact, and redemption before the start or after expiry', async () => {
    const coupon = await createCoupon();
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code: 'WRONG' })).statusCode).toBe(422);
    const unknownContact = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { contact_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknownContact.statusCode).toBe(422);
    expect(unknownContact.json().errors.contact_id).toBeDefined();
    const unknownCampaign = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { campaign_id: '00000000-0000-4000-8000-000000000000' });
    expect(unknownCampaign.json().errors.campaign_id).toBeDefined();

    const later = await createCoupon({ starts_at: future(day), expires_at: future(2 * day) });
    const early = await api('POST', `/v1/coupons/${later.id}/redemptions`, {});
    expect(early.statusCode).toBe(422);
    expect(early.json().errors.coupon[0]).toMatch(/not valid before/);

    const expiring = await createCoupon({ expires_at: future(day) });
    await sql`UPDATE coupons SET expires_at = now() - interval '1 second' WHERE id = ${expiring.id}`.execute(ctx.database.db);
    const late = await api('POST', `/v1/coupons/${expiring.id}/redemptions`, {});
    expect(late.statusCode).toBe(422);
    expect(late.json().errors.coupon[0]).toMatch(/expired/);
    expect((await api('GET', `/v1/coupons/${expiring.id}`)).json().data.redemptions).toBe(0);
  });

  it('never exceeds the limit under concurrent redemptions', async () => {
    const coupon = await createCoupon({ redemption_limit: 3 });
    const results = await Promise.all(Array.from({ length: 10 }, () => api('POST', `/v1/coupons/${coupon.id}/redemptions`, {})));
    expect(results.filter((r) => r.statusCode === 201)).toHaveLength(3);
    expect(results.filter((r) => r.statusCode === 422)).toHaveLength(7);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(3);
  });
});

describe('unique code pools', () => {
  it('generates and uploads codes, gives each contact one code, once, and redeems each code once', async () => {
    const coupon = await createCoupon({ code: null, unique_codes: true, generate_codes: 3, codes: ['VIP-1', 'VIP-2', 'VIP-1'] });
    expect(coupon.codes).toMatchObject({ total: 5, available: 5 });
    await insertContacts(ctx.database.db, owner.account.id, { count: 7, prefix: '301' });
    const ids = await contactIds(ctx.database.db, owner.account.id, '301');
    const base = pathOf(coupon.url);
    const seen = new Set<string>();
    for (const id of ids.slice(0, 5)) {
      const page = await ctx.app.inject({ method: 'GET', url: `${base}/${contactToken(id)}` });
      expect(page.statusCode).toBe(200);
      const code = /data-testid="code"><span>Your code<\/span><strong>([^<]+)</.exec(page.body)?.[1];
      expect(code).toBeTruthy();
      seen.add(code!);
      const again = await ctx.app.inject({ method: 'GET', url: `${base}/${contactToken(id)}` });
      expect(again.body).toContain(`<strong>${code}</strong>`);
    }
    expect(seen.size).toBe(5);
    const exhausted = await ctx.app.inject({ method: 'GET', url: `${base}/${contactToken(ids[5]!)}` });
    expect(exhausted.body).toContain('all codes for this offer have been claimed');
    const generic = await ctx.app.inject({ method: 'GET', url: base });
    expect(generic.body).toContain('Open the link from your text message');
    expect(generic.body).not.toContain('name="nonce"');

    const after = (await api('GET', `/v1/coupons/${coupon.id}`)).json().data;
    expect(after.codes).toEqual({ total: 5, assigned: 5, redeemed: 0, available: 0 });

    const [code] = [...seen];
    const r1 = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code });
    expect(r1.statusCode).toBe(201);
    expect(r1.json().data.contact_id).toMatch(/^[0-9a-f-]{36}$/);
    const r2 = await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code });
    expect(r2.statusCode).toBe(200);
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, {})).statusCode).toBe(422);
    expect((await api('POST', `/v1/coupons/${coupon.id}/redemptions`, { code: 'NOPE' })).statusCode).toBe(422);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data).toMatchObject({ redemptions: 1, codes: { redeemed: 1 } });
  });
});

describe('the public coupon page', () => {
  it('shows the offer, expiry and a redeem button; redeeming twice counts once', async () => {
    const coupon = await createCoupon({ description: 'Any <b>pizza</b>', disclaimer: 'Dine in only' });
    const path = pathOf(coupon.url);
    const page = await ctx.app.inject({ method: 'GET', url: path });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-security-policy']).toContain("default-src 'none'");
    expect(page.headers['cache-control']).toBe('no-store');
    expect(page.body).toContain('20% off');
    expect(page.body).toContain('Any &lt;b&gt;pizza&lt;/b&gt;');
    expect(page.body).toContain('SPRING20');
    expect(page.body).toMatch(/Expires [A-Z][a-z]+ \d+, \d{4}/);
    const form = formOf(page.body);
    const first = await redeemPost(path, form);
    expect(first.statusCode).toBe(200);
    expect(first.body).toContain('data-testid="redeemed"');
    const second = await redeemPost(path, form);
    expect(second.statusCode).toBe(200);
    expect(second.body).toContain('data-testid="redeemed"');
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(1);
    // A new visit is a new form: the shared coupon can be redeemed again by the next customer.
    expect((await redeemPost(path, formOf((await ctx.app.inject({ method: 'GET', url: path })).body))).statusCode).toBe(200);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(2);
  });

  it('lets a contact redeem their link once, whatever the forms', async () => {
    const coupon = await createCoupon();
    await insertContacts(ctx.database.db, owner.account.id, { count: 1, prefix: '302' });
    const [id] = await contactIds(ctx.database.db, owner.account.id, '302');
    const path = `${pathOf(coupon.url)}/${contactToken(id!)}`;
    const formA = formOf((await ctx.app.inject({ method: 'GET', url: path })).body);
    const formB = formOf((await ctx.app.inject({ method: 'GET', url: path })).body);
    const [a, b] = await Promise.all([redeemPost(path, formA), redeemPost(path, formB)]);
    expect([a.statusCode, b.statusCode]).toEqual([200, 200]);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(1);
    const reopened = await ctx.app.inject({ method: 'GET', url: path });
    expect(reopened.body).toContain('data-testid="redeemed"');
    expect(reopened.body).not.toContain('name="nonce"');
    const rows = await sql<{ contact_id: string; source: string }>`SELECT contact_id, source FROM coupon_redemptions WHERE coupon_id = ${coupon.id}`.execute(ctx.database.db);
    expect(rows.rows).toEqual([{ contact_id: id, source: 'page' }]);
  });

  it('refuses forged, cross-site and stale forms, and says why a coupon is closed', async () => {
    const coupon = await createCoupon({ redemption_limit: 1 });
    const path = pathOf(coupon.url);
    const form = formOf((await ctx.app.inject({ method: 'GET', url: path })).body);
    expect((await redeemPost(path, { nonce: form.nonce, signature: 'forged' })).statusCode).toBe(403);
    expect((await redeemPost(path, { nonce: 'x', signature: form.signature })).statusCode).toBe(403);
    expect((await redeemPost(path, form, { origin: 'https://evil.test' })).statusCode).toBe(403);
    expect((await redeemPost(path, form, { 'sec-fetch-site': 'cross-site' })).statusCode).toBe(403);
    expect((await api('GET', `/v1/coupons/${coupon.id}`)).json().data.redemptions).toBe(0);
    expect((await redeemPost(path, form, { origin: 'http://localhost:80' })).statusCode).toBe(200);
    const second = formOf((await ctx.app.inject({ method: 'GET', url: path })).body);
    expect(second.nonce).toBeUndefined();
    const closed = await ctx.app.inject({ method: 'GET', url: path });
    expect(closed.body).toContain('reached its redemption limit');

    const expired = await createCoupon();
    const expiredForm = formOf((await ctx.app.inject({ method: 'GET', url: pathOf(expired.url) })).body);
    await sql`UPDATE coupons SET expires_at = now() - interval '1 second' WHERE id = ${expired.id}`.execute(ctx.database.db);
    const late = await redeemPost(pathOf(expired.url), expiredForm);
    expect(late.statusCode).toBe(422);
    expect(late.body).toContain('expired');
    expect((await api('GET', `/v1/coupons/${expired.id}`)).json().data.redemptions).toBe(0);
  });

  it('answers 404 pages for unknown codes and contacts of another account', async () => {
    const coupon = await createCoupon();
    expect((await ctx.app.inject({ method: 'GET', url: '/c/ZZZZZZZ' })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/c/bad' })).statusCode).toBe(404);
    await insertContacts(ctx.database.db, other.account.id, { count: 1, prefix: '303' });
    const [foreign] = await contactIds(ctx.database.db, other.account.id, '303');
    expect((await ctx.app.inject({ method: 'GET', url: `${pathOf(coupon.url)}/${contactToken(foreign!)}` })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: `${pathOf(coupon.url)}/not-a-token` })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'POST', url: '/c/ZZZZZZZ', payload: '' })).statusCode).toBe(404);
  });
});
