import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

const DesignSchema = Type.Object({
  layout: Type.String({ enum: ['ticket', 'banner', 'minimal', 'stamp'] }),
  background: Type.String(),
  card: Type.String(),
  accent: Type.String(),
  text: Type.String(),
  muted: Type.String(),
  font: Type.String({ enum: ['sans', 'serif', 'rounded', 'mono'] }),
  show: Type.String({ enum: ['button', 'code'], description: 'A redeem button, or the code in large type' }),
});

export const CouponTemplateSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    description: Type.String(),
    design: DesignSchema,
    preview_url: Type.String({ format: 'uri', description: 'A sample coupon rendered in this design' }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'CouponTemplate', title: 'Coupon template' },
);
export type CouponTemplate = Static<typeof CouponTemplateSchema>;

export const couponTemplateListSpec: ListSpec = {
  filters: { name: 'partial' },
  sorts: ['name', 'created_at'],
  defaultSort: 'name',
  includes: [],
};

const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

export const CouponSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    coupon_template_id: Type.String({ format: 'uuid' }),
    title: Type.String(),
    description: Type.Union([Type.String(), Type.Null()]),
    disclaimer: Type.Union([Type.String(), Type.Null()]),
    code: Type.Union([Type.String(), Type.Null()], { description: 'The code everyone gets (null with unique codes)' }),
    unique_codes: Type.Boolean({ description: 'Each contact gets their own code from the pool' }),
    codes: Type.Object(
      { total: Type.Integer(), assigned: Type.Integer(), redeemed: Type.Integer(), available: Type.Integer() },
      { description: 'The pool of unique codes' },
    ),
    starts_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
    redemption_limit: Type.Union([Type.Integer(), Type.Null()], { description: 'Redemptions allowed in total (null: no limit)' }),
    redemptions: Type.Integer(),
    url: Type.String({ format: 'uri', description: "The coupon's public page" }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Coupon', title: 'Coupon' },
);
export type Coupon = Static<typeof CouponSchema>;

const Code = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9_-]+$' });
const fields = {
  name: Type.String({ minLength: 1, maxLength: 100 }),
  coupon_template_id: Type.String({ format: 'uuid' }),
  title: Type.String({ minLength: 1, maxLength: 120 }),
  description: Nullable(Type.String({ maxLength: 1000 })),
  disclaimer: Nullable(Type.String({ maxLength: 1000 })),
  code: Nullable(Code),
  unique_codes: Type.Boolean(),
  codes: Type.Array(Code, { maxItems: 10_000, description: 'Unique codes to add to the pool' }),
  generate_codes: Type.Integer({ minimum: 1, maximum: 100_000, description: 'Random unique codes to generate into the pool' }),
  starts_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  expires_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  // One JSON type list (not a union) so that 0 is refused instead of being coerced to null.
  redemption_limit: Type.Unsafe<number | null>({ type: ['integer', 'null'], minimum: 1, maximum: 2_147_483_647 }),
};
const optional = {
  name: Type.Optional(fields.name),
  coupon_template_id: Type.Optional(fields.coupon_template_id),
  title: Type.Optional(fields.title),
  description: Type.Optional(fields.description),
  disclaimer: Type.Optional(fields.disclaimer),
  code: Type.Optional(fields.code),
  unique_codes: Type.Optional(fields.unique_codes),
  codes: Type.Optional(fields.codes),
  generate_codes: Type.Optional(fields.generate_codes),
  starts_at: Type.Optional(fields.starts_at),
  expires_at: Type.Optional(fields.expires_at),
  redemption_limit: Type.Optional(fields.redemption_limit),
};

export const CreateCouponBody = Type.Object({ ...optional, name: fields.name, title: fields.title }, { additionalProperties: false });
export type CreateCouponInput = Static<typeof CreateCouponBody>;
export const UpdateCouponBody = Type.Object(optional, { additionalProperties: false });
export type UpdateCouponInput = Static<typeof UpdateCouponBody>;

export const RedemptionSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    coupon_id: Type.String({ format: 'uuid' }),
    campaign_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    contact_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    code: Type.Union([Type.String(), Type.Null()]),
    source: Type.String({ enum: ['page', 'api'] }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'CouponRedemption', title: 'Coupon redemption' },
);
export type Redemption = Static<typeof RedemptionSchema>;

export const RedeemBody = Type.Object(
  {
    code: Type.Optional(Code),
    contact_id: Type.Optional(Type.String({ format: 'uuid' })),
    campaign_id: Type.Optional(Type.String({ format: 'uuid' })),
    reference: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Your id for this redemption: sending it again does not count twice' })),
  },
  { additionalProperties: false },
);
export type RedeemInput = Static<typeof RedeemBody>;

export const couponListSpec: ListSpec = {
  filters: { name: 'partial', title: 'partial', coupon_template_id: 'exact', created_at_min: 'date_min', created_at_max: 'date_max' },
  sorts: ['name', 'created_at', 'updated_at', 'expires_at', 'redemptions'],
  defaultSort: 'created_at',
  includes: [],
};
