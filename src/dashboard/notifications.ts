import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError, ConflictError, ValidationError, type FieldErrors } from '../lib/errors.js';
import { isUuid } from '../lib/ids.js';
import type { ListQuery } from '../http/list-query.js';
import { WEBHOOK_EVENTS, type WebhookEvent } from '../modules/webhooks/webhook-payloads.js';
import type { WebhookEndpoint } from '../modules/webhooks/webhooks.schema.js';
import { requireCsrf, requireUser, type SignedIn } from './guards.js';
import { describedBy, fieldErrors, formatDateTime, html, notice, type SafeHtml } from './html.js';
import { settingsPage } from './settings.js';
import { formField, sendHtml } from './web.js';

const hide = { hide: true } as const;

/** The reference's names for the events (Settings → Notifications). */
export const EVENT_LABELS: Record<WebhookEvent, { label: string; hint: string }> = {
  inbound_message: { label: 'Inbound Message', hint: 'A contact texted your number.' },
  unsubscribe: { label: 'Unsubscribe', hint: 'A contact was unsubscribed (STOP or the API).' },
  delivery_report: { label: 'Delivery Report', hint: 'Carriers reported on sent messages (several may arrive in one report).' },
  contact_status: { label: 'Contact Status', hint: 'A carrier suspended, deactivated, resumed or transferred a number.' },
  bounced_message: { label: 'Bounced Message', hint: 'A message to a contact bounced.' },
  rejected_message: { label: 'Rejected Message', hint: 'A message was refused or failed.' },
};

const DELIVERIES_PER_PAGE = 50;

function statusText(endpoint: WebhookEndpoint): string {
  if (endpoint.enabled) return endpoint.failing_since ? `Active, failing since ${endpoint.failing_since.slice(0, 16).replace('T', ' ')} UTC` : 'Active';
  if (endpoint.disabled_reason === 'gone') return 'Disabled: the receiver answered 410 Gone';
  if (endpoint.disabled_reason === 'failing') return 'Disabled: no successful delivery for more than 5 days';
  return 'Paused';
}

function secretNotice(created: ReadonlyArray<{ url: string; secret: string }>): SafeHtml {
  if (created.length === 0) return html``;
  return html`<section class="card" aria-labelledby="secret-title">
    <h2 id="secret-title">Signing secret${created.length > 1 ? 's' : ''}</h2>
    ${notice('info', 'Copy the signing secret now: it is shown only this once. Your receiver verifies each request with it (Standard Webhooks).')}
    ${created.map((c) => html`<p><code>${c.url}</code></p><output class="secret" data-testid="webhook-secret">${c.secret}</output>`)}
  </section>`;
}

/**
 * Settings → Notifications: the webhook URL of each event ("Rejected Message" among them),
 * the endpoints with their state, secret rotation, and each endpoint's delivery log with a
 * Redeliver button. Server-rendered, every form CSRF-protected, no JavaScript.
 */
