import { defaultHelpText } from '../accounts/help-text.js';
import { NOT_YET_SENT } from './messages.repo.js';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { NewContact } from '../contacts/contacts.service.js';
import { newTimeOrderedId } from '../../lib/ids.js';
import { contactByPhoneForUpdate, contactStatusPayload, createInboundContact, hasContacts, inboundPayload, unsubscribePayload, updateContact, type ContactRow } from './consent.js';
import { recordEvents, type EventInput } from '../events/events.repo.js';
import { analyzeSegments } from './segments.js';
import { normalizePhone } from './phone.js';

export const STOP_WORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE'] as const;
export const HELP_WORDS = ['HELP', 'INFO'] as const;
export const START_WORDS = ['START', 'UNSTOP', 'YES'] as const;

/** The keyword of an inbound text: case, surrounding spaces and punctuation ignored. */
export function keywordOf(text: string): string {
  return text.replace(/^[\s\p{P}\p{S}]+|[\s\p{P}\p{S}]+$/gu, '').toUpperCase();
}

const EMAIL = /^[^\s@]{1,64}@[^\s@]{1,190}\.[^\s@]{2,}$/;

export interface InboundInput {
  from: string;
  to: string;
  text: string;
  receivedAt: Date;
}

interface AccountRow {
  id: string;
  name: string;
  short_code: string;
  default_country: string;
  help_text: string | null;
}

/**
 * Inbound messages (from the simulator's handsets or the carrier): stored in the message log,
 * recorded as an inbound_message event, and answered per the compliance rules (DECISIONS.md):
 * STOP and its synonyms unsubscribe at once with one confirmation; HELP/INFO answer the
 * account's help text; START/UNSTOP/YES resubscribe; Y (or the email address, for the email
 * opt-in) confirms a pending contact; a group keyword joins the group. Replies are compliance
 * messages: they go out whatever the contact's status and cost no credits.
 */
