import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../../test/helpers.js';
import { form, signedInUser } from '../../test/oauth-helpers.js';
import { createEventsRepo } from '../modules/events/events.repo.js';
import { createWebhookDeliveryRepo } from '../modules/webhooks/webhook-delivery.repo.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestApp();
});
afterAll(() => ctx.close());

const get = (url: string, cookie: string) => ctx.app.inject({ method: 'GET', url, headers: { cookie } });
const post = (url: string, cookie: string, values: Record<string, string | undefined>) =>
  ctx.app.inject({ method: 'POST', url, headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form(values) });
const EMPTY = { inbound_message: '', unsubscribe: '', delivery_report: '', contact_status: '', bounced_message: '', rejected_message: '' };
const WAS = Object.fromEntries(Object.keys(EMPTY).map((k) => [`was_${k}`, '']));

describe('Settings → Notifications', () => {
  it('shows a URL box per event, Rejected Message among them, in the settings tabs', async () => {
    const me = await signedInUser(ctx.app);
    const res = await get('/dashboard/settings/notifications', me.cookie);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('<a href="/dashboard/settings/notifications" aria-current="page">Notifications</a>');
    for (const label of ['Inbound Message', 'Unsubscribe', 'Delivery Report', 'Contact Status', 'Bounced Message', 'Rejected Message']) {
      expect(res.body).toContain(`>${label}</label>`);
    }
    expect(res.body).toContain('<label for="url-rejected_message">Rejected Message</label>');
    expect(res.body).toContain('No webhook endpoints yet.');
  });

  it('saves URLs per event: one endpoint per distinct URL, secret shown once; clearing a box stops the event', async () => {
    const me = await signedInUser(ctx.app);
    const res = await post('/dashboard/settings/notifications', me.cookie, {
      _csrf: me.csrf,
      ...EMPTY,
      ...WAS,
      rejected_message: 'https://hooks.example.com/rejected',
      inbound_message: 'https://hooks.example.com/all',
      unsubscribe: 'https://hooks.example.com/all',
    });
    expect(res.statusCode).toBe(201);
    const secrets = [...res.body.matchAll(/data-testid="webhook-secret">(whsec_[^<]+)</g)].map((m) => m[1]);
    expect(secrets).toHaveLength(2);
    const endpoints = await ctx.app.services.webhooks.listAll(me.account.id);
    expect(endpoints.map((e) => [e.url, e.events]).sort()).toEqual([
      ['https://hooks.example.com/all', ['inbound_message', 'unsubscribe']],
      ['https://hooks.example.com/rejected', ['rejected_message']],
    ]);
    const page = await get('/dashboard/settings/notifications', me.cookie);
    expect(page.body).not.toContain(secrets[0]);
    expect(page.body).toContain('value="https://hooks.example.com/rejected"');

    // Move unsubscribe to the rejected URL, clear inbound: the "all" endpoint is left with nothing and goes.
    const moved = await post('/dashboard/settings/notifications', me.cookie, {
      _csrf: me.csrf,
      ...EMPTY,
      ...WAS,
      was_rejected_message: 'https://hooks.example.com/rejected',
      rejected_message: 'https://hooks.example.com/rejected',
      was_inbound_message: 'https://hooks.example.com/all',
      inbound_message: '',
      was_unsubscribe: 'https://hooks.example.com/all',
      unsubscribe: 'https://hooks.example.com/rejected',
    });
    expect(moved.statusCode).toBe(303);
    expect(moved.headers.location).toBe('/dashboard/settings/notifications?done=saved');
    expect((await ctx.app.services.webhooks.listAll(me.account.id)).map((e) => [e.url, e.events])).toEqual([
      ['https://hooks.example.com/rejected', ['unsubscribe', 'rejected_message']],
    ]);
  });

  it('answers 422 with the reason next to the box for javascript:, file: and non-URLs, and saves nothing', async () => {
    const me = await signedInUser(ctx.app);
    const res = await post('/dashboard/settings/notifications', me.cookie, {
      _csrf: me.csrf,
      ...EMPTY,
      ...WAS,
      rejected_message: 'javascript:alert(1)',
      inbound_message: 'file:///etc/passwd',
      unsubscribe: 'not a url',
      bounced_message: 'https://fine.example.com/',
    });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('<p class="field-error" id="rejected_message-error">The URL must use http or https.</p>');
    expect(res.body).toContain('<p class="field-error" id="inbound_message-error">The URL must use http or https.</p>');
    expect(res.body).toContain('id="unsubscribe-error"');
    expect(res.body).toContain('value="javascript:alert(1)"');
    expect(res.body).not.toContain('<script');
    expect(await ctx.app.services.webhooks.listAll(me.account.id)).toEqual([]);
  });

  it('needs a session (sign-in redirect, 401 for forms) and the CSRF token (403)', async () => {
    const anonymous = await ctx.app.inject({ method: 'GET', url: '/dashboard/settings/notifications' });
    expect(anonymous.statusCode).toBe(302);
    expect(anonymous.headers.location).toMatch(/^\/dashboard\/sign-in\?next=/);
    const noSession = await ctx.app.inject({ method: 'POST', url: '/dashboard/settings/notifications', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ rejected_message: 'https://x.example.com' }) });
    expect(noSession.statusCode).toBe(401);
    const me = await signedInUser(ctx.app);
    const noCsrf = await post('/dashboard/settings/notifications', me.cookie, { ...EMPTY, ...WAS, rejected_message: 'https://x.example.com' });
    expect(noCsrf.statusCode).toBe(403);
    expect(await ctx.app.services.webhooks.listAll(me.account.id)).toEqual([]);
  });

  it('rotates, pauses, enables and deletes an endpoint; another account\'s endpoint is a 404', async () => {
    const me = await signedInUser(ctx.app);
    const other = await signedInUser(ctx.app);
    const endpoint = await ctx.app.services.webhooks.create(me.account.id, { url: 'https://hooks.example.com/x', events: ['rejected_message'] });
    const rotated = await post(`/dashboard/settings/notifications/${endpoint.id}/rotate`, me.cookie, { _csrf: me.csrf });
    expect(rotated.statusCode).toBe(200);
    const secret = /data-testid="webhook-secret">(whsec_[^<]+)</.exec(rotated.body)![1]!;
    expect(secret).not.toBe(endpoint.secret);
    expect(rotated.body).toContain('Previous secret valid until');

    for (const [action, enabled] of [['disable', false], ['enable', true]] as const) {
      const res = await post(`/dashboard/settings/notifications/${endpoint.id}/${action}`, me.cookie, { _csrf: me.csrf });
      expect(res.statusCode).toBe(303);
      expect((await ctx.app.services.webhooks.get(me.account.id, endpoint.id)).enabled).toBe(enabled);
    }
    for (const action of ['rotate', 'disable', 'delete']) {
      const res = await post(`/dashboard/settings/notifications/${endpoint.id}/${action}`, other.cookie, { _csrf: other.csrf });
      expect(res.statusCode, action).toBe(404);
      expect(res.headers['content-type']).toMatch(/text\/html/);
    }
    expect((await get(`/dashboard/settings/notifications/${endpoint.id}/deliveries`, other.cookie)).statusCode).toBe(404);
    expect((await get('/dashboard/settings/notifications/not-a-uuid/deliveries', me.cookie)).statusCode).toBe(404);
    const deleted = await post(`/dashboard/settings/notifications/${endpoint.id}/delete`, me.cookie, { _csrf: me.csrf });
    expect(deleted.statusCode).toBe(303);
    expect(await ctx.app.services.webhooks.listAll(me.account.id)).toEqual([]);
  });

  it('lists an endpoint\'s deliveries and redelivers one', async () => {
    const me = await signedInUser(ctx.app);
    const other = await signedInUser(ctx.app);
    const endpoint = await ctx.app.services.webhooks.create(me.account.id, { url: 'https://hooks.example.com/log', events: ['rejected_message'] });
    await createEventsRepo(ctx.database.db).record(me.account.id, 'rejected_message', { code: '', message: 'Hi', description: 'Unsubscribed' });
    await createWebhookDeliveryRepo(ctx.database.db).fanOut(10, 0);
    const [delivery] = (await ctx.app.services.webhooks.listDeliveries(me.account.id, endpoint.id, { limit: 10, page: 1, offset: 0, filters: [], sort: [], include: new Set() })).data;
    await ctx.database.db.updateTable('webhook_deliveries').set({ status: 'failed', attempts: 9, next_attempt_at: null, last_status_code: 500, last_latency_ms: 31, last_error: 'HTTP 500' }).execute();

    const page = await get(`/dashboard/settings/notifications/${endpoint.id}/deliveries`, me.cookie);
    expect(page.statusCode).toBe(200);
    expect(page.body).toContain('Rejected Message');
    expect(page.body).toContain('500 (31 ms)');
    expect(page.body).toContain(delivery!.webhook_id);
    expect(page.body).toContain(`aria-label="Redeliver ${delivery!.webhook_id}"`);

    const url = `/dashboard/settings/notifications/${endpoint.id}/deliveries/${delivery!.id}/redeliver`;
    expect((await post(url, other.cookie, { _csrf: other.csrf })).statusCode).toBe(404);
    expect((await post(url, me.cookie, {})).statusCode).toBe(403);
    const res = await post(url, me.cookie, { _csrf: me.csrf });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe(`/dashboard/settings/notifications/${endpoint.id}/deliveries?done=redelivered`);
    const after = await ctx.app.services.webhooks.getDelivery(me.account.id, endpoint.id, delivery!.id);
    expect(after).toMatchObject({ status: 'pending', attempts: 0, webhook_id: delivery!.webhook_id });

    await ctx.database.db.updateTable('webhook_deliveries').set({ status: 'delivering' }).execute();
    const busy = await post(url, me.cookie, { _csrf: me.csrf });
    expect(busy.statusCode).toBe(409);
    expect(busy.body).toContain('role="alert"');
  });
});
