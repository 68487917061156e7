/**
 * The background side of a test server, as src/server.ts runs it with ROLE=all: the job runner,
 * the webhook worker and the messaging runtime (dispatcher and simulated carrier), so sends are
 * delivered, campaigns progress and webhooks arrive while a test watches through the API.
 */
import { createJobHandlers } from '../../../src/jobs/job-handlers.js';
import { createJobRunner } from '../../../src/jobs/job-runner.js';
import { createMessagingRuntime } from '../../../src/modules/messages/messaging-runtime.js';
import { createWebhookWorker } from '../../../src/modules/webhooks/webhook-worker.js';
import type { TestServer } from './server.js';

/** Starts the workers; resolves to a function that stops them. */
export async function startWorkers(server: TestServer): Promise<() => Promise<void>> {
  const { app, database, config } = server;
  const runner = createJobRunner({ db: database.db, handlers: createJobHandlers(app.services, database.db), log: app.log });
  runner.start();
  const webhooks = createWebhookWorker({
    db: database.db,
    secretBox: app.services.secretBox,
    log: app.log,
    config: config.webhooks,
    allowPrivateNetworks: config.webhooksAllowPrivateNetworks,
    pollIntervalMs: 50,
  });
  webhooks.start();
  const messaging = createMessagingRuntime({ db: database.db, config, inbound: app.services.inbound, log: app.log });
  await messaging.start();
  return async () => {
    await messaging.stop();
    await webhooks.stop();
    await runner.stop();
  };
}
