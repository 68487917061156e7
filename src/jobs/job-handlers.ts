import type { Services } from '../container.js';
import type { JobHandler } from './job-runner.js';

/**
 * Every kind of background job and its handler. Each module contributes its own handlers
 * (`<module>.jobs.ts`); a worker process runs all of them.
 */
export function createJobHandlers(_services: Services): Record<string, JobHandler> {
  return {};
}
