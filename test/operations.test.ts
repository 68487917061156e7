import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrateToLatest, SchemaTooNewError } from '../src/db/migrator.js';
import { createJobsRepo } from '../src/jobs/jobs.repo.js';
import { createAccountWithToken, createTestApp, createTestDatabase, type TestContext } from './helpers.js';

describe('metrics', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestApp();
  });
  afterAll(() => ctx.close());

  it('exposes request latency by route and status, and queue depth by job kind', async () => {
    const { auth } = await createAccountWithToken(ctx.app);
    await ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: auth });
    await ctx.app.inject({ method: 'GET', url: '/v1/carriers/not-a-uuid', headers: auth });
    await createJobsRepo(ctx.database.db).enqueue({ kind: 'metrics_probe', runAt: new Date(Date.now() - 5_000) });

    const res = await ctx.app.inject({ method: 'GET', url: '/metrics' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/plain/);
    expect(res.body).toMatch(/shortcode_http_request_duration_seconds_count\{method="GET",route="\/v1\/carriers",status="200"\} 1/);
    expect(res.body).toMatch(/shortcode_http_request_duration_seconds_count\{method="GET",route="\/v1\/carriers\/:id",status="404"\} 1/);
    expect(res.body).toMatch(/shortcode_jobs\{kind="metrics_probe",status="queued"\} 1/);
    expect(res.body).toMatch(/shortcode_jobs_oldest_age_seconds\{kind="metrics_probe"\} [4-9]/);
  });

  it('requires the metrics token when one is configured', async () => {
    const guarded = await createTestApp({ METRICS_TOKEN: 'scrape-secret' });
    try {
      expect((await guarded.app.inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(401);
      const ok = await guarded.app.inject({ method: 'GET', url: '/metrics', headers: { authorization: 'Bearer scrape-secret' } });
      expect(ok.statusCode).toBe(200);
    } finally {
      await guarded.close();
    }
  });
});

describe('schema versions', () => {
  it('refuses to run against a database migrated by a newer release', async () => {
    const database = await createTestDatabase();
    try {
      await sql`INSERT INTO kysely_migration (name, timestamp) VALUES ('9999_from_the_future', now()::text)`.execute(database.db);
      await expect(migrateToLatest(database.db)).rejects.toBeInstanceOf(SchemaTooNewError);
    } finally {
      await database.dispose();
    }
  });
});
