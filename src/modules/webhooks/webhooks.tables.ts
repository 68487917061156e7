import type { ColumnType, Generated } from 'kysely';

export type DisabledReason = 'gone' | 'failing';
export type DeliveryStatus = 'pending' | 'delivering' | 'delivered' | 'failed';

export interface WebhookEndpointsTable {
  id: string;
  account_id: string;
  url: string;
  events: string[];
  enabled: Generated<boolean>;
  disabled_reason: DisabledReason | null;
  disabled_at: Date | null;
  failing_since: Date | null;
  /** AES-256-GCM, bound to the endpoint id (src/lib/secret-box.ts). */
  secret_encrypted: string;
  previous_secret_encrypted: string | null;
  previous_secret_expires_at: Date | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface WebhookDeliveriesTable {
  id: string;
  account_id: string;
  endpoint_id: string;
  event_type: string;
  event_ids: string[];
  /** The `webhook-id` header: the same on every attempt. */
  msg_id: string;
  /** The exact body that is signed and sent. */
  payload: string;
  status: Generated<DeliveryStatus>;
  attempts: Generated<number>;
  next_attempt_at: Date | null;
  locked_by: string | null;
  locked_until: Date | null;
  last_attempt_at: Date | null;
  last_status_code: number | null;
  last_latency_ms: number | null;
  last_error: string | null;
  delivered_at: Date | null;
  created_at: Generated<Date>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface WebhookAttemptsTable {
  id: string;
  delivery_id: string;
  attempt: number;
  attempted_at: Date;
  outcome: 'success' | 'failure' | 'gone';
  status_code: number | null;
  latency_ms: number;
  error: string | null;
  response_snippet: string | null;
}

export interface WebhookTables {
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
}
