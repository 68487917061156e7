import { sql, type Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import type { JobHandler } from './job-runner.js';
import type { JobsRepo } from './jobs.repo.js';

/**
 * Message history retention (MESSAGE_RETENTION_DAYS; 0 keeps everything). A job, once an hour
 * whatever the number of workers (dedupe key per hour), deletes messages older than the
 * retention period in batches, so no statement holds locks on many rows or runs for long.
 * Only finished messages go (sent, delivered, failed, received, canceled): scheduled, queued
 * and in-flight ones are work, not history. Their parts, ledger rows and schedules go with
 * them (ON DELETE CASCADE).
 */
export const RETENTION_JOB = 'messages.retention';
const EVERY_MS = 3_600_000;
const FINISHED = ['sent', 'delivered', 'failed', 'received', 'canceled'] as const;

export async function scheduleRetention(jobs: JobsRepo, at = new Date()): Promise<void> {
  await jobs.enqueue({ kind: RETENTION_JOB, runAt: at, dedupeKey: `${RETENTION_JOB}:${Math.floor(at.getTime() / EVERY_MS)}` });
}

/** Deletes finished messages created before `olderThan`, `batchSize` at a time; returns how many. */
export async function pruneMessages(db: Kysely<DB>, olderThan: Date, options: { batchSize?: number; signal?: AbortSignal } = {}): Promise<number> {
  const batchSize = options.batchSize ?? 1_000;
  let total = 0;
  for (;;) {
    if (options.signal?.aborted) return total;
    const result = await sql`
      DELETE FROM messages WHERE id IN (
        SELECT id FROM messages
        WHERE created_at < ${olderThan} AND status IN (${sql.join(FINISHED.map((s) => sql`${s}`))})
        ORDER BY created_at
        LIMIT ${batchSize}
        FOR UPDATE SKIP LOCKED
      )`.execute(db);
    const deleted = Number(result.numAffectedRows ?? 0);
    total += deleted;
    if (deleted < batchSize) return total;
  }
}

export function createRetentionJobHandlers(deps: { db: Kysely<DB>; jobs: JobsRepo; retentionDays: number; log?: { info(obj: object, msg?: string): void } }): Record<string, JobHandler> {
  return {
    [RETENTION_JOB]: async (_payload, { signal }) => {
      if (deps.retentionDays > 0) {
        const olderThan = new Date(Date.now() - deps.retentionDays * 86_400_000);
        const deleted = await pruneMessages(deps.db, olderThan, { signal });
        if (deleted > 0) deps.log?.info({ deleted, olderThan }, 'message history pruned');
      }
      await scheduleRetention(deps.jobs, new Date(Date.now() + EVERY_MS));
    },
  };
}
