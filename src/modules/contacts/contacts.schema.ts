import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';
import { Nullable as NullableOut } from '../../http/nullable.js';
import { MAX_PHONE_INPUT_LENGTH } from '../../lib/phone.js';
import { CarrierSchema } from '../carriers/carriers.schema.js';
import { GroupSchema } from '../groups/groups.schema.js';

export const MAX_UNSUBSCRIBE = 100;
export const MAX_GROUPS_PER_REQUEST = 100;

const NullableString = (maxLength: number, extra: Record<string, unknown> = {}) => Type.Union([Type.String({ maxLength, ...extra }), Type.Null()]);

export const ContactStatusSchema = Type.Object(
  {
    subscription: Type.Unsafe<'pending' | 'subscribed' | 'unsubscribed'>({
      type: 'string',
      enum: ['pending', 'subscribed', 'unsubscribed'],
      description: 'Consent: pending (opt-in started, not confirmed), subscribed, or unsubscribed',
    }),
    carrier_status: Type.Unsafe<'active' | 'suspended' | 'deactivated'>({
      type: 'string',
      enum: ['active', 'suspended', 'deactivated'],
      description: 'What the carrier last reported about the line',
    }),
    opt_in_id: NullableOut(Type.String({ format: 'uuid' })),
    subscribed_at: NullableOut(Type.String({ format: 'date-time' })),
    unsubscribed_at: NullableOut(Type.String({ format: 'date-time' })),
    bounces: Type.Integer(),
    sendable: Type.Boolean({ description: 'Whether marketing messages may be sent to the contact now' }),
  },
  { $id: 'ContactStatus', title: 'Contact status' },
);

export const FieldValuesSchema = Type.Record(Type.String(), Type.Unsafe<string | number | boolean>({ type: ['string', 'number', 'boolean'] }), {
  description: 'include=fields: custom field values by name',
});

export const ContactSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    phone_number: Type.String({ description: 'E.164', examples: ['+12015550123'] }),
    first_name: NullableOut(Type.String()),
    last_name: NullableOut(Type.String()),
    email: NullableOut(Type.String()),
    gender: NullableOut(Type.String()),
    birth_date: NullableOut(Type.String({ format: 'date' })),
    address: NullableOut(Type.String()),
    city: NullableOut(Type.String()),
    state: NullableOut(Type.String()),
    zip: NullableOut(Type.String()),
    reward_points: Type.Integer(),
    timezone: NullableOut(Type.String()),
    unsubscribed_at: NullableOut(Type.String({ format: 'date-time' })),
    bounces: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    carrier: Type.Optional(NullableOut(CarrierSchema)),
    status: Type.Optional(ContactStatusSchema),
    groups: Type.Optional(Type.Array(GroupSchema, { description: 'include=groups' })),
    fields: Type.Optional(FieldValuesSchema),
  },
  { $id: 'Contact', title: 'Contact' },
);
export type Contact = Static<typeof ContactSchema>;

/** Writable attributes and their limits (a longer value is a 422 naming the field). */
const attributes = {
  first_name: Type.Optional(NullableString(100)),
  last_name: Type.Optional(NullableString(100)),
  email: Type.Optional(NullableString(254)),
  gender: Type.Optional(NullableString(20)),
  birth_date: Type.Optional(Type.Union([Type.String({ format: 'date', description: 'YYYY-MM-DD' }), Type.Null()])),
  address: Type.Optional(NullableString(255)),
  city: Type.Optional(NullableString(100)),
  state: Type.Optional(NullableString(100)),
  zip: Type.Optional(NullableString(20)),
  reward_points: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000_000 })),
  timezone: Type.Optional(NullableString(64, { description: 'IANA time zone; set from the number when not given' })),
  groups: Type.Optional(Type.Array(Type.String({ format: 'uuid' }), { maxItems: MAX_GROUPS_PER_REQUEST, description: 'Group ids; on PUT an empty array removes the contact from all groups' })),
  fields: Type.Optional(
    // Values are checked against each field's type by the service (a union here would let the
    // validator's type coercion turn 0 into null or 3 into "3").
    Type.Record(Type.String({ maxLength: 50 }), Type.Unknown(), {
      maxProperties: 200,
      description: 'Custom field values by field name (see /v1/fields): text, number, date (YYYY-MM-DD) or boolean; null removes a value',
    }),
  ),
};

const PhoneInput = Type.String({ minLength: 1, maxLength: MAX_PHONE_INPUT_LENGTH });

// Server-owned fields (id, account_id, bounces, unsubscribed_at, created_at, ...) are not part
// of these schemas; with additionalProperties false they are dropped before the handler runs.
export const CreateContactBody = Type.Object({ phone_number: PhoneInput, ...attributes }, { additionalProperties: false });
export const UpdateContactBody = Type.Object(
  { phone_number: Type.Optional(Type.String({ maxLength: MAX_PHONE_INPUT_LENGTH, description: 'Cannot change: accepted only when it is the same number' })), ...attributes },
  { additionalProperties: false },
);
export type CreateContactInput = Static<typeof CreateContactBody>;
export type UpdateContactInput = Static<typeof UpdateContactBody>;

export const UnsubscribeBody = Type.Object(
  { phone_numbers: Type.Array(PhoneInput, { minItems: 1, maxItems: MAX_UNSUBSCRIBE }) },
  { additionalProperties: false },
);
export const UnsubscribeResultSchema = Type.Object({
  unsubscribed: Type.Array(Type.String(), { description: 'E.164 numbers unsubscribed by this request' }),
  already_unsubscribed: Type.Array(Type.String()),
  not_found: Type.Array(Type.String(), { description: 'Valid numbers that are not contacts of the account' }),
});

export const AddGroupBody = Type.Object({ group_id: Type.String({ format: 'uuid' }) }, { additionalProperties: false });

export const CONTACT_INCLUDES = ['carrier', 'status', 'groups', 'fields'] as const;
export const IncludeQuery = Type.Object({
  include: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })])),
});

export const contactListSpec: ListSpec = {
  filters: { phone_number: 'exact', reward_points: 'exact' },
  sorts: ['created_at', 'updated_at', 'phone_number', 'first_name', 'last_name', 'reward_points'],
  defaultSort: 'created_at',
  includes: CONTACT_INCLUDES,
};
