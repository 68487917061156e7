import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { deliveryCode } from '../../transports/delivery-codes.js';
import { bouncedPayload, hasContacts, MAX_BOUNCES, rejectedPayload, type ContactRow } from './consent.js';
import { recordEvents, type EventInput } from '../events/events.repo.js';
import { reportStatusText } from './messages.service.js';
import { nationalNumber } from './phone.js';

export interface ReportInput {
  carrierMessageId: string;
  code: number;
  receivedAt: Date;
  /** Carrier text kept with the receipt (e.g. the SMPP receipt); defaults to the code's text. */
  text?: string | undefined;
}

interface Applied {
  id: string;
  account_id: string;
  from: string;
  phone_number: string;
  message: string;
  metadata: unknown;
  contact_id: string | null;
  code: number;
  final: boolean;
  bounce: boolean;
}

/** The reference's delivery_report payload for one message. */
export function deliveryReportPayload(m: Pick<Applied, 'id' | 'from' | 'phone_number' | 'message' | 'metadata' | 'code'>) {
  const code = deliveryCode(m.code);
  return {
    total_messages: 1,
    statuses: [
      {
        code: String(m.code),
        status: reportStatusText(m.code),
        count: 1,
        recipients: [m.phone_number.replace(/^\+/, '')],
        success: code?.success ?? false,
        bounce: code?.bounce ?? false,
      },
    ],
    messages: [{ id: m.id, from: m.from, message: m.message, phone_number: nationalNumber(m.phone_number), metadata: m.metadata ?? [] }],
  };
}

/**
 * Applies delivery reports in the caller's transaction: each updates its message (status,
 * receipt, bounce flag), and the events (delivery_report; rejected_message for a failure;
 * bounced_message for a bounce, and three bounces unsubscribe the contact) are recorded with
 * it. Idempotent: a report already applied changes nothing and records nothing. A report
 * naming a carrier id not (yet) recorded is kept and applied when the id is recorded.
 * For a multi-part message a failed part decides the outcome; otherwise the first final report.
 */
