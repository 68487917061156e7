import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import { newId } from '../lib/ids.js';

export interface JobRow {
  id: string;
  account_id: string | null;
  kind: string;
  payload: unknown;
  attempts: number;
  max_attempts: number;
  run_at: Date;
}

export interface EnqueueInput {
  kind: string;
  payload?: unknown;
  accountId?: string | null;
  runAt?: Date;
  maxAttempts?: number;
  /** Enqueueing twice with the same key creates one job (while the first still exists). */
  dedupeKey?: string;
}

export type JobsRepo = ReturnType<typeof createJobsRepo>;

/** SQL of the job queue. Pass a transaction handle to enqueue atomically with other writes. */
export function createJobsRepo(db: Kysely<DB>) {
  return {
    async enqueue(input: EnqueueInput): Promise<string | null> {
      const row = await db
        .insertInto('jobs')
        .values({
          id: newId(),
          account_id: input.accountId ?? null,
          kind: input.kind,
          payload: JSON.stringify(input.payload ?? {}),
          run_at: input.runAt ?? new Date(),
          max_attempts: input.maxAttempts ?? 10,
          dedupe_key: input.dedupeKey ?? null,
          locked_by: null,
          locked_until: null,
          last_error: null,
        })
        .onConflict((oc) => oc.column('dedupe_key').doNothing())
        .returning('id')
        .executeTakeFirst();
      return row?.id ?? null;
    },

    /**
     * Claims up to `limit` due jobs of the given kinds for `workerId` with a lease. SKIP LOCKED
     * lets any number of workers claim concurrently without waiting on or double-claiming rows.
     */
    async claim(workerId: string, kinds: readonly string[], limit: number, leaseMs: number): Promise<JobRow[]> {
      if (kinds.length === 0 || limit <= 0) return [];
      const result = await sql<JobRow>`
        UPDATE jobs SET status = 'running', locked_by = ${workerId},
               locked_until = now() + make_interval(secs => ${leaseMs / 1000}),
               attempts = attempts + 1, updated_at = now()
        WHERE id IN (
          SELECT id FROM jobs
          WHERE status = 'queued' AND run_at <= now() AND kind IN (${sql.join(kinds.map((k) => sql`${k}`))})
          ORDER BY run_at
          LIMIT ${limit}
          FOR UPDATE SKIP LOCKED
        )
        RETURNING id, account_id, kind, payload, attempts, max_attempts, run_at`.execute(db);
      return result.rows;
    },

    /** Done jobs are deleted: the queue holds only work still to do (and failures to inspect). */
    async complete(id: string, workerId: string): Promise<void> {
      await db.deleteFrom('jobs').where('id', '=', id).where('locked_by', '=', workerId).execute();
    },

    async retryLater(id: string, workerId: string, runAt: Date, error: string): Promise<void> {
      await db
        .updateTable('jobs')
        .set({ status: 'queued', run_at: runAt, locked_by: null, locked_until: null, last_error: error.slice(0, 2000), updated_at: new Date() })
        .where('id', '=', id)
        .where('locked_by', '=', workerId)
        .execute();
    },

    async fail(id: string, workerId: string, error: string): Promise<void> {
      await db
        .updateTable('jobs')
        .set({ status: 'failed', locked_by: null, locked_until: null, last_error: error.slice(0, 2000), updated_at: new Date() })
        .where('id', '=', id)
        .where('locked_by', '=', workerId)
        .execute();
    },

    /** Gives claimed jobs back (graceful shutdown) without counting the attempt. */
    async release(ids: readonly string[], workerId: string): Promise<void> {
      if (ids.length === 0) return;
      await db
        .updateTable('jobs')
        .set((eb) => ({ status: 'queued', locked_by: null, locked_until: null, attempts: eb('attempts', '-', 1) }))
        .where('id', 'in', ids)
        .where('locked_by', '=', workerId)
        .execute();
    },

    /** Extends the lease of jobs still being worked on. */
    async heartbeat(ids: readonly string[], workerId: string, leaseMs: number): Promise<void> {
      if (ids.length === 0) return;
      await sql`UPDATE jobs SET locked_until = now() + make_interval(secs => ${leaseMs / 1000})
                WHERE id IN (${sql.join(ids.map((id) => sql`${id}`))}) AND locked_by = ${workerId}`.execute(db);
    },

    /** Jobs whose worker died (lease expired) go back to the queue; handlers are idempotent. */
    async requeueExpired(): Promise<number> {
      const result = await sql`UPDATE jobs SET status = 'queued', locked_by = NULL, locked_until = NULL, updated_at = now()
                               WHERE status = 'running' AND locked_until < now()`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },

    async depthByKind(): Promise<Array<{ kind: string; status: string; count: number; oldest: Date | null }>> {
      const result = await sql<{ kind: string; status: string; count: number; oldest: Date | null }>`
        SELECT kind, status, count(*)::int AS count, min(run_at) AS oldest FROM jobs GROUP BY kind, status`.execute(db);
      return result.rows;
    },
  };
}
