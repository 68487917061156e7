import { hostname } from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { FastifyBaseLogger } from 'fastify';
import type { DB } from '../db/tables.js';
import { createJobsRepo, type JobRow } from './jobs.repo.js';

export interface JobContext {
  job: JobRow;
  /** Set when the runner is stopping: long handlers should checkpoint and return. */
  signal: AbortSignal;
}

/** Throw to retry at a chosen time instead of the default backoff. */
export class RetryJobError extends Error {
  constructor(message: string, readonly runAt: Date) {
    super(message);
  }
}

/** Throw when retrying cannot help (bad payload): the job is marked failed at once. */
export class PermanentJobError extends Error {}

export type JobHandler = (payload: unknown, context: JobContext) => Promise<void>;

export interface JobRunnerOptions {
  db: Kysely<DB>;
  handlers: Record<string, JobHandler>;
  log: FastifyBaseLogger;
  concurrency?: number;
  pollIntervalMs?: number;
  leaseMs?: number;
}

/** Exponential backoff with jitter: ~1 s, 2 s, 4 s ... capped at 10 minutes. */
export function backoffMs(attempt: number): number {
  const base = Math.min(600_000, 1000 * 2 ** Math.max(0, attempt - 1));
  return Math.round(base * (0.8 + Math.random() * 0.4));
}

/**
 * Runs jobs from the PostgreSQL queue. Any number of runners (in any number of processes) can
 * share one queue: claims use SKIP LOCKED and leases; a runner that dies leaves its jobs to be
 * requeued when their lease expires, so every handler must be safe to run twice.
 */
export function createJobRunner(options: JobRunnerOptions) {
  const repo = createJobsRepo(options.db);
  const workerId = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const kinds = Object.keys(options.handlers);
  const concurrency = options.concurrency ?? 8;
  const pollIntervalMs = options.pollIntervalMs ?? 250;
  const leaseMs = options.leaseMs ?? 60_000;
  const inFlight = new Map<string, Promise<void>>();
  const abort = new AbortController();
  let running = false;
  let loop: Promise<void> | undefined;
  let wake: (() => void) | undefined;
  let heartbeatTimer: NodeJS.Timeout | undefined;
  let reaperTimer: NodeJS.Timeout | undefined;

  /** Jobs given back by stop(): their handlers' late outcomes must not be recorded. */
  const released = new Set<string>();

  async function runOne(job: JobRow): Promise<void> {
    const handler = options.handlers[job.kind];
    try {
      if (!handler) throw new PermanentJobError(`no handler for job kind ${job.kind}`);
      await handler(job.payload, { job, signal: abort.signal });
      if (released.has(job.id)) return;
      await repo.complete(job.id, workerId);
    } catch (err) {
      if (released.has(job.id)) return;
      const message = err instanceof Error ? err.message : String(err);
      try {
        if (abort.signal.aborted && !(err instanceof PermanentJobError) && !(err instanceof RetryJobError)) {
          // Interrupted by shutdown (the handler saw the signal and gave up): not a failure.
          // The job goes back to the queue at once, without counting the attempt.
          await repo.release([job.id], workerId);
        } else if (err instanceof RetryJobError) {
          await repo.retryLater(job.id, workerId, err.runAt, message);
        } else if (err instanceof PermanentJobError || job.attempts >= job.max_attempts) {
          options.log.error({ err, jobId: job.id, kind: job.kind }, 'job failed permanently');
          await repo.fail(job.id, workerId, message);
        } else {
          options.log.warn({ err, jobId: job.id, kind: job.kind, attempt: job.attempts }, 'job failed; will retry');
          await repo.retryLater(job.id, workerId, new Date(Date.now() + backoffMs(job.attempts)), message);
        }
      } catch (recordErr) {
        // The lease will expire and the job will be retried: nothing is lost.
        options.log.error({ err: recordErr, jobId: job.id }, 'could not record job outcome');
      }
    }
  }

  async function tick(): Promise<number> {
    const free = concurrency - inFlight.size;
    if (free <= 0) return 0;
    const jobs = await repo.claim(workerId, kinds, free, leaseMs);
    for (const job of jobs) {
      const p = runOne(job).finally(() => {
        inFlight.delete(job.id);
        wake?.();
      });
      inFlight.set(job.id, p);
    }
    return jobs.length;
  }

  async function mainLoop(): Promise<void> {
    while (running) {
      let claimed = 0;
      try {
        claimed = await tick();
      } catch (err) {
        options.log.error({ err }, 'job queue poll failed');
      }
      if (!running) break;
      if (claimed === 0 || inFlight.size >= concurrency) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, pollIntervalMs);
          wake = () => {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          };
        });
      }
    }
  }

  return {
    workerId,
    start(): void {
      if (running || kinds.length === 0) return;
      running = true;
      loop = mainLoop();
      heartbeatTimer = setInterval(() => {
        repo.heartbeat([...inFlight.keys()], workerId, leaseMs).catch((err) => options.log.warn({ err }, 'job heartbeat failed'));
      }, Math.max(1000, leaseMs / 3));
      reaperTimer = setInterval(() => {
        repo.requeueExpired().catch((err) => options.log.warn({ err }, 'job reaper failed'));
      }, Math.max(1000, leaseMs / 2));
      heartbeatTimer.unref();
      reaperTimer.unref();
    },
    /** Wakes the loop now (after this process enqueued work) instead of at the next poll. */
    poke(): void {
      wake?.();
    },
    /**
     * Stops claiming and lets running handlers finish (they see `signal.aborted` and should
     * checkpoint). Handlers still running after `graceMs` have their jobs released: the claim is
     * dropped (attempt not counted) so another worker takes them at once instead of waiting for
     * the lease to expire; whatever such a handler does later is not recorded.
     */
    async stop(graceMs = 20_000): Promise<void> {
      if (!running) return;
      running = false;
      abort.abort();
      wake?.();
      clearInterval(heartbeatTimer);
      clearInterval(reaperTimer);
      await loop;
      let timer: NodeJS.Timeout | undefined;
      const grace = new Promise<'timeout'>((resolve) => {
        timer = setTimeout(() => resolve('timeout'), graceMs);
      });
      const outcome = await Promise.race([Promise.allSettled([...inFlight.values()]).then(() => 'done' as const), grace]);
      clearTimeout(timer);
      if (outcome === 'timeout' && inFlight.size > 0) {
        const ids = [...inFlight.keys()];
        for (const id of ids) released.add(id);
        await repo.release(ids, workerId).catch((err) => options.log.error({ err }, 'could not release jobs at shutdown; their leases will expire'));
        options.log.warn({ jobs: ids.length }, 'shutdown: released jobs whose handlers did not finish in time');
      }
    },
    /** For tests and the CLI: run due jobs until none are left. */
    async drain(): Promise<void> {
      for (;;) {
        const claimed = await tick();
        await Promise.allSettled([...inFlight.values()]);
        if (claimed === 0 && inFlight.size === 0) return;
      }
    },
  };
}

export type JobRunner = ReturnType<typeof createJobRunner>;
