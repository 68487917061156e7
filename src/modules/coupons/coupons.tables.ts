import type { ColumnType, Generated } from 'kysely';
import type { CouponDesign } from './coupon-templates.seed.js';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export interface CouponTemplatesTable {
  id: string;
  key: string;
  name: string;
  description: string;
  design: ColumnType<CouponDesign, string, string>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CouponsTable {
  id: string;
  account_id: string;
  name: string;
  coupon_template_id: string;
  title: string;
  description: string | null;
  disclaimer: string | null;
  code: string | null;
  unique_codes: Generated<boolean>;
  starts_at: Date | null;
  expires_at: Date | null;
  redemption_limit: number | null;
  redemptions: Generated<number>;
  page_secret: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface CouponCodesTable {
  coupon_id: string;
  code: string;
  account_id: string;
  contact_id: string | null;
  assigned_at: Date | null;
  redeemed_at: Date | null;
  created_at: CreatedAt;
}

export interface CouponRedemptionsTable {
  id: string;
  account_id: string;
  coupon_id: string;
  campaign_id: string | null;
  contact_id: string | null;
  code: string | null;
  redemption_key: string;
  source: 'page' | 'api';
  created_at: CreatedAt;
}

export interface CouponTables {
  coupon_templates: CouponTemplatesTable;
  coupons: CouponsTable;
  coupon_codes: CouponCodesTable;
  coupon_redemptions: CouponRedemptionsTable;
}
