import { sql, type Insertable, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import { ServiceUnavailableError } from '../../lib/errors.js';
import { audienceCondition, reasonExpression, renderExpression, type AudienceSpec, type LinkPrefixes, type RenderPlan } from './campaign-sql.js';
import type { CampaignsTable } from './campaigns.tables.js';

export type CampaignRow = Selectable<CampaignsTable>;

const COLUMNS: ColumnMap = {
  name: 'name',
  status: 'status',
  send_at: 'send_at',
  created_at: 'created_at',
  updated_at: 'updated_at',
  created_at_min: 'created_at',
  created_at_max: 'created_at',
};

export interface AudienceCounts {
  audience: number;
  recipients: number;
  unsubscribed: number;
  pending: number;
  bounced: number;
  deactivated: number;
  segments: number;
  min_segments: number;
  max_segments: number;
  gsm: boolean;
  ucs2: boolean;
}

export interface MessageStats {
  queued: number;
  sent: number;
  delivered: number;
  failed: number;
  bounced: number;
  canceled: number;
  unsubscribed: number;
  clicks: number;
  unique_clicks: number;
  redemptions: number;
}

/** How each recipient's text is measured: per row in SQL, or once when every text has the same length. */
export type Measure = { fixed: { segments: number; encoding: 'GSM-7' | 'UCS-2' } } | { fixed: null };

export type CampaignsRepo = ReturnType<typeof createCampaignsRepo>;

/** SQL of campaigns. Pass a transaction handle to run inside a transaction. */
export function createCampaignsRepo(db: Kysely<DB>) {
  return {
    async list(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('campaigns').where('account_id', '=', accountId), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },
    find: (accountId: string, id: string) => db.selectFrom('campaigns').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    findById: (id: string) => db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst(),
    // FOR NO KEY UPDATE: serialises changes of the campaign's state without blocking the foreign-key
    // checks (KEY SHARE) of messages being written for it, e.g. by a dispatcher whose claim is in flight.
    lock: (id: string) => db.selectFrom('campaigns').selectAll().where('id', '=', id).forNoKeyUpdate().executeTakeFirst(),
    insert: (row: Insertable<CampaignsTable>) => db.insertInto('campaigns').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (id: string, patch: Partial<Omit<CampaignRow, 'id' | 'account_id' | 'created_at'>>) =>
      db.updateTable('campaigns').set({ ...patch, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirstOrThrow(),
    async remove(id: string): Promise<void> {
      await db.deleteFrom('campaigns').where('id', '=', id).execute();
    },

    async groupsOf(ids: readonly string[]): Promise<Map<string, string[]>> {
      const out = new Map<string, string[]>();
      if (ids.length === 0) return out;
      const rows = await db.selectFrom('campaign_groups').select(['campaign_id', 'group_id']).where('campaign_id', 'in', ids).orderBy('group_id').execute();
      for (const r of rows) out.set(r.campaign_id, [...(out.get(r.campaign_id) ?? []), r.group_id]);
      return out;
    },
    async setGroups(accountId: string, campaignId: string, groupIds: readonly string[]): Promise<void> {
      await db.deleteFrom('campaign_groups').where('campaign_id', '=', campaignId).execute();
      if (groupIds.length) {
        await db.insertInto('campaign_groups').values(groupIds.map((g) => ({ campaign_id: campaignId, group_id: g, account_id: accountId }))).execute();
      }
    },

    dbNow: async (): Promise<Date> => (await sql<{ now: Date }>`SELECT now() AS now`.execute(db)).rows[0]!.now,

    account: (accountId: string) =>
      sql<{ short_code: string; credit_balance: number; timezone: string; quiet_hours_enabled: boolean; quiet_hours_start: number; quiet_hours_end: number }>`
        SELECT short_code, credit_balance, timezone, quiet_hours_enabled, quiet_hours_start, quiet_hours_end FROM accounts WHERE id = ${accountId}`
        .execute(db)
        .then((r) => r.rows[0]),

    /** Takes credits if the balance covers them; false (nothing taken) otherwise. */
    async debit(accountId: string, credits: number): Promise<boolean> {
      if (credits === 0) return true;
      const result = await sql`UPDATE accounts SET credit_balance = credit_balance - ${credits}, updated_at = now()
                               WHERE id = ${accountId} AND credit_balance >= ${credits}`.execute(db);
      return Number(result.numAffectedRows ?? 0) === 1;
    },
    async refund(accountId: string, credits: number): Promise<void> {
      if (credits <= 0) return;
      await sql`UPDATE accounts SET credit_balance = credit_balance + ${credits}, updated_at = now() WHERE id = ${accountId}`.execute(db);
    },

    /** Audience size, skips by reason and the credits the send costs, in one pass over the contacts. */
    async countAudience(spec: AudienceSpec, plan: RenderPlan, fieldIds: ReadonlyMap<string, string>, links: LinkPrefixes, measure: Measure): Promise<AudienceCounts> {
      const seg = measure.fixed ? sql`${measure.fixed.segments}::int` : sql`sms_segments(x.body)`;
      const enc = measure.fixed ? sql`${measure.fixed.encoding}::text` : sql`sms_encoding(x.body)`;
      const body = measure.fixed ? sql`NULL::text` : sql`CASE WHEN c.reason = 'ok' THEN ${renderExpression(plan, 'c', fieldIds, links)} END`;
      const result = await sql<AudienceCounts>`
        SELECT count(*)::int AS audience,
               count(*) FILTER (WHERE reason = 'ok')::int AS recipients,
               count(*) FILTER (WHERE reason = 'unsubscribed')::int AS unsubscribed,
               count(*) FILTER (WHERE reason = 'pending')::int AS pending,
               count(*) FILTER (WHERE reason = 'bounced')::int AS bounced,
               count(*) FILTER (WHERE reason = 'deactivated')::int AS deactivated,
               coalesce(sum(seg) FILTER (WHERE reason = 'ok'), 0)::bigint AS segments,
               coalesce(min(seg) FILTER (WHERE reason = 'ok'), 0)::int AS min_segments,
               coalesce(max(seg) FILTER (WHERE reason = 'ok'), 0)::int AS max_segments,
               coalesce(bool_or(enc = 'GSM-7') FILTER (WHERE reason = 'ok'), false) AS gsm,
               coalesce(bool_or(enc = 'UCS-2') FILTER (WHERE reason = 'ok'), false) AS ucs2
        FROM (SELECT x.reason, ${seg} AS seg, ${enc} AS enc
              FROM (SELECT c.reason, ${body} AS body
                    FROM (SELECT c.*, ${reasonExpression('c')} AS reason FROM contacts c WHERE ${audienceCondition(spec, 'c')}) c
                    OFFSET 0) x) y`.execute(db);
      return result.rows[0]!;
    },

    /** The first recipient and their text, rendered by the same SQL as the send. */
    async sample(spec: AudienceSpec, plan: RenderPlan, fieldIds: ReadonlyMap<string, string>, links: LinkPrefixes) {
      const result = await sql<{ contact_id: string; phone_number: string; message: string }>`
        SELECT c.id AS contact_id, c.phone_number, ${renderExpression(plan, 'c', fieldIds, links)} AS message
        FROM contacts c
        WHERE ${audienceCondition(spec, 'c')} AND ${reasonExpression('c')} = 'ok'
        ORDER BY c.id LIMIT 1`.execute(db);
      return result.rows[0];
    },

    /**
     * One batch of the fan-out, as one statement: the next `limit` contacts of the audience
     * after `cursor` (in id order), their skip reasons counted, and a queued message inserted
     * for each recipient, rendered and measured in SQL. The unique (campaign_id, contact_id)
     * index makes a repeated batch insert nothing.
     */
    async fanOutBatch(input: {
      spec: AudienceSpec;
      /** The campaign's groups (ignored when the audience is all contacts). */
      groupIds: readonly string[];
      cursor: string | null;
      limit: number;
      plan: RenderPlan;
      fieldIds: ReadonlyMap<string, string>;
      links: LinkPrefixes;
      measure: Measure;
      from: string;
      mediaUrl: string | null;
      quietHours: { timezone: string; start: number; end: number } | null;
    }) {
      const { spec, measure } = input;
      const seg = measure.fixed ? sql`${measure.fixed.segments}::int` : sql`sms_segments(r.body)`;
      const enc = measure.fixed ? sql`${measure.fixed.encoding}::text` : sql`sms_encoding(r.body)`;
      const q = input.quietHours;
      const zones = q ? sql`, zones AS MATERIALIZED (SELECT name FROM pg_timezone_names)` : sql``;
      const release = q
        ? sql`quiet_hours_release(now(), coalesce((SELECT z.name FROM zones z WHERE z.name = r.timezone), (SELECT z.name FROM zones z WHERE z.name = ${q.timezone}), 'UTC'), ${q.start}::int, ${q.end}::int)`
        : sql`now()`;
      const cursor = input.cursor ?? '00000000-0000-0000-0000-000000000000';
      // The next `limit` contact ids after the cursor, read in id order straight from an index:
      // (account_id, id) for all contacts, (group_id, contact_id) per group otherwise, each
      // group's range cut at `limit` before the union, so a batch costs the same at the end of a
      // million-contact audience as at its start.
      const candidates = spec.allContacts
        ? sql`SELECT c.id FROM contacts c WHERE c.account_id = ${spec.accountId} AND c.id > ${cursor}::uuid ORDER BY c.id LIMIT ${input.limit}`
        : sql`SELECT DISTINCT u.id FROM (${sql.join(
            input.groupIds.map(
              (g) => sql`(SELECT cg.contact_id AS id FROM contact_groups cg
                          WHERE cg.group_id = ${g}::uuid AND cg.contact_id > ${cursor}::uuid AND cg.created_at <= ${spec.asOf}
                          ORDER BY cg.contact_id LIMIT ${input.limit})`,
            ),
            sql` UNION ALL `,
          )}) u ORDER BY u.id LIMIT ${input.limit}`;
      const result = await sql<{ last_id: string | null; visited: number; unsubscribed: number; pending: number; bounced: number; deactivated: number; inserted: number; credits: number }>`
        WITH cand AS MATERIALIZED (${input.groupIds.length === 0 && !spec.allContacts ? sql`SELECT NULL::uuid AS id WHERE false` : candidates}),
        batch AS MATERIALIZED (
          SELECT c.*, ${reasonExpression('c')} AS reason FROM cand JOIN contacts c ON c.id = cand.id
          WHERE c.account_id = ${spec.accountId} AND c.created_at <= ${spec.asOf}
        )${zones}, ins AS (
          INSERT INTO messages (id, account_id, type, "from", phone_number, message, media_url, segments, encoding, credits, status, contact_id, campaign_id, next_attempt_at)
          SELECT uuid_v7(), ${spec.accountId}::uuid, 'OUTGOING', ${input.from}::text, m.phone_number, m.body, ${input.mediaUrl}::text, m.seg, m.enc, m.seg, 'queued', m.id, ${spec.campaignId}::uuid, m.release
          FROM (SELECT r.id, r.phone_number, r.body, ${seg} AS seg, ${enc} AS enc, ${release} AS release
                FROM (SELECT b.id, b.phone_number, b.timezone, ${renderExpression(input.plan, 'b', input.fieldIds, input.links)} AS body FROM batch b WHERE b.reason = 'ok' OFFSET 0) r) m
          ON CONFLICT (campaign_id, contact_id) WHERE campaign_id IS NOT NULL DO NOTHING
          RETURNING credits
        )
        SELECT (SELECT id FROM cand ORDER BY id DESC LIMIT 1) AS last_id,
               (SELECT count(*) FROM cand)::int AS visited,
               (SELECT count(*) FROM batch WHERE reason = 'unsubscribed')::int AS unsubscribed,
               (SELECT count(*) FROM batch WHERE reason = 'pending')::int AS pending,
               (SELECT count(*) FROM batch WHERE reason = 'bounced')::int AS bounced,
               (SELECT count(*) FROM batch WHERE reason = 'deactivated')::int AS deactivated,
               (SELECT count(*) FROM ins)::int AS inserted,
               (SELECT coalesce(sum(credits), 0) FROM ins)::bigint AS credits`.execute(db);
      return result.rows[0]!;
    },

    /**
     * Stops the campaign's messages that have not been handed to a carrier, and returns the
     * credits they held. Never waits on a row a dispatcher is claiming (that would deadlock with
     * its hand-over): queued rows are canceled with SKIP LOCKED, and rows skipped because a claim
     * was in progress are looked at again once it commits. A committed claim (`sending`) is the
     * send ledger's "may be handed over" (see the dispatcher), so such a message counts as handed
     * over and is not canceled: the DELETE answers once every message is canceled or claimed.
     */
    async cancelUnsentMessages(campaignId: string): Promise<{ count: number; credits: number }> {
      let count = 0;
      let credits = 0;
      const started = Date.now();
      for (let round = 0; ; round++) {
        const queued = await sql<{ count: number; credits: number }>`
          WITH c AS (
            UPDATE messages SET status = 'canceled', lease_until = NULL, claimed_by = NULL, last_error = 'campaign canceled', updated_at = now()
            WHERE id IN (SELECT id FROM messages WHERE campaign_id = ${campaignId} AND status IN ('queued', 'scheduled') FOR UPDATE SKIP LOCKED)
            RETURNING credits
          ) SELECT count(*)::int AS count, coalesce(sum(credits), 0)::bigint AS credits FROM c`.execute(db);
        count += queued.rows[0]!.count;
        credits += Number(queued.rows[0]!.credits);
        const left = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaignId} AND status IN ('queued', 'scheduled')`.execute(db);
        if (left.rows[0]!.n === 0) return { count, credits };
        // A dispatcher's hand-over transaction holds its rows for as long as a batch takes.
        if (Date.now() - started > 60_000) throw new ServiceUnavailableError('The campaign’s messages are being handed to the carrier; try the DELETE again.');
        await new Promise((resolve) => setTimeout(resolve, Math.min(50, 5 * 2 ** Math.min(round, 4))));
      }
    },

    /** Messages of the campaign not yet handed to a carrier, and when the next one is due. */
    async pendingMessages(campaignId: string): Promise<{ pending: number; next_at: Date | null }> {
      const result = await sql<{ pending: number; next_at: Date | null }>`
        SELECT count(*)::int AS pending, min(next_attempt_at) AS next_at FROM messages
        WHERE campaign_id = ${campaignId} AND status IN ('queued', 'scheduled', 'sending')`.execute(db);
      return result.rows[0]!;
    },

    /** Delivery figures derived from the message rows (current as delivery reports arrive). */
    async messageStats(campaigns: ReadonlyArray<Pick<CampaignRow, 'id' | 'launched_at'>>): Promise<Map<string, MessageStats>> {
      const out = new Map<string, MessageStats>();
      const ids = campaigns.filter((c) => c.launched_at).map((c) => c.id);
      if (ids.length === 0) return out;
      const rows = await sql<MessageStats & { campaign_id: string }>`
        SELECT cp.id AS campaign_id,
               coalesce(m.queued, 0) AS queued, coalesce(m.sent, 0) AS sent, coalesce(m.delivered, 0) AS delivered,
               coalesce(m.failed, 0) AS failed, coalesce(m.bounced, 0) AS bounced, coalesce(m.canceled, 0) AS canceled,
               (SELECT count(*)::int FROM contacts ct
                 WHERE ct.account_id = cp.account_id AND ct.unsubscribed_at >= cp.launched_at
                   AND EXISTS (SELECT 1 FROM messages mm WHERE mm.campaign_id = cp.id AND mm.contact_id = ct.id)) AS unsubscribed,
               (SELECT count(*)::int FROM link_clicks k WHERE k.campaign_id = cp.id) AS clicks,
               (SELECT count(DISTINCT k.contact_id)::int FROM link_clicks k WHERE k.campaign_id = cp.id) AS unique_clicks,
               (SELECT count(*)::int FROM coupon_redemptions r WHERE r.campaign_id = cp.id) AS redemptions
        FROM campaigns cp
        LEFT JOIN LATERAL (
          SELECT count(*) FILTER (WHERE status IN ('queued', 'scheduled', 'sending'))::int AS queued,
                 count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS sent,
                 count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
                 count(*) FILTER (WHERE status = 'failed')::int AS failed,
                 count(*) FILTER (WHERE bounce)::int AS bounced,
                 count(*) FILTER (WHERE status = 'canceled')::int AS canceled
          FROM messages WHERE campaign_id = cp.id
        ) m ON true
        WHERE cp.id = ANY(${ids}::uuid[])`.execute(db);
      for (const r of rows.rows) out.set(r.campaign_id, r);
      return out;
    },
  };
}
