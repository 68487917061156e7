import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { deliveryCode, TEMPORARY_FAILURE } from '../../transports/delivery-codes.js';
import type { OutboundSms, SmsTransport, SubmitResult } from '../../transports/transport.js';
import { hasContacts, refusalFor, rejectedPayload, REFUSAL_TEXT, type Refusal } from './consent.js';
import { recordEvents, type EventInput } from '../events/events.repo.js';
import { applyUnmatchedReports } from './delivery-reports.js';
import { reportStatusText } from './messages.service.js';

/**
 * A transport that lives in the database (the simulator) hands messages over inside the
 * dispatcher's transaction, so the hand-over and the message's new status commit together or not
 * at all: exactly once, whatever process dies when. Its own table is its send ledger: `handOver`
 * must store each message at most once (a unique key on the message id) and answer a repeated
 * hand-over with the first carrier id.
 */
export interface TransactionalTransport extends SmsTransport {
  handOver(trx: Kysely<DB>, batch: ReadonlyArray<OutboundSms & { accountId: string }>): Promise<SubmitResult[]>;
}

export const isTransactional = (t: SmsTransport): t is TransactionalTransport => typeof (t as Partial<TransactionalTransport>).handOver === 'function';

export interface DispatcherOptions {
  db: Kysely<DB>;
  transport: SmsTransport;
  log?: { info(obj: object, msg?: string): void; warn(obj: object, msg?: string): void; error(obj: object, msg?: string): void };
  batchSize?: number;
  concurrency?: number;
  /** Messages per second per sender in this process; 0 = unlimited. */
  senderRatePerSecond?: number;
  maxAttempts?: number;
  leaseMs?: number;
  pollIntervalMs?: number;
  /** A submit that has not answered by then counts as a transient failure of the whole batch; default 120 s. */
  submitTimeoutMs?: number;
  /** Backoff before retry number `attempt` (default: 2 s doubling, capped at 10 min, with jitter). */
  backoffMs?: (attempt: number) => number;
}

interface Claimed {
  id: string;
  account_id: string;
  from: string;
  phone_number: string;
  message: string;
  credits: number;
  attempts: number;
  bypass_consent: boolean;
}

/**
 * Defends against a transport that answers garbage: exactly one well-formed result per message
 * sent, matched by message id; anything missing or malformed is a transient failure (retried),
 * an unknown code on a rejection becomes 139 (unexpected error).
 */