export function createInboundService(deps: { db: Kysely<DB> }) {
  const { db } = deps;

  function reply(account: AccountRow, contact: ContactRow | undefined, phone: string, text: string) {
    const info = analyzeSegments(text);
    return {
      id: newTimeOrderedId(),
      account_id: account.id,
      type: 'OUTGOING' as const,
      from: account.short_code,
      phone_number: phone,
      message: text,
      media_url: null,
      segments: info.segments,
      encoding: info.encoding,
      credits: 0,
      status: 'queued' as const,
      bypass_consent: true,
      contact_id: contact?.id ?? null,
      campaign_id: null,
      metadata: null,
      ...NOT_YET_SENT,
    };
  }

  return {
    /** Returns the stored message id, or null when no account owns the number texted. */
    async receive(input: InboundInput): Promise<{ messageId: string; accountId: string } | null> {
      const shortCode = input.to.replace(/^\+/, '').trim();
      const account = await db
        .selectFrom('accounts')
        .select(['id', 'name', 'short_code', 'default_country', 'help_text'])
        .where('short_code', '=', shortCode)
        .executeTakeFirst();
      if (!account) return null;
      const parsed = normalizePhone(input.from, account.default_country);
      const phone = parsed.ok ? parsed.e164 : input.from.trim().slice(0, 40);
      const text = input.text.slice(0, 10_000);
      return db.transaction().execute(async (trx) => {
        let contact: ContactRow | undefined;
        if (parsed.ok && (await hasContacts(trx))) {
          contact = (await contactByPhoneForUpdate(trx, account.id, phone)) ?? (await createInboundContact(trx, account.id, phone));
        }
        const info = analyzeSegments(text);
        const messageId = newTimeOrderedId();
        await trx
          .insertInto('messages')
          .values({
            id: messageId,
            account_id: account.id,
            type: 'INCOMING',
            from: phone,
            phone_number: phone,
            message: text,
            media_url: null,
            segments: Math.max(1, info.segments),
            encoding: info.encoding,
            status: 'received',
            contact_id: contact?.id ?? null,
            campaign_id: null,
            metadata: null,
            ...NOT_YET_SENT,
            created_at: input.receivedAt,
          })
          .execute();
        const events: EventInput[] = [];
        const replies: Array<ReturnType<typeof reply>> = [];
        if (contact) events.push({ accountId: account.id, type: 'inbound_message', payload: inboundPayload(contact, account.short_code, text, input.receivedAt) });

        const word = keywordOf(text);
        const now = new Date();
        if ((STOP_WORDS as readonly string[]).includes(word)) {
          if (contact && contact.status !== 'unsubscribed') {
            contact = await updateContact(trx, contact, { status: 'unsubscribed', unsubscribed_at: now });
            events.push({ accountId: account.id, type: 'unsubscribe', payload: unsubscribePayload(contact, account.short_code) });
            replies.push(reply(account, contact, phone, `${account.name}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`));
          } else if (!contact) {
            replies.push(reply(account, contact, phone, `${account.name}: You are unsubscribed and will receive no more messages. Reply START to resubscribe.`));
          }
        } else if ((HELP_WORDS as readonly string[]).includes(word)) {
          replies.push(reply(account, contact, phone, account.help_text?.trim() || defaultHelpText(account.name)));
        } else if ((START_WORDS as readonly string[]).includes(word) || (word === 'Y' && contact?.status === 'pending')) {
          if (contact && (contact.status !== 'subscribed' || contact.bounces >= 3)) {
            contact = await updateContact(trx, contact, { status: 'subscribed', unsubscribed_at: null, subscribed_at: now, bounces: 0 });
            replies.push(
              reply(account, contact, phone, `${account.name}: You are subscribed${word === 'Y' ? ', thank you for confirming' : ' again'}. Reply HELP for help, STOP to unsubscribe.`),
            );
          }
        } else if (contact && contact.status === 'pending' && EMAIL.test(text.trim()) && (await usesEmailOptIn(trx, contact))) {
          contact = await updateContact(trx, contact, { status: 'subscribed', email: text.trim(), subscribed_at: now, unsubscribed_at: null });
          replies.push(reply(account, contact, phone, `${account.name}: Thanks, your subscription is confirmed. Reply HELP for help, STOP to unsubscribe.`));
        } else if (contact && word !== '') {
          const joined = await joinByKeyword(trx, account.id, contact, word);
          if (joined) {
            contact = joined.contact;
            if (joined.joinMessage) replies.push(reply(account, contact, phone, joined.joinMessage));
          }
        }
        if (replies.length > 0) await trx.insertInto('messages').values(replies.map((r) => ({ ...r, metadata: null }))).execute();
        await recordEvents(trx, events);
        return { messageId, accountId: account.id };
      });
    },

    /**
     * A carrier's news about a number (DECISIONS: suspended, deactivated, resumed, transferred):
     * updates the contact's carrier status (or number) and records a contact_status event.
     */
    async carrierEvent(
      accountId: string,
      input: { phoneNumber: string; status: 'suspended' | 'deactivated' | 'resumed' | 'transferred'; previousPhoneNumber?: string | undefined },
    ): Promise<ContactRow | null> {
      if (!(await hasContacts(db))) return null;
      return db.transaction().execute(async (trx) => {
        const lookup = input.status === 'transferred' && input.previousPhoneNumber ? input.previousPhoneNumber : input.phoneNumber;
        let contact = await contactByPhoneForUpdate(trx, accountId, lookup);
        if (!contact) return null;
        if (input.status === 'transferred') {
          // The number moved to a new owner or the subscriber moved to a new number.
          const clash = await sql<{ id: string }>`SELECT id FROM contacts WHERE account_id = ${accountId} AND phone_number = ${input.phoneNumber} AND id <> ${contact.id}`.execute(trx);
          if (clash.rows.length > 0) return null;
          contact = await updateContact(trx, contact, { phone_number: input.phoneNumber, carrier_status: 'active' });
        } else {
          contact = await updateContact(trx, contact, { carrier_status: input.status === 'resumed' ? 'active' : input.status });
        }
        await recordEvents(trx, [
          { accountId, type: 'contact_status', payload: contactStatusPayload(contact, input.status, input.status === 'transferred' ? lookup : undefined) },
        ]);
        return contact;
      });
    },
  };
}

