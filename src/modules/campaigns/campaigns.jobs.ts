import { PermanentJobError, RetryJobError, type JobHandler } from '../../jobs/job-runner.js';
import { isUuid } from '../../lib/ids.js';
import { JOB_FANOUT, JOB_LAUNCH, type CampaignsService } from './campaigns.service.js';

const campaignIdOf = (payload: unknown): string => {
  const id = (payload as { campaignId?: unknown } | null)?.campaignId;
  if (!isUuid(id)) throw new PermanentJobError('payload has no campaignId');
  return id;
};

/**
 * Campaign jobs. `campaign.launch` fires at a scheduled campaign's send_at; `campaign.fanout`
 * inserts its messages into the outbox batch by batch (resuming from its cursor after a crash),
 * then stays until every message has left the queue and marks the campaign sent.
 */
export function campaignJobHandlers(campaigns: CampaignsService): Record<string, JobHandler> {
  return {
    [JOB_LAUNCH]: async (payload) => {
      const result = await campaigns.launchScheduled(campaignIdOf(payload));
      if (result.retryAt) throw new RetryJobError('send_at not reached', result.retryAt);
    },
    [JOB_FANOUT]: async (payload, { signal }) => {
      const outcome = await campaigns.fanOut(campaignIdOf(payload), signal);
      if (outcome === 'interrupted') throw new RetryJobError('worker stopping; resumes from the cursor', new Date());
      if (typeof outcome === 'object') throw new RetryJobError('waiting for queued messages to be handed over', outcome.waitUntil);
    },
  };
}
