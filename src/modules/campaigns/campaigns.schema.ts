import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

export const CAMPAIGN_STATUSES = ['draft', 'scheduled', 'sending', 'sent', 'canceled'] as const;

export const CampaignStatsSchema = Type.Object({
  recipients: Type.Integer({ description: 'Messages the campaign created (one per contact reached)' }),
  queued: Type.Integer({ description: 'Messages waiting to be handed to a carrier (quiet hours included)' }),
  sent: Type.Integer({ description: 'Messages handed to a carrier' }),
  delivered: Type.Integer({ description: 'Messages with a delivery report saying delivered' }),
  failed: Type.Integer({ description: 'Messages that failed (refused by the carrier or undeliverable)' }),
  bounced: Type.Integer({ description: 'Failed messages whose delivery code counts as a bounce' }),
  canceled: Type.Integer({ description: 'Messages not sent because the campaign was canceled' }),
  unsubscribed: Type.Integer({ description: 'Recipients who unsubscribed after the campaign started' }),
  clicks: Type.Integer({ description: 'Visits of the campaign’s tracked links and coupon page' }),
  unique_clicks: Type.Integer({ description: 'Recipients who visited at least one of them' }),
  redemptions: Type.Integer({ description: 'Coupon redemptions that came through this campaign' }),
  skipped: Type.Object(
    { unsubscribed: Type.Integer(), pending: Type.Integer(), bounced: Type.Integer(), deactivated: Type.Integer() },
    { description: 'Contacts of the audience not messaged, by reason' },
  ),
  credits: Type.Integer({ description: 'Credits charged (reserved at launch, less refunds)' }),
});
export type CampaignStats = Static<typeof CampaignStatsSchema>;

export const CampaignSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    message: Type.String(),
    groups: Type.Array(Type.String({ format: 'uuid' }), { description: 'Group ids; empty means every subscribed contact' }),
    coupon_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    template_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    media_url: Type.Union([Type.String(), Type.Null()]),
    track_links: Type.Boolean(),
    send_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    status: Type.String({ enum: [...CAMPAIGN_STATUSES] }),
    cancel_reason: Type.Union([Type.String(), Type.Null()]),
    stats: CampaignStatsSchema,
    started_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    completed_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Campaign', title: 'Campaign' },
);
export type Campaign = Static<typeof CampaignSchema>;

const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  message: Type.String({ minLength: 1, maxLength: 1600, description: 'Text with merge tags: {first_name|there}, custom fields by name, {coupon_url}' }),
  template_id: Type.String({ format: 'uuid', description: 'Start from a campaign template (its message, unless message is given)' }),
  groups: Type.Array(Type.String({ format: 'uuid' }), { maxItems: 100, uniqueItems: true }),
  coupon_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
  media_url: Type.Union([Type.String({ format: 'uri', maxLength: 2000, pattern: '^https?://' }), Type.Null()]),
  track_links: Type.Boolean({ description: 'Replace links by tracked short links (default true)' }),
  send_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()], { description: 'When to send; null or absent: now' }),
  draft: Type.Boolean({ description: 'Save without sending (default false); PUT draft=false to launch' }),
};

export const CreateCampaignBody = Type.Object(
  {
    name: fields.name,
    message: Type.Optional(fields.message),
    template_id: Type.Optional(fields.template_id),
    groups: Type.Optional(fields.groups),
    coupon_id: Type.Optional(fields.coupon_id),
    media_url: Type.Optional(fields.media_url),
    track_links: Type.Optional(fields.track_links),
    send_at: Type.Optional(fields.send_at),
    draft: Type.Optional(fields.draft),
  },
  { additionalProperties: false },
);
export type CreateCampaignInput = Static<typeof CreateCampaignBody>;

export const UpdateCampaignBody = Type.Object(
  {
    name: Type.Optional(fields.name),
    message: Type.Optional(fields.message),
    groups: Type.Optional(fields.groups),
    coupon_id: Type.Optional(fields.coupon_id),
    media_url: Type.Optional(fields.media_url),
    track_links: Type.Optional(fields.track_links),
    send_at: Type.Optional(fields.send_at),
    draft: Type.Optional(fields.draft),
  },
  { additionalProperties: false },
);
export type UpdateCampaignInput = Static<typeof UpdateCampaignBody>;

export const PreviewSchema = Type.Object(
  {
    audience: Type.Integer({ description: 'Contacts in the campaign’s groups (or the account)' }),
    recipients: Type.Integer({ description: 'Contacts who would get the message' }),
    skipped: Type.Object({ unsubscribed: Type.Integer(), pending: Type.Integer(), bounced: Type.Integer(), deactivated: Type.Integer() }),
    segments: Type.Integer({ description: 'Segments in total' }),
    segments_per_message: Type.Object({ min: Type.Integer(), max: Type.Integer() }),
    encoding: Type.String({ description: 'GSM-7, UCS-2 or mixed' }),
    credits: Type.Integer({ description: 'Credits the send would cost' }),
    balance: Type.Integer({ description: 'The account’s credit balance now' }),
    sufficient_credits: Type.Boolean(),
    sample: Type.Union(
      [
        Type.Object({
          contact_id: Type.String({ format: 'uuid' }),
          phone_number: Type.String(),
          message: Type.String(),
          segments: Type.Integer(),
          encoding: Type.String(),
        }),
        Type.Null(),
      ],
      { description: 'The message as the first recipient would get it' },
    ),
  },
  { $id: 'CampaignPreview', title: 'Campaign preview' },
);
export type CampaignPreview = Static<typeof PreviewSchema>;

export const campaignListSpec: ListSpec = {
  filters: { name: 'partial', status: { enum: CAMPAIGN_STATUSES }, created_at_min: 'date_min', created_at_max: 'date_max' },
  sorts: ['name', 'status', 'send_at', 'created_at', 'updated_at'],
  defaultSort: 'created_at',
  includes: [],
};
