import { Type } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ReceiptSchema = Type.Object(
  {
    code: Type.String({ description: 'Delivery code of the reference table (100-144, 214)', examples: ['100'] }),
    status: Type.String({ examples: ['The message delivered successfully.'] }),
    success: Type.Boolean(),
    bounce: Type.Boolean(),
    received_at: Nullable(Type.String({ format: 'date-time' })),
  },
  { $id: 'Receipt', title: 'Receipt' },
);

export const MessageContactSchema = Type.Object({
  id: Type.String({ format: 'uuid' }),
  phone_number: Type.String(),
  first_name: Nullable(Type.String()),
  last_name: Nullable(Type.String()),
  carrier: Type.Union([
    Type.Object({ id: Type.String(), name: Type.String(), country: Type.String(), created_at: Type.String(), updated_at: Type.String() }),
    Type.Null(),
  ]),
});

export const MessageSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    type: Type.Union([Type.Literal('INCOMING'), Type.Literal('OUTGOING')]),
    from: Type.String({ description: 'The sender: the account short code for outgoing messages', examples: ['64600'] }),
    phone_number: Type.String({ description: 'The handset, E.164', examples: ['+12025550123'] }),
    message: Type.String(),
    segments: Type.Integer(),
    encoding: Type.Union([Type.Literal('GSM-7'), Type.Literal('UCS-2')]),
    status: Type.String({ description: 'queued, sent, delivered, failed (outgoing); received (incoming)' }),
    read: Type.Boolean(),
    contact_id: Nullable(Type.String({ format: 'uuid' })),
    campaign_id: Nullable(Type.String({ format: 'uuid' })),
    created_at: Type.String({ format: 'date-time' }),
    receipt: Type.Optional(Type.Union([ReceiptSchema, Type.Null()])),
    contact: Type.Optional(Type.Union([MessageContactSchema, Type.Null()])),
  },
  { $id: 'Message', title: 'Message' },
);

export const messageListSpec: ListSpec = {
  filters: {
    type: { enum: ['INCOMING_ALL', 'OUTGOING_ALL', 'INCOMING', 'OUTGOING'] },
    phone_number: 'partial',
    created_at_min: 'date_min',
    created_at_max: 'date_max',
  },
  sorts: ['created_at'],
  defaultSort: '-created_at',
  includes: ['receipt', 'contact.carrier', 'type'],
};

export const IncludeQuery = Type.Object({
  include: Type.Optional(Type.Union([Type.String({ maxLength: 500 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })])),
});

const Text = Type.Unknown({ description: 'The text: 1 to 1,600 characters; GSM-7 or UCS-2 is chosen automatically' });

export const SendToNumberBody = Type.Object(
  {
    phone_number: Type.Unknown({ description: 'Recipient; parsed with the account country, E.164 preferred', examples: ['+12025550123'] }),
    message: Text,
    media_url: Type.Optional(Type.Unknown({ description: 'http(s) URL of an image (MMS)' })),
  },
  { additionalProperties: true },
);

export const SendToContactBody = Type.Object(
  { contact_id: Type.Unknown({ description: 'A contact of the account' }), message: Text },
  { additionalProperties: true },
);

export const BatchBody = Type.Object(
  {
    messages: Type.Array(
      Type.Object(
        {
          phone_number: Type.Unknown(),
          message: Text,
          metadata: Type.Optional(Type.Unknown({ description: 'Any JSON object; returned in the delivery report webhook' })),
        },
        { additionalProperties: true },
      ),
      { minItems: 1, maxItems: 1000 },
    ),
  },
  { additionalProperties: true },
);

export const PreviewBody = Type.Object({ message: Text }, { additionalProperties: true });

export const PreviewSchema = Type.Object({
  encoding: Type.String(),
  segments: Type.Integer(),
  credits: Type.Integer(),
  characters: Type.Integer(),
  units: Type.Integer({ description: 'Septets (GSM-7) or UTF-16 code units (UCS-2)' }),
  per_segment: Type.Integer(),
  non_gsm_characters: Type.Array(Type.String(), { description: 'Characters that force UCS-2' }),
});

export const BatchResponse = Type.Object({
  data: Type.Array(MessageSchema),
  meta: Type.Object({
    accepted: Type.Integer(),
    rejected: Type.Array(
      Type.Object({ index: Type.Integer(), phone_number: Type.String(), description: Type.String(), message: Type.String() }),
    ),
  }),
});

export const UpdateMessageBody = Type.Object({ read: Type.Optional(Type.Unknown()) }, { additionalProperties: true });

export const ScheduledMessageSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    phone_number: Type.String(),
    message: Type.String(),
    send_at: Type.String({ format: 'date-time' }),
    status: Type.Union([Type.Literal('scheduled'), Type.Literal('sent'), Type.Literal('canceled'), Type.Literal('failed')]),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'ScheduledMessage', title: 'ScheduledMessage' },
);

export const ScheduleBody = Type.Object(
  { phone_number: Type.Unknown(), message: Text, send_at: Type.Unknown({ description: 'ISO 8601 date-time in the future' }) },
  { additionalProperties: true },
);

export const ScheduleUpdateBody = Type.Object(
  { phone_number: Type.Optional(Type.Unknown()), message: Type.Optional(Text), send_at: Type.Optional(Type.Unknown()) },
  { additionalProperties: true },
);

export const scheduledListSpec: ListSpec = {
  filters: {},
  sorts: ['send_at', 'created_at', 'updated_at'],
  defaultSort: 'send_at',
  includes: [],
};
