import { createHash } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { ListQuery } from '../../http/list-query.js';
import { BadRequestError, NotFoundError, PaymentRequiredError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newTimeOrderedId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import { deliveryCode } from '../../transports/delivery-codes.js';
import { contactById, contactsByPhones, hasContacts, refusalFor, rejectedPayload, REFUSAL_TEXT, type ContactRow } from './consent.js';
import { recordEvents, type EventInput } from '../events/events.repo.js';
import { createMessagesRepo, type MessageRow, NOT_YET_SENT } from './messages.repo.js';
import { normalizePhone } from './phone.js';
import { checkMessageText } from './text.js';

export const MAX_BATCH = 1000;
const MAX_METADATA_BYTES = 4096;

export interface MessageView {
  id: string;
  type: 'INCOMING' | 'OUTGOING';
  from: string;
  phone_number: string;
  message: string;
  segments: number;
  encoding: 'GSM-7' | 'UCS-2';
  status: string;
  read: boolean;
  contact_id: string | null;
  campaign_id: string | null;
  created_at: string;
  receipt?: ReceiptView | null;
  contact?: ContactView | null;
}

export interface ReceiptView {
  code: string;
  status: string;
  success: boolean;
  bounce: boolean;
  received_at: string | null;
}

export interface ContactView {
  id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  carrier: { id: string; name: string; country: string; created_at: string; updated_at: string } | null;
}

/** The reference's status text: its table's wording, always ending with a full stop. */
export const reportStatusText = (code: number) => {
  const text = deliveryCode(code)?.text ?? 'Unknown delivery code';
  return text.endsWith('.') ? text : `${text}.`;
};

export function receiptOf(row: Pick<MessageRow, 'receipt_code' | 'receipt_at'>): ReceiptView | null {
  if (row.receipt_code === null) return null;
  const code = deliveryCode(row.receipt_code);
  return {
    code: String(row.receipt_code),
    status: reportStatusText(row.receipt_code),
    success: code?.success ?? false,
    bounce: code?.bounce ?? false,
    received_at: formatDate(row.receipt_at),
  };
}

export function toMessage(row: MessageRow, include: ReadonlySet<string> = new Set(), contacts?: Map<string, ContactView>): MessageView {
  const view: MessageView = {
    id: row.id,
    type: row.type,
    from: row.from,
    phone_number: row.phone_number,
    message: row.message,
    segments: row.segments,
    encoding: row.encoding,
    status: row.status === 'sending' ? 'queued' : row.status,
    read: row.read,
    contact_id: row.contact_id,
    campaign_id: row.campaign_id,
    created_at: formatDate(row.created_at),
  };
  if (include.has('receipt')) view.receipt = receiptOf(row);
  if (include.has('contact.carrier')) view.contact = (row.contact_id && contacts?.get(row.contact_id)) || null;
  return view;
}

export interface SendEntry {
  phone_number: unknown;
  message: unknown;
  metadata?: unknown;
  media_url?: unknown;
}

export interface IdempotencyInput {
  key: string;
  route: string;
  body: unknown;
}

export interface SendResult {
  status: number;
  body: unknown;
  replayed: boolean;
}

interface AccountInfo {
  id: string;
  short_code: string;
  default_country: string;
}

function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonicalJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value ?? null);
}

export const requestHash = (route: string, body: unknown) => createHash('sha256').update(route).update('\n').update(canonicalJson(body)).digest('hex');

const IDEMPOTENCY_KEY = /^[\x21-\x7e]{1,255}$/;
export function checkIdempotencyKey(key: string | undefined): string | undefined {
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key)) {
    throw new BadRequestError('The Idempotency-Key header must be 1 to 255 visible ASCII characters.', { 'Idempotency-Key': ['Invalid key.'] });
  }
  return key;
}

export type MessagesService = ReturnType<typeof createMessagesService>;

