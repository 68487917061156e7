import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseServerFlags } from '../src/config.js';
import { createJobRunner } from '../src/jobs/job-runner.js';
import { createJobsRepo } from '../src/jobs/jobs.repo.js';
import { createTestDatabase, type TestDatabase } from './helpers.js';

describe('process role', () => {
  it('comes from --role (either spelling), over ROLE, defaulting to all', () => {
    expect(loadConfig({}, parseServerFlags([])).role).toBe('all');
    expect(loadConfig({ ROLE: 'worker' }, parseServerFlags([])).role).toBe('worker');
    expect(loadConfig({ ROLE: 'worker' }, parseServerFlags(['--role', 'api'])).role).toBe('api');
    expect(loadConfig({}, parseServerFlags(['--role=worker'])).role).toBe('worker');
  });

  it('refuses unknown roles, missing values and unknown arguments', () => {
    expect(() => loadConfig({}, parseServerFlags(['--role', 'bogus']))).toThrow(/--role must be one of api, worker, all/);
    expect(() => parseServerFlags(['--role'])).toThrow(ConfigError);
    expect(() => parseServerFlags(['--role='])).toThrow(ConfigError);
    expect(() => parseServerFlags(['--rol', 'api'])).toThrow(/Unknown argument "--rol"/);
    expect(() => loadConfig({ ROLE: 'both' })).toThrow(/ROLE must be one of/);
  });
});

describe('connections per process', () => {
  it('is DATABASE_POOL_SIZE, 10 by default', () => {
    expect(loadConfig({}).databasePoolSize).toBe(10);
    expect(loadConfig({ DATABASE_POOL_SIZE: '3' }).databasePoolSize).toBe(3);
    expect(() => loadConfig({ DATABASE_POOL_SIZE: '0' })).toThrow(/DATABASE_POOL_SIZE must be an integer between 1 and 1000/);
  });
});

describe('graceful shutdown of a worker', () => {
  const log = pino({ level: 'silent' });
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  const jobs = async () =>
    (await sql<{ kind: string; status: string; attempts: number; locked_by: string | null }>`SELECT kind, status, attempts, locked_by FROM jobs ORDER BY kind`.execute(database.db)).rows;

  it('gives back, without counting the attempt, jobs whose handler stopped on the abort signal', async () => {
    await sql`DELETE FROM jobs`.execute(database.db);
    await createJobsRepo(database.db).enqueue({ kind: 'checkpointing' });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    const runner = createJobRunner({
      db: database.db,
      log,
      pollIntervalMs: 10,
      handlers: {
        checkpointing: async (_payload, { signal }) => {
          started();
          await new Promise<void>((_, reject) => signal.addEventListener('abort', () => reject(new Error('aborted'))));
        },
      },
    });
    runner.start();
    await running;
    await runner.stop(5_000);
    expect(await jobs()).toEqual([{ kind: 'checkpointing', status: 'queued', attempts: 0, locked_by: null }]);
  });

  it('releases jobs whose handler outlives the grace period, and ignores their late outcome', async () => {
    await sql`DELETE FROM jobs`.execute(database.db);
    await createJobsRepo(database.db).enqueue({ kind: 'stubborn' });
    let started!: () => void;
    const running = new Promise<void>((r) => (started = r));
    let finish!: () => void;
    const blocked = new Promise<void>((r) => (finish = r));
    const runner = createJobRunner({
      db: database.db,
      log,
      pollIntervalMs: 10,
      handlers: {
        stubborn: async () => {
          started();
          await blocked; // ignores the abort signal
        },
      },
    });
    runner.start();
    await running;
    const t0 = Date.now();
    await runner.stop(100);
    expect(Date.now() - t0).toBeLessThan(2_000);
    expect(await jobs()).toEqual([{ kind: 'stubborn', status: 'queued', attempts: 0, locked_by: null }]);

    // Another worker takes it at once (no lease to wait for) while the stale handler finishes.
    const claimed = await createJobsRepo(database.db).claim('other-worker', ['stubborn'], 10, 60_000);
    expect(claimed).toHaveLength(1);
    finish();
    await new Promise((r) => setTimeout(r, 50));
    expect(await jobs()).toEqual([{ kind: 'stubborn', status: 'running', attempts: 1, locked_by: 'other-worker' }]);
  });
});
