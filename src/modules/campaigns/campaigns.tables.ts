import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export type CampaignStatus = 'draft' | 'scheduled' | 'sending' | 'sent' | 'canceled';

export interface CampaignTemplatesTable {
  id: string;
  account_id: string;
  name: string;
  message: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CampaignsTable {
  id: string;
  account_id: string;
  name: string;
  message: string;
  media_url: string | null;
  coupon_id: string | null;
  template_id: string | null;
  track_links: Generated<boolean>;
  link_base: string;
  all_contacts: Generated<boolean>;
  send_at: Date | null;
  status: CampaignStatus;
  cancel_reason: string | null;
  launched_at: Date | null;
  completed_at: Date | null;
  canceled_at: Date | null;
  credits_reserved: Generated<number>;
  credits_used: Generated<number>;
  credits_refunded: Generated<number>;
  fanout_cursor: string | null;
  fanout_done: Generated<boolean>;
  recipients: Generated<number>;
  skipped_unsubscribed: Generated<number>;
  skipped_pending: Generated<number>;
  skipped_bounced: Generated<number>;
  skipped_deactivated: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CampaignGroupsTable {
  campaign_id: string;
  group_id: string;
  account_id: string;
}

export interface ShortLinksTable {
  id: string;
  account_id: string;
  code: string;
  kind: 'url' | 'coupon';
  url: string | null;
  coupon_id: string | null;
  campaign_id: string | null;
  created_at: CreatedAt;
}

export interface LinkClicksTable {
  id: string;
  account_id: string;
  link_id: string;
  campaign_id: string | null;
  contact_id: string | null;
  created_at: CreatedAt;
}

export interface CampaignTables {
  campaign_templates: CampaignTemplatesTable;
  campaigns: CampaignsTable;
  campaign_groups: CampaignGroupsTable;
  short_links: ShortLinksTable;
  link_clicks: LinkClicksTable;
}
