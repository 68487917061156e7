/**
 * The six webhook events and their JSON bodies, exactly as the API v1 reference shows them:
 * same field names, same field order (JSON.stringify keeps insertion order, and receivers
 * written against the reference sometimes compare or log bodies verbatim), same nullability.
 *
 * Dates are `YYYY-MM-DDThh:mm:ss.SSSZ` (Date#toISOString). Phone numbers follow each event's
 * example in the reference: E.164 with '+' ("+19999999999") everywhere except the delivery
 * report, whose example lists `recipients` as E.164 digits without '+' ("19999999999") and
 * `messages[].phone_number` as the national number without country code ("9999999999");
 * its `from` keeps the '+' ("+15555555555").
 */
import { parsePhoneNumberFromString } from 'libphonenumber-js';

export const WEBHOOK_EVENTS = [
  'inbound_message',
  'unsubscribe',
  'delivery_report',
  'contact_status',
  'bounced_message',
  'rejected_message',
] as const;

export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export function isWebhookEvent(value: unknown): value is WebhookEvent {
  return typeof value === 'string' && (WEBHOOK_EVENTS as readonly string[]).includes(value);
}

/** The contact fields the contact-based events carry. */
export interface ContactSnapshot {
  id: string;
  firstName: string | null;
  lastName: string | null;
  email: string | null;
  /** E.164 with '+'. */
  phoneNumber: string;
  unsubscribedAt: Date | null;
  bounces: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface InboundMessagePayload {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  short_code: string | null;
  phone_number: string | null;
  message: string | null;
  unsubscribed_at: string | null;
  created_at: string;
  updated_at: string;
  received_at: string;
}

export interface UnsubscribePayload {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone_number: string | null;
  to: string;
  unsubscribed_at: string | null;
  created_at: string;
  updated_at: string;
}

export interface DeliveryReportStatus {
  /** The delivery code as a string, e.g. "100". */
  code: string;
  status: string;
  count: number;
  /** E.164 digits without '+', one entry per message, in message order. */
  recipients: string[];
  success: boolean;
  bounce: boolean;
}

/** `metadata` is what the sender attached in POST /message/batch; `[]` when there was none. */
export type DeliveryReportMetadata = Record<string, unknown> | unknown[];

export interface DeliveryReportMessage {
  id: string;
  /** E.164 with '+'. */
  from: string;
  message: string;
  /** National number without country code. */
  phone_number: string;
  metadata: DeliveryReportMetadata;
}

export interface DeliveryReportPayload {
  total_messages: number;
  statuses: DeliveryReportStatus[];
  messages: DeliveryReportMessage[];
}

export type ContactStatus = 'suspended' | 'deactivated' | 'resumed' | 'transferred';

export interface ContactStatusPayload {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone_number: string;
  /** Only present when status is "transferred". */
  previous_phone_number?: string;
  status: ContactStatus;
  created_at: string;
  updated_at: string;
}

export interface BouncedMessagePayload {
  id: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  phone_number: string;
  unsubscribed_at: string | null;
  bounces: number;
  created_at: string;
  updated_at: string;
}

export interface RejectedMessagePayload {
  code: string;
  message: string;
  description: string;
}

export interface WebhookPayloads {
  inbound_message: InboundMessagePayload;
  unsubscribe: UnsubscribePayload;
  delivery_report: DeliveryReportPayload;
  contact_status: ContactStatusPayload;
  bounced_message: BouncedMessagePayload;
  rejected_message: RejectedMessagePayload;
}

function iso(date: Date): string {
  return date.toISOString();
}

function isoOrNull(date: Date | null): string | null {
  return date === null ? null : date.toISOString();
}

export function buildInboundMessagePayload(input: {
  contact: ContactSnapshot;
  /** The number the contact texted into. */
  shortCode: string | null;
  message: string | null;
  receivedAt: Date;
}): InboundMessagePayload {
  const { contact } = input;
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    email: contact.email,
    short_code: input.shortCode,
    phone_number: contact.phoneNumber,
    message: input.message,
    unsubscribed_at: isoOrNull(contact.unsubscribedAt),
    created_at: iso(contact.createdAt),
    updated_at: iso(contact.updatedAt),
    received_at: iso(input.receivedAt),
  };
}

export function buildUnsubscribePayload(input: {
  contact: ContactSnapshot;
  /** The number the contact texted into (or the account's number for API unsubscribes). */
  to: string;
}): UnsubscribePayload {
  const { contact } = input;
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    email: contact.email,
    phone_number: contact.phoneNumber,
    to: input.to,
    unsubscribed_at: isoOrNull(contact.unsubscribedAt),
    created_at: iso(contact.createdAt),
    updated_at: iso(contact.updatedAt),
  };
}

