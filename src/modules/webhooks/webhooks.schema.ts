import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';
import { WEBHOOK_EVENTS } from './webhook-payloads.js';

const DateTime = Type.String({ format: 'date-time' });
const NullableDateTime = Type.Union([DateTime, Type.Null()]);

export const WebhookEndpointSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    url: Type.String({ format: 'uri', examples: ['https://example.com/hooks/sms'] }),
    events: Type.Array(Type.String({ enum: [...WEBHOOK_EVENTS] }), { description: 'The events sent to this URL.' }),
    enabled: Type.Boolean(),
    disabled_reason: Type.Union([Type.Literal('gone'), Type.Literal('failing'), Type.Null()], {
      description: 'Why delivery stopped by itself: "gone" (the receiver answered 410) or "failing" (no success for more than 5 days).',
    }),
    disabled_at: NullableDateTime,
    failing_since: Type.Union([DateTime, Type.Null()], { description: 'First failure since the last success; null while healthy.' }),
    secret_rotation_ends_at: Type.Union([DateTime, Type.Null()], {
      description: 'Until then the previous secret also signs every delivery (after a rotation).',
    }),
    created_at: DateTime,
    updated_at: DateTime,
  },
  { $id: 'WebhookEndpoint', title: 'WebhookEndpoint' },
);
export type WebhookEndpoint = Static<typeof WebhookEndpointSchema>;

export const WebhookEndpointWithSecretSchema = Type.Object(
  {
    ...WebhookEndpointSchema.properties,
    secret: Type.String({ description: 'The signing secret (whsec_...). Shown only in this response: store it now.' }),
  },
  { title: 'WebhookEndpointWithSecret' },
);

const EventsInput = Type.Array(Type.String({ maxLength: 100 }), {
  minItems: 1,
  maxItems: 20,
  description: `One or more of: ${WEBHOOK_EVENTS.join(', ')}.`,
});
const UrlInput = Type.String({ maxLength: 4096, description: 'An http(s) URL that receives POST requests.' });

export const CreateWebhookBody = Type.Object({
  url: UrlInput,
  events: EventsInput,
  enabled: Type.Optional(Type.Boolean({ default: true })),
});
export const UpdateWebhookBody = Type.Object({
  url: Type.Optional(UrlInput),
  events: Type.Optional(EventsInput),
  enabled: Type.Optional(Type.Boolean()),
});
export type CreateWebhookInput = Static<typeof CreateWebhookBody>;
export type UpdateWebhookInput = Static<typeof UpdateWebhookBody>;

export const DELIVERY_STATUSES = ['pending', 'delivering', 'delivered', 'failed'] as const;

export const WebhookDeliverySchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    webhook_id: Type.String({ description: 'The webhook-id header: the same on every attempt, for deduplication.' }),
    event: Type.String({ enum: [...WEBHOOK_EVENTS] }),
    status: Type.String({ enum: [...DELIVERY_STATUSES] }),
    attempts: Type.Integer({ description: 'Attempts made in the current retry cycle.' }),
    response_code: Type.Union([Type.Integer(), Type.Null()], { description: 'HTTP status of the last attempt (null: no answer).' }),
    latency_ms: Type.Union([Type.Integer(), Type.Null()]),
    error: Type.Union([Type.String(), Type.Null()]),
    next_attempt_at: Type.Union([DateTime, Type.Null()], { description: 'When the next attempt is due (pending deliveries).' }),
    last_attempt_at: NullableDateTime,
    delivered_at: NullableDateTime,
    created_at: DateTime,
  },
  { $id: 'WebhookDelivery', title: 'WebhookDelivery' },
);
export type WebhookDelivery = Static<typeof WebhookDeliverySchema>;

export const WebhookAttemptSchema = Type.Object({
  attempt: Type.Integer(),
  attempted_at: DateTime,
  outcome: Type.String({ enum: ['success', 'failure', 'gone'] }),
  response_code: Type.Union([Type.Integer(), Type.Null()]),
  latency_ms: Type.Integer(),
  error: Type.Union([Type.String(), Type.Null()]),
  response_body: Type.Union([Type.String(), Type.Null()], { description: 'The first 1 KiB of the answer.' }),
});
export type WebhookAttempt = Static<typeof WebhookAttemptSchema>;

export const WebhookDeliveryDetailSchema = Type.Object(
  {
    ...WebhookDeliverySchema.properties,
    payload: Type.Unknown({ description: 'The JSON body that is signed and sent.' }),
    attempt_log: Type.Array(WebhookAttemptSchema),
  },
  { title: 'WebhookDeliveryDetail' },
);

export const webhookListSpec: ListSpec = {
  filters: { url: 'partial', enabled: { enum: ['true', 'false'] } },
  sorts: ['created_at', 'updated_at', 'url'],
  defaultSort: 'created_at',
  includes: [],
};

export const deliveryListSpec: ListSpec = {
  filters: { status: { enum: DELIVERY_STATUSES }, event: { enum: [...Object.values(WEBHOOK_EVENTS)] } },
  sorts: ['created_at', 'next_attempt_at', 'last_attempt_at'],
  defaultSort: '-created_at',
  includes: [],
};
