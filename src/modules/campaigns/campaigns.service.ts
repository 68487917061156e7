import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { createJobsRepo } from '../../jobs/jobs.repo.js';
import type { ListQuery } from '../../http/list-query.js';
import { NotFoundError, PaymentRequiredError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import { analyzeSegments } from '../messages/segments.js';
import { createAudienceReader, type AudienceReader } from './audience.js';
import { planMessage, type AudienceSpec, type LinkPrefixes, type RenderPlan } from './campaign-sql.js';
import type { CampaignTemplatesService } from './campaign-templates.js';
import { createCampaignsRepo, type AudienceCounts, type CampaignRow, type Measure, type MessageStats } from './campaigns.repo.js';
import type { Campaign, CampaignPreview, CreateCampaignInput, UpdateCampaignInput } from './campaigns.schema.js';
import { contactIdFromToken, contactToken, COUPON_TAG, hasFixedLength, renderNodes } from './merge-tags.js';
import type { MessageChecker } from './message-check.js';
import { createShortLinksRepo } from './short-links.js';

export const JOB_LAUNCH = 'campaign.launch';
export const JOB_FANOUT = 'campaign.fanout';

const launchKey = (id: string) => `campaign-launch:${id}`;
const fanoutKey = (id: string) => `campaign-fanout:${id}`;

export interface CampaignsServiceDeps {
  db: Kysely<DB>;
  templates: CampaignTemplatesService;
  audience: AudienceReader;
  checkMessage: MessageChecker;
  couponExists(accountId: string, couponId: string): Promise<boolean>;
  /** Contacts per fan-out statement. */
  fanOutBatchSize?: number;
}

const EMPTY_STATS: MessageStats = { queued: 0, sent: 0, delivered: 0, failed: 0, bounced: 0, canceled: 0, unsubscribed: 0, clicks: 0, unique_clicks: 0, redemptions: 0 };

export function toCampaign(row: CampaignRow, groups: string[], stats: MessageStats | undefined): Campaign {
  const s = stats ?? EMPTY_STATS;
  return {
    id: row.id,
    name: row.name,
    message: row.message,
    groups,
    coupon_id: row.coupon_id,
    template_id: row.template_id,
    media_url: row.media_url,
    track_links: row.track_links,
    send_at: formatDate(row.send_at),
    status: row.status,
    cancel_reason: row.cancel_reason,
    stats: {
      recipients: row.recipients,
      queued: s.queued,
      sent: s.sent,
      delivered: s.delivered,
      failed: s.failed,
      bounced: s.bounced,
      canceled: s.canceled,
      unsubscribed: s.unsubscribed,
      clicks: s.clicks,
      unique_clicks: s.unique_clicks,
      redemptions: s.redemptions,
      skipped: { unsubscribed: row.skipped_unsubscribed, pending: row.skipped_pending, bounced: row.skipped_bounced, deactivated: row.skipped_deactivated },
      credits: Number(row.credits_reserved) - Number(row.credits_refunded),
    },
    started_at: formatDate(row.launched_at),
    completed_at: formatDate(row.completed_at),
    created_at: formatDate(row.created_at),
    updated_at: formatDate(row.updated_at),
  };
}

/**
 * Campaign rules. Statuses: draft → scheduled (send_at in the future) → sending → sent, or
 * canceled. Launching (now, or when send_at comes) reserves the credits the whole send costs
 * in the same transaction that marks the campaign sending — a balance that cannot cover it is a
 * 402 and nothing is sent — then a job fans the message out into the outbox in batches.
 */
export function createCampaignsService(deps: CampaignsServiceDeps) {
  const repo = createCampaignsRepo(deps.db);
  const batchSize = deps.fanOutBatchSize ?? 10_000;

  async function present(rows: CampaignRow[]): Promise<Campaign[]> {
    const groups = await repo.groupsOf(rows.map((r) => r.id));
    const stats = await repo.messageStats(rows);
    return rows.map((r) => toCampaign(r, groups.get(r.id) ?? [], stats.get(r.id)));
  }

  async function load(accountId: string, id: string): Promise<CampaignRow> {
    const row = await repo.find(accountId, id);
    if (!row) throw new NotFoundError('Campaign not found.');
    return row;
  }

  async function validate(accountId: string, input: { message?: string | undefined; groups?: string[] | undefined; coupon_id?: string | null | undefined; send_at?: string | null | undefined }, couponId: string | null, now: Date) {
    const errors: FieldErrors = {};
    if (input.message !== undefined) {
      const problems = await deps.checkMessage(accountId, input.message, { allowCoupon: couponId !== null });
      if (problems.length) errors.message = problems;
    }
    if (input.groups?.length) {
      const unknown = await deps.audience.unknownGroups(accountId, input.groups);
      if (unknown.length) errors.groups = [`Unknown group ids: ${unknown.join(', ')}.`];
    }
    if (input.coupon_id && !(await deps.couponExists(accountId, input.coupon_id))) errors.coupon_id = ['The selected coupon does not exist.'];
    if (input.send_at && new Date(input.send_at) <= now) errors.send_at = ['send_at must be in the future (or null to send now).'];
    if (Object.keys(errors).length) throw new ValidationError(errors);
  }

  function specOf(row: CampaignRow, asOf: Date): AudienceSpec {
    return { campaignId: row.id, accountId: row.account_id, allContacts: row.all_contacts, asOf };
  }

  /** The render plan, the campaign's short links (created on first use) and how texts are measured. */
  async function prepare(db: Kysely<DB>, row: CampaignRow) {
    const plan: RenderPlan = planMessage(row.message, { trackLinks: row.track_links, hasCoupon: row.coupon_id !== null });
    const links = createShortLinksRepo(db);
    const urlCodes = new Map<string, string>();
    for (const url of plan.urls) urlCodes.set(url, (await links.urlLink(row.account_id, row.id, url)).code);
    const couponCode = row.coupon_id ? (await links.couponLink(row.account_id, row.coupon_id, row.id)).code : null;
    const prefixes: LinkPrefixes = { base: row.link_base, urlCodes, couponCode };
    const fieldIds = await createAudienceFieldIds(db, row.account_id);
    // Only tokens of fixed length (22 base64url characters, all GSM-7) differ between recipients
    // when the text has no contact-dependent tag: then one rendering measures every message.
    // Otherwise the text with every such tag empty is the floor: no recipient's text is shorter,
    // and a value can only lengthen it or turn it to UCS-2, so no recipient costs fewer segments.
    const zero = '00000000-0000-0000-0000-000000000000';
    const renderFixed = (nodes: RenderPlan['nodes']) =>
      analyzeSegments(
        renderNodes(nodes, {
          contact: { id: zero },
          fields: {},
          link: (url) => (urlCodes.has(url) ? `${prefixes.base}/l/${urlCodes.get(url)}/${contactToken(zero)}` : url),
          couponUrl: couponCode ? `${prefixes.base}/c/${couponCode}/${contactToken(zero)}` : null,
        }),
      );
    let measure: Measure = { fixed: null };
    let floor: { segments: number; encoding: 'GSM-7' | 'UCS-2' };
    if (hasFixedLength(plan.nodes)) {
      const info = renderFixed(plan.nodes);
      measure = { fixed: { segments: info.segments, encoding: info.encoding } };
      floor = measure.fixed!;
    } else {
      const info = renderFixed(plan.nodes.map((n) => (n.kind === 'tag' && n.key !== COUPON_TAG ? { kind: 'text' as const, text: '' } : n)));
      floor = { segments: info.segments, encoding: info.encoding };
    }
    return { plan, prefixes, fieldIds, measure, floor };
  }

  const createAudienceFieldIds = (db: Kysely<DB>, accountId: string) => createAudienceReader(db).customFields(accountId);

  /**
   * Marks a campaign sending and reserves its credits, inside the caller's transaction.
   * Throws 422 for an empty audience and 402 when the balance does not cover the send.
   *
   * No recipient's text is rendered here: the audience is counted (one SQL count) and priced at
   * recipients x the segments of the message — exact when the text has no contact-dependent
   * tag, else the floor (every such tag empty), which the fan-out job tops up to the exact price
   * before it queues the first message (see `priceExactly`).
   */
  async function launch(trx: Kysely<DB>, row: CampaignRow): Promise<CampaignRow> {
    const tx = createCampaignsRepo(trx);
    const now = await tx.dbNow();
    const { plan, prefixes, fieldIds, measure, floor } = await prepare(trx, row);
    const counts = await tx.countAudience(specOf(row, now), plan, fieldIds, prefixes, { fixed: floor });
    if (counts.recipients === 0) {
      throw ValidationError.field('groups', `The campaign has no recipients: its audience has ${counts.audience} contacts and none is subscribed and reachable.`);
    }
    const credits = counts.recipients * floor.segments;
    if (!(await tx.debit(row.account_id, credits))) {
      const account = await tx.account(row.account_id);
      const needs = measure.fixed ? `${credits} credits` : `at least ${credits} credits`;
      throw new PaymentRequiredError(`Your credit balance (${account?.credit_balance ?? 0}) does not cover this campaign (${needs}); nothing was sent.`, {
        credits: [`The campaign needs ${needs}.`],
      });
    }
    const updated = await tx.update(row.id, { status: 'sending', launched_at: now, credits_reserved: credits, send_at: row.send_at });
    await createJobsRepo(trx).enqueue({ kind: JOB_FANOUT, accountId: row.account_id, payload: { campaignId: row.id }, dedupeKey: fanoutKey(row.id), maxAttempts: 1000 });
    return updated;
  }

  function creditsOf(counts: AudienceCounts, measure: Measure): number {
    return measure.fixed ? counts.recipients * measure.fixed.segments : Number(counts.segments);
  }

  async function schedule(trx: Kysely<DB>, row: CampaignRow): Promise<void> {
    const jobs = createJobsRepo(trx);
    await trx.deleteFrom('jobs').where('dedupe_key', '=', launchKey(row.id)).where('status', '=', 'queued').execute();
    await jobs.enqueue({ kind: JOB_LAUNCH, accountId: row.account_id, payload: { campaignId: row.id }, runAt: row.send_at ?? new Date(), dedupeKey: launchKey(row.id), maxAttempts: 1000 });
  }

  async function unschedule(trx: Kysely<DB>, id: string): Promise<void> {
    await trx.deleteFrom('jobs').where('dedupe_key', '=', launchKey(id)).where('status', '=', 'queued').execute();
  }

  /** After create/update: send now, schedule, or stay a draft. */
  async function apply(trx: Kysely<DB>, row: CampaignRow, draft: boolean): Promise<CampaignRow> {
    const tx = createCampaignsRepo(trx);
    if (draft) {
      await unschedule(trx, row.id);
      return row.status === 'draft' ? row : tx.update(row.id, { status: 'draft' });
    }
    if (row.send_at && row.send_at > new Date()) {
      const scheduled = row.status === 'scheduled' ? row : await tx.update(row.id, { status: 'scheduled' });
      await schedule(trx, scheduled);
      return scheduled;
    }
    await unschedule(trx, row.id);
    return launch(trx, row);
  }

  return {
    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: await present(rows), total };
    },
    async get(accountId: string, id: string) {
      return (await present([await load(accountId, id)]))[0]!;
    },
    exists: async (accountId: string, id: string) => Boolean(await repo.find(accountId, id)),

    async create(accountId: string, input: CreateCampaignInput, linkBase: string) {
      let message = input.message;
      let templateId: string | null = null;
      if (input.template_id) {
        const template = await deps.templates.find(accountId, input.template_id);
        if (!template) throw ValidationError.field('template_id', 'The selected campaign template does not exist.');
        templateId = template.id;
        message ??= template.message;
      }
      if (message === undefined) throw ValidationError.field('message', 'This field is required (or give a template_id).');
      if (!input.name.trim()) throw ValidationError.field('name', 'The name must not be blank.');
      await validate(accountId, { ...input, message }, input.coupon_id ?? null, new Date());
      const groups = input.groups ?? [];
      const id = await deps.db.transaction().execute(async (trx) => {
        const tx = createCampaignsRepo(trx);
        const row = await tx.insert({
          id: newId(),
          account_id: accountId,
          name: input.name.trim(),
          message,
          media_url: input.media_url ?? null,
          coupon_id: input.coupon_id ?? null,
          template_id: templateId,
          track_links: input.track_links ?? true,
          all_contacts: groups.length === 0,
          link_base: linkBase,
          send_at: input.send_at ? new Date(input.send_at) : null,
          status: 'draft',
        });
        await tx.setGroups(accountId, row.id, groups);
        await apply(trx, row, input.draft ?? false);
        return row.id;
      });
      return this.get(accountId, id);
    },

    async update(accountId: string, id: string, input: UpdateCampaignInput) {
      const current = await load(accountId, id);
      if (current.status !== 'draft' && current.status !== 'scheduled') {
        throw ValidationError.field('status', `The campaign is ${current.status}; it can no longer be changed.`);
      }
      const couponId = input.coupon_id !== undefined ? input.coupon_id : current.coupon_id;
      if (input.name !== undefined && !input.name.trim()) throw ValidationError.field('name', 'The name must not be blank.');
      await validate(accountId, { ...input, message: input.message ?? (input.coupon_id !== undefined ? current.message : undefined) }, couponId, new Date());
      await deps.db.transaction().execute(async (trx) => {
        const tx = createCampaignsRepo(trx);
        const locked = await tx.lock(id);
        if (!locked || (locked.status !== 'draft' && locked.status !== 'scheduled')) {
          throw ValidationError.field('status', `The campaign is ${locked?.status ?? 'gone'}; it can no longer be changed.`);
        }
        const patch: Parameters<typeof tx.update>[1] = {};
        if (input.name !== undefined) patch.name = input.name.trim();
        if (input.message !== undefined) patch.message = input.message;
        if (input.coupon_id !== undefined) patch.coupon_id = input.coupon_id;
        if (input.media_url !== undefined) patch.media_url = input.media_url;
        if (input.track_links !== undefined) patch.track_links = input.track_links;
        if (input.send_at !== undefined) patch.send_at = input.send_at ? new Date(input.send_at) : null;
        if (input.groups !== undefined) {
          patch.all_contacts = input.groups.length === 0;
          await tx.setGroups(accountId, id, input.groups);
        }
        const row = await tx.update(id, patch);
        const draft = input.draft ?? locked.status === 'draft';
        await apply(trx, row, draft);
      });
      return this.get(accountId, id);
    },

    /**
     * Draft, scheduled or canceled: the campaign is deleted. Sending: the send stops — in one
     * transaction the campaign is marked canceled and its messages still in the outbox are
     * canceled (the dispatcher only hands over messages it claimed from the queue, and claims
     * lock the rows), and unspent credits go back. Sent: 422.
     */
    async remove(accountId: string, id: string): Promise<'deleted' | 'canceled'> {
      await load(accountId, id);
      return deps.db.transaction().execute(async (trx) => {
        const tx = createCampaignsRepo(trx);
        const row = await tx.lock(id);
        if (!row) throw new NotFoundError('Campaign not found.');
        if (row.status === 'sent') throw ValidationError.field('status', 'The campaign has been sent; a sent campaign cannot be deleted.');
        if (row.status !== 'sending') {
          await unschedule(trx, id);
          await tx.remove(id);
          return 'deleted';
        }
        await stopSending(trx, row, 'Canceled while sending.');
        return 'canceled';
      });
    },

    /** Dry run: what a send would do now, without sending or charging anything. */
    async preview(accountId: string, id: string): Promise<CampaignPreview> {
      const row = await load(accountId, id);
      return deps.db.transaction().execute(async (trx) => {
        const tx = createCampaignsRepo(trx);
        const now = await tx.dbNow();
        const { plan, prefixes, fieldIds, measure } = await prepare(trx, row);
        const spec = specOf(row, now);
        const counts = await tx.countAudience(spec, plan, fieldIds, prefixes, measure);
        const sample = await tx.sample(spec, plan, fieldIds, prefixes);
        const account = await tx.account(accountId);
        const credits = creditsOf(counts, measure);
        const sampleInfo = sample ? analyzeSegments(sample.message) : null;
        const encodings = measure.fixed ? [measure.fixed.encoding] : [...(counts.gsm ? ['GSM-7'] : []), ...(counts.ucs2 ? ['UCS-2'] : [])];
        return {
          audience: counts.audience,
          recipients: counts.recipients,
          skipped: { unsubscribed: counts.unsubscribed, pending: counts.pending, bounced: counts.bounced, deactivated: counts.deactivated },
          segments: credits,
          segments_per_message: measure.fixed
            ? { min: counts.recipients ? measure.fixed.segments : 0, max: counts.recipients ? measure.fixed.segments : 0 }
            : { min: counts.min_segments, max: counts.max_segments },
          encoding: encodings.length === 0 ? 'GSM-7' : encodings.length === 1 ? encodings[0]! : 'mixed',
          credits,
          balance: Number(account?.credit_balance ?? 0),
          sufficient_credits: Number(account?.credit_balance ?? 0) >= credits,
          sample: sample && sampleInfo ? { ...sample, segments: sampleInfo.segments, encoding: sampleInfo.encoding } : null,
        };
      });
    },

    /** /l/{code}[/{token}]: records the click and answers the URL to redirect to. */
    async followLink(code: string, token: string | null): Promise<string | null> {
      const links = createShortLinksRepo(deps.db);
      const link = await links.findByCode(code);
      if (!link || link.kind !== 'url' || !link.url) return null;
      let contactId = token ? contactIdFromToken(token) : null;
      if (contactId && !(await deps.audience.contactExists(link.account_id, contactId))) contactId = null;
      await links.recordClick(link, contactId);
      return link.url;
    },

    /** Job: a scheduled campaign's send_at has come. */
    async launchScheduled(campaignId: string): Promise<{ retryAt?: Date }> {
      return deps.db.transaction().execute(async (trx) => {
        const tx = createCampaignsRepo(trx);
        const row = await tx.lock(campaignId);
        if (!row || row.status !== 'scheduled') return {};
        if (row.send_at && row.send_at > new Date()) return { retryAt: row.send_at };
        try {
          await launchInSavepoint(trx, row);
        } catch (error) {
          if (error instanceof PaymentRequiredError) {
            await tx.update(row.id, { status: 'canceled', cancel_reason: `Not sent: ${error.message}`, canceled_at: new Date(), completed_at: new Date() });
          } else if (error instanceof ValidationError) {
            await tx.update(row.id, { status: 'canceled', cancel_reason: 'Not sent: no contact of the audience could be messaged at send_at.', canceled_at: new Date(), completed_at: new Date() });
          } else throw error;
        }
        return {};
      });
    },

    /**
     * Job: one fan-out batch per transaction, each under the campaign's row lock (so a cancel
     * waits for the batch in flight and then cancels its messages too). Returns when the
     * audience is exhausted, the campaign stopped, or the runner is stopping.
     */
    async fanOut(campaignId: string, signal: AbortSignal): Promise<'done' | 'stopped' | 'interrupted' | { waitUntil: Date }> {
      if (!(await priceExactly(campaignId))) return 'stopped';
      for (;;) {
        if (signal.aborted) return 'interrupted';
        const outcome = await deps.db.transaction().execute(async (trx) => {
          const tx = createCampaignsRepo(trx);
          await backgroundSession(trx);
          const row = await tx.lock(campaignId);
          if (!row || row.status !== 'sending' || !row.launched_at) return 'stopped' as const;
          if (row.fanout_done) {
            const pending = await tx.pendingMessages(row.id);
            if (pending.pending > 0) {
              const soon = new Date(Date.now() + 2000);
              return { waitUntil: pending.next_at && pending.next_at > soon ? new Date(Math.min(pending.next_at.getTime(), Date.now() + 60_000)) : soon };
            }
            await tx.update(row.id, { status: 'sent', completed_at: new Date() });
            return 'done' as const;
          }
          const account = await tx.account(row.account_id);
          if (!account) return 'stopped' as const;
          const { plan, prefixes, fieldIds, measure } = await prepare(trx, row);
          await sql`SAVEPOINT batch`.execute(trx);
          const batch = await tx.fanOutBatch({
            spec: specOf(row, row.launched_at),
            groupIds: row.all_contacts ? [] : ((await tx.groupsOf([row.id])).get(row.id) ?? []),
            cursor: row.fanout_cursor,
            limit: batchSize,
            plan,
            fieldIds,
            links: prefixes,
            measure,
            from: account.short_code,
            mediaUrl: row.media_url,
            quietHours: account.quiet_hours_enabled ? { timezone: account.timezone, start: account.quiet_hours_start, end: account.quiet_hours_end } : null,
          });
          const used = Number(row.credits_used) + Number(batch.credits);
          const done = batch.visited < batchSize;
          let extra = 0;
          if (used > Number(row.credits_reserved)) {
            // The texts cost more than was reserved (a contact's field grew since the price was
            // taken): the difference is charged with the batch. A balance that cannot cover it
            // stops the campaign as a DELETE would: this batch is not queued, nothing not yet
            // handed to a carrier goes out, and what is unspent goes back.
            extra = used - Number(row.credits_reserved);
            if (!(await tx.debit(row.account_id, extra))) {
              await sql`ROLLBACK TO SAVEPOINT batch`.execute(trx);
              await stopSending(trx, row, `Stopped: the credit balance ran out during the send (${extra} more credits were needed); messages not yet sent were canceled and refunded.`);
              return 'stopped' as const;
            }
          }
          await sql`RELEASE SAVEPOINT batch`.execute(trx);
          // Once the audience is exhausted, the reservation not used goes back — here, once: the
          // same transaction sets fanout_done, and a later cancel gives back nothing more of it.
          const refund = done ? Math.max(0, Number(row.credits_reserved) + extra - used) : 0;
          await tx.refund(row.account_id, refund);
          await tx.update(row.id, {
            fanout_cursor: batch.last_id ?? row.fanout_cursor,
            fanout_done: done,
            recipients: row.recipients + batch.inserted,
            skipped_unsubscribed: row.skipped_unsubscribed + batch.unsubscribed,
            skipped_pending: row.skipped_pending + batch.pending,
            skipped_bounced: row.skipped_bounced + batch.bounced,
            skipped_deactivated: row.skipped_deactivated + batch.deactivated,
            credits_used: used,
            credits_reserved: Number(row.credits_reserved) + extra,
            credits_refunded: Number(row.credits_refunded) + refund,
          });
          return 'continue' as const;
        });
        if (outcome !== 'continue') return outcome;
      }
    },
  };

  /**
   * Stops a sending campaign, inside the caller's transaction holding its row lock: its messages
   * not yet handed to a carrier are canceled and their credits go back, with the reservation the
   * fan-out has not used — unless the fan-out finished, which gave that back itself.
   */
  async function stopSending(trx: Kysely<DB>, row: CampaignRow, reason: string): Promise<void> {
    const tx = createCampaignsRepo(trx);
    const canceled = await tx.cancelUnsentMessages(row.id);
    const unspent = row.fanout_done ? 0 : Math.max(0, Number(row.credits_reserved) - Number(row.credits_used));
    const refund = Number(canceled.credits) + unspent;
    await tx.refund(row.account_id, refund);
    await tx.update(row.id, {
      status: 'canceled',
      cancel_reason: reason,
      canceled_at: new Date(),
      completed_at: new Date(),
      credits_refunded: Number(row.credits_refunded) + refund,
    });
  }

  /**
   * Before the first message of a personalised campaign is queued, its exact price (each
   * recipient's text rendered and measured in SQL) replaces the floor the launch reserved: the
   * difference is charged, or, when the balance cannot cover it, the campaign is canceled and
   * the reservation given back — nothing was sent. The walk runs outside any transaction (a
   * cancel meanwhile does not wait for it); its outcome is applied under the row lock, only if
   * the campaign is still sending and nothing was queued yet. Repeating it (a worker died) takes
   * nothing twice. False when the campaign is not to be sent.
   */
  async function priceExactly(campaignId: string): Promise<boolean> {
    const unpriced = (r: CampaignRow | undefined): r is CampaignRow & { launched_at: Date } =>
      r !== undefined && r.status === 'sending' && r.launched_at !== null && r.fanout_cursor === null && !r.fanout_done && Number(r.credits_used) === 0;
    const row = await repo.findById(campaignId);
    if (!unpriced(row)) return true;
    const { plan, prefixes, fieldIds, measure } = await prepare(deps.db, row);
    if (measure.fixed) return true;
    // Tracked links and the coupon link are priced as constant text of their exact length (the
    // 22-character token is GSM-7 like its stand-in), so no token is encoded for the price.
    const token = 'A'.repeat(22);
    const priced: RenderPlan = {
      urls: [],
      nodes: plan.nodes.map((n) => {
        if (n.kind === 'link' && prefixes.urlCodes.has(n.url)) return { kind: 'text', text: `${prefixes.base}/l/${prefixes.urlCodes.get(n.url)}/${token}` };
        if (n.kind === 'tag' && n.key === COUPON_TAG && prefixes.couponCode) return { kind: 'text', text: `${prefixes.base}/c/${prefixes.couponCode}/${token}` };
        return n;
      }),
    };
    const credits = creditsOf(await repo.countAudience(specOf(row, row.launched_at), priced, fieldIds, { ...prefixes, urlCodes: new Map(), couponCode: null }, measure), measure);
    return deps.db.transaction().execute(async (trx) => {
      const tx = createCampaignsRepo(trx);
      const locked = await tx.lock(campaignId);
      if (!unpriced(locked)) return locked?.status === 'sending';
      const extra = credits - Number(locked.credits_reserved);
      if (extra <= 0) return true;
      if (await tx.debit(locked.account_id, extra)) {
        await tx.update(locked.id, { credits_reserved: Number(locked.credits_reserved) + extra });
        return true;
      }
      const account = await tx.account(locked.account_id);
      const reserved = Number(locked.credits_reserved);
      await tx.refund(locked.account_id, reserved);
      await tx.update(locked.id, {
        status: 'canceled',
        cancel_reason: `Not sent: your credit balance (${Number(account?.credit_balance ?? 0) + reserved}) does not cover this campaign (${credits} credits); nothing was sent.`,
        canceled_at: new Date(),
        completed_at: new Date(),
        credits_refunded: Number(locked.credits_refunded) + reserved,
      });
      return false;
    });
  }

  /**
   * Settings of a fan-out transaction. No JIT: a batch is a few thousand rows, and compiling
   * its statement with LLVM (the server's default above a cost threshold) costs more CPU than it
   * saves — CPU the API's requests are waiting for. No wait for the WAL flush at commit: a
   * batch lost in a server crash is lost with its cursor (same transaction), so the job simply
   * does it again (a dispatcher that handed one of its messages over committed later, and a
   * commit flushes the WAL before it, so that batch was kept).
   */
  async function backgroundSession(trx: Kysely<DB>): Promise<void> {
    await sql`SET LOCAL jit = off`.execute(trx);
    await sql`SET LOCAL synchronous_commit = off`.execute(trx);
  }

  async function launchInSavepoint(trx: Kysely<DB>, row: CampaignRow): Promise<void> {
    // A failed launch must leave the transaction usable (to record why), hence a savepoint.
    await sql`SAVEPOINT launch`.execute(trx);
    try {
      await launch(trx, row);
      await sql`RELEASE SAVEPOINT launch`.execute(trx);
    } catch (error) {
      await sql`ROLLBACK TO SAVEPOINT launch`.execute(trx);
      throw error;
    }
  }
}

export type CampaignsService = ReturnType<typeof createCampaignsService>;
