import { ConflictError, NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { formatDate } from '../../lib/time.js';
import type { ListQuery } from '../../http/list-query.js';
import { WEBHOOK_EVENTS, isWebhookEvent, type WebhookEvent } from './webhook-payloads.js';
import { generateWebhookSecret } from './webhook-signing.js';
import { validateWebhookUrl } from './webhook-url-policy.js';
import type { AttemptRow, DeliveryRow, EndpointRow, WebhooksRepo } from './webhooks.repo.js';
import type { CreateWebhookInput, UpdateWebhookInput, WebhookAttempt, WebhookDelivery, WebhookEndpoint } from './webhooks.schema.js';

/** After a rotation the previous secret keeps signing (next to the new one) for this long. */
export const ROTATION_OVERLAP_MS = 24 * 60 * 60 * 1000;

/** Finished deliveries (delivered or given up) stay in the log this long. */
export const DELIVERY_LOG_RETENTION_MS = 30 * 24 * 60 * 60 * 1000;

/** Endpoints per account: enough for one per event and then some, bounded so fan-out stays cheap. */
export const MAX_ENDPOINTS_PER_ACCOUNT = 20;

export type WebhooksService = ReturnType<typeof createWebhooksService>;

export function toEndpoint(row: EndpointRow, now = new Date()): WebhookEndpoint {
  const overlap = row.previous_secret_expires_at && row.previous_secret_expires_at > now ? row.previous_secret_expires_at : null;
  return {
    id: row.id,
    url: row.url,
    events: row.events,
    enabled: row.enabled,
    disabled_reason: row.disabled_reason,
    disabled_at: formatDate(row.disabled_at),
    failing_since: formatDate(row.failing_since),
    secret_rotation_ends_at: formatDate(overlap),
    created_at: formatDate(row.created_at),
    updated_at: formatDate(row.updated_at),
  };
}

export function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    webhook_id: row.msg_id,
    event: row.event_type,
    status: row.status,
    attempts: row.attempts,
    response_code: row.last_status_code,
    latency_ms: row.last_latency_ms,
    error: row.last_error,
    next_attempt_at: row.status === 'pending' ? formatDate(row.next_attempt_at) : null,
    last_attempt_at: formatDate(row.last_attempt_at),
    delivered_at: formatDate(row.delivered_at),
    created_at: formatDate(row.created_at),
  };
}

function toAttempt(row: AttemptRow): WebhookAttempt {
  return {
    attempt: row.attempt,
    attempted_at: formatDate(row.attempted_at),
    outcome: row.outcome,
    response_code: row.status_code,
    latency_ms: row.latency_ms,
    error: row.error,
    response_body: row.response_snippet,
  };
}

