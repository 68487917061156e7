import pino from 'pino';
import { sql } from 'kysely';
import { createJobHandlers } from '../src/jobs/job-handlers.js';
import { createJobRunner } from '../src/jobs/job-runner.js';
import { applyDeliveryReports } from '../src/modules/messages/delivery-reports.js';
import { createDispatcher } from '../src/modules/messages/dispatcher.js';
import { SimulatorTransport } from '../src/transports/simulator/simulator-transport.js';
import type { TestContext } from './helpers.js';

/**
 * The background side of a campaign, driven by hand in tests: the job runner (launch and
 * fan-out jobs), the dispatcher with the simulated carrier, and its delivery reports.
 */
export function createSendingHarness(ctx: TestContext, options: { dispatchBatchSize?: number; senderRatePerSecond?: number } = {}) {
  const db = ctx.database.db;
  const log = pino({ level: 'silent' });
  const runner = createJobRunner({ db, handlers: createJobHandlers(ctx.app.services, db), log, pollIntervalMs: 20 });
  const transport = new SimulatorTransport({ db, reportDelayMs: 0, applyReports: (trx, reports) => applyDeliveryReports(trx, reports), pollIntervalMs: 10 });
  const dispatcher = createDispatcher({ db, transport, batchSize: options.dispatchBatchSize ?? 1000, pollIntervalMs: 10, senderRatePerSecond: options.senderRatePerSecond ?? 0 });
  return {
    runner,
    dispatcher,
    transport,
    /** Runs due jobs (launch, fan-out batches and the completion check) until none is due. */
    jobs: () => runner.drain(),
    /** Fan-out, hand-over, delivery reports, completion: until the campaign is sent (or stopped). */
    async sendAll(campaignId: string, timeoutMs = 60_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      await transport.start();
      try {
        for (;;) {
          await runner.drain();
          await dispatcher.drain();
          const row = (await sql<{ status: string }>`SELECT status FROM campaigns WHERE id = ${campaignId}`.execute(db)).rows[0];
          const reports = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM simulator_messages WHERE direction = 'MT' AND reported_at IS NULL`.execute(db)).rows[0]!.n;
          if (row?.status !== 'sending' && reports === 0) return;
          if (Date.now() > deadline) throw new Error(`campaign ${campaignId} still ${row?.status} after ${timeoutMs} ms`);
          // The completion check is a job that waits a little between looks: make it due now.
          await sql`UPDATE jobs SET run_at = now() WHERE status = 'queued' AND kind = 'campaign.fanout'`.execute(db);
          await new Promise((r) => setTimeout(r, 20));
        }
      } finally {
        await transport.stop();
      }
    },
  };
}
