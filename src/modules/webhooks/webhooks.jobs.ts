import type { Services } from '../../container.js';
import type { JobHandler } from '../../jobs/job-runner.js';
import type { JobsRepo } from '../../jobs/jobs.repo.js';

export const WEBHOOKS_PRUNE_JOB = 'webhooks.prune';
const PRUNE_EVERY_MS = 3600_000;

/** Schedules the next hourly pruning of the delivery log (one pending job, whatever the number of workers). */
export async function scheduleWebhooksPrune(jobs: JobsRepo, at = new Date()): Promise<void> {
  await jobs.enqueue({ kind: WEBHOOKS_PRUNE_JOB, runAt: at, dedupeKey: `${WEBHOOKS_PRUNE_JOB}:${Math.floor(at.getTime() / PRUNE_EVERY_MS)}` });
}

export function createWebhooksJobHandlers(services: Services, jobs: JobsRepo): Record<string, JobHandler> {
  return {
    [WEBHOOKS_PRUNE_JOB]: async () => {
      await services.webhooks.pruneLog();
      await scheduleWebhooksPrune(jobs, new Date(Date.now() + PRUNE_EVERY_MS));
    },
  };
}
