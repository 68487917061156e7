import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../test/helpers.js';
import { createJobRunner, PermanentJobError, RetryJobError } from './job-runner.js';
import { createJobsRepo } from './jobs.repo.js';

const log = pino({ level: 'silent' });
let database: TestDatabase;

beforeAll(async () => {
  database = await createTestDatabase();
});
afterAll(() => database.dispose());
beforeEach(async () => {
  await sql`DELETE FROM jobs`.execute(database.db);
});

describe('job queue', () => {
  it('runs each enqueued job once and removes it when done', async () => {
    const repo = createJobsRepo(database.db);
    const seen: number[] = [];
    for (let i = 0; i < 25; i++) await repo.enqueue({ kind: 'count', payload: { i } });
    const runner = createJobRunner({ db: database.db, log, handlers: { count: async (p) => void seen.push((p as { i: number }).i) } });
    await runner.drain();
    expect(seen.sort((a, b) => a - b)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs`.execute(database.db)).rows[0]!.n).toBe(0);
  });

  it('deduplicates by key while the first job exists', async () => {
    const repo = createJobsRepo(database.db);
    const first = await repo.enqueue({ kind: 'x', dedupeKey: 'campaign:1' });
    const second = await repo.enqueue({ kind: 'x', dedupeKey: 'campaign:1' });
    expect(first).toBeTruthy();
    expect(second).toBeNull();
  });

  it('does not run jobs before run_at', async () => {
    const repo = createJobsRepo(database.db);
    await repo.enqueue({ kind: 'later', runAt: new Date(Date.now() + 60_000) });
    let ran = false;
    const runner = createJobRunner({ db: database.db, log, handlers: { later: async () => void (ran = true) } });
    await runner.drain();
    expect(ran).toBe(false);
  });

  it('retries a failing job with backoff and marks it failed after max attempts', async () => {
    const repo = createJobsRepo(database.db);
    await repo.enqueue({ kind: 'flaky', maxAttempts: 2 });
    let calls = 0;
    const runner = createJobRunner({ db: database.db, log, handlers: { flaky: async () => { calls += 1; throw new Error('boom'); } } });
    await runner.drain();
    expect(calls).toBe(1);
    const afterFirst = (await sql<{ status: string; run_at: Date; last_error: string }>`SELECT status, run_at, last_error FROM jobs`.execute(database.db)).rows[0]!;
    expect(afterFirst.status).toBe('queued');
    expect(afterFirst.run_at.getTime()).toBeGreaterThan(Date.now());
    expect(afterFirst.last_error).toBe('boom');
    await sql`UPDATE jobs SET run_at = now()`.execute(database.db);
    await runner.drain();
    expect(calls).toBe(2);
    const final = (await sql<{ status: string }>`SELECT status FROM jobs`.execute(database.db)).rows[0]!;
    expect(final.status).toBe('failed');
  });

  it('honours RetryJobError and PermanentJobError', async () => {
    const repo = createJobsRepo(database.db);
    const at = new Date(Date.now() + 3_600_000);
    await repo.enqueue({ kind: 'wait' });
    await repo.enqueue({ kind: 'bad' });
    const runner = createJobRunner({
      db: database.db,
      log,
      handlers: {
        wait: async () => { throw new RetryJobError('not yet', at); },
        bad: async () => { throw new PermanentJobError('invalid payload'); },
      },
    });
    await runner.drain();
    const rows = (await sql<{ kind: string; status: string; run_at: Date }>`SELECT kind, status, run_at FROM jobs ORDER BY kind`.execute(database.db)).rows;
    expect(rows.map((r) => [r.kind, r.status])).toEqual([['bad', 'failed'], ['wait', 'queued']]);
    expect(rows[1]!.run_at.getTime()).toBe(at.getTime());
  });

  it('requeues the jobs of a worker that died once their lease expires', async () => {
    const repo = createJobsRepo(database.db);
    await repo.enqueue({ kind: 'work' });
    const claimed = await repo.claim('dead-worker', ['work'], 10, 1);
    expect(claimed).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 20));
    expect(await repo.requeueExpired()).toBe(1);
    let ran = 0;
    const runner = createJobRunner({ db: database.db, log, handlers: { work: async () => void (ran += 1) } });
    await runner.drain();
    expect(ran).toBe(1);
  });

  it('never hands one job to two workers claiming at the same time', async () => {
    const repo = createJobsRepo(database.db);
    for (let i = 0; i < 200; i++) await repo.enqueue({ kind: 'race', payload: { i } });
    const claims = await Promise.all(Array.from({ length: 4 }, (_, w) => repo.claim(`w${w}`, ['race'], 100, 60_000)));
    const ids = claims.flat().map((j) => j.id);
    expect(ids.length).toBe(200);
    expect(new Set(ids).size).toBe(200);
  });

  it('stop() lets running handlers finish and claims nothing more', async () => {
    const repo = createJobsRepo(database.db);
    for (let i = 0; i < 3; i++) await repo.enqueue({ kind: 'slow' });
    let finished = 0;
    const runner = createJobRunner({
      db: database.db,
      log,
      concurrency: 1,
      pollIntervalMs: 10,
      handlers: { slow: async () => { await new Promise((r) => setTimeout(r, 50)); finished += 1; } },
    });
    runner.start();
    await new Promise((r) => setTimeout(r, 20));
    await runner.stop();
    expect(finished).toBe(1);
    const left = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM jobs WHERE status = 'queued'`.execute(database.db)).rows[0]!.n;
    expect(left).toBe(2);
  });
});
