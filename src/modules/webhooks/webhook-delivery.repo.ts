import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newTimeOrderedId } from '../../lib/ids.js';
import { groupDeliveryReports, isDeliveryReportPayload, mergeDeliveryReports, orderPayload } from './webhook-events.js';
import type { DeliveryReportPayload } from './webhook-payloads.js';
import { generateWebhookMessageId } from './webhook-signing.js';
import type { DisabledReason } from './webhooks.tables.js';

/** Serialises claimers so the per-endpoint in-flight count they read is the one they act on. */
const CLAIM_LOCK_KEY = 0x5763_6c6d; // arbitrary, unique in this database

export interface ClaimedDelivery {
  id: string;
  endpoint_id: string;
  account_id: string;
  event_type: string;
  msg_id: string;
  payload: string;
  /** This attempt's number in the current retry cycle (1 for the first). */
  attempts: number;
  url: string;
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  failing_since: Date | null;
}

export interface AttemptRecord {
  deliveryId: string;
  attempt: number;
  attemptedAt: Date;
  outcome: 'success' | 'failure' | 'gone';
  statusCode: number | null;
  latencyMs: number;
  error: string | null;
  responseSnippet: string | null;
  /** The delivery's state after this attempt. */
  status: 'pending' | 'delivered' | 'failed';
  nextAttemptAt: Date | null;
}

interface OutboxEvent {
  id: string;
  account_id: string;
  type: string;
  payload: unknown;
}

export type WebhookDeliveryRepo = ReturnType<typeof createWebhookDeliveryRepo>;