export type ContactStatusChange =
  | { contact: ContactSnapshot; status: 'suspended' | 'deactivated' | 'resumed' }
  | { contact: ContactSnapshot; status: 'transferred'; previousPhoneNumber: string };

export function buildContactStatusPayload(input: ContactStatusChange): ContactStatusPayload {
  const { contact } = input;
  // The reference's table puts previous_phone_number right after phone_number.
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    email: contact.email,
    phone_number: contact.phoneNumber,
    ...(input.status === 'transferred' ? { previous_phone_number: input.previousPhoneNumber } : {}),
    status: input.status,
    created_at: iso(contact.createdAt),
    updated_at: iso(contact.updatedAt),
  };
}

export function buildBouncedMessagePayload(input: { contact: ContactSnapshot }): BouncedMessagePayload {
  const { contact } = input;
  return {
    id: contact.id,
    first_name: contact.firstName,
    last_name: contact.lastName,
    email: contact.email,
    phone_number: contact.phoneNumber,
    unsubscribed_at: isoOrNull(contact.unsubscribedAt),
    bounces: contact.bounces,
    created_at: iso(contact.createdAt),
    updated_at: iso(contact.updatedAt),
  };
}

export function buildRejectedMessagePayload(input: {
  /** The delivery code when a carrier reported one; empty for refusals such as an unsubscribed recipient. */
  code: string | number | null;
  /** The text of the message that was not sent. */
  message: string | null;
  /** Why, e.g. "Unsubscribed". */
  description: string;
}): RejectedMessagePayload {
  return {
    code: input.code === null ? '' : String(input.code),
    message: input.message ?? '',
    description: input.description,
  };
}

/** One message's delivery report, before aggregation. */
export interface MessageDeliveryReport {
  messageId: string;
  /** Sender number, E.164 with '+'. */
  from: string;
  message: string;
  /** Recipient, E.164 with '+'. */
  phoneNumber: string;
  code: number | string;
  metadata?: DeliveryReportMetadata | null;
}

/** Codes that count as a bounce (DECISIONS.md: three of them unsubscribe the contact). */
export const BOUNCE_CODES: ReadonlySet<string> = new Set(['101', '106', '107', '108', '109']);

export const SUCCESS_CODE = '100';

export interface DeliveryReportOptions {
  /** Text for a code, from the delivery code table. */
  codeText: (code: string) => string;
  isSuccess?: (code: string) => boolean;
  isBounce?: (code: string) => boolean;
}

/** "+19999999999" → "19999999999" (the delivery report's `recipients`). */
export function e164Digits(phoneNumber: string): string {
  return phoneNumber.replace(/^\+/, '');
}

/** "+19999999999" → "9999999999" (the delivery report's `messages[].phone_number`). */
export function nationalNumber(phoneNumber: string): string {
  const parsed = parsePhoneNumberFromString(phoneNumber);
  return parsed === undefined ? e164Digits(phoneNumber) : parsed.nationalNumber;
}

/**
 * Aggregates per-message reports into one delivery_report payload: one `statuses` entry per
 * code (ascending), counting messages and listing their recipients, and one `messages` entry
 * per report in the order given.
 */
export function buildDeliveryReportPayload(
  reports: readonly MessageDeliveryReport[],
  options: DeliveryReportOptions,
): DeliveryReportPayload {
  const isSuccess = options.isSuccess ?? ((code: string) => code === SUCCESS_CODE);
  const isBounce = options.isBounce ?? ((code: string) => BOUNCE_CODES.has(code));
  const byCode = new Map<string, DeliveryReportStatus>();
  for (const report of reports) {
    const code = String(report.code);
    let entry = byCode.get(code);
    if (entry === undefined) {
      entry = {
        code,
        status: options.codeText(code),
        count: 0,
        recipients: [],
        success: isSuccess(code),
        bounce: isBounce(code),
      };
      byCode.set(code, entry);
    }
    entry.count += 1;
    entry.recipients.push(e164Digits(report.phoneNumber));
  }
  const statuses = [...byCode.values()].sort((a, b) => compareCodes(a.code, b.code));
  return {
    total_messages: reports.length,
    statuses,
    messages: reports.map((report) => ({
      id: report.messageId,
      from: report.from,
      message: report.message,
      phone_number: nationalNumber(report.phoneNumber),
      metadata: report.metadata ?? [],
    })),
  };
}

function compareCodes(a: string, b: string): number {
  const diff = Number(a) - Number(b);
  return Number.isNaN(diff) || diff === 0 ? a.localeCompare(b) : diff;
}

/** The exact body to sign and send. */
export function serializeWebhookPayload<E extends WebhookEvent>(_event: E, payload: WebhookPayloads[E]): string {
  return JSON.stringify(payload);
}
