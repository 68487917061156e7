import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;
type Json = ColumnType<unknown, string | null, string | null>;

export type MessageType = 'INCOMING' | 'OUTGOING';
export type MessageStatus = 'scheduled' | 'queued' | 'sending' | 'sent' | 'delivered' | 'failed' | 'canceled' | 'received';

export interface MessagesTable {
  id: string;
  account_id: string;
  type: MessageType;
  from: string;
  phone_number: string;
  message: string;
  media_url: string | null;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  credits: Generated<number>;
  status: MessageStatus;
  read: Generated<boolean>;
  contact_id: string | null;
  campaign_id: string | null;
  metadata: Json;
  bypass_consent: Generated<boolean>;
  attempts: Generated<number>;
  next_attempt_at: Generated<Date>;
  lease_until: Date | null;
  claimed_by: string | null;
  last_error: string | null;
  carrier_message_id: string | null;
  receipt_code: number | null;
  receipt_text: string | null;
  receipt_at: Date | null;
  bounce: Generated<boolean>;
  sent_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface MessagePartsTable {
  message_id: string;
  part: number;
  carrier_message_id: string;
}

export interface UnmatchedReportsTable {
  carrier_message_id: string;
  code: number;
  text: string | null;
  received_at: Date;
  created_at: CreatedAt;
}

export interface IdempotencyKeysTable {
  account_id: string;
  key: string;
  route: string;
  request_hash: string;
  status_code: number;
  response: Json;
  created_at: CreatedAt;
}

export interface ScheduledMessagesTable {
  id: string;
  account_id: string;
  message_id: string;
  phone_number: string;
  message: string;
  send_at: Date;
  canceled_at: Date | null;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface SimulatorMessagesTable {
  id: string;
  account_id: string;
  direction: 'MT' | 'MO';
  handset: string;
  short_code: string;
  message: string;
  message_id: string | null;
  report_code: number | null;
  report_due_at: Date | null;
  report_lease_until: Date | null;
  reported_at: Date | null;
  created_at: CreatedAt;
}

export interface MessageTables {
  messages: MessagesTable;
  message_parts: MessagePartsTable;
  unmatched_reports: UnmatchedReportsTable;
  idempotency_keys: IdempotencyKeysTable;
  scheduled_messages: ScheduledMessagesTable;
  simulator_messages: SimulatorMessagesTable;
}
