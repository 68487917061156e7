import { RetryJobError, type JobHandler } from '../../jobs/job-runner.js';
import { IMPORT_JOB, type ImportsService } from './imports.service.js';

/**
 * `contacts.import {importId}`: processes an import from its cursor. When the worker is
 * stopping it returns after the current batch and the job is requeued to resume; on its last
 * attempt an error marks the import failed so it does not stay "processing" for ever.
 */
export function createImportJobHandlers(imports: ImportsService): Record<string, JobHandler> {
  return {
    [IMPORT_JOB]: async (payload, { job, signal }) => {
      const importId = (payload as { importId?: unknown } | null)?.importId;
      if (typeof importId !== 'string') return;
      try {
        const finished = await imports.process(importId, signal);
        if (!finished) throw new RetryJobError('worker stopping; the import resumes from its cursor', new Date());
      } catch (error) {
        if (!(error instanceof RetryJobError) && job.attempts >= job.max_attempts) {
          await imports.markFailed(importId, 'The import could not be processed. Quote its id if you contact us.');
        }
        throw error;
      }
    },
  };
}
