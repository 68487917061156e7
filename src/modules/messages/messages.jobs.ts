import type { Services } from '../../container.js';
import type { JobHandler } from '../../jobs/job-runner.js';
import type { JobsRepo } from '../../jobs/jobs.repo.js';

export const MESSAGES_CLEANUP_JOB = 'messages.cleanup';
const CLEANUP_EVERY_MS = 3600_000;

/** Schedules the next hourly cleanup (one pending job at a time, whatever the number of workers). */
export async function scheduleMessagesCleanup(jobs: JobsRepo, at = new Date()): Promise<void> {
  await jobs.enqueue({ kind: MESSAGES_CLEANUP_JOB, runAt: at, dedupeKey: `${MESSAGES_CLEANUP_JOB}:${Math.floor(at.getTime() / CLEANUP_EVERY_MS)}` });
}

export function createMessagesJobHandlers(services: Services, jobs: JobsRepo): Record<string, JobHandler> {
  return {
    [MESSAGES_CLEANUP_JOB]: async () => {
      await services.messages.cleanup();
      await scheduleMessagesCleanup(jobs, new Date(Date.now() + CLEANUP_EVERY_MS));
    },
  };
}