/** SQL of webhook delivery: fan-out from the outbox, claims, outcomes, leases. */
export function createWebhookDeliveryRepo(db: Kysely<DB>) {
  return {
    /**
     * One fan-out pass, in one transaction: locks up to `limit` undispatched events (SKIP
     * LOCKED, so passes in several processes split the work), creates one delivery per matching
     * enabled endpoint, and marks the events dispatched. Either all of it commits or none.
     *
     * Delivery reports of an account wait until its oldest pending report is `batchWindowMs`
     * old; then all of that account's pending reports are merged (at most 100 messages per
     * payload) into one delivery per endpoint.
     */
    async fanOut(limit: number, batchWindowMs: number): Promise<{ events: number; deliveries: number }> {
      return db.transaction().execute(async (trx) => {
        const events = (
          await sql<OutboxEvent>`
            SELECT e.id, e.account_id, e.type, e.payload FROM events e
            WHERE e.dispatched_at IS NULL
              AND (e.type <> 'delivery_report' OR EXISTS (
                SELECT 1 FROM events o
                WHERE o.account_id = e.account_id AND o.type = 'delivery_report' AND o.dispatched_at IS NULL
                  AND o.created_at <= now() - make_interval(secs => ${batchWindowMs / 1000})))
            ORDER BY e.created_at, e.id
            LIMIT ${limit}
            FOR UPDATE SKIP LOCKED`.execute(trx)
        ).rows;
        if (events.length === 0) return { events: 0, deliveries: 0 };

        const accountIds = [...new Set(events.map((e) => e.account_id))];
        const endpoints = await trx
          .selectFrom('webhook_endpoints')
          .select(['id', 'account_id', 'events'])
          .where('account_id', 'in', accountIds)
          .where('enabled', '=', true)
          .orderBy('created_at')
          .execute();

        const rows: Array<{ endpointId: string; accountId: string; type: string; eventIds: string[]; body: string }> = [];
        const addFor = (accountId: string, type: string, eventIds: string[], body: string) => {
          for (const endpoint of endpoints) {
            if (endpoint.account_id === accountId && endpoint.events.includes(type)) rows.push({ endpointId: endpoint.id, accountId, type, eventIds, body });
          }
        };
        const reportsByAccount = new Map<string, Array<{ id: string; payload: DeliveryReportPayload }>>();
        for (const event of events) {
          if (event.type === 'delivery_report' && isDeliveryReportPayload(event.payload)) {
            const list = reportsByAccount.get(event.account_id) ?? [];
            list.push({ id: event.id, payload: event.payload });
            reportsByAccount.set(event.account_id, list);
          } else {
            addFor(event.account_id, event.type, [event.id], JSON.stringify(orderPayload(event.type, event.payload)));
          }
        }
        for (const [accountId, reports] of reportsByAccount) {
          for (const group of groupDeliveryReports(reports)) {
            const merged = orderPayload('delivery_report', mergeDeliveryReports(group.map((g) => g.payload)));
            addFor(accountId, 'delivery_report', group.map((g) => g.id), JSON.stringify(merged));
          }
        }

        // One statement per 1,000 deliveries, its columns as arrays (unnest): a handful of
        // parameters instead of fifteen per row, cheap to build and to plan.
        const now = new Date();
        for (let i = 0; i < rows.length; i += 1_000) {
          const chunk = rows.slice(i, i + 1_000);
          await sql`
            INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, event_ids, msg_id, payload, next_attempt_at)
            SELECT v.id, v.account_id, v.endpoint_id, v.event_type, string_to_array(v.event_ids, ',')::uuid[], v.msg_id, v.payload, ${now}::timestamptz
            FROM unnest(${chunk.map(() => newTimeOrderedId())}::uuid[], ${chunk.map((r) => r.accountId)}::uuid[], ${chunk.map((r) => r.endpointId)}::uuid[],
                        ${chunk.map((r) => r.type)}::text[], ${chunk.map((r) => r.eventIds.join(','))}::text[],
                        ${chunk.map(() => generateWebhookMessageId())}::text[], ${chunk.map((r) => r.body)}::text[])
              AS v(id, account_id, endpoint_id, event_type, event_ids, msg_id, payload)`.execute(trx);
        }
        await sql`UPDATE events SET dispatched_at = now() WHERE id IN (${sql.join(events.map((e) => sql`${e.id}`))})`.execute(trx);
        return { events: events.length, deliveries: rows.length };
      });
    },

    /**
     * One cycle of a worker: records its finished attempts (the attempt log and each delivery's
     * new state, only while this worker still holds it), then claims up to `claimLimit` due
     * deliveries. Recording first frees the endpoints' slots this worker's attempts held, so the
     * claim sees the in-flight counts as they now are. Both run in one call of `webhook_cycle`
     * (migration 0013): one round trip, where a transaction of five statements waited behind
     * the worker's HTTP traffic at each of its five. The rare cycle that changes an endpoint's
     * health writes it first, in the same transaction.
     */
    async exchange(input: ExchangeInput): Promise<ExchangeResult> {
      const claiming = input.claimLimit > 0;
      if (input.attempts.length === 0 && !claiming) return { claimed: [], disabled: [] };
      const { healthy, failing, disable } = input.health;
      if (healthy.length === 0 && failing.length === 0 && disable.length === 0) {
        return { claimed: await cycle(db, input), disabled: [] };
      }
      return db.transaction().execute(async (trx) => {
        const disabled = await writeEndpointHealth(trx, input.health);
        return { claimed: await cycle(trx, input), disabled };
      });
    },

    /** Claims due deliveries without recording anything (see `exchange`). */
    async claim(workerId: string, limit: number, maxPerEndpoint: number, leaseMs: number): Promise<ClaimedDelivery[]> {
      return (await this.exchange({ workerId, attempts: [], health: NO_HEALTH_CHANGES, claimLimit: limit, maxPerEndpoint, leaseMs })).claimed;
    },

    /** Gives claimed deliveries back (graceful shutdown) without counting the attempt. */
    async release(workerId: string, ids?: readonly string[]): Promise<number> {
      let q = db
        .updateTable('webhook_deliveries')
        .set((eb) => ({ status: 'pending', locked_by: null, locked_until: null, attempts: eb('attempts', '-', 1), updated_at: new Date() }))
        .where('locked_by', '=', workerId)
        .where('status', '=', 'delivering');
      if (ids) {
        if (ids.length === 0) return 0;
        q = q.where('id', 'in', ids);
      }
      const result = await q.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /**
     * Deliveries whose worker died (lease expired) are due again now. The attempt stays
     * counted: it may have reached the receiver, which deduplicates by webhook-id.
     */
    async requeueExpired(): Promise<number> {
      const result = await sql`UPDATE webhook_deliveries
                               SET status = 'pending', next_attempt_at = now(), locked_by = NULL, locked_until = NULL, updated_at = now()
                               WHERE status = 'delivering' AND locked_until < now()`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },
  };
}

export interface EndpointHealthChanges {
  /** Endpoints whose failure streak a success ended. */
  healthy: readonly string[];
  /** Endpoints whose first failure since a success this is. */
  failing: ReadonlyArray<{ id: string; since: Date }>;
  disable: ReadonlyArray<{ id: string; reason: DisabledReason }>;
}

const NO_HEALTH_CHANGES: EndpointHealthChanges = { healthy: [], failing: [], disable: [] };

export interface ExchangeInput {
  workerId: string;
  attempts: readonly AttemptRecord[];
  health: EndpointHealthChanges;
  claimLimit: number;
  maxPerEndpoint: number;
  leaseMs: number;
}

export interface ExchangeResult {
  claimed: ClaimedDelivery[];
  /** Endpoints the recorded attempts disabled, for the caller to log the notice. */
  disabled: Array<{ id: string; account_id: string; url: string; reason: DisabledReason }>;
}

/**
 * Runs `webhook_cycle` (migration 0013): records `input.attempts`, then, under the claim lock,
 * claims up to `claimLimit` due deliveries for the worker, never letting an endpoint have more
 * than `maxPerEndpoint` deliveries in flight across all workers (each enabled endpoint offers at
 * most its free slots, oldest due first, so a slow receiver fills its own slots and the others
 * keep flowing); rows are taken FOR UPDATE SKIP LOCKED. The attempts travel as one JSON text:
 * serialised natively, where arrays of parameters were escaped element by element in JavaScript.
 */
async function cycle(q: Kysely<DB>, input: ExchangeInput): Promise<ClaimedDelivery[]> {
  const attempts = JSON.stringify(
    input.attempts.map((a) => ({
      id: newTimeOrderedId(),
      delivery_id: a.deliveryId,
      attempt: a.attempt,
      attempted_at: a.attemptedAt,
      outcome: a.outcome,
      status_code: a.statusCode,
      latency_ms: a.latencyMs,
      error: a.error,
      response_snippet: a.responseSnippet,
      status: a.status,
      next_attempt_at: a.nextAttemptAt,
    })),
  );
  const result = await sql<ClaimedDelivery>`
    SELECT * FROM webhook_cycle(${input.workerId}, ${attempts}::json, ${Math.max(0, input.claimLimit)}::int, ${input.maxPerEndpoint}::int,
                                ${input.leaseMs / 1000}::float8, ${CLAIM_LOCK_KEY}::bigint)`.execute(q);
  return result.rows;
}

/** Writes the endpoints' health changes of a cycle; returns the endpoints this disabled. */
async function writeEndpointHealth(trx: Kysely<DB>, health: EndpointHealthChanges): Promise<ExchangeResult['disabled']> {
  if (health.healthy.length > 0) {
    await sql`UPDATE webhook_endpoints SET failing_since = NULL
              WHERE id = ANY(${sql.val(health.healthy)}::uuid[]) AND failing_since IS NOT NULL`.execute(trx);
  }
  for (const { id, since } of health.failing) {
    await sql`UPDATE webhook_endpoints SET failing_since = ${since} WHERE id = ${id} AND failing_since IS NULL`.execute(trx);
  }
  const disabled: ExchangeResult['disabled'] = [];
  for (const { id, reason } of health.disable) {
    const row = await trx
      .updateTable('webhook_endpoints')
      .set({ enabled: false, disabled_reason: reason, disabled_at: new Date(), updated_at: new Date() })
      .where('id', '=', id)
      .where('enabled', '=', true)
      .returning(['id', 'account_id', 'url'])
      .executeTakeFirst();
    if (row) disabled.push({ ...row, reason });
  }
  return disabled;
}
