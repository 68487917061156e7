import os from 'node:os';
import { Redis } from 'ioredis';
import { buildApp } from './app.js';
import { ConfigError, loadConfig, parseServerFlags } from './config.js';
import { openDatabase } from './db/database.js';
import { acquireEmbeddedLock, DataDirectoryError } from './db/embedded-lock.js';
import { migrateToLatest } from './db/migrator.js';
import { ensureDemoAccount } from './modules/accounts/demo-account.js';
import { createJobHandlers } from './jobs/job-handlers.js';
import { scheduleRetention } from './jobs/retention.js';
import { createJobRunner } from './jobs/job-runner.js';
import { loadOrCreateKeyFile } from './lib/secret-box.js';
import { createWebhookWorker } from './modules/webhooks/webhook-worker.js';
import { scheduleWebhooksPrune } from './modules/webhooks/webhooks.jobs.js';
import { createMessagingRuntime } from './modules/messages/messaging-runtime.js';
import { scheduleMessagesCleanup } from './modules/messages/messages.jobs.js';
import { createJobsRepo } from './jobs/jobs.repo.js';

/**
 * The process entry point: read the configuration, open and migrate the database, create the
 * demo account on an empty database, listen, and shut down gracefully on SIGTERM/SIGINT.
 */
async function main(): Promise<void> {
  const loaded = loadConfig(process.env, parseServerFlags(process.argv.slice(2)));
  // Without SECRETS_KEY (allowed except in production with DATABASE_URL) the key lives in
  // DATA_DIR/secrets.key, generated on first start.
  const config = loaded.secretsKey ? loaded : { ...loaded, secretsKey: loadOrCreateKeyFile(loaded.dataDir) };
  const releaseLock = config.databaseUrl ? () => undefined : acquireEmbeddedLock(config.dataDir);
  const database = await openDatabase({ databaseUrl: config.databaseUrl, dataDir: config.dataDir, poolSize: config.databasePoolSize });
  await migrateToLatest(database.db);

  const redis = config.redisUrl
    ? new Redis(config.redisUrl, { enableOfflineQueue: false, maxRetriesPerRequest: 1, connectTimeout: 2_000, lazyConnect: false })
    : undefined;
  redis?.on('error', () => undefined); // outages are reported by the rate limiter, which degrades

  const app = await buildApp({ config, database, redis });
  if (config.role === 'worker' && config.workerNice > 0) {
    // Background work yields the CPU to API processes sharing the host: a campaign sending flat
    // out must not slow the answers to API clients (WORKER_NICE=0 turns this off).
    try {
      os.setPriority(Math.max(os.getPriority(), config.workerNice));
    } catch (err) {
      app.log.warn({ err }, 'could not lower the worker process priority (WORKER_NICE)');
    }
  }
  const demo = await ensureDemoAccount(app.services);
  // ROLE=api serves HTTP only, ROLE=worker runs background jobs only (it still answers
  // /healthz and /readyz), ROLE=all (the default) does both.
  const runner =
    config.role === 'api' ? undefined : createJobRunner({ db: database.db, handlers: createJobHandlers(app.services, database.db, { messageRetentionDays: config.messageRetentionDays }), log: app.log, leaseMs: config.jobLeaseMs });
  runner?.start();
  const webhookWorker =
    config.role === 'api'
      ? undefined
      : createWebhookWorker({
          db: database.db,
          secretBox: app.services.secretBox,
          log: app.log,
          config: config.webhooks,
          allowPrivateNetworks: config.webhooksAllowPrivateNetworks,
        });
  webhookWorker?.start();
  // The dispatcher, the scheduled messages (they are due messages like any other) and the
  // transport run in worker processes; any number of them share the work through PostgreSQL.
  const messaging =
    config.role === 'api' ? undefined : createMessagingRuntime({ db: database.db, config, inbound: app.services.inbound, log: app.log });
  await messaging?.start();
  if (runner) await scheduleMessagesCleanup(createJobsRepo(database.db));
  if (runner) await scheduleRetention(createJobsRepo(database.db));
  if (runner) await scheduleWebhooksPrune(createJobsRepo(database.db));
  await app.listen({ port: config.port, host: config.host });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : config.port;
  const base = config.publicUrl ?? `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;

  const lines = [
    '',
    `Shortcode is listening on ${base} (database: ${database.kind === 'pglite' ? `embedded, in ${config.dataDir}` : database.location})`,
    `  API reference:  ${base}/v1/docs`,
    `  OpenAPI:        ${base}/v1/openapi.json`,
    `  Dashboard:      ${base}/dashboard`,
  ];
  if (demo) {
    lines.push(
      '',
      'A demo account was created. These credentials are shown this once:',
      `  login:          ${demo.email}`,
      `  password:       ${demo.password}`,
      `  access token:   ${demo.token}   (every scope)`,
      `  short code:     ${demo.shortCode}`,
      '',
      `  Try it:  curl -H "Authorization: Bearer ${demo.token}" ${base}/v1/carriers?limit=2`,
      `  Text a simulated handset:`,
      `    curl -H "Authorization: Bearer ${demo.token}" -H "Content-Type: application/json" \\`,
      `         -d '{"phone_number":"+12025550199","message":"Hello"}' ${base}/v1/message`,
    );
  }
  let stopping = false;
  const shutdown = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    app.log.info({ signal }, 'shutting down: no new connections, finishing in-flight requests');
    const force = setTimeout(() => {
      app.log.error('graceful shutdown timed out; exiting');
      process.exit(1);
    }, 30_000);
    force.unref();
    try {
      // HTTP: stop accepting and finish in-flight requests. Jobs: claim nothing more, let running
      // handlers finish for up to 15 s, then give the rest back to the queue for other workers.
      // Dispatcher and webhook workers finish their in-flight batches and release the rest.
      await Promise.all([
        app.close(),
        runner?.stop(15_000),
        messaging?.stop(),
        webhookWorker?.stop(),
      ]);
      redis?.disconnect();
      await database.close();
      releaseLock();
      process.exit(0);
    } catch (err) {
      app.log.error({ err }, 'error during shutdown');
      process.exit(1);
    }
  };
  // A background loop that loses the database (an outage, a restart) must not take the API
  // down with it: the failure is logged and the loop's next round retries.
  process.on('unhandledRejection', (err) => app.log.error({ err }, 'unhandled rejection in a background task'));
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  // Printed last: whoever waits for this line may signal the process at once.
  process.stdout.write(`${lines.join('\n')}\n\n`);
}

main().catch((err: unknown) => {
  if (err instanceof ConfigError) process.stderr.write(`Configuration error: ${err.message}\n`);
  else if (err instanceof DataDirectoryError) process.stderr.write(`Shortcode cannot start: ${err.message}\n`);
  else process.stderr.write(`Shortcode failed to start: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
