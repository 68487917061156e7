import type { Services } from '../container.js';
import type { JobHandler } from './job-runner.js';
import { campaignJobHandlers } from '../modules/campaigns/campaigns.jobs.js';

/**
 * Every kind of background job and its handler. Each module contributes its own handlers
 * (`<module>.jobs.ts`); a worker process runs all of them.
 */
export function createJobHandlers(services: Services): Record<string, JobHandler> {
  return { ...campaignJobHandlers(services.campaigns) };
}