export async function applyDeliveryReports(
  trx: Kysely<DB>,
  reports: readonly ReportInput[],
  options: { keepUnmatched?: boolean; onlyMessageIds?: readonly string[] } = {},
): Promise<number> {
  const only = options.onlyMessageIds ? sql`AND m.id = ANY(${sql.val([...options.onlyMessageIds])}::uuid[])` : sql``;
  if (reports.length === 0) return 0;
  const cids = reports.map((r) => r.carrierMessageId);
  const codes = reports.map((r) => r.code);
  const ats = reports.map((r) => r.receivedAt.toISOString());
  const texts = reports.map((r) => (r.text ?? reportStatusText(r.code)).slice(0, 1000));
  const finals = reports.map((r) => deliveryCode(r.code)?.final ?? true);
  const bounces = reports.map((r) => deliveryCode(r.code)?.bounce ?? false);
  const result = await sql<Applied & { cid: string }>`
    WITH r AS (
      SELECT * FROM unnest(${sql.val(cids)}::text[], ${sql.val(codes)}::int[], ${sql.val(ats)}::timestamptz[], ${sql.val(texts)}::text[],
                           ${sql.val(finals)}::bool[], ${sql.val(bounces)}::bool[]) AS r(cid, code, at, text, final, bounce)
    ), target AS (
      -- Carriers reuse ids (an SMSC restarts its counter): a final message sent long ago is not
      -- the one a report is about; a report for it is kept as unmatched for a message to come.
      SELECT m.id, r.* FROM r JOIN messages m ON m.carrier_message_id = r.cid
       WHERE m.type = 'OUTGOING' AND (m.receipt_code IS NULL OR m.receipt_code IN (136, 137) OR m.sent_at > now() - interval '10 minutes') ${only}
      UNION ALL
      SELECT p.message_id AS id, r.* FROM r JOIN message_parts p ON p.carrier_message_id = r.cid JOIN messages m ON m.id = p.message_id
       WHERE (m.receipt_code IS NULL OR m.receipt_code IN (136, 137) OR m.sent_at > now() - interval '10 minutes') ${only}
    ), pick AS (
      SELECT DISTINCT ON (id) * FROM target ORDER BY id, final DESC, (code = 100), at
    ), upd AS (
      UPDATE messages m SET
        receipt_code = p.code, receipt_text = p.text, receipt_at = p.at,
        status = CASE WHEN p.code = 100 THEN 'delivered' WHEN p.final THEN 'failed' ELSE m.status END,
        bounce = m.bounce OR p.bounce, updated_at = now()
      FROM pick p
      WHERE m.id = p.id AND m.type = 'OUTGOING'
        AND (m.receipt_code IS NULL OR m.receipt_code IN (136, 137)
             OR (m.receipt_code = 100 AND p.code <> 100 AND p.final AND EXISTS (SELECT 1 FROM message_parts mp WHERE mp.message_id = m.id)))
        AND (p.final OR m.receipt_code IS NULL OR m.receipt_code IN (136, 137))
      RETURNING m.id, m.account_id, m."from", m.phone_number, m.message, m.metadata, m.contact_id, p.code, p.final, p.bounce, p.cid
    )
    SELECT upd.*, NULL AS unmatched FROM upd
    UNION ALL
    -- Reports that changed nothing: not (yet) matched, or a duplicate. Kept, and applied only to a
    -- message that records this carrier id later (see applyUnmatchedReports).
    SELECT NULL, NULL, NULL, NULL, NULL, NULL, NULL, r.code, r.final, r.bounce, r.cid, r.at::text FROM r WHERE r.cid NOT IN (SELECT cid FROM upd)
  `.execute(trx);

  const applied = result.rows.filter((r) => r.id !== null);
  const unmatched = result.rows.filter((r) => r.id === null);
  if (unmatched.length > 0 && options.keepUnmatched !== false) {
    const byCid = new Map(reports.map((r) => [r.carrierMessageId, r]));
    await trx
      .insertInto('unmatched_reports')
      .values(
        unmatched.map((u) => {
          const r = byCid.get(u.cid)!;
          return { carrier_message_id: r.carrierMessageId, code: r.code, text: r.text ?? null, received_at: r.receivedAt };
        }),
      )
      .execute();
  }

  const events: EventInput[] = [];
  const bouncedContacts = new Map<string, number>();
  for (const m of applied) {
    if (!m.final) continue;
    events.push({ accountId: m.account_id, type: 'delivery_report', payload: deliveryReportPayload(m) });
    if (m.code !== 100) events.push({ accountId: m.account_id, type: 'rejected_message', payload: rejectedPayload(m.code, m.message, reportStatusText(m.code)) });
    if (m.bounce && m.contact_id) bouncedContacts.set(m.contact_id, (bouncedContacts.get(m.contact_id) ?? 0) + 1);
  }
  if (bouncedContacts.size > 0 && (await hasContacts(trx))) {
    const ids = [...bouncedContacts.keys()];
    const counts = ids.map((id) => bouncedContacts.get(id)!);
    const updated = await sql<ContactRow>`
      UPDATE contacts c SET bounces = c.bounces + b.n,
        status = CASE WHEN c.bounces + b.n >= ${MAX_BOUNCES} THEN 'unsubscribed' ELSE c.status END,
        unsubscribed_at = CASE WHEN c.bounces + b.n >= ${MAX_BOUNCES} AND c.status <> 'unsubscribed' THEN now() ELSE c.unsubscribed_at END,
        updated_at = now()
      FROM unnest(${sql.val(ids)}::uuid[], ${sql.val(counts)}::int[]) AS b(id, n)
      WHERE c.id = b.id
      RETURNING c.*`.execute(trx);
    for (const c of updated.rows) events.push({ accountId: c.account_id, type: 'bounced_message', payload: bouncedPayload(c) });
  }
  await recordEvents(trx, events);
  return applied.length;
}

/** Applies reports that arrived before these carrier ids were recorded, to these messages only. */
export async function applyUnmatchedReports(trx: Kysely<DB>, carrierIds: readonly string[], messageIds: readonly string[]): Promise<void> {
  if (carrierIds.length === 0) return;
  const rows = await sql<{ carrier_message_id: string; code: number; text: string | null; received_at: Date }>`
    DELETE FROM unmatched_reports WHERE carrier_message_id = ANY(${sql.val([...carrierIds])}::text[]) AND created_at > now() - interval '10 minutes'
    RETURNING carrier_message_id, code, text, received_at`.execute(trx);
  if (rows.rows.length === 0) return;
  await applyDeliveryReports(
    trx,
    rows.rows.map((r) => ({ carrierMessageId: r.carrier_message_id, code: r.code, receivedAt: r.received_at, text: r.text ?? undefined })),
    { keepUnmatched: false, onlyMessageIds: messageIds },
  );
}