async function usesEmailOptIn(trx: Kysely<DB>, contact: ContactRow): Promise<boolean> {
  if (!contact.opt_in_id) return false;
  const row = await sql<{ key: string }>`SELECT key FROM opt_ins WHERE id = ${contact.opt_in_id}`.execute(trx);
  return row.rows[0]?.key === 'email';
}

async function joinByKeyword(trx: Kysely<DB>, accountId: string, contact: ContactRow, word: string): Promise<{ contact: ContactRow; joinMessage: string | null } | null> {
  const groups = await sql<{ id: string; join_message: string | null; always_send_join: boolean }>`
    SELECT id, join_message, always_send_join FROM groups WHERE account_id = ${accountId} AND upper(keyword) = ${word} LIMIT 1`.execute(trx);
  const group = groups.rows[0];
  if (!group) return null;
  const inserted = await sql`INSERT INTO contact_groups (contact_id, group_id, account_id) VALUES (${contact.id}, ${group.id}, ${accountId})
    ON CONFLICT DO NOTHING`.execute(trx);
  const newlyJoined = Number(inserted.numAffectedRows ?? 0) > 0;
  // Texting a keyword is an explicit opt-in.
  const updated =
    contact.status !== 'subscribed' ? await updateContact(trx, contact, { status: 'subscribed', unsubscribed_at: null, subscribed_at: new Date() }) : contact;
  const send = group.join_message && (newlyJoined || group.always_send_join) ? group.join_message : null;
  return { contact: updated, joinMessage: send };
}

/**
 * A contact created through the API is pending until it confirms: it gets the opt-in request
 * (reply Y, or its email address for the email opt-in) in the creating transaction. The request
 * is a compliance message: it goes to the pending contact and costs no credits. What it needs is
 * read before that transaction, which only writes it.
 */
export function createOptInRequester(db: Kysely<DB>) {
  return async (contact: NewContact): Promise<((trx: Kysely<DB>) => Promise<void>) | undefined> => {
    if (contact.status !== 'pending' || !contact.opt_in_id) return undefined;
    const found = await db
      .selectFrom('opt_ins')
      .innerJoin('accounts', (join) => join.on('accounts.id', '=', contact.account_id))
      .select(['opt_ins.key', 'accounts.name', 'accounts.short_code'])
      .where('opt_ins.id', '=', contact.opt_in_id)
      .executeTakeFirst();
    if (!found || (found.key !== 'double' && found.key !== 'email')) return undefined;
    const text =
      found.key === 'double'
        ? `${found.name}: Reply Y to confirm your subscription. Msg&data rates may apply. Reply HELP for help, STOP to cancel.`
        : `${found.name}: Reply with your email address to confirm your subscription. Msg&data rates may apply. Reply HELP for help, STOP to cancel.`;
    const info = analyzeSegments(text);
    const message = {
      id: newTimeOrderedId(),
      account_id: contact.account_id,
      type: 'OUTGOING',
      from: found.short_code,
      phone_number: contact.phone_number,
      message: text,
      media_url: null,
      segments: info.segments,
      encoding: info.encoding,
      credits: 0,
      status: 'queued',
      bypass_consent: true,
      contact_id: contact.id,
      campaign_id: null,
      metadata: null,
      ...NOT_YET_SENT,
    } as const;
    return async (trx) => {
      await trx.insertInto('messages').values(message).execute();
    };
  };
}
