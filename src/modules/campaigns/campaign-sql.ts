import { sql, type RawBuilder } from 'kysely';
import { compileToSql, COUPON_TAG, parseTemplate, withLinks, type MergeNode } from './merge-tags.js';

/**
 * SQL building blocks of a campaign send. A campaign's audience, each contact's reason to be
 * skipped, and each recipient's personalised text are SQL expressions, so counting, previewing
 * and fanning out to a million contacts are set-based statements: no recipient list is ever
 * held in the process.
 */
export interface AudienceSpec {
  campaignId: string;
  accountId: string;
  allContacts: boolean;
  /** Contacts (and group memberships) created after this instant are not in the audience. */
  asOf: Date;
}

/** `WHERE` condition selecting the audience for contacts aliased `alias`. */
export function audienceCondition(spec: AudienceSpec, alias: string): RawBuilder<boolean> {
  const c = (column: string) => sql.ref(`${alias}.${column}`);
  const inGroups = spec.allContacts
    ? sql`true`
    : sql`EXISTS (SELECT 1 FROM contact_groups cg JOIN campaign_groups g ON g.group_id = cg.group_id
                  WHERE g.campaign_id = ${spec.campaignId} AND cg.contact_id = ${c('id')} AND cg.created_at <= ${spec.asOf})`;
  return sql<boolean>`${c('account_id')} = ${spec.accountId} AND ${c('created_at')} <= ${spec.asOf} AND ${inGroups}`;
}

export const SKIP_REASONS = ['unsubscribed', 'pending', 'bounced', 'deactivated'] as const;
export type SkipReason = (typeof SKIP_REASONS)[number];

/** 'ok' for a contact who gets the message, else why not (bounced out first: it is also unsubscribed). */
export function reasonExpression(alias: string): RawBuilder<string> {
  const c = (column: string) => sql.ref(`${alias}.${column}`);
  return sql<string>`CASE WHEN ${c('bounces')} >= 3 THEN 'bounced'
                          WHEN ${c('status')} = 'unsubscribed' THEN 'unsubscribed'
                          WHEN ${c('status')} <> 'subscribed' THEN 'pending'
                          WHEN ${c('carrier_status')} <> 'active' THEN 'deactivated'
                          ELSE 'ok' END`;
}

export interface RenderPlan {
  nodes: MergeNode[];
  /** Distinct URLs to replace by tracked links. */
  urls: string[];
}

/** The nodes a campaign message renders from: links found, and the coupon link appended when the text has none. */
export function planMessage(message: string, options: { trackLinks: boolean; hasCoupon: boolean }): RenderPlan {
  const parsed = parseTemplate(message).nodes;
  let nodes = options.trackLinks ? withLinks(parsed) : parsed;
  if (options.hasCoupon && !nodes.some((n) => n.kind === 'tag' && n.key === COUPON_TAG)) {
    nodes = [...nodes, { kind: 'text', text: ' ' }, { kind: 'tag', name: COUPON_TAG, key: COUPON_TAG, fallback: '' }];
  }
  const urls = [...new Set(nodes.flatMap((n) => (n.kind === 'link' ? [n.url] : [])))];
  return { nodes, urls };
}

export interface LinkPrefixes {
  base: string;
  urlCodes: ReadonlyMap<string, string>;
  couponCode: string | null;
}

export function renderExpression(plan: RenderPlan, alias: string, fieldIds: ReadonlyMap<string, string>, links: LinkPrefixes): RawBuilder<string> {
  return compileToSql(plan.nodes, {
    contact: alias,
    fieldIds,
    linkPrefix: (url) => {
      const code = links.urlCodes.get(url);
      return code === undefined ? undefined : `${links.base}/l/${code}/`;
    },
    couponPrefix: links.couponCode === null ? null : `${links.base}/c/${links.couponCode}/`,
  });
}