export function normalizeResults(sent: ReadonlyArray<{ messageId: string }>, raw: unknown): SubmitResult[] {
  const byId = new Map<string, SubmitResult>();
  if (Array.isArray(raw)) {
    for (const r of raw as Array<Partial<SubmitResult> | null | undefined>) {
      if (!r || typeof r !== 'object' || typeof r.messageId !== 'string' || byId.has(r.messageId)) continue;
      if (r.ok === true) {
        const ids = (r as { carrierMessageIds?: unknown }).carrierMessageIds;
        const first = (r as { carrierMessageId?: unknown }).carrierMessageId;
        if (typeof first !== 'string' || first === '' || first.length > 200) continue;
        const all = Array.isArray(ids) && ids.length > 0 && ids.every((i) => typeof i === 'string' && i !== '' && i.length <= 200) ? (ids as string[]) : [first];
        byId.set(r.messageId, { messageId: r.messageId, ok: true, carrierMessageId: first, carrierMessageIds: all });
      } else if (r.ok === false) {
        const f = r as { transient?: unknown; code?: unknown; error?: unknown };
        const code = typeof f.code === 'number' && deliveryCode(f.code) ? f.code : 139;
        byId.set(r.messageId, { messageId: r.messageId, ok: false, transient: f.transient === true, code, error: String(f.error ?? 'rejected').slice(0, 500) });
      }
    }
  }
  return sent.map(
    (m) => byId.get(m.messageId) ?? { messageId: m.messageId, ok: false, transient: true, code: TEMPORARY_FAILURE, error: 'the transport gave no valid result for this message' },
  );
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not answer within ${ms} ms`)), ms);
    }),
  ]);
}

/**
 * How a carrier id is stored: external carriers' ids are prefixed with the transport's name
 * (`smpp:host:port/1a2b`), so two carriers (or two SMSCs) never share an id space; the
 * simulator's ids are UUIDs and stored as they are.
 */
export function carrierKey(transport: Pick<SmsTransport, 'name'>, id: string): string {
  return isTransactional(transport as SmsTransport) ? id : `${transport.name}/${id}`;
}

export function defaultBackoffMs(attempt: number): number {
  const base = Math.min(600_000, 2000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/** Token bucket per sender, refilled continuously; one second of burst. */
class SenderLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  constructor(private readonly rate: number) {}
  /** How many of `n` may go now, and when the next one may. */
  take(sender: string, n: number): { granted: number; retryAt: number } {
    if (this.rate <= 0) return { granted: n, retryAt: 0 };
    const now = Date.now();
    const b = this.buckets.get(sender) ?? { tokens: this.rate, at: now };
    b.tokens = Math.min(this.rate, b.tokens + ((now - b.at) / 1000) * this.rate);
    b.at = now;
    const granted = Math.max(0, Math.min(n, Math.floor(b.tokens)));
    b.tokens -= granted;
    this.buckets.set(sender, b);
    return { granted, retryAt: now + Math.ceil(((granted < n ? 1 : 0) / this.rate) * 1000) + 1 };
  }
}

/**
 * The dispatcher: claims due messages (queued, or scheduled and now due) from the messages table
 * in batches with FOR UPDATE SKIP LOCKED and a lease, so any number of loops in any number of
 * processes share the work; checks consent again (a STOP may have arrived since acceptance);
 * applies the per-sender rate; hands the batch to the transport; records carrier ids; retries
 * transient failures with backoff; refunds what was not sent.
 *
 * A send ledger makes the hand-over happen at most once. For an external carrier it is the
 * message row's claim: `status = 'sending'` with this worker's id and a lease, committed before
 * the carrier is contacted, so a message whose worker died after that point is "in doubt" and is
 * not handed over again (README/API-NOTES). For the simulator it is the simulator's own table,
 * keyed by message id and written in the hand-over's transaction.
 */
export function createDispatcher(options: DispatcherOptions) {
  const { db, transport } = options;
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const batchSize = options.batchSize ?? 1000;
  const concurrency = options.concurrency ?? 2;
  const maxAttempts = options.maxAttempts ?? 10;
  const leaseMs = options.leaseMs ?? 60_000;
  const pollIntervalMs = options.pollIntervalMs ?? 50;
  const backoff = options.backoffMs ?? defaultBackoffMs;
  const submitTimeoutMs = options.submitTimeoutMs ?? 120_000;
  const limiter = new SenderLimiter(options.senderRatePerSecond ?? 0);
  const transactional = isTransactional(transport);
  let running = false;
  let loops: Array<Promise<void>> = [];
  const wakers = new Set<() => void>();
  let reaperTimer: NodeJS.Timeout | undefined;

  async function claim(limit: number, q: Kysely<DB>): Promise<Claimed[]> {
    const result = await sql<Claimed>`
      UPDATE messages SET status = 'sending', claimed_by = ${workerId},
             lease_until = now() + make_interval(secs => ${leaseMs / 1000}), attempts = attempts + 1, updated_at = now()
      WHERE id IN (
        SELECT id FROM messages
        WHERE status IN ('queued', 'scheduled') AND next_attempt_at <= now()
        ORDER BY next_attempt_at
        LIMIT ${limit}
        FOR UPDATE SKIP LOCKED
      )
      RETURNING id, account_id, "from", phone_number, message, credits, attempts, bypass_consent`.execute(q);
    return result.rows;
  }

  /** Messages whose contact may no longer be texted (a STOP or a bounce since they were accepted). */
  async function refusals(batch: Claimed[], q: Kysely<DB> = db): Promise<Map<string, Refusal>> {
    const out = new Map<string, Refusal>();
    const check = batch.filter((m) => !m.bypass_consent);
    if (check.length === 0 || !(await hasContacts(q))) return out;
    // One index probe per message ((account_id, phone_number) is unique; LIMIT 1 keeps the
    // planner from turning a 1,000-key batch into a parallel scan of every contact).
    const rows = await sql<{ account_id: string; phone_number: string; status: 'pending' | 'subscribed' | 'unsubscribed'; carrier_status: 'active' | 'suspended' | 'deactivated'; bounces: number }>`
      SELECT c.account_id, c.phone_number, c.status, c.carrier_status, c.bounces
      FROM unnest(${sql.val(check.map((m) => m.account_id))}::uuid[], ${sql.val(check.map((m) => m.phone_number))}::text[]) AS k(account_id, phone_number)
      CROSS JOIN LATERAL (
        SELECT c.account_id, c.phone_number, c.status, c.carrier_status, c.bounces FROM contacts c
        WHERE c.account_id = k.account_id AND c.phone_number = k.phone_number LIMIT 1
      ) c
      WHERE c.status <> 'subscribed' OR c.carrier_status = 'deactivated' OR c.bounces >= 3`.execute(q);
    const refused = new Map(rows.rows.map((r) => [`${r.account_id}|${r.phone_number}`, refusalFor(r)]));
    for (const m of check) {
      const refusal = refused.get(`${m.account_id}|${m.phone_number}`);
      if (refusal) out.set(m.id, refusal);
    }
    return out;
  }

  /**
   * Marks messages failed (with an optional receipt code), refunds them and records rejection
   * events — only those still waiting to go: one canceled meanwhile (a campaign stopped between
   * this worker's claim and now) was refunded by whoever canceled it, and is left alone.
   */
  async function fail(trx: Kysely<DB>, items: Array<{ m: Claimed; code: number | null; description: string }>): Promise<void> {
    if (items.length === 0) return;
    const updated = await sql<{ id: string }>`
      UPDATE messages m SET status = 'failed', receipt_code = f.code, receipt_text = f.description,
             receipt_at = CASE WHEN f.code IS NULL THEN NULL ELSE now() END, last_error = f.description,
             lease_until = NULL, claimed_by = NULL, updated_at = now()
      FROM unnest(${sql.val(items.map((i) => i.m.id))}::uuid[], ${sql.val(items.map((i) => i.code))}::int[], ${sql.val(items.map((i) => i.description))}::text[])
        AS f(id, code, description)
      WHERE m.id = f.id AND m.status IN ('queued', 'scheduled', 'sending')
      RETURNING m.id`.execute(trx);
    const failed = new Set(updated.rows.map((r) => r.id));
    const settled = items.filter((i) => failed.has(i.m.id));
    const refunds = new Map<string, number>();
    for (const { m } of settled) refunds.set(m.account_id, (refunds.get(m.account_id) ?? 0) + m.credits);
    for (const [accountId, credits] of refunds) {
      if (credits > 0) await sql`UPDATE accounts SET credit_balance = credit_balance + ${credits}, updated_at = now() WHERE id = ${accountId}`.execute(trx);
    }
    if (settled.length === 0) return;
    await recordEvents(
      trx,
      settled.map(({ m, code, description }) => ({ accountId: m.account_id, type: 'rejected_message', payload: rejectedPayload(code, m.message, description) }) as EventInput),
    );
  }

  async function release(items: Array<{ m: Claimed; at: number; countAttempt: boolean; error?: string }>, q: Kysely<DB> = db): Promise<void> {
    if (items.length === 0) return;
    await sql`
      UPDATE messages m SET status = 'queued', next_attempt_at = r.at, lease_until = NULL, claimed_by = NULL,
             attempts = CASE WHEN r.count THEN m.attempts ELSE m.attempts - 1 END, last_error = COALESCE(r.error, m.last_error), updated_at = now()
      FROM unnest(${sql.val(items.map((i) => i.m.id))}::uuid[], ${sql.val(items.map((i) => new Date(i.at).toISOString()))}::timestamptz[],
                  ${sql.val(items.map((i) => i.countAttempt))}::bool[], ${sql.val(items.map((i) => i.error ?? null))}::text[]) AS r(id, at, count, error)
      WHERE m.id = r.id AND m.status = 'sending'`.execute(q);
  }

  async function markSent(trx: Kysely<DB>, raw: Array<Extract<SubmitResult, { ok: true }>>, countAttempt = false): Promise<void> {
    if (raw.length === 0) return;
    const ok = raw.map((r) => ({ ...r, carrierMessageId: carrierKey(transport, r.carrierMessageId), carrierMessageIds: r.carrierMessageIds.map((id) => carrierKey(transport, id)) }));
    await sql`
      UPDATE messages m SET status = 'sent', carrier_message_id = s.cid, sent_at = clock_timestamp(), lease_until = NULL, claimed_by = NULL, updated_at = now(),
             attempts = m.attempts + ${countAttempt ? 1 : 0}
      FROM unnest(${sql.val(ok.map((r) => r.messageId))}::uuid[], ${sql.val(ok.map((r) => r.carrierMessageId))}::text[]) AS s(id, cid)
      WHERE m.id = s.id`.execute(trx);
    const parts = ok.flatMap((r) => r.carrierMessageIds.slice(1).map((cid, i) => ({ message_id: r.messageId, part: i + 2, carrier_message_id: cid })));
    for (let i = 0; i < parts.length; i += 1000) {
      await trx.insertInto('message_parts').values(parts.slice(i, i + 1000)).onConflict((oc) => oc.doNothing()).execute();
    }
  }

  /** Settles the results of an external hand-over. */
  async function settle(byId: Map<string, Claimed>, results: SubmitResult[]): Promise<void> {
    const ok = results.filter((r): r is Extract<SubmitResult, { ok: true }> => r.ok);
    const retry: Array<{ m: Claimed; at: number; countAttempt: boolean; error: string }> = [];
    const failed: Array<{ m: Claimed; code: number | null; description: string }> = [];
    for (const r of results) {
      if (r.ok) continue;
      const m = byId.get(r.messageId)!;
      if (r.transient && m.attempts < maxAttempts) retry.push({ m, at: Date.now() + backoff(m.attempts), countAttempt: true, error: r.error });
      else failed.push({ m, code: r.transient ? TEMPORARY_FAILURE : r.code, description: `${reportStatusText(r.transient ? TEMPORARY_FAILURE : r.code)} (${r.error})` });
    }
    await db.transaction().execute(async (trx) => {
      await markSent(trx, ok);
      if (ok.length > 0) {
        await applyUnmatchedReports(
          trx,
          ok.flatMap((r) => r.carrierMessageIds.map((id) => carrierKey(transport, id))),
          ok.map((r) => r.messageId),
        );
      }
      await fail(trx, failed);
      // "Not known to be accepted": queued again, so the retry may hand it over again.
      await release(retry, trx);
    });
  }

  /**
   * In-database transports (the simulator): claim, consent check, hand-over, ledger and new
   * status in ONE transaction. The rows stay locked (SKIP LOCKED keeps other workers off them)
   * until it commits; a crash rolls all of it back, so no lease is needed and each row is
   * written once instead of twice.
   */
  async function dispatchInOneTransaction(limit: number): Promise<number> {
    const t = transport as TransactionalTransport;
    return db.transaction().execute(async (trx) => {
      // Everything this transaction does, the hand-over included, lives in this database: a commit
      // lost to a database crash loses the hand-over with it (the message is simply due again), so
      // the commit need not wait for the WAL flush.
      await sql`SET LOCAL synchronous_commit = off`.execute(trx);
      const claimed = (
        await sql<Claimed>`
          SELECT id, account_id, "from", phone_number, message, credits, attempts + 1 AS attempts, bypass_consent FROM messages
          WHERE status IN ('queued', 'scheduled') AND next_attempt_at <= now()
          ORDER BY next_attempt_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED`.execute(trx)
      ).rows;
      if (claimed.length === 0) return 0;
      const refused = await refusals(claimed, trx);
      const { ready, later } = pace(claimed, refused);
      if (refused.size > 0) {
        await fail(trx, claimed.filter((m) => refused.has(m.id)).map((m) => ({ m, code: null, description: REFUSAL_TEXT[refused.get(m.id)!].description })));
      }
      if (later.length > 0) {
        await sql`UPDATE messages m SET next_attempt_at = r.at, updated_at = now()
          FROM unnest(${sql.val(later.map((i) => i.m.id))}::uuid[], ${sql.val(later.map((i) => new Date(i.at).toISOString()))}::timestamptz[]) AS r(id, at)
          WHERE m.id = r.id`.execute(trx);
      }
      if (ready.length === 0) return claimed.length;
      // The transport's own table is the ledger here (see TransactionalTransport): no send_ledger row.
      const toSend = ready;
      const results = normalizeResults(
        toSend.map((m) => ({ messageId: m.id })),
        await t.handOver(trx, toSend.map((m) => ({ messageId: m.id, accountId: m.account_id, from: m.from, to: m.phone_number, text: m.message }))),
      );
      await markSent(trx, results.filter((r): r is Extract<SubmitResult, { ok: true }> => r.ok), true);
      const byId = new Map(toSend.map((m) => [m.id, m]));
      const retry: Array<{ m: Claimed; at: number; error: string }> = [];
      const failed: Array<{ m: Claimed; code: number | null; description: string }> = [];
      for (const r of results) {
        if (r.ok) continue;
        const m = byId.get(r.messageId)!;
        if (r.transient && m.attempts < maxAttempts) retry.push({ m, at: Date.now() + backoff(m.attempts), error: r.error });
        else failed.push({ m, code: r.transient ? TEMPORARY_FAILURE : r.code, description: `${reportStatusText(r.transient ? TEMPORARY_FAILURE : r.code)} (${r.error})` });
      }
      if (failed.length > 0) await fail(trx, failed);
      if (retry.length > 0) {
        await sql`UPDATE messages m SET status = 'queued', next_attempt_at = r.at, attempts = m.attempts + 1, last_error = r.error, updated_at = now()
          FROM unnest(${sql.val(retry.map((i) => i.m.id))}::uuid[], ${sql.val(retry.map((i) => new Date(i.at).toISOString()))}::timestamptz[], ${sql.val(retry.map((i) => i.error))}::text[]) AS r(id, at, error)
          WHERE m.id = r.id`.execute(trx);
      }
      // Refused and failed messages count their attempt too.
      const settled = [...refused.keys(), ...failed.map((f) => f.m.id)];
      if (settled.length > 0) await sql`UPDATE messages SET attempts = attempts + 1 WHERE id = ANY(${sql.val(settled)}::uuid[])`.execute(trx);
      return claimed.length;
    });
  }

  /** Splits a claimed batch into what may go now (per-sender rate) and what must wait. */
  function pace(claimed: Claimed[], refused: Map<string, Refusal>) {
    const ready: Claimed[] = [];
    const later: Array<{ m: Claimed; at: number; countAttempt: boolean }> = [];
    const bySender = new Map<string, Claimed[]>();
    for (const m of claimed) {
      if (refused.has(m.id)) continue;
      const list = bySender.get(m.from) ?? [];
      list.push(m);
      bySender.set(m.from, list);
    }
    for (const [sender, list] of bySender) {
      const { granted, retryAt } = limiter.take(sender, list.length);
      ready.push(...list.slice(0, granted));
      for (const m of list.slice(granted)) later.push({ m, at: retryAt, countAttempt: false });
    }
    return { ready, later };
  }

  async function dispatchOnce(limit = batchSize): Promise<number> {
    if (transactional) return dispatchInOneTransaction(limit);
    // Claim, consent check and pacing in one transaction, committed before the carrier is contacted.
    const { claimed, toSend } = await db.transaction().execute(async (trx) => {
      const claimed = await claim(limit, trx);
      if (claimed.length === 0) return { claimed, toSend: [] };
      const refused = await refusals(claimed, trx);
      const { ready, later } = pace(claimed, refused);
      if (refused.size > 0) {
        await fail(
          trx,
          claimed.filter((m) => refused.has(m.id)).map((m) => ({ m, code: null, description: REFUSAL_TEXT[refused.get(m.id)!].description })),
        );
      }
      await release(later, trx);
      // Committing the claim of `ready` is their ledger entry: from here on they may be handed over.
      return { claimed, toSend: ready };
    });
    if (toSend.length === 0) return claimed.length;

    const outbound = (list: Claimed[]) => list.map((m) => ({ messageId: m.id, from: m.from, to: m.phone_number, text: m.message }));
    let results: SubmitResult[];
    try {
      results = normalizeResults(toSend.map((m) => ({ messageId: m.id })), await withTimeout(transport.submit(outbound(toSend)), submitTimeoutMs, `${transport.name} submit`));
    } catch (err) {
      options.log?.error({ err }, 'transport submit failed; messages will be retried');
      results = toSend.map((m) => ({ messageId: m.id, ok: false, transient: true, code: TEMPORARY_FAILURE, error: (err as Error).message }));
    }
    await settle(new Map(toSend.map((m) => [m.id, m])), results);
    return claimed.length;
  }

  /**
   * Leases that expired: the worker died or stalled after committing its claim, so an external
   * carrier may have the message. It is marked in doubt (receipt 104), stays charged and is not
   * handed over again.
   */
  async function reap(): Promise<{ inDoubt: number }> {
    const result = await sql`
      UPDATE messages SET status = 'sent', receipt_code = 104, receipt_text = ${reportStatusText(104)}, receipt_at = now(),
             last_error = 'in doubt: the worker stopped after claiming the message for the carrier; not sent again',
             lease_until = NULL, claimed_by = NULL, updated_at = now()
      WHERE status = 'sending' AND lease_until < now()`.execute(db);
    return { inDoubt: Number(result.numAffectedRows ?? 0) };
  }

  async function loop(): Promise<void> {
    while (running) {
      let n = 0;
      try {
        n = await dispatchOnce();
      } catch (err) {
        options.log?.error({ err }, 'dispatch failed; retrying');
        await sleep(Math.max(pollIntervalMs, 500));
      }
      if (!running) break;
      if (n === 0) await sleep(pollIntervalMs);
    }
  }

  function sleep(ms: number): Promise<void> {
    return new Promise<void>((resolve) => {
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        wakers.delete(done);
        resolve();
      }
      wakers.add(done);
    });
  }

  return {
    workerId,
    dispatchOnce,
    reap,
    start(): void {
      if (running) return;
      running = true;
      loops = Array.from({ length: concurrency }, () => loop());
      const reapEvery = Math.max(200, Math.min(5000, leaseMs / 4));
      reaperTimer = setInterval(() => {
        reap().catch((err) => options.log?.warn({ err }, 'dispatch reaper failed'));
      }, reapEvery);
      reaperTimer.unref();
      void reap().catch((err) => options.log?.warn({ err }, 'dispatch reaper failed'));
    },
    /** Wakes idle loops now (after this process accepted messages). */
    poke(): void {
      for (const wake of [...wakers]) wake();
    },
    /** Stops claiming and lets in-flight batches finish. */
    async stop(): Promise<void> {
      if (!running) return;
      running = false;
      clearInterval(reaperTimer);
      for (const wake of [...wakers]) wake();
      await Promise.allSettled(loops);
    },
    /** Tests: dispatch until nothing is due. */
    async drain(): Promise<number> {
      let total = 0;
      for (;;) {
        const n = await dispatchOnce();
        total += n;
        if (n === 0) return total;
      }
    },
  };
}

export type Dispatcher = ReturnType<typeof createDispatcher>;