export function createWebhooksService(deps: { repo: WebhooksRepo; secretBox: () => SecretBox; allowPrivateNetworks: boolean }) {
  const { repo } = deps;

  function checkUrl(url: string, errors: FieldErrors): void {
    const check = validateWebhookUrl(url, { allowPrivateNetworks: deps.allowPrivateNetworks });
    if (!check.ok) errors.url = [check.reason];
  }

  function checkEvents(events: readonly string[], errors: FieldErrors): WebhookEvent[] {
    const unknown = events.filter((e) => !isWebhookEvent(e));
    if (unknown.length > 0) {
      errors.events = [`Unknown event${unknown.length > 1 ? 's' : ''}: ${unknown.map((e) => JSON.stringify(e.slice(0, 100))).join(', ')}. Allowed: ${WEBHOOK_EVENTS.join(', ')}.`];
      return [];
    }
    // Stored in the reference's order, each once.
    return WEBHOOK_EVENTS.filter((e) => events.includes(e));
  }

  async function endpointOr404(accountId: string, id: string): Promise<EndpointRow> {
    const row = await repo.findEndpoint(accountId, id);
    if (!row) throw new NotFoundError('Webhook not found.');
    return row;
  }

  return {
    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.listEndpoints(accountId, query);
      const now = new Date();
      return { data: rows.map((r) => toEndpoint(r, now)), total };
    },

    /** Every endpoint of the account, oldest first (there are at most MAX_ENDPOINTS_PER_ACCOUNT). */
    async listAll(accountId: string): Promise<WebhookEndpoint[]> {
      const query: ListQuery = { limit: 100, page: 1, offset: 0, filters: [], sort: [{ field: 'created_at', desc: false }], include: new Set() };
      const now = new Date();
      return (await repo.listEndpoints(accountId, query)).rows.map((r) => toEndpoint(r, now));
    },

    /**
     * The dashboard's "one URL per event" form: each changed event is sent to exactly the given
     * URL from now on ('' stops it). The event is removed from the other endpoints (an endpoint
     * left without events is deleted) and added to the endpoint with that URL, created when
     * there is none. Returns the endpoints created, with their secrets (shown once).
     */
    async setEventUrls(accountId: string, changes: ReadonlyMap<WebhookEvent, string>): Promise<Array<WebhookEndpoint & { secret: string }>> {
      const errors: FieldErrors = {};
      for (const [event, url] of changes) {
        if (url === '') continue;
        const check = validateWebhookUrl(url, { allowPrivateNetworks: deps.allowPrivateNetworks });
        if (!check.ok) errors[event] = [check.reason];
      }
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      const endpoints = await this.listAll(accountId);
      const events = new Map(endpoints.map((e) => [e.id, new Set(e.events)]));
      const toCreate = new Map<string, Set<WebhookEvent>>();
      for (const [event, url] of changes) {
        for (const endpoint of endpoints) if (endpoint.url !== url) events.get(endpoint.id)!.delete(event);
        if (url === '') continue;
        const target = endpoints.find((e) => e.url === url);
        if (target) events.get(target.id)!.add(event);
        else toCreate.set(url, (toCreate.get(url) ?? new Set()).add(event));
      }
      if (endpoints.length - endpoints.filter((e) => events.get(e.id)!.size === 0).length + toCreate.size > MAX_ENDPOINTS_PER_ACCOUNT) {
        throw new ValidationError({ [[...changes.keys()][0]!]: [`An account may have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints.`] });
      }
      for (const endpoint of endpoints) {
        const wanted = WEBHOOK_EVENTS.filter((e) => events.get(endpoint.id)!.has(e));
        if (wanted.length === 0) await repo.deleteEndpoint(accountId, endpoint.id);
        else if (wanted.join() !== endpoint.events.join()) await repo.updateEndpoint(accountId, endpoint.id, { events: wanted });
      }
      const created: Array<WebhookEndpoint & { secret: string }> = [];
      for (const [url, set] of toCreate) created.push(await this.create(accountId, { url, events: WEBHOOK_EVENTS.filter((e) => set.has(e)) }));
      return created;
    },

    async get(accountId: string, id: string): Promise<WebhookEndpoint> {
      return toEndpoint(await endpointOr404(accountId, id));
    },

    /** Creates an endpoint with a new signing secret, returned this once. */
    async create(accountId: string, input: CreateWebhookInput): Promise<WebhookEndpoint & { secret: string }> {
      const errors: FieldErrors = {};
      checkUrl(input.url, errors);
      const events = checkEvents(input.events, errors);
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      if ((await repo.countEndpoints(accountId)) >= MAX_ENDPOINTS_PER_ACCOUNT) {
        throw new ValidationError({ url: [`An account may have at most ${MAX_ENDPOINTS_PER_ACCOUNT} webhook endpoints.`] });
      }
      const id = newId();
      const secret = generateWebhookSecret();
      const row = await repo.insertEndpoint({
        id,
        accountId,
        url: input.url,
        events,
        enabled: input.enabled ?? true,
        secretEncrypted: deps.secretBox().seal(secret, id),
      });
      return { ...toEndpoint(row), secret };
    },

    async update(accountId: string, id: string, input: UpdateWebhookInput): Promise<WebhookEndpoint> {
      const errors: FieldErrors = {};
      if (input.url !== undefined) checkUrl(input.url, errors);
      const events = input.events !== undefined ? checkEvents(input.events, errors) : undefined;
      if (Object.keys(errors).length > 0) {
        await endpointOr404(accountId, id); // another account's id is a 404 even with a bad body
        throw new ValidationError(errors);
      }
      const row = await repo.updateEndpoint(accountId, id, { url: input.url, events, enabled: input.enabled });
      if (!row) throw new NotFoundError('Webhook not found.');
      return toEndpoint(row);
    },

    async remove(accountId: string, id: string): Promise<void> {
      if (!(await repo.deleteEndpoint(accountId, id))) throw new NotFoundError('Webhook not found.');
    },

    /**
     * A new signing secret, returned this once. The previous one keeps signing next to it for
     * ROTATION_OVERLAP_MS, so receivers can switch without losing a message; rotating again
     * within the overlap retires the oldest secret at once.
     */
    async rotateSecret(accountId: string, id: string, now = new Date()): Promise<WebhookEndpoint & { secret: string }> {
      const secret = generateWebhookSecret();
      const box = deps.secretBox();
      const row = await repo.rotateSecret(accountId, id, (endpointId) => box.seal(secret, endpointId), new Date(now.getTime() + ROTATION_OVERLAP_MS));
      if (!row) throw new NotFoundError('Webhook not found.');
      return { ...toEndpoint(row, now), secret };
    },

    async listDeliveries(accountId: string, endpointId: string, query: ListQuery) {
      await endpointOr404(accountId, endpointId);
      const { rows, total } = await repo.listDeliveries(accountId, endpointId, query);
      return { data: rows.map(toDelivery), total };
    },

    async getDelivery(accountId: string, endpointId: string, deliveryId: string) {
      const row = await repo.findDelivery(accountId, endpointId, deliveryId);
      if (!row) throw new NotFoundError('Delivery not found.');
      const attempts = await repo.listAttempts([row.id]);
      let payload: unknown = row.payload;
      try {
        payload = JSON.parse(row.payload);
      } catch {
        // stored bodies are JSON; a non-JSON one is shown as text
      }
      return { ...toDelivery(row), payload, attempt_log: attempts.map(toAttempt) };
    },

    /** Drops finished deliveries older than the retention period; returns how many. */
    pruneLog(now = new Date()): Promise<number> {
      return repo.pruneDeliveries(new Date(now.getTime() - DELIVERY_LOG_RETENTION_MS));
    },

    /** Sends a delivery again (same webhook-id, new retry cycle), by API or dashboard. */
    async redeliver(accountId: string, endpointId: string, deliveryId: string): Promise<WebhookDelivery> {
      const endpoint = await endpointOr404(accountId, endpointId);
      const existing = await repo.findDelivery(accountId, endpointId, deliveryId);
      if (!existing) throw new NotFoundError('Delivery not found.');
      if (!endpoint.enabled) throw new ConflictError('The webhook is disabled: enable it before redelivering.');
      const row = await repo.redeliver(accountId, endpointId, deliveryId);
      if (!row) throw new ConflictError('The delivery is being attempted right now; try again when the attempt has finished.');
      return toDelivery(row);
    },
  };
}
