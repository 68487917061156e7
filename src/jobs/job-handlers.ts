import type { Kysely } from 'kysely';
import type { Services } from '../container.js';
import type { DB } from '../db/tables.js';
import { campaignJobHandlers } from '../modules/campaigns/campaigns.jobs.js';
import { createImportJobHandlers } from '../modules/imports/imports.jobs.js';
import { createMessagesJobHandlers } from '../modules/messages/messages.jobs.js';
import { createWebhooksJobHandlers } from '../modules/webhooks/webhooks.jobs.js';
import type { JobHandler } from './job-runner.js';
import { createJobsRepo } from './jobs.repo.js';
import { createRetentionJobHandlers } from './retention.js';

/**
 * Every kind of background job and its handler. Each module contributes its own handlers
 * (`<module>.jobs.ts`); a worker process runs all of them.
 */
export function createJobHandlers(services: Services, db?: Kysely<DB>, options: { messageRetentionDays?: number } = {}): Record<string, JobHandler> {
  return {
    ...createImportJobHandlers(services.imports),
    ...(db ? createMessagesJobHandlers(services, createJobsRepo(db)) : {}),
    ...(db ? createWebhooksJobHandlers(services, createJobsRepo(db)) : {}),
    ...campaignJobHandlers(services.campaigns),
    ...(db ? createRetentionJobHandlers({ db, jobs: createJobsRepo(db), retentionDays: options.messageRetentionDays ?? 0 }) : {}),
  };
}