export async function notificationsRoutes(app: FastifyInstance): Promise<void> {
  const { webhooks } = app.services;

  async function notificationsPage(
    me: SignedIn,
    extra: { success?: string; error?: string; errors?: FieldErrors; values?: Partial<Record<WebhookEvent, string>>; created?: ReadonlyArray<{ url: string; secret: string }> } = {},
  ) {
    const endpoints = await webhooks.listAll(me.session.accountId);
    const csrf = me.session.csrfToken;
    const current = (event: WebhookEvent) => endpoints.filter((e) => e.events.includes(event));
    const rows = WEBHOOK_EVENTS.map((event) => {
      const receiving = current(event);
      const value = extra.values?.[event] ?? receiving[0]?.url ?? '';
      const id = `url-${event}`;
      return html`<div class="field">
        <label for="${id}">${EVENT_LABELS[event].label}</label>
        <input id="${id}" name="${event}" type="url" inputmode="url" maxlength="2048" placeholder="https://example.com/webhooks" value="${value}"${describedBy(extra.errors, event)}>
        <input type="hidden" name="was_${event}" value="${receiving[0]?.url ?? ''}">
        <p class="hint">${EVENT_LABELS[event].hint}${receiving.length > 1 ? ` Also sent to ${receiving.length - 1} more URL${receiving.length > 2 ? 's' : ''} (below).` : ''}</p>
        ${fieldErrors(extra.errors, event)}
      </div>`;
    });
    const endpointRows = endpoints.map(
      (e) => html`<tr>
        <td data-label="URL"><code>${e.url}</code></td>
        <td data-label="Events">${e.events.map((ev) => EVENT_LABELS[ev as WebhookEvent]?.label ?? ev).join(', ')}</td>
        <td data-label="Status">${statusText(e)}${e.secret_rotation_ends_at ? html`<br><span class="muted">Previous secret valid until ${e.secret_rotation_ends_at.slice(0, 16).replace('T', ' ')} UTC</span>` : html``}</td>
        <td data-label="Actions"><div class="actions">
          <a class="button secondary" href="/dashboard/settings/notifications/${e.id}/deliveries" aria-label="Deliveries to ${e.url}">Deliveries</a>
          <form method="post" action="/dashboard/settings/notifications/${e.id}/rotate" class="inline">
            <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="secondary" aria-label="Rotate the secret of ${e.url}">Rotate secret</button></form>
          <form method="post" action="/dashboard/settings/notifications/${e.id}/${e.enabled ? 'disable' : 'enable'}" class="inline">
            <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="secondary" aria-label="${e.enabled ? 'Pause' : 'Enable'} ${e.url}">${e.enabled ? 'Pause' : 'Enable'}</button></form>
          <form method="post" action="/dashboard/settings/notifications/${e.id}/delete" class="inline">
            <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="danger" aria-label="Delete ${e.url}">Delete</button></form>
        </div></td>
      </tr>`,
    );
    return settingsPage({
      active: 'notifications',
      title: 'Notifications',
      user: me.user,
      csrfToken: csrf,
      body: html`${notice('success', extra.success)}${notice('error', extra.error)}${secretNotice(extra.created ?? [])}
        <section class="card" aria-labelledby="urls-title">
          <h2 id="urls-title">Webhook URLs</h2>
          <p class="hint">Paste the URL that should receive each event and submit. Each event is sent as a signed JSON POST
            (Standard Webhooks: <code>webhook-id</code>, <code>webhook-timestamp</code>, <code>webhook-signature</code>),
            retried for more than 24 hours until your server answers 2xx. Leave a box empty to stop an event.</p>
          <form method="post" action="/dashboard/settings/notifications" novalidate>
            <input type="hidden" name="_csrf" value="${csrf}">
            ${rows}
            <div class="actions"><button type="submit">Submit</button></div>
          </form>
        </section>
        <section aria-labelledby="endpoints-title">
          <h2 id="endpoints-title">Endpoints</h2>
          ${endpoints.length === 0
            ? html`<p class="muted">No webhook endpoints yet.</p>`
            : html`<table><thead><tr><th scope="col">URL</th><th scope="col">Events</th><th scope="col">Status</th><th scope="col">Actions</th></tr></thead><tbody>${endpointRows}</tbody></table>`}
          <p class="hint">Endpoints can also be managed through the API (<code>/v1/webhooks</code>, scope <code>webhooks.manage</code>).
            An endpoint that answers 410 Gone, or fails for more than 5 days, is disabled; enable it again here once it is fixed.</p>
        </section>`,
    });
  }

  app.get('/settings/notifications', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    const done = (request.query as Record<string, unknown>).done;
    const messages: Record<string, string> = {
      deleted: 'The endpoint was deleted.',
      enabled: 'The endpoint is enabled.',
      disabled: 'The endpoint is paused: events are kept for it until it is enabled again.',
      saved: 'Your webhook URLs were saved.',
    };
    return sendHtml(reply, 200, await notificationsPage(me, { success: typeof done === 'string' ? messages[done] : undefined }));
  });

  app.post('/settings/notifications', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const changes = new Map<WebhookEvent, string>();
    const values: Partial<Record<WebhookEvent, string>> = {};
    for (const event of WEBHOOK_EVENTS) {
      const url = formField(request.body, event).trim();
      values[event] = url;
      if (url !== formField(request.body, `was_${event}`)) changes.set(event, url);
    }
    try {
      const created = await webhooks.setEventUrls(me.session.accountId, changes);
      if (created.length > 0) return sendHtml(reply, 201, await notificationsPage(me, { success: 'Your webhook URLs were saved.', created }));
    } catch (err) {
      if (!(err instanceof ValidationError)) throw err;
      return sendHtml(reply, 422, await notificationsPage(me, { error: 'Please correct the URLs below.', errors: err.errors, values }));
    }
    return reply.redirect('/dashboard/settings/notifications?done=saved', 303);
  });

  app.post('/settings/notifications/:id/rotate', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const rotated = await webhooks.rotateSecret(me.session.accountId, uuidParam(request, 'id'));
    return sendHtml(
      reply,
      200,
      await notificationsPage(me, { success: 'A new signing secret was made. For 24 hours both secrets sign every request, so you can switch without missing one.', created: [rotated] }),
    );
  });

  for (const action of ['enable', 'disable'] as const) {
    app.post(`/settings/notifications/:id/${action}`, { schema: hide }, async (request, reply) => {
      const me = await requireUser(request, reply);
      if (!me) return reply;
      if (!(await requireCsrf(request, reply))) return reply;
      await webhooks.update(me.session.accountId, uuidParam(request, 'id'), { enabled: action === 'enable' });
      return reply.redirect(`/dashboard/settings/notifications?done=${action}d`, 303);
    });
  }

  app.post('/settings/notifications/:id/delete', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    await webhooks.remove(me.session.accountId, uuidParam(request, 'id'));
    return reply.redirect('/dashboard/settings/notifications?done=deleted', 303);
  });

  // ---- Delivery log -----------------------------------------------------------------------

  async function deliveriesPage(me: SignedIn, endpointId: string, page: number, extra: { success?: string; error?: string } = {}) {
    const endpoint = await webhooks.get(me.session.accountId, endpointId);
    const query: ListQuery = {
      limit: DELIVERIES_PER_PAGE,
      page,
      offset: (page - 1) * DELIVERIES_PER_PAGE,
      filters: [],
      sort: [{ field: 'created_at', desc: true }],
      include: new Set(),
    };
    const { data, total } = await webhooks.listDeliveries(me.session.accountId, endpointId, query);
    const csrf = me.session.csrfToken;
    const pages = Math.max(1, Math.ceil(total / DELIVERIES_PER_PAGE));
    const base = `/dashboard/settings/notifications/${endpoint.id}/deliveries`;
    const rows = data.map(
      (d) => html`<tr>
        <td data-label="Created">${formatDateTime(new Date(d.created_at))}</td>
        <td data-label="Event">${EVENT_LABELS[d.event as WebhookEvent]?.label ?? d.event}</td>
        <td data-label="Status">${d.status}</td>
        <td data-label="Attempts">${d.attempts}</td>
        <td data-label="Response">${d.response_code ?? '—'}${d.latency_ms !== null ? ` (${d.latency_ms} ms)` : ''}${d.error ? html`<br><span class="muted">${d.error}</span>` : html``}</td>
        <td data-label="Next retry">${d.next_attempt_at ? formatDateTime(new Date(d.next_attempt_at)) : '—'}</td>
        <td data-label="Webhook ID"><code>${d.webhook_id}</code></td>
        <td data-label="Actions">${d.status === 'delivering' || !endpoint.enabled
          ? html`<span class="muted">${d.status === 'delivering' ? 'Sending…' : 'Enable the endpoint to redeliver'}</span>`
          : html`<form method="post" action="${base}/${d.id}/redeliver" class="inline">
              <input type="hidden" name="_csrf" value="${csrf}"><button type="submit" class="secondary" aria-label="Redeliver ${d.webhook_id}">Redeliver</button></form>`}</td>
      </tr>`,
    );
    return settingsPage({
      active: 'notifications',
      title: 'Webhook deliveries',
      user: me.user,
      csrfToken: csrf,
      body: html`${notice('success', extra.success)}${notice('error', extra.error)}
        <section aria-labelledby="deliveries-title">
          <h2 id="deliveries-title">Deliveries to <code>${endpoint.url}</code></h2>
          <p class="hint">${statusText(endpoint)}. Newest first. Redeliver sends a delivery again now with the same webhook-id.</p>
          ${data.length === 0
            ? html`<p class="muted">Nothing was sent to this endpoint yet.</p>`
            : html`<table><thead><tr><th scope="col">Created</th><th scope="col">Event</th><th scope="col">Status</th><th scope="col">Attempts</th><th scope="col">Response</th><th scope="col">Next retry</th><th scope="col">Webhook ID</th><th scope="col">Actions</th></tr></thead><tbody>${rows}</tbody></table>`}
          <nav class="actions" aria-label="Pages">
            ${page > 1 ? html`<a href="${base}?page=${page - 1}">Newer</a>` : html``}
            <span class="muted">Page ${page} of ${pages} (${total} deliveries)</span>
            ${page < pages ? html`<a href="${base}?page=${page + 1}">Older</a>` : html``}
          </nav>
          <p><a href="/dashboard/settings/notifications">Back to Notifications</a></p>
        </section>`,
    });
  }

  app.get('/settings/notifications/:id/deliveries', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    const rawPage = Number((request.query as Record<string, unknown>).page ?? 1);
    const page = Number.isInteger(rawPage) && rawPage >= 1 && rawPage <= 100_000 ? rawPage : 1;
    const done = (request.query as Record<string, unknown>).done === 'redelivered' ? 'The delivery was queued again.' : undefined;
    return sendHtml(reply, 200, await deliveriesPage(me, uuidParam(request, 'id'), page, { success: done }));
  });

  app.post('/settings/notifications/:id/deliveries/:deliveryId/redeliver', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const endpointId = uuidParam(request, 'id');
    try {
      await webhooks.redeliver(me.session.accountId, endpointId, uuidParam(request, 'deliveryId'));
    } catch (err) {
      if (!(err instanceof ConflictError)) throw err;
      return sendHtml(reply, 409, await deliveriesPage(me, endpointId, 1, { error: err.message }));
    }
    return reply.redirect(`/dashboard/settings/notifications/${endpointId}/deliveries?done=redelivered`, 303);
  });
}

function uuidParam(request: FastifyRequest, name: string): string {
  const value = (request.params as Record<string, unknown>)[name];
  if (!isUuid(value)) throw new AppError(404, 'Not found.');
  return value;
}
