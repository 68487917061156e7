import type { Services } from '../container.js';
import { createImportJobHandlers } from '../modules/imports/imports.jobs.js';
import type { JobHandler } from './job-runner.js';

/**
 * Every kind of background job and its handler. Each module contributes its own handlers
 * (`<module>.jobs.ts`); a worker process runs all of them.
 */
export function createJobHandlers(services: Services): Record<string, JobHandler> {
  return { ...createImportJobHandlers(services.imports) };
}
