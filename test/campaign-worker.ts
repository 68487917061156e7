/**
 * A worker process for the crash tests (campaigns.reliability.test.ts): runs the job runner
 * (campaign fan-out) and the dispatcher with the simulated carrier against the database named
 * by DATABASE_URL or DATA_DIR, prints "ready" once started, then the campaign's figures (one JSON
 * line whenever they change), and exits 0 once the campaign given as argument is sent. The test
 * kills it with SIGKILL when the figures show it mid-send, and starts another.
 */
import pino from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { createJobHandlers } from '../src/jobs/job-handlers.js';
import { createJobRunner } from '../src/jobs/job-runner.js';
import { createMessagingRuntime } from '../src/modules/messages/messaging-runtime.js';

const campaignId = process.argv[2]!;
const config = loadConfig();
const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir });
const log = pino({ level: 'silent' });
const services = createServices(database.db, config);
const runner = createJobRunner({ db: database.db, handlers: createJobHandlers(services, database.db), log, leaseMs: 2000, pollIntervalMs: 20 });
const messaging = createMessagingRuntime({ db: database.db, config, inbound: services.inbound, log });
process.stdout.write('ready\n');
runner.start();
await messaging.start();

let printed = '';
for (;;) {
  const row = (
    await sql<{ status: string; inserted: number; handed: number }>`
      SELECT c.status,
             (SELECT count(*)::int FROM messages WHERE campaign_id = c.id) AS inserted,
             (SELECT count(*)::int FROM messages WHERE campaign_id = c.id AND sent_at IS NOT NULL) AS handed
      FROM campaigns c WHERE c.id = ${campaignId}`.execute(database.db)
  ).rows[0];
  const line = JSON.stringify(row ?? null);
  if (line !== printed) process.stdout.write(`${line}\n`);
  printed = line;
  if (!row || row.status !== 'sending') break;
  await new Promise((r) => setTimeout(r, 50));
}
await runner.stop();
await messaging.stop();
await database.close();
process.exit(0);
