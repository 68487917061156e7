import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';
import { MAX_PHONE_INPUT_LENGTH } from '../../lib/phone.js';
import { CarrierSchema } from '../carriers/carriers.schema.js';
import { GroupSchema } from '../groups/groups.schema.js';

export const MAX_UNSUBSCRIBE = 100;
export const MAX_GROUPS_PER_REQUEST = 100;

const NullableString = (maxLength: number, extra: Record<string, unknown> = {}) => Type.Union([Type.String({ maxLength, ...extra }), Type.Null()]);
const Nullable = <T extends ReturnType<typeof Type.String>>(s: T) => Type.Union([s, Type.Null()]);

export const ContactStatusSchema = Type.Object(
  {
    subscription: Type.Union([Type.Literal('pending'), Type.Literal('subscribed'), Type.Literal('unsubscribed')], {
      description: 'Consent: pending (opt-in started, not confirmed), subscribed, or unsubscribed',
    }),
    carrier_status: Type.Union([Type.Literal('active'), Type.Literal('suspended'), Type.Literal('deactivated')], {
      description: 'What the carrier last reported about the line',
    }),
    opt_in_id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()]),
    subscribed_at: Nullable(Type.String({ format: 'date-time' })),
    unsubscribed_at: Nullable(Type.String({ format: 'date-time' })),
    bounces: Type.Integer(),
    sendable: Type.Boolean({ description: 'Whether marketing messages may be sent to the contact now' }),
  },
  { $id: 'ContactStatus', title: 'Contact status' },
);

export const FieldValuesSchema = Type.Record(Type.String(), Type.Union([Type.String(), Type.Number(), Type.Boolean()]));

export const ContactSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    phone_number: Type.String({ description: 'E.164', examples: ['+12015550123'] }),
    first_name: Type.Union([Type.String(), Type.Null()]),
    last_name: Type.Union([Type.String(), Type.Null()]),
    email: Type.Union([Type.String(), Type.Null()]),
    gender: Type.Union([Type.String(), Type.Null()]),
    birth_date: Type.Union([Type.String({ format: 'date' }), Type.Null()]),
    address: Type.Union([Type.String(), Type.Null()]),
    city: Type.Union([Type.String(), Type.Null()]),
    state: Type.Union([Type.String(), Type.Null()]),
    zip: Type.Union([Type.String(), Type.Null()]),
    reward_points: Type.Integer(),
    timezone: Type.Union([Type.String(), Type.Null()]),
    unsubscribed_at: Nullable(Type.String({ format: 'date-time' })),
    bounces: Type.Integer(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    carrier: Type.Optional(Type.Union([CarrierSchema, Type.Null()], { description: 'include=carrier' })),
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
    Type.Record(Type.String({ maxLength: 50 }), Type.Union([Type.String({ maxLength: 1000 }), Type.Number(), Type.Boolean(), Type.Null()]), {
      maxProperties: 200,
      description: 'Custom field values by field name (see /v1/fields); null removes a value',
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
