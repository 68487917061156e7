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
     * One cycle of a worker, in one transaction: records its finished attempts, then claims up
     * to `claimLimit` due deliveries. Recording first frees the endpoints' slots this worker's
     * attempts held, so the claim sees the in-flight counts as they now are; one transaction
     * instead of a claim and a record each saves the round trips that, on a loopback socket,
     * cost more than the rows themselves (docs/API-NOTES.md, Webhooks).
     */
    async exchange(input: ExchangeInput): Promise<ExchangeResult> {
      const claiming = input.claimLimit > 0;
      if (input.attempts.length === 0 && !claiming) return { claimed: [], disabled: [] };
      return db.transaction().execute(async (trx) => {
        // A claim or an outcome lost to a database crash only means one more attempt with the
        // same webhook-id (at least once), so the commit need not wait for the WAL flush.
        // Claimers are serialised by a transaction-scoped advisory lock, so the per-endpoint
        // in-flight count a claim reads is the one it acts on.
        const disabled = input.attempts.length > 0 ? await recordAttempts(trx, input.workerId, input.attempts, input.health) : [];
        // The lock is taken after the record, so another cycle of this worker (or another
        // worker) records while this one claims.
        await sql`SELECT set_config('synchronous_commit', 'off', true)${claiming ? sql`, pg_advisory_xact_lock(${CLAIM_LOCK_KEY})` : sql``}`.execute(trx);
        const claimed = claiming ? await claimDue(trx, input.workerId, input.claimLimit, input.maxPerEndpoint, input.leaseMs) : [];
        return { claimed, disabled };
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
 * Claims up to `limit` due deliveries for `workerId`, never letting an endpoint have more than
 * `maxPerEndpoint` deliveries in flight across all workers: each enabled endpoint offers at most
 * its free slots (oldest due first), so a slow receiver fills its own slots and the others keep
 * flowing. Runs under the claim lock (see `exchange`); rows are taken FOR UPDATE SKIP LOCKED.
 */
async function claimDue(trx: Kysely<DB>, workerId: string, limit: number, maxPerEndpoint: number, leaseMs: number): Promise<ClaimedDelivery[]> {
  // Three steps, each on an index: pick the oldest due deliveries of each enabled endpoint (its
  // free slots at most, read from the partial index of pending deliveries, in its order), lock
  // them by primary key, skipping any another transaction holds, and claim them. The status
  // test is on the locked row (the latest version, rechecked after any concurrent change), not
  // on the table, so the planner cannot trade the primary key for a scan of every pending row
  // when statistics are missing.
  const result = await sql<ClaimedDelivery>`
    WITH picked AS (
      SELECT due.id FROM webhook_endpoints ep
      CROSS JOIN LATERAL (
        SELECT count(*)::int AS n FROM webhook_deliveries f WHERE f.endpoint_id = ep.id AND f.status = 'delivering'
      ) busy
      CROSS JOIN LATERAL (
        SELECT p.id, p.next_attempt_at FROM webhook_deliveries p
        WHERE p.endpoint_id = ep.id AND p.status = 'pending' AND p.next_attempt_at <= now()
        ORDER BY p.next_attempt_at
        LIMIT least(${limit}::int, greatest(0, ${maxPerEndpoint}::int - busy.n))
      ) due
      WHERE ep.enabled
      ORDER BY due.next_attempt_at
      LIMIT ${limit}
    ), locked AS (
      SELECT l.id, l.status FROM webhook_deliveries l
      WHERE l.id = ANY(ARRAY(SELECT id FROM picked))
      FOR UPDATE SKIP LOCKED
    )
    UPDATE webhook_deliveries d
    SET status = 'delivering', locked_by = ${workerId},
        locked_until = now() + make_interval(secs => ${leaseMs / 1000}),
        attempts = d.attempts + 1, updated_at = now()
    FROM locked, webhook_endpoints e
    WHERE d.id = locked.id AND locked.status = 'pending' AND e.id = d.endpoint_id
    RETURNING d.id, d.endpoint_id, d.account_id, d.event_type, d.msg_id, d.payload, d.attempts,
              e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at, e.failing_since`.execute(trx);
  return result.rows;
}

/**
 * Records finished attempts: the attempt log and each delivery's new state (only while this
 * worker still holds it) in one statement, then the endpoints' health. Returns the endpoints
 * this disabled.
 */
async function recordAttempts(trx: Kysely<DB>, workerId: string, attempts: readonly AttemptRecord[], health: EndpointHealthChanges): Promise<ExchangeResult['disabled']> {
  // The attempts' columns as arrays (unnest): a dozen parameters whatever the batch size. The
  // deliveries are found by primary key (= ANY): with a join on the unnested rows alone the
  // planner, expecting few rows in flight, walks the lease index once per attempt.
  const column = <T>(pick: (a: AttemptRecord) => T): T[] => attempts.map(pick);
  const ids = column((a) => a.deliveryId);
  await sql`
    WITH v AS (
      SELECT * FROM unnest(${ids}::uuid[], ${column(() => newTimeOrderedId())}::uuid[], ${column((a) => a.attempt)}::int[], ${column((a) => a.attemptedAt)}::timestamptz[],
                           ${column((a) => a.outcome)}::text[], ${column((a) => a.statusCode)}::int[], ${column((a) => a.latencyMs)}::int[],
                           ${column((a) => a.error)}::text[], ${column((a) => a.responseSnippet)}::text[], ${column((a) => a.status)}::text[],
                           ${column((a) => a.nextAttemptAt)}::timestamptz[])
        AS v(delivery_id, attempt_id, attempt, attempted_at, outcome, status_code, latency_ms, error, response_snippet, status, next_attempt_at)
    ), logged AS (
      INSERT INTO webhook_attempts (id, delivery_id, attempt, attempted_at, outcome, status_code, latency_ms, error, response_snippet)
      SELECT attempt_id, delivery_id, attempt, attempted_at, outcome, status_code, latency_ms, error, response_snippet FROM v
    )
    UPDATE webhook_deliveries d
    SET status = v.status, next_attempt_at = v.next_attempt_at, last_status_code = v.status_code, last_latency_ms = v.latency_ms,
        last_error = v.error, last_attempt_at = v.attempted_at,
        delivered_at = CASE WHEN v.status = 'delivered' THEN now() ELSE d.delivered_at END,
        locked_by = NULL, locked_until = NULL, updated_at = now()
    FROM v
    WHERE d.id = ANY(${ids}::uuid[]) AND d.id = v.delivery_id AND d.locked_by = ${workerId} AND d.status = 'delivering'`.execute(trx);

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
