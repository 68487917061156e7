import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { LookupAddress } from 'node:dns';
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { WebhooksConfig } from '../../config.js';
import type { DB } from '../../db/tables.js';
import type { SecretBox } from '../../lib/secret-box.js';
import { createWebhookDeliveryRepo, type AttemptRecord, type ClaimedDelivery, type EndpointHealthChanges } from './webhook-delivery.repo.js';
import { createConnectionPool, deliverWebhook, type DeliveryResult } from './webhook-http.js';
import { endpointHealthAfter, planNextStep } from './webhook-retry.js';
import { signPayload } from './webhook-signing.js';
import type { DisabledReason } from './webhooks.tables.js';

/** Response bytes read per attempt; the first 1 KiB is kept in the log. */
const MAX_RESPONSE_BYTES = 64 * 1024;
/** Finished attempts recorded, and due deliveries claimed, per cycle at most. */
const MAX_RECORDED_PER_CYCLE = 1_000;
const MAX_CLAIMED_PER_CYCLE = 500;
/** How long, and for how many endpoints' secrets, a decrypted signing secret is kept in memory. */
const SECRET_CACHE_MS = 60_000;
const SECRET_CACHE_SIZE = 1_000;

export interface WebhookWorkerOptions {
  db: Kysely<DB>;
  secretBox: () => SecretBox;
  log: FastifyBaseLogger;
  config: WebhooksConfig;
  allowPrivateNetworks: boolean;
  /** How often idle loops look for new events and due deliveries. */
  pollIntervalMs?: number;
  /** Events locked per fan-out pass. */
  fanOutBatch?: number;
  /** Scales every retry delay (tests use a tiny factor instead of sleeping for real backoffs). */
  retryDelayScale?: number;
  /** Replaces DNS resolution (tests). */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
}

/**
 * The webhook worker of one process: a fan-out loop (outbox events → deliveries) and a
 * delivery loop whose every cycle is one transaction that records the attempts finished since
 * the last cycle and claims due deliveries for the slots free now; the claimed ones are signed
 * and POSTed while the next cycle runs. Any number of processes run one each; all coordination
 * is in PostgreSQL (SKIP LOCKED, leases, the per-endpoint in-flight limit in the claim query).
 * Delivery is at least once: a worker that dies mid-attempt leaves its deliveries to be retried
 * when their lease expires, with the same webhook-id.
 */
