import { type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import { parseIsoDate, type ListQuery } from '../../http/list-query.js';
import { NotFoundError, PaymentRequiredError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId, newTimeOrderedId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import { contactsByPhones, refusalFor, rejectedPayload, REFUSAL_TEXT } from './consent.js';
import { recordEvents } from '../events/events.repo.js';
import { createMessagesRepo, NOT_YET_SENT } from './messages.repo.js';
import type { IdempotencyInput, MessagesService, SendResult } from './messages.service.js';
import { normalizePhone } from './phone.js';
import { checkMessageText } from './text.js';

/** How far ahead a message can be scheduled. */
export const MAX_SCHEDULE_AHEAD_MS = 366 * 24 * 3600_000;

export interface ScheduledMessageView {
  id: string;
  phone_number: string;
  message: string;
  send_at: string;
  status: 'scheduled' | 'sent' | 'canceled' | 'failed';
  created_at: string;
  updated_at: string;
}

interface Row {
  id: string;
  phone_number: string;
  message: string;
  send_at: Date;
  canceled_at: Date | null;
  created_at: Date;
  updated_at: Date;
  message_status: string;
}

const toView = (r: Row): ScheduledMessageView => ({
  id: r.id,
  phone_number: r.phone_number,
  message: r.message,
  send_at: formatDate(r.send_at),
  status: r.canceled_at ? 'canceled' : r.message_status === 'scheduled' ? 'scheduled' : r.message_status === 'failed' ? 'failed' : 'sent',
  created_at: formatDate(r.created_at),
  updated_at: formatDate(r.updated_at),
});

const COLUMNS: ColumnMap = { send_at: 's.send_at', created_at: 's.created_at', updated_at: 's.updated_at' };

function parseSendAt(value: unknown, now: Date): { ok: true; date: Date } | { ok: false; error: string } {
  if (typeof value !== 'string' || value.trim() === '') return { ok: false, error: 'The send_at field is required (an ISO 8601 date-time).' };
  const date = parseIsoDate(value.trim());
  if (!date) return { ok: false, error: 'The send_at field must be an ISO 8601 date-time, e.g. 2030-07-01T15:11:09.553Z.' };
  if (date.getTime() <= now.getTime()) return { ok: false, error: 'The send_at field must be a date-time in the future.' };
  if (date.getTime() - now.getTime() > MAX_SCHEDULE_AHEAD_MS) return { ok: false, error: 'The send_at field may be at most one year ahead.' };
  return { ok: true, date };
}

export type ScheduledMessagesService = ReturnType<typeof createScheduledMessagesService>;

/**
 * Scheduled messages. Each is stored with its outgoing message, created at once with status
 * `scheduled` and `next_attempt_at = send_at` and charged at once: the dispatcher picks it up
 * when due like any queued message (so it goes out once, on time, across restarts, and right
 * after a start if it fell due while the service was down). Canceling refunds the credits.
 */
export function createScheduledMessagesService(deps: { db: Kysely<DB>; messages: MessagesService; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  const base = (q: Kysely<DB>, accountId: string) =>
    q
      .selectFrom('scheduled_messages as s')
      .innerJoin('messages as m', 'm.id', 's.message_id')
      .where('s.account_id', '=', accountId)
      .select(['s.id', 's.phone_number', 's.message', 's.send_at', 's.canceled_at', 's.created_at', 's.updated_at', 'm.status as message_status']);

  async function find(q: Kysely<DB>, accountId: string, id: string): Promise<Row | undefined> {
    return base(q, accountId).where('s.id', '=', id).executeTakeFirst();
  }

  async function accountInfo(accountId: string) {
    const row = await db.selectFrom('accounts').select(['id', 'short_code', 'default_country']).where('id', '=', accountId).executeTakeFirst();
    if (!row) throw new NotFoundError('Account not found.');
    return row;
  }

  async function refuseIfNoConsent(accountId: string, phone: string, text: string) {
    const contact = (await contactsByPhones(db, accountId, [phone])).get(phone);
    const refusal = contact ? refusalFor(contact) : null;
    if (refusal) {
      await recordEvents(db, [{ accountId, type: 'rejected_message', payload: rejectedPayload(null, text, REFUSAL_TEXT[refusal].description) }]);
      throw ValidationError.field('phone_number', REFUSAL_TEXT[refusal].message);
    }
    return contact ?? null;
  }

  return {
    async list(accountId: string, query: ListQuery) {
      const q = base(db, accountId);
      const rows = await applySortAndPage(q, query, COLUMNS, 's.id').execute();
      const total = await countRows(q);
      return { data: rows.map(toView), total };
    },

    async get(accountId: string, id: string) {
      const row = await find(db, accountId, id);
      if (!row) throw new NotFoundError('Scheduled message not found.');
      return toView(row);
    },

    async create(accountId: string, body: Record<string, unknown>, idem?: IdempotencyInput): Promise<SendResult> {
      const acct = await accountInfo(accountId);
      const errors: FieldErrors = {};
      const phone = normalizePhone(body.phone_number, acct.default_country);
      const text = checkMessageText(body.message);
      const sendAt = parseSendAt(body.send_at, now());
      if (!phone.ok) errors.phone_number = [phone.reason];
      if (!text.ok) errors.message = [text.error];
      if (!sendAt.ok) errors.send_at = [sendAt.error];
      if (!phone.ok || !text.ok || !sendAt.ok) throw new ValidationError(errors);
      const contact = await refuseIfNoConsent(accountId, phone.e164, text.text);
      return deps.messages.transaction(accountId, idem, async (trx) => {
        const repo = createMessagesRepo(trx);
        if (!(await repo.charge(accountId, text.info.segments))) {
          throw new PaymentRequiredError(`Your credit balance does not cover this message (${text.info.segments} credits needed). Nothing was scheduled.`);
        }
        const messageId = newTimeOrderedId();
        const created = now();
        await repo.insertMany([
          {
            id: messageId,
            account_id: accountId,
            type: 'OUTGOING',
            from: acct.short_code,
            phone_number: phone.e164,
            message: text.text,
            media_url: null,
            segments: text.info.segments,
            encoding: text.info.encoding,
            credits: text.info.segments,
            status: 'scheduled',
            next_attempt_at: sendAt.date,
            contact_id: contact?.id ?? null,
            campaign_id: null,
            ...NOT_YET_SENT,
            created_at: created,
          },
        ]);
        const id = newId();
        await trx
          .insertInto('scheduled_messages')
          .values({ id, account_id: accountId, message_id: messageId, phone_number: phone.e164, message: text.text, send_at: sendAt.date, canceled_at: null, created_at: created, updated_at: created })
          .execute();
        return { status: 201, body: { data: toView((await find(trx, accountId, id))!) } };
      });
    },

    async update(accountId: string, id: string, body: Record<string, unknown>) {
      const acct = await accountInfo(accountId);
      // Consent is checked before the transaction (a refusal records its event and must not roll back).
      if (body.phone_number !== undefined) {
        const p = normalizePhone(body.phone_number, acct.default_country);
        if (p.ok) await refuseIfNoConsent(accountId, p.e164, typeof body.message === 'string' ? body.message : '');
      }
      return db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('scheduled_messages as s')
          .innerJoin('messages as m', 'm.id', 's.message_id')
          .select(['s.id', 's.message_id', 's.phone_number', 's.message', 's.send_at', 's.canceled_at', 'm.status', 'm.credits'])
          .where('s.account_id', '=', accountId)
          .where('s.id', '=', id)
          .forUpdate()
          .executeTakeFirst();
        if (!current) throw new NotFoundError('Scheduled message not found.');
        if (current.canceled_at || current.status !== 'scheduled') {
          throw ValidationError.field('send_at', current.canceled_at ? 'The scheduled message was canceled.' : 'The scheduled message has already been sent.');
        }
        const errors: FieldErrors = {};
        let phone = current.phone_number;
        let message = current.message;
        let sendAt = current.send_at;
        if (body.phone_number !== undefined) {
          const p = normalizePhone(body.phone_number, acct.default_country);
          if (p.ok) phone = p.e164;
          else errors.phone_number = [p.reason];
        }
        let info = checkMessageText(message);
        if (body.message !== undefined) {
          info = checkMessageText(body.message);
          if (info.ok) message = info.text;
          else errors.message = [info.error];
        }
        if (body.send_at !== undefined) {
          const s = parseSendAt(body.send_at, now());
          if (s.ok) sendAt = s.date;
          else errors.send_at = [s.error];
        }
        if (Object.keys(errors).length > 0 || !info.ok) throw new ValidationError(errors);
        const contact = phone !== current.phone_number ? ((await contactsByPhones(trx, accountId, [phone])).get(phone) ?? null) : undefined;
        const repo = createMessagesRepo(trx);
        const delta = info.info.segments - current.credits;
        if (delta > 0 && !(await repo.charge(accountId, delta))) {
          throw new PaymentRequiredError(`Your credit balance does not cover the longer message (${delta} more credits needed).`);
        }
        if (delta < 0) await repo.refund(accountId, -delta);
        const at = now();
        await trx
          .updateTable('messages')
          .set({
            phone_number: phone,
            message,
            segments: info.info.segments,
            encoding: info.info.encoding,
            credits: info.info.segments,
            next_attempt_at: sendAt,
            ...(contact !== undefined ? { contact_id: contact?.id ?? null } : {}),
            updated_at: at,
          })
          .where('id', '=', current.message_id)
          .execute();
        await trx.updateTable('scheduled_messages').set({ phone_number: phone, message, send_at: sendAt, updated_at: at }).where('id', '=', id).execute();
        return toView((await find(trx, accountId, id))!);
      });
    },

    /** Cancels (refunding the credits); the scheduled message stays listed as canceled. */
    async cancel(accountId: string, id: string): Promise<void> {
      await db.transaction().execute(async (trx) => {
        const current = await trx
          .selectFrom('scheduled_messages as s')
          .innerJoin('messages as m', 'm.id', 's.message_id')
          .select(['s.message_id', 's.canceled_at', 'm.status', 'm.credits'])
          .where('s.account_id', '=', accountId)
          .where('s.id', '=', id)
          .forUpdate()
          .executeTakeFirst();
        if (!current) throw new NotFoundError('Scheduled message not found.');
        if (current.canceled_at) return;
        if (current.status !== 'scheduled') throw ValidationError.field('id', 'The scheduled message has already been sent.');
        const at = now();
        await trx.updateTable('messages').set({ status: 'canceled', updated_at: at }).where('id', '=', current.message_id).execute();
        await trx.updateTable('scheduled_messages').set({ canceled_at: at, updated_at: at }).where('id', '=', id).execute();
        await createMessagesRepo(trx).refund(accountId, current.credits);
      });
    },
  };
}
