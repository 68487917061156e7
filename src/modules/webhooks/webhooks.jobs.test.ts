import pino from 'pino';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { createJobHandlers } from '../../jobs/job-handlers.js';
import { createJobRunner } from '../../jobs/job-runner.js';
import { createJobsRepo } from '../../jobs/jobs.repo.js';
import { createEventsRepo } from '../events/events.repo.js';
import { createWebhookDeliveryRepo } from './webhook-delivery.repo.js';
import { scheduleWebhooksPrune, WEBHOOKS_PRUNE_JOB } from './webhooks.jobs.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestApp();
});
afterAll(() => ctx.close());

describe('webhooks.prune job', () => {
  it('drops finished deliveries older than 30 days with their attempts, keeps the rest, and schedules itself again', async () => {
    const { account } = await createAccountWithToken(ctx.app);
    await ctx.app.services.webhooks.create(account.id, { url: 'https://hooks.example.com/p', events: ['rejected_message'] });
    const events = createEventsRepo(ctx.database.db);
    for (let i = 0; i < 4; i++) await events.record(account.id, 'rejected_message', { code: '', message: `m${i}`, description: 'Unsubscribed' });
    await createWebhookDeliveryRepo(ctx.database.db).fanOut(10, 0);
    const ids = (await ctx.database.db.selectFrom('webhook_deliveries').select('id').orderBy('payload').execute()).map((r) => r.id);
    // old delivered, old failed, old but still pending, recent delivered
    await sql`UPDATE webhook_deliveries SET status = 'delivered', updated_at = now() - interval '31 days' WHERE id = ${ids[0]}`.execute(ctx.database.db);
    await sql`UPDATE webhook_deliveries SET status = 'failed', updated_at = now() - interval '31 days' WHERE id = ${ids[1]}`.execute(ctx.database.db);
    await sql`UPDATE webhook_deliveries SET updated_at = now() - interval '31 days' WHERE id = ${ids[2]}`.execute(ctx.database.db);
    await sql`UPDATE webhook_deliveries SET status = 'delivered' WHERE id = ${ids[3]}`.execute(ctx.database.db);
    await sql`INSERT INTO webhook_attempts (id, delivery_id, attempt, attempted_at, outcome, latency_ms) VALUES (gen_random_uuid(), ${ids[0]}, 1, now(), 'success', 3)`.execute(ctx.database.db);

    const jobs = createJobsRepo(ctx.database.db);
    await scheduleWebhooksPrune(jobs);
    const runner = createJobRunner({ db: ctx.database.db, handlers: createJobHandlers(ctx.app.services, ctx.database.db), log: pino({ level: 'silent' }) });
    await runner.drain();

    const left = (await ctx.database.db.selectFrom('webhook_deliveries').select('id').execute()).map((r) => r.id).sort();
    expect(left).toEqual([ids[2], ids[3]].sort());
    expect((await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_attempts`.execute(ctx.database.db)).rows[0]!.n).toBe(0);
    const next = await ctx.database.db.selectFrom('jobs').select(['kind', 'run_at']).where('kind', '=', WEBHOOKS_PRUNE_JOB).execute();
    expect(next).toHaveLength(1);
    expect(next[0]!.run_at.getTime()).toBeGreaterThan(Date.now() + 3_000_000);
  });
});