export function createWebhookWorker(options: WebhookWorkerOptions) {
  const repo = createWebhookDeliveryRepo(options.db);
  const { config, log } = options;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const pollIntervalMs = options.pollIntervalMs ?? 200;
  const leaseMs = config.leaseMs;
  const fanOutBatch = options.fanOutBatch ?? 500;
  const scale = options.retryDelayScale ?? 1;
  // Keep-alive connections per checked address set (webhook-http.ts), closed by stop(). An
  // agent serves every endpoint on its host (of any account), so it may open as many sockets as
  // this worker has attempts in flight: an attempt never queues behind another endpoint's slow
  // or hung requests. The claim's per-endpoint limit is what bounds each endpoint's share.
  const pool = createConnectionPool({ maxSocketsPerAgent: config.concurrency });

  const inFlight = new Map<string, Promise<void>>();
  /** Claimed deliveries whose attempts start after this turn (see `launch`), and those starts. */
  let launching = 0;
  const launches = new Set<Promise<void>>();
  /** Finished attempts not recorded yet (the next cycle records them). */
  let finished: Array<{ record: AttemptRecord; delivery: ClaimedDelivery }> = [];
  let running = false;
  let loops: Promise<void>[] = [];
  // Separate wake-ups: a finished attempt concerns the delivery loop only; new events both.
  const deliveryWakers = new Set<() => void>();
  const fanOutWakers = new Set<() => void>();
  let reaperTimer: NodeJS.Timeout | undefined;

  const wake = (wakers: Set<() => void>) => {
    for (const fn of [...wakers]) fn();
  };
  const wakeAll = () => {
    wake(deliveryWakers);
    wake(fanOutWakers);
  };
  const sleep = (ms: number, wakers: Set<() => void>) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      wakers.add(done);
    });

  // Decrypted signing secrets, briefly, by endpoint and ciphertext: a cache only (a rotated
  // secret has a new ciphertext, so it is never served stale), bounded in size and age.
  const secretCache = new Map<string, { secret: string; until: number }>();
  function openSecret(sealed: string, endpointId: string, nowMs: number): string {
    const key = `${endpointId}:${sealed}`;
    const hit = secretCache.get(key);
    if (hit && hit.until > nowMs) return hit.secret;
    const secret = options.secretBox().open(sealed, endpointId);
    secretCache.delete(key);
    if (secretCache.size >= SECRET_CACHE_SIZE) secretCache.delete(secretCache.keys().next().value as string);
    secretCache.set(key, { secret, until: nowMs + SECRET_CACHE_MS });
    return secret;
  }

  function secretsOf(d: ClaimedDelivery, now: Date): string[] {
    const nowMs = now.getTime();
    const secrets = [openSecret(d.secret_encrypted, d.endpoint_id, nowMs)];
    if (d.previous_secret_encrypted && d.previous_secret_expires_at && d.previous_secret_expires_at > now) {
      secrets.push(openSecret(d.previous_secret_encrypted, d.endpoint_id, nowMs));
    }
    return secrets;
  }

  async function attempt(d: ClaimedDelivery): Promise<void> {
    const attemptedAt = new Date();
    let result: DeliveryResult;
    try {
      const headers = signPayload({ msgId: d.msg_id, timestamp: attemptedAt, body: d.payload, secrets: secretsOf(d, attemptedAt) });
      result = await deliverWebhook({
        url: d.url,
        body: d.payload,
        headers,
        timeoutMs: config.timeoutMs,
        maxResponseBytes: MAX_RESPONSE_BYTES,
        allowPrivateNetworks: options.allowPrivateNetworks,
        pool,
        ...(options.resolve ? { resolve: options.resolve } : {}),
      });
    } catch (err) {
      // Signing failed (undecryptable secret): a failure like any other, never the secret in the log.
      log.error({ deliveryId: d.id, endpointId: d.endpoint_id, err: { message: err instanceof Error ? err.message : String(err) } }, 'webhook could not be signed');
      result = { outcome: 'failure', latencyMs: 0, error: 'internal: the delivery could not be signed' };
    }
    const now = new Date();
    const next = planNextStep({ outcome: result.outcome, attemptNumber: d.attempts, retryAfterSeconds: result.retryAfterSeconds, now });
    const record: AttemptRecord = {
      deliveryId: d.id,
      attempt: d.attempts,
      attemptedAt,
      outcome: result.outcome,
      statusCode: result.status ?? null,
      latencyMs: result.latencyMs,
      error: result.error?.slice(0, 1000) ?? null,
      responseSnippet: result.responseSnippet ?? null,
      status: next.action === 'delivered' ? 'delivered' : next.action === 'retry' ? 'pending' : 'failed',
      nextAttemptAt: next.action === 'retry' ? new Date(now.getTime() + Math.round(next.delayMs * scale)) : null,
    };
    finished.push({ record, delivery: d });
  }

  /**
   * The endpoints' health changes a batch of attempts makes, from the last attempt per endpoint:
   * written only where it differs from what the claim saw (a success after failures, a first
   * failure, a disable), so a healthy endpoint's cycles touch no endpoint row.
   */
  function healthChanges(batch: ReadonlyArray<{ record: AttemptRecord; delivery: ClaimedDelivery }>): EndpointHealthChanges {
    const last = new Map<string, { record: AttemptRecord; delivery: ClaimedDelivery }>();
    for (const item of batch) last.set(item.delivery.endpoint_id, item);
    const healthy: string[] = [];
    const failing: Array<{ id: string; since: Date }> = [];
    const disable: Array<{ id: string; reason: DisabledReason }> = [];
    for (const [endpointId, { record, delivery }] of last) {
      const health = endpointHealthAfter({ outcome: record.outcome, firstFailureAt: delivery.failing_since, now: record.attemptedAt });
      if (health.firstFailureAt === null) {
        if (delivery.failing_since !== null) healthy.push(endpointId);
      } else if (delivery.failing_since === null) {
        failing.push({ id: endpointId, since: health.firstFailureAt });
      }
      if (health.disable && health.reason) disable.push({ id: endpointId, reason: health.reason });
    }
    return { healthy, failing, disable };
  }

  /**
   * Starts the attempts of claimed deliveries. `deferred`: after the current turn of the event
   * loop, so that the delivery loop's next cycle is sent to the database first; starting a
   * hundred requests takes milliseconds, which the next cycle would otherwise wait out.
   */
  function launch(claimed: ClaimedDelivery[], deferred: boolean): void {
    const start = () => {
      for (const d of claimed) {
        const p = attempt(d).finally(() => {
          inFlight.delete(d.id);
          wake(deliveryWakers);
        });
        inFlight.set(d.id, p);
      }
    };
    if (!deferred) return start();
    launching += claimed.length;
    const started = new Promise<void>((resolve) =>
      setImmediate(() => {
        launching -= claimed.length;
        start();
        resolve();
      }),
    );
    launches.add(started);
    void started.finally(() => launches.delete(started));
  }

  /**
   * One cycle: records the finished attempts and, when `claim`, claims due deliveries for the
   * free slots and starts their attempts. Returns how many it claimed.
   */
  async function cycle(claim: boolean, deferLaunch = false): Promise<number> {
    const batch = finished.slice(0, MAX_RECORDED_PER_CYCLE);
    finished = finished.slice(batch.length);
    const free = claim ? Math.max(0, Math.min(MAX_CLAIMED_PER_CYCLE, config.concurrency - inFlight.size - launching)) : 0;
    let claimed: ClaimedDelivery[] = [];
    try {
      const result = await repo.exchange({
        workerId,
        attempts: batch.map((b) => b.record),
        health: healthChanges(batch),
        claimLimit: Math.max(0, free),
        maxPerEndpoint: config.maxInFlightPerEndpoint,
        leaseMs,
      });
      claimed = result.claimed;
      for (const endpoint of result.disabled) {
        log.warn(
          { endpointId: endpoint.id, accountId: endpoint.account_id, url: endpoint.url, reason: endpoint.reason },
          endpoint.reason === 'gone'
            ? 'webhook endpoint disabled: the receiver answered 410 Gone'
            : 'webhook endpoint disabled: it has failed without a success for more than 5 days',
        );
      }
    } catch (err) {
      // The leases expire and the deliveries are attempted again: nothing is lost.
      log.error({ err }, batch.length > 0 ? 'could not record webhook attempts' : 'webhook claim failed');
    }
    if (claimed.length > 0) launch(claimed, deferLaunch);
    return claimed.length;
  }

  /** Records what is left (shutdown, tests), without claiming. */
  async function recordFinished(): Promise<void> {
    while (finished.length > 0) await cycle(false);
  }

  async function fanOutOnce(): Promise<number> {
    let total = 0;
    for (;;) {
      const { events, deliveries } = await repo.fanOut(fanOutBatch, config.batchWindowMs);
      total += deliveries;
      if (events < fanOutBatch) return total;
    }
  }

  async function fanOutLoop(): Promise<void> {
    while (running) {
      try {
        if ((await fanOutOnce()) > 0) wake(deliveryWakers);
      } catch (err) {
        log.error({ err }, 'webhook fan-out failed');
      }
      if (running) await sleep(pollIntervalMs, fanOutWakers);
    }
  }

  /**
   * Cycles back to back while there is something to record or deliveries were claimed; rests
   * (until an attempt finishes, events arrive or the poll interval passes) when neither. Attempts
   * that finish during a cycle are recorded by the next, so under load each cycle records and
   * claims in batches without waiting on a timer.
   */
  async function deliveryLoop(): Promise<void> {
    while (running) {
      const claimed = await cycle(true, true);
      if (!running) break;
      if (finished.length > 0) continue;
      if (claimed > 0 && inFlight.size + launching < config.concurrency) continue;
      await sleep(pollIntervalMs, deliveryWakers);
    }
  }

  return {
    workerId,
    start(): void {
      if (running) return;
      running = true;
      loops = [fanOutLoop(), deliveryLoop()];
      reaperTimer = setInterval(() => {
        repo.requeueExpired().catch((err: unknown) => log.warn({ err }, 'webhook lease reaper failed'));
      }, Math.max(250, Math.min(leaseMs / 2, 30_000)));
      reaperTimer.unref();
    },
    /** Wakes the loops now (after events were written) instead of at the next poll. */
    poke: wakeAll,
    /**
     * Stops claiming, lets attempts in flight finish (each is bounded by the attempt timeout),
     * records them, and gives back anything still claimed by this worker.
     */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      clearInterval(reaperTimer);
      wakeAll();
      await Promise.allSettled(loops);
      await Promise.allSettled([...launches]);
      await Promise.allSettled([...inFlight.values()]);
      await recordFinished();
      pool.destroy();
      secretCache.clear();
      try {
        await repo.release(workerId);
      } catch (err) {
        log.warn({ err }, 'could not release claimed webhook deliveries; their leases will expire');
      }
    },
    /** Tests and the CLI: fan out and deliver until nothing is due now. */
    async drain(): Promise<void> {
      for (;;) {
        await fanOutOnce();
        const claimed = await cycle(true);
        await Promise.allSettled([...inFlight.values()]);
        await recordFinished();
        if (claimed === 0 && inFlight.size === 0) return;
      }
    },
    /** Tests: requeue deliveries whose lease expired. */
    requeueExpired: () => repo.requeueExpired(),
  };
}

export type WebhookWorker = ReturnType<typeof createWebhookWorker>;
