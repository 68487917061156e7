import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createJobRunner } from '../src/jobs/job-runner.js';
import { createJobsRepo } from '../src/jobs/jobs.repo.js';
import { createRetentionJobHandlers, pruneMessages, RETENTION_JOB, scheduleRetention } from '../src/jobs/retention.js';
import { createAccountWithToken, createTestApp, type TestContext } from './helpers.js';

describe('message history retention', () => {
  let ctx: TestContext;
  let accountId: string;
  beforeAll(async () => {
    ctx = await createTestApp();
    accountId = (await createAccountWithToken(ctx.app)).account.id;
  });
  afterAll(() => ctx.close());

  const insert = async (n: number, status: string, daysAgo: number) => {
    await sql`INSERT INTO messages (id, account_id, type, "from", phone_number, message, segments, encoding, status, metadata, created_at, updated_at)
      SELECT gen_random_uuid(), ${accountId}, 'OUTGOING', '12345', '+12025550199', 'old news', 1, 'GSM-7', ${status}, NULL,
             now() - make_interval(days => ${daysAgo}), now()
      FROM generate_series(1, ${n})`.execute(ctx.database.db);
  };
  const counts = async () =>
    Object.fromEntries(
      (await sql<{ status: string; old: boolean; n: number }>`SELECT status, created_at < now() - interval '30 days' AS old, count(*)::int AS n FROM messages GROUP BY 1, 2 ORDER BY 1, 2`.execute(ctx.database.db)).rows.map(
        (r) => [`${r.status}${r.old ? ' (old)' : ''}`, r.n],
      ),
    );

  it('deletes finished messages older than the period in batches, keeping recent ones and pending work', async () => {
    await insert(2_500, 'delivered', 40);
    await insert(300, 'failed', 40);
    await insert(200, 'queued', 40);
    await insert(100, 'scheduled', 40);
    await insert(400, 'delivered', 5);
    const deleted = await pruneMessages(ctx.database.db, new Date(Date.now() - 30 * 86_400_000), { batchSize: 1_000 });
    expect(deleted).toBe(2_800);
    expect(await counts()).toEqual({ delivered: 400, 'queued (old)': 200, 'scheduled (old)': 100 });
  });

  it('runs as a job once an hour, whatever the number of workers, and does nothing when retention is off', async () => {
    const jobs = createJobsRepo(ctx.database.db);
    await sql`DELETE FROM jobs`.execute(ctx.database.db);
    await insert(50, 'delivered', 40);
    await scheduleRetention(jobs);
    await scheduleRetention(jobs); // a second worker starting at the same time
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE kind = ${RETENTION_JOB}`.execute(ctx.database.db)).rows[0]!.n).toBe(1);

    const log = pino({ level: 'silent' });
    const off = createJobRunner({ db: ctx.database.db, log, handlers: createRetentionJobHandlers({ db: ctx.database.db, jobs, retentionDays: 0 }) });
    await off.drain();
    expect((await counts())['delivered (old)']).toBe(50);

    await sql`DELETE FROM jobs`.execute(ctx.database.db);
    await scheduleRetention(jobs);
    const on = createJobRunner({ db: ctx.database.db, log, handlers: createRetentionJobHandlers({ db: ctx.database.db, jobs, retentionDays: 30 }) });
    await on.drain();
    expect((await counts())['delivered (old)']).toBeUndefined();
    const next = (await sql<{ run_at: Date }>`SELECT run_at FROM jobs WHERE kind = ${RETENTION_JOB}`.execute(ctx.database.db)).rows;
    expect(next).toHaveLength(1);
    expect(next[0]!.run_at.getTime()).toBeGreaterThan(Date.now() + 3_500_000);
  });
});
