import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';

/**
 * Consent: who may be texted, and the contact side of inbound messages, delivery reports and
 * carrier events. Contacts belong to the audience module; this file reads and updates them with
 * plain SQL on the columns of its migration (status pending|subscribed|unsubscribed,
 * carrier_status active|suspended|deactivated, unsubscribed_at, bounces).
 */

export interface ContactRow {
  id: string;
  account_id: string;
  phone_number: string;
  first_name: string | null;
  last_name: string | null;
  email: string | null;
  status: 'pending' | 'subscribed' | 'unsubscribed';
  carrier_status: 'active' | 'suspended' | 'deactivated';
  unsubscribed_at: Date | null;
  bounces: number;
  opt_in_id: string | null;
  carrier_id: string | null;
  created_at: Date;
  updated_at: Date;
}

/** Bounces (codes 101, 106-109) after which a contact is unsubscribed. */
export const MAX_BOUNCES = 3;

export type Refusal = 'pending' | 'unsubscribed' | 'deactivated' | 'bounced';

/** Why a contact may not be texted, or null when it may. */
export function refusalFor(contact: Pick<ContactRow, 'status' | 'carrier_status' | 'bounces'>): Refusal | null {
  if (contact.bounces >= MAX_BOUNCES) return 'bounced';
  if (contact.carrier_status === 'deactivated') return 'deactivated';
  if (contact.status === 'unsubscribed') return 'unsubscribed';
  if (contact.status === 'pending') return 'pending';
  return null;
}

export const REFUSAL_TEXT: Record<Refusal, { description: string; message: string }> = {
  pending: { description: 'Pending', message: 'The contact has not confirmed the opt-in yet.' },
  unsubscribed: { description: 'Unsubscribed', message: 'The contact has unsubscribed.' },
  deactivated: { description: 'Deactivated', message: 'The phone number of the contact has been deactivated by the carrier.' },
  bounced: { description: 'Bounced', message: 'Messages to the contact have bounced too often.' },
};

const CONTACT_COLUMNS = sql`id, account_id, phone_number, first_name, last_name, email, status, carrier_status, unsubscribed_at, bounces, opt_in_id, carrier_id, created_at, updated_at`;

let contactsTableKnown = false;

/** Whether the audience schema is present (it is on every database migrated with it). */
export async function hasContacts(db: Kysely<DB>): Promise<boolean> {
  if (contactsTableKnown) return true;
  const row = (await sql<{ present: boolean }>`SELECT to_regclass('contacts') IS NOT NULL AS present`.execute(db)).rows[0];
  contactsTableKnown = row?.present === true;
  return contactsTableKnown;
}

export async function contactsByPhones(db: Kysely<DB>, accountId: string, phones: readonly string[]): Promise<Map<string, ContactRow>> {
  const out = new Map<string, ContactRow>();
  if (phones.length === 0 || !(await hasContacts(db))) return out;
  const rows = await sql<ContactRow>`SELECT ${CONTACT_COLUMNS} FROM contacts
    WHERE account_id = ${accountId} AND phone_number = ANY(${sql.val([...phones])}::text[])`.execute(db);
  for (const row of rows.rows) out.set(row.phone_number, row);
  return out;
}

export async function contactById(db: Kysely<DB>, accountId: string, id: string, forUpdate = false): Promise<ContactRow | undefined> {
  if (!(await hasContacts(db))) return undefined;
  const rows = await sql<ContactRow>`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ${accountId} AND id = ${id}
    ${forUpdate ? sql`FOR UPDATE` : sql``}`.execute(db);
  return rows.rows[0];
}

export async function contactByPhoneForUpdate(db: Kysely<DB>, accountId: string, phone: string): Promise<ContactRow | undefined> {
  if (!(await hasContacts(db))) return undefined;
  const rows = await sql<ContactRow>`SELECT ${CONTACT_COLUMNS} FROM contacts WHERE account_id = ${accountId} AND phone_number = ${phone} FOR UPDATE`.execute(db);
  return rows.rows[0];
}

/** A number that texts in and is not a contact becomes one (pending: it has not opted in). */
export async function createInboundContact(db: Kysely<DB>, accountId: string, phone: string): Promise<ContactRow> {
  const rows = await sql<ContactRow>`INSERT INTO contacts (id, account_id, phone_number, status, source)
    VALUES (${newId()}, ${accountId}, ${phone}, 'pending', 'inbound')
    ON CONFLICT (account_id, phone_number) DO UPDATE SET updated_at = contacts.updated_at
    RETURNING ${CONTACT_COLUMNS}`.execute(db);
  return rows.rows[0]!;
}

export async function updateContact(
  db: Kysely<DB>,
  contact: ContactRow,
  change: Partial<Pick<ContactRow, 'status' | 'carrier_status' | 'unsubscribed_at' | 'bounces' | 'email' | 'phone_number'>> & { subscribed_at?: Date | null },
): Promise<ContactRow> {
  const sets = Object.entries(change).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
  const rows = await sql<ContactRow>`UPDATE contacts SET ${sql.join([...sets, sql`updated_at = now()`])}
    WHERE id = ${contact.id} RETURNING ${CONTACT_COLUMNS}`.execute(db);
  return rows.rows[0] ?? contact;
}

// ---- event payloads (reference, Webhooks) ---------------------------------------------------

const person = (c: ContactRow) => ({ id: c.id, first_name: c.first_name, last_name: c.last_name, email: c.email });

export function inboundPayload(c: ContactRow, shortCode: string, text: string, receivedAt: Date) {
  return {
    ...person(c),
    short_code: shortCode,
    phone_number: c.phone_number,
    message: text,
    unsubscribed_at: formatDate(c.unsubscribed_at),
    created_at: formatDate(c.created_at),
    updated_at: formatDate(c.updated_at),
    received_at: formatDate(receivedAt),
  };
}

export function unsubscribePayload(c: ContactRow, to: string) {
  return {
    ...person(c),
    phone_number: c.phone_number,
    to,
    unsubscribed_at: formatDate(c.unsubscribed_at),
    created_at: formatDate(c.created_at),
    updated_at: formatDate(c.updated_at),
  };
}

export function contactStatusPayload(c: ContactRow, status: 'suspended' | 'deactivated' | 'resumed' | 'transferred', previousPhoneNumber?: string) {
  return {
    ...person(c),
    phone_number: c.phone_number,
    ...(status === 'transferred' && previousPhoneNumber !== undefined ? { previous_phone_number: previousPhoneNumber } : {}),
    status,
    created_at: formatDate(c.created_at),
    updated_at: formatDate(c.updated_at),
  };
}

export function bouncedPayload(c: ContactRow) {
  return {
    ...person(c),
    phone_number: c.phone_number,
    unsubscribed_at: formatDate(c.unsubscribed_at),
    bounces: c.bounces,
    created_at: formatDate(c.created_at),
    updated_at: formatDate(c.updated_at),
  };
}

/** `rejected_message`: code (a delivery code, or "" for a refusal before sending), the text, why. */
export function rejectedPayload(code: number | null, text: string, description: string) {
  return { code: code === null ? '' : String(code), message: text, description };
}