export function createMessagesService(deps: { db: Kysely<DB> }) {
  const { db } = deps;
  const repo = createMessagesRepo(db);

  async function account(accountId: string): Promise<AccountInfo> {
    const row = await db.selectFrom('accounts').select(['id', 'short_code', 'default_country']).where('id', '=', accountId).executeTakeFirst();
    if (!row) throw new NotFoundError('Account not found.');
    return row;
  }

  async function storedResponse(trx: Kysely<DB>, accountId: string, idem: IdempotencyInput): Promise<SendResult | undefined> {
    const row = await trx
      .selectFrom('idempotency_keys')
      .select(['request_hash', 'status_code', 'response', 'route'])
      .where('account_id', '=', accountId)
      .where('key', '=', idem.key)
      .executeTakeFirst();
    if (!row) return undefined;
    if (row.request_hash !== requestHash(idem.route, idem.body)) {
      throw new ValidationError(
        { 'Idempotency-Key': ['This key was already used with a different request.'] },
        'The Idempotency-Key was already used with a different request.',
      );
    }
    return { status: row.status_code, body: row.response, replayed: true };
  }

  /**
   * Runs `work` (which writes the messages and charges credits) in one transaction that also
   * claims the idempotency key and stores the answer with it. A retried request with the same
   * key gets the stored answer and sends nothing; a concurrent one waits for the first to commit.
   */
  async function inTransaction(
    accountId: string,
    idem: IdempotencyInput | undefined,
    work: (trx: Kysely<DB>) => Promise<{ status: number; body: unknown }>,
  ): Promise<SendResult> {
    if (idem) {
      const existing = await storedResponse(db, accountId, idem);
      if (existing) return existing;
    }
    return db.transaction().execute(async (trx) => {
      if (idem) {
        const claimed = await trx
          .insertInto('idempotency_keys')
          .values({ account_id: accountId, key: idem.key, route: idem.route, request_hash: requestHash(idem.route, idem.body), status_code: 0, response: '{}' })
          .onConflict((oc) => oc.columns(['account_id', 'key']).doNothing())
          .returning('key')
          .executeTakeFirst();
        if (!claimed) {
          const existing = await storedResponse(trx, accountId, idem);
          if (existing) return existing;
        }
      }
      const result = await work(trx);
      if (idem) {
        await trx
          .updateTable('idempotency_keys')
          .set({ status_code: result.status, response: JSON.stringify(result.body) })
          .where('account_id', '=', accountId)
          .where('key', '=', idem.key)
          .execute();
      }
      return { ...result, replayed: false };
    });
  }

  interface PreparedEntry {
    index: number;
    phone: string;
    text: string;
    segments: number;
    encoding: 'GSM-7' | 'UCS-2';
    metadata: unknown;
    mediaUrl: string | null;
  }

  function prepare(entries: readonly SendEntry[], acct: AccountInfo, prefix: (i: number) => string): PreparedEntry[] {
    const errors: FieldErrors = {};
    const out: PreparedEntry[] = [];
    const seen = new Map<string, number>();
    entries.forEach((entry, index) => {
      const p = prefix(index);
      const phone = normalizePhone(entry.phone_number, acct.default_country);
      const text = checkMessageText(entry.message);
      if (!phone.ok) (errors[`${p}phone_number`] ??= []).push(phone.reason);
      if (!text.ok) (errors[`${p}message`] ??= []).push(text.error);
      let metadata: unknown = null;
      if (entry.metadata !== undefined && entry.metadata !== null) {
        if (typeof entry.metadata !== 'object') (errors[`${p}metadata`] ??= []).push('The metadata must be an object.');
        else if (JSON.stringify(entry.metadata).length > MAX_METADATA_BYTES) {
          (errors[`${p}metadata`] ??= []).push(`The metadata may not be larger than ${MAX_METADATA_BYTES} bytes.`);
        } else metadata = entry.metadata;
      }
      let mediaUrl: string | null = null;
      if (entry.media_url !== undefined && entry.media_url !== null && entry.media_url !== '') {
        if (typeof entry.media_url !== 'string' || !/^https?:\/\/\S{1,2000}$/.test(entry.media_url)) {
          (errors[`${p}media_url`] ??= []).push('The media URL must be an http(s) URL.');
        } else mediaUrl = entry.media_url;
      }
      if (phone.ok) {
        const first = seen.get(phone.e164);
        if (first !== undefined) (errors[`${p}phone_number`] ??= []).push(`Duplicate of messages.${first}.phone_number: one message per number in a batch.`);
        else seen.set(phone.e164, index);
      }
      if (phone.ok && text.ok) {
        out.push({ index, phone: phone.e164, text: text.text, segments: text.info.segments, encoding: text.info.encoding, metadata, mediaUrl });
      }
    });
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    return out;
  }

  function outgoingRow(acct: AccountInfo, e: PreparedEntry, contactId: string | null) {
    return {
      id: newTimeOrderedId(),
      account_id: acct.id,
      type: 'OUTGOING' as const,
      from: acct.short_code,
      phone_number: e.phone,
      message: e.text,
      media_url: e.mediaUrl,
      segments: e.segments,
      encoding: e.encoding,
      credits: e.segments,
      status: 'queued' as const,
      contact_id: contactId,
      campaign_id: null,
      metadata: e.metadata,
      ...NOT_YET_SENT,
      created_at: new Date(),
    };
  }

  /**
   * Charges the account, or throws 402 (rolling back what the transaction wrote). Called last in
   * a send's transaction: the charge locks the account's row until commit and every send of the
   * account waits on that lock, so it is taken as late as possible.
   */
  async function chargeOrThrow(trx: Kysely<DB>, accountId: string, credits: number): Promise<void> {
    if (!(await createMessagesRepo(trx).charge(accountId, credits))) {
      throw new PaymentRequiredError(`Your credit balance does not cover this send (${credits} credit${credits === 1 ? '' : 's'} needed). Nothing was sent.`, {
        credits: [`${credits} credits are needed.`],
      });
    }
  }

  /** Refuses a single send to a contact who may not be texted: 422, with a rejection event. */
  async function refuseSingle(acct: AccountInfo, contact: ContactRow, text: string, field: string): Promise<never> {
    const refusal = refusalFor(contact)!;
    await recordEvents(db, [{ accountId: acct.id, type: 'rejected_message', payload: rejectedPayload(null, text, REFUSAL_TEXT[refusal].description) }]);
    throw ValidationError.field(field, REFUSAL_TEXT[refusal].message);
  }

  return {
    /** Runs a send's writes with the idempotency key claimed in the same transaction. */
    transaction: inTransaction,

    /** POST /message: one message to one number. */
    async sendToNumber(accountId: string, entry: SendEntry, idem?: IdempotencyInput): Promise<SendResult> {
      const acct = await account(accountId);
      if (idem) {
        const existing = await storedResponse(db, accountId, idem);
        if (existing) return existing;
      }
      const [prepared] = prepare([entry], acct, () => '');
      const contact = (await contactsByPhones(db, accountId, [prepared!.phone])).get(prepared!.phone);
      if (contact && refusalFor(contact)) await refuseSingle(acct, contact, prepared!.text, 'phone_number');
      return inTransaction(accountId, idem, async (trx) => {
        const [row] = await createMessagesRepo(trx).insertMany([outgoingRow(acct, prepared!, contact?.id ?? null)]);
        await chargeOrThrow(trx, accountId, prepared!.segments);
        return { status: 201, body: { data: toMessage(row!) } };
      });
    },

    /** POST /messages: one message to one contact. */
    async sendToContact(accountId: string, input: { contact_id: unknown; message: unknown }, idem?: IdempotencyInput): Promise<SendResult> {
      const acct = await account(accountId);
      if (idem) {
        const existing = await storedResponse(db, accountId, idem);
        if (existing) return existing;
      }
      const errors: FieldErrors = {};
      const text = checkMessageText(input.message);
      if (!text.ok) errors.message = [text.error];
      const contactId = typeof input.contact_id === 'string' ? input.contact_id : '';
      const contact = /^[0-9a-f-]{36}$/i.test(contactId) ? await contactById(db, accountId, contactId) : undefined;
      if (!contact) errors.contact_id = ['The contact does not exist.'];
      if (Object.keys(errors).length > 0 || !text.ok || !contact) throw new ValidationError(errors);
      if (refusalFor(contact)) await refuseSingle(acct, contact, text.text, 'contact_id');
      const prepared: PreparedEntry = {
        index: 0,
        phone: contact.phone_number,
        text: text.text,
        segments: text.info.segments,
        encoding: text.info.encoding,
        metadata: null,
        mediaUrl: null,
      };
      return inTransaction(accountId, idem, async (trx) => {
        const [row] = await createMessagesRepo(trx).insertMany([outgoingRow(acct, prepared, contact.id)]);
        await chargeOrThrow(trx, accountId, prepared.segments);
        return { status: 201, body: { data: toMessage(row!) } };
      });
    },

    /**
     * POST /message/batch: personalised messages, up to 1,000. Invalid input fails the whole
     * request (422); entries whose number belongs to a contact who may not be texted are
     * rejected (listed in meta.rejected, with a rejection event) and the others are sent.
     */
    async sendBatch(accountId: string, entries: readonly SendEntry[], idem?: IdempotencyInput): Promise<SendResult> {
      const acct = await account(accountId);
      if (idem) {
        const existing = await storedResponse(db, accountId, idem);
        if (existing) return existing;
      }
      if (entries.length === 0) throw ValidationError.field('messages', 'At least one message is required.');
      if (entries.length > MAX_BATCH) throw ValidationError.field('messages', `At most ${MAX_BATCH} messages per batch.`);
      const prepared = prepare(entries, acct, (i) => `messages.${i}.`);
      const contacts = await contactsByPhones(db, accountId, prepared.map((e) => e.phone));
      const accepted: PreparedEntry[] = [];
      const rejected: Array<{ index: number; phone_number: string; description: string; message: string }> = [];
      const events: EventInput[] = [];
      for (const e of prepared) {
        const contact = contacts.get(e.phone);
        const refusal = contact ? refusalFor(contact) : null;
        if (refusal) {
          rejected.push({ index: e.index, phone_number: e.phone, description: REFUSAL_TEXT[refusal].description, message: REFUSAL_TEXT[refusal].message });
          events.push({ accountId, type: 'rejected_message', payload: rejectedPayload(null, e.text, REFUSAL_TEXT[refusal].description) });
        } else accepted.push(e);
      }
      return inTransaction(accountId, idem, async (trx) => {
        const rows = await createMessagesRepo(trx).insertMany(accepted.map((e) => outgoingRow(acct, e, contacts.get(e.phone)?.id ?? null)));
        await recordEvents(trx, events);
        await chargeOrThrow(
          trx,
          accountId,
          accepted.reduce((sum, e) => sum + e.segments, 0),
        );
        return { status: 201, body: { data: rows.map((r) => toMessage(r)), meta: { accepted: rows.length, rejected } } };
      });
    },

    /** POST /message/preview: what a text would cost, without sending it. */
    preview(message: unknown) {
      const text = checkMessageText(message);
      if (!text.ok) throw ValidationError.field('message', text.error);
      const { info } = text;
      return {
        encoding: info.encoding,
        segments: info.segments,
        credits: info.segments,
        characters: info.characters,
        units: info.units,
        per_segment: info.segments > 1 ? (info.encoding === 'GSM-7' ? 153 : 67) : info.encoding === 'GSM-7' ? 160 : 70,
        non_gsm_characters: info.nonGsmCharacters,
      };
    },

    async list(accountId: string, query: ListQuery, options: { unreadOnly?: boolean } = {}) {
      const mapped: ListQuery = {
        ...query,
        filters: query.filters.map((f) =>
          f.field === 'type' && typeof f.value === 'string' ? { ...f, value: f.value.replace(/_ALL$/, '') } : f,
        ),
      };
      const { rows, total } = await repo.list(accountId, mapped, options);
      const contacts = await contactViews(rows, query.include);
      return { data: rows.map((r) => toMessage(r, query.include, contacts)), total };
    },

    async get(accountId: string, id: string, include: ReadonlySet<string>) {
      const row = await repo.findById(accountId, id);
      if (!row) throw new NotFoundError('Message not found.');
      return toMessage(row, include, await contactViews([row], include));
    },

    /**
     * Housekeeping: idempotency keys are kept 24 hours (a retry after that sends again), reports
     * naming a carrier id that never appeared are dropped after 7 days.
     */
    async cleanup(now = new Date()): Promise<{ idempotencyKeys: number; unmatchedReports: number }> {
      const keys = await db.deleteFrom('idempotency_keys').where('created_at', '<', new Date(now.getTime() - 24 * 3600_000)).executeTakeFirst();
      const reports = await db.deleteFrom('unmatched_reports').where('created_at', '<', new Date(now.getTime() - 3600_000)).executeTakeFirst();
      return { idempotencyKeys: Number(keys.numDeletedRows), unmatchedReports: Number(reports.numDeletedRows) };
    },

    /** Any message of the account, including hidden (scheduled, canceled) ones. */
    async getAny(accountId: string, id: string) {
      const row = await db.selectFrom('messages').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      if (!row) throw new NotFoundError('Message not found.');
      return toMessage(row);
    },

    async update(accountId: string, id: string, body: Record<string, unknown>) {
      const other = Object.keys(body).filter((k) => k !== 'read');
      if (other.length > 0) throw new ValidationError(Object.fromEntries(other.map((k) => [k, ['Only "read" can be changed.']])));
      if (typeof body.read !== 'boolean') throw ValidationError.field('read', 'The read field is required and must be true or false.');
      const row = await repo.setRead(accountId, id, body.read);
      if (!row) throw new NotFoundError('Message not found.');
      return toMessage(row);
    },
  };

  async function contactViews(rows: MessageRow[], include: ReadonlySet<string>): Promise<Map<string, ContactView> | undefined> {
    if (!include.has('contact.carrier')) return undefined;
    const ids = [...new Set(rows.map((r) => r.contact_id).filter((id): id is string => id !== null))];
    const out = new Map<string, ContactView>();
    if (ids.length === 0 || !(await hasContacts(db))) return out;
    const result = await sql<{
      id: string;
      phone_number: string;
      first_name: string | null;
      last_name: string | null;
      carrier_id: string | null;
      carrier_name: string | null;
      carrier_country: string | null;
      carrier_created_at: Date | null;
      carrier_updated_at: Date | null;
    }>`SELECT c.id, c.phone_number, c.first_name, c.last_name, k.id AS carrier_id, k.name AS carrier_name, k.country AS carrier_country,
              k.created_at AS carrier_created_at, k.updated_at AS carrier_updated_at
       FROM contacts c LEFT JOIN carriers k ON k.id = c.carrier_id WHERE c.id = ANY(${sql.val(ids)}::uuid[])`.execute(db);
    for (const r of result.rows) {
      out.set(r.id, {
        id: r.id,
        phone_number: r.phone_number,
        first_name: r.first_name,
        last_name: r.last_name,
        carrier: r.carrier_id
          ? { id: r.carrier_id, name: r.carrier_name!, country: r.carrier_country!, created_at: formatDate(r.carrier_created_at!), updated_at: formatDate(r.carrier_updated_at!) }
          : null,
      });
    }
    return out;
  }
}

