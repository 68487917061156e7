/**
 * From outbox events (table `events`, whose `payload` holds the body a payload builder in
 * webhook-payloads.ts produced) to the exact bytes a delivery sends.
 *
 * `events.payload` is jsonb, and jsonb does not keep key order; receivers written against the
 * reference sometimes compare or log bodies verbatim, so the reference's field order is put back
 * before serialising. Keys the reference does not list (there should be none) keep their place
 * after the known ones.
 *
 * Delivery reports may be batched: several delivery_report events of one account are merged
 * into one aggregated payload (the reference's `total_messages`, `statuses`, `messages`).
 */
import { BOUNCE_CODES, SUCCESS_CODE, isWebhookEvent, type DeliveryReportPayload, type DeliveryReportStatus, type WebhookEvent } from './webhook-payloads.js';

const CONTACT_HEAD = ['id', 'first_name', 'last_name', 'email'];

const FIELD_ORDER: Record<WebhookEvent, readonly string[]> = {
  inbound_message: [...CONTACT_HEAD, 'short_code', 'phone_number', 'message', 'unsubscribed_at', 'created_at', 'updated_at', 'received_at'],
  unsubscribe: [...CONTACT_HEAD, 'phone_number', 'to', 'unsubscribed_at', 'created_at', 'updated_at'],
  delivery_report: ['total_messages', 'statuses', 'messages'],
  contact_status: [...CONTACT_HEAD, 'phone_number', 'previous_phone_number', 'status', 'created_at', 'updated_at'],
  bounced_message: [...CONTACT_HEAD, 'phone_number', 'unsubscribed_at', 'bounces', 'created_at', 'updated_at'],
  rejected_message: ['code', 'message', 'description'],
};
const STATUS_ORDER = ['code', 'status', 'count', 'recipients', 'success', 'bounce'];
const MESSAGE_ORDER = ['id', 'from', 'message', 'phone_number', 'metadata'];

/** Maximum messages in one aggregated delivery report. */
export const MAX_MESSAGES_PER_REPORT = 100;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function orderKeys(value: unknown, order: readonly string[]): unknown {
  if (!isObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of order) if (Object.hasOwn(value, key)) out[key] = value[key];
  for (const [key, v] of Object.entries(value)) if (!Object.hasOwn(out, key)) out[key] = v;
  return out;
}

/** The payload with the reference's field order (top level and, for delivery reports, nested). */
export function orderPayload(type: string, payload: unknown): unknown {
  if (!isWebhookEvent(type)) return payload;
  const ordered = orderKeys(payload, FIELD_ORDER[type]);
  if (type === 'delivery_report' && isObject(ordered)) {
    if (Array.isArray(ordered.statuses)) ordered.statuses = ordered.statuses.map((s) => orderKeys(s, STATUS_ORDER));
    if (Array.isArray(ordered.messages)) ordered.messages = ordered.messages.map((m) => orderKeys(m, MESSAGE_ORDER));
  }
  return ordered;
}

export function isDeliveryReportPayload(value: unknown): value is DeliveryReportPayload {
  return isObject(value) && Array.isArray(value.statuses) && Array.isArray(value.messages) && typeof value.total_messages === 'number';
}

function compareCodes(a: string, b: string): number {
  const diff = Number(a) - Number(b);
  return Number.isNaN(diff) || diff === 0 ? a.localeCompare(b) : diff;
}

/**
 * Merges delivery reports into one: statuses grouped by code (ascending, counts summed,
 * recipients concatenated in report order), messages concatenated in report order,
 * total_messages summed.
 */
export function mergeDeliveryReports(reports: readonly DeliveryReportPayload[]): DeliveryReportPayload {
  const byCode = new Map<string, DeliveryReportStatus>();
  for (const report of reports) {
    for (const status of report.statuses) {
      const existing = byCode.get(status.code);
      if (existing === undefined) {
        byCode.set(status.code, {
          code: status.code,
          status: status.status,
          count: status.count,
          recipients: [...status.recipients],
          success: status.success ?? status.code === SUCCESS_CODE,
          bounce: status.bounce ?? BOUNCE_CODES.has(status.code),
        });
      } else {
        existing.count += status.count;
        existing.recipients.push(...status.recipients);
      }
    }
  }
  return {
    total_messages: reports.reduce((sum, r) => sum + r.total_messages, 0),
    statuses: [...byCode.values()].sort((a, b) => compareCodes(a.code, b.code)),
    messages: reports.flatMap((r) => r.messages),
  };
}

/**
 * Splits delivery reports (in event order) into groups whose merged payload holds at most
 * MAX_MESSAGES_PER_REPORT messages; a single report larger than that stays whole.
 */
export function groupDeliveryReports<T extends { payload: DeliveryReportPayload }>(items: readonly T[], max = MAX_MESSAGES_PER_REPORT): T[][] {
  const groups: T[][] = [];
  let current: T[] = [];
  let size = 0;
  for (const item of items) {
    const n = item.payload.messages.length;
    if (current.length > 0 && size + n > max) {
      groups.push(current);
      current = [];
      size = 0;
    }
    current.push(item);
    size += n;
  }
  if (current.length > 0) groups.push(current);
  return groups;
}
