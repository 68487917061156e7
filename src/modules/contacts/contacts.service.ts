import type { Kysely, Updateable } from 'kysely';
import type { DB } from '../../db/tables.js';
import type { ListQuery } from '../../http/list-query.js';
import { BadRequestError, NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { parsePhone } from '../../lib/phone.js';
import { formatDate } from '../../lib/time.js';
import { EMAIL_RE, hasControlCharacters, isCalendarDate, isTimeZone } from '../../lib/validate.js';
import { toCarrier } from '../carriers/carriers.service.js';
import type { FieldsService } from '../fields/fields.service.js';
import { decodeFieldValue, encodeFieldValue, type FieldValue } from '../fields/fields.values.js';
import type { GroupsService } from '../groups/groups.service.js';
import { toGroup } from '../groups/groups.service.js';
import { DOUBLE_OPT_IN_ID } from '../optins/optins.seed.js';
import type { OptInsService } from '../optins/optins.service.js';
import type { PhoneNumbersService } from '../phone-numbers/phone-numbers.service.js';
import { createContactsRepo, type ContactFilters, type ContactRow, type NewContactRow } from './contacts.repo.js';
import type { Contact, CreateContactInput, UpdateContactInput } from './contacts.schema.js';
import type { ContactsTable } from './contacts.tables.js';

export type ContactsService = ReturnType<typeof createContactsService>;
export type Includes = ReadonlySet<string>;

export const CONTACT_EXISTS = 'The contact already exists.';

const TEXT_ATTRIBUTES = ['first_name', 'last_name', 'email', 'gender', 'address', 'city', 'state', 'zip'] as const;
type TextAttribute = (typeof TEXT_ATTRIBUTES)[number];
const MAX_LENGTH: Record<TextAttribute, number> = { first_name: 100, last_name: 100, email: 254, gender: 20, address: 255, city: 100, state: 100, zip: 20 };

export interface ContactAttributes {
  first_name?: string | null | undefined;
  last_name?: string | null | undefined;
  email?: string | null | undefined;
  gender?: string | null | undefined;
  birth_date?: string | null | undefined;
  address?: string | null | undefined;
  city?: string | null | undefined;
  state?: string | null | undefined;
  zip?: string | null | undefined;
  reward_points?: number | undefined;
  timezone?: string | null | undefined;
}

/** Normalises and checks the plain attributes (shared by the API and the bulk import). */
export function checkAttributes(input: ContactAttributes, errors: FieldErrors, today = new Date()): ContactAttributes {
  const out: ContactAttributes = {};
  for (const key of TEXT_ATTRIBUTES) {
    const raw = input[key];
    if (raw === undefined) continue;
    if (raw === null) {
      out[key] = null;
      continue;
    }
    if (typeof raw !== 'string') {
      errors[key] = ['Must be a string.'];
      continue;
    }
    const value = raw.trim().normalize('NFC');
    if (value.length > MAX_LENGTH[key]) errors[key] = [`May not be longer than ${MAX_LENGTH[key]} characters.`];
    else if (hasControlCharacters(value)) errors[key] = ['May not contain control characters.'];
    else if (key === 'email' && value !== '' && !EMAIL_RE.test(value)) errors[key] = ['Must be a valid email address.'];
    else out[key] = value === '' ? null : value;
  }
  if (input.birth_date !== undefined) {
    const value = input.birth_date;
    if (value === null || value === '') out.birth_date = null;
    else if (typeof value !== 'string' || !isCalendarDate(value)) errors.birth_date = ['Must be a date (YYYY-MM-DD).'];
    else if (value > today.toISOString().slice(0, 10)) errors.birth_date = ['May not be in the future.'];
    else out.birth_date = value;
  }
  if (input.timezone !== undefined) {
    const value = input.timezone;
    if (value === null || value === '') out.timezone = null;
    else if (typeof value !== 'string' || !isTimeZone(value)) errors.timezone = ['Must be an IANA time zone, such as America/New_York.'];
    else out.timezone = value;
  }
  if (input.reward_points !== undefined) {
    const value = input.reward_points;
    if (!Number.isSafeInteger(value) || value < 0 || value > 1_000_000_000) errors.reward_points = ['Must be an integer from 0 to 1000000000.'];
    else out.reward_points = value;
  }
  return out;
}

/** A contact about to be created, as the hooks of its creation see it. */
export interface NewContact {
  id: string;
  account_id: string;
  phone_number: string;
  opt_in_id: string | null;
  status: string;
}

export function createContactsService(deps: {
  db: Kysely<DB>;
  groups: GroupsService;
  fields: FieldsService;
  optIns: OptInsService;
  phoneNumbers: PhoneNumbersService;
  now?: () => Date;
  /**
   * What the messaging engine writes with a new contact (the opt-in request): prepared before the
   * creating transaction and written in it, so that the transaction, which holds the account's
   * creation-sequence row that every other creation of the account waits for, stays short.
   */
  prepareCreated?: (contact: NewContact) => Promise<((trx: Kysely<DB>) => Promise<void>) | undefined>;
}) {
  const now = deps.now ?? (() => new Date());
  const repo = createContactsRepo(deps.db);

  /** Checks `fields: {name: value}` against the account's custom fields. */
  async function checkFields(accountId: string, fields: Record<string, unknown> | undefined, errors: FieldErrors) {
    const out: Array<{ fieldId: string; value: string | null }> = [];
    if (!fields || Object.keys(fields).length === 0) return out;
    const defined = await deps.fields.byName(accountId);
    for (const [name, value] of Object.entries(fields)) {
      const field = defined.get(name.toLowerCase());
      if (!field) {
        errors[`fields.${name}`] = ['Unknown custom field: define it first with POST /v1/fields.'];
        continue;
      }
      if (value === null) {
        out.push({ fieldId: field.id, value: null });
        continue;
      }
      const encoded = encodeFieldValue(field.type, value);
      if (!encoded.ok) errors[`fields.${name}`] = [encoded.reason];
      else out.push({ fieldId: field.id, value: encoded.value });
    }
    return out;
  }

  async function present(accountId: string, rows: ContactRow[], include: Includes): Promise<Contact[]> {
    const ids = rows.map((r) => r.id);
    const carriers = include.has('carrier')
      ? new Map((await repo.carriersByIds([...new Set(rows.map((r) => r.carrier_id).filter((id): id is string => id !== null))])).map((c) => [c.id, toCarrier(c)]))
      : null;
    let groups: Map<string, Contact['groups']> | null = null;
    if (include.has('groups')) {
      const memberships = await repo.groupsOf(accountId, ids);
      const optIns = await deps.optIns.findMany(memberships.map((m) => m.optin_id).filter((id): id is string => id !== null));
      groups = new Map();
      for (const m of memberships) {
        const list = groups.get(m.contact_id) ?? [];
        list.push(toGroup(m, optIns, false));
        groups.set(m.contact_id, list);
      }
    }
    let fields: Map<string, Record<string, FieldValue>> | null = null;
    if (include.has('fields')) {
      fields = new Map();
      for (const v of await repo.fieldValuesOf(accountId, ids)) {
        const record = fields.get(v.contact_id) ?? {};
        record[v.name] = decodeFieldValue(v.type, v.value);
        fields.set(v.contact_id, record);
      }
    }
    return rows.map((row) => {
      const contact: Contact = {
        id: row.id,
        phone_number: row.phone_number,
        first_name: row.first_name,
        last_name: row.last_name,
        email: row.email,
        gender: row.gender,
        birth_date: row.birth_date,
        address: row.address,
        city: row.city,
        state: row.state,
        zip: row.zip,
        reward_points: row.reward_points,
        timezone: row.timezone,
        unsubscribed_at: formatDate(row.unsubscribed_at),
        bounces: row.bounces,
        created_at: formatDate(row.created_at),
        updated_at: formatDate(row.updated_at),
      };
      if (carriers) contact.carrier = row.carrier_id ? (carriers.get(row.carrier_id) ?? null) : null;
      if (include.has('status')) {
        contact.status = {
          subscription: row.status,
          carrier_status: row.carrier_status,
          opt_in_id: row.opt_in_id,
          subscribed_at: formatDate(row.subscribed_at),
          unsubscribed_at: formatDate(row.unsubscribed_at),
          bounces: row.bounces,
          sendable: row.status === 'subscribed' && row.carrier_status === 'active',
        };
      }
      if (groups) contact.groups = groups.get(row.id) ?? [];
      if (fields) contact.fields = fields.get(row.id) ?? {};
      return contact;
    });
  }

  async function getRow(accountId: string, id: string): Promise<ContactRow> {
    const row = await repo.findById(accountId, id);
    if (!row) throw new NotFoundError('Contact not found.');
    return row;
  }

  async function presentOne(accountId: string, row: ContactRow, include: Includes): Promise<Contact> {
    return (await present(accountId, [row], include))[0]!;
  }

  return {
    /** Filters from the query string: phone numbers are normalised like stored ones. */
    async filtersFor(accountId: string, query: ListQuery, groupId?: string): Promise<ContactFilters> {
      const filters: ContactFilters = { fields: [], groupId };
      let fieldDefs: Awaited<ReturnType<FieldsService['byName']>> | null = null;
      for (const f of query.filters) {
        const value = String(f.value);
        if (f.field === 'phone_number') {
          // An international number needs no default country (and no query to find it).
          const parsed = parsePhone(value, value.trim().startsWith('+') ? 'US' : await deps.phoneNumbers.defaultCountry(accountId));
          filters.phoneNumber = parsed.ok ? parsed.e164 : value.trim();
        } else if (f.field === 'reward_points') {
          if (!/^-?\d{1,10}$/.test(value.trim())) throw new BadRequestError('The query string is invalid.', { 'filter[reward_points]': ['Must be an integer.'] });
          filters.rewardPoints = Number(value);
        } else if (f.field.startsWith('fields.')) {
          fieldDefs ??= await deps.fields.byName(accountId);
          const def = fieldDefs.get(f.field.slice('fields.'.length).toLowerCase());
          if (!def) continue;
          const encoded = encodeFieldValue(def.type, value);
          if (!encoded.ok) throw new BadRequestError('The query string is invalid.', { [`filter[${f.field}]`]: [encoded.reason] });
          filters.fields.push({ fieldId: def.id, value: encoded.value });
        }
      }
      return filters;
    },

    async list(accountId: string, query: ListQuery, filters: ContactFilters) {
      const { rows, total } = await repo.list(accountId, filters, query);
      return { data: await present(accountId, rows, query.include), total };
    },

    async get(accountId: string, id: string, include: Includes): Promise<Contact> {
      return presentOne(accountId, await getRow(accountId, id), include);
    },

    async create(accountId: string, input: CreateContactInput, include: Includes): Promise<Contact> {
      const errors: FieldErrors = {};
      const parsed = parsePhone(input.phone_number, await deps.phoneNumbers.defaultCountry(accountId));
      if (!parsed.ok) errors.phone_number = [parsed.reason];
      const attrs = checkAttributes(input, errors, now());
      const fieldValues = await checkFields(accountId, input.fields, errors);
      let groupRows: Awaited<ReturnType<GroupsService['requireOwned']>> = [];
      if (input.groups && input.groups.length > 0) {
        try {
          groupRows = await deps.groups.requireOwned(accountId, input.groups, 'groups');
        } catch (error) {
          if (error instanceof ValidationError) Object.assign(errors, error.errors);
          else throw error;
        }
      }
      if (!parsed.ok || Object.keys(errors).length > 0) throw new ValidationError(errors);
      if ((await repo.findByPhones(accountId, [parsed.e164])).length > 0) throw ValidationError.field('phone_number', CONTACT_EXISTS);

      const resolved = await deps.phoneNumbers.resolve(parsed.phone);
      const ordered = (input.groups ?? []).map((id) => groupRows.find((g) => g.id === id)).filter((g) => g !== undefined);
      const optInId = ordered.find((g) => g.optin_id)?.optin_id ?? DOUBLE_OPT_IN_ID;
      const row: Omit<NewContactRow, 'seq'> = {
        id: newId(),
        account_id: accountId,
        phone_number: parsed.e164,
        first_name: attrs.first_name ?? null,
        last_name: attrs.last_name ?? null,
        email: attrs.email ?? null,
        gender: attrs.gender ?? null,
        birth_date: attrs.birth_date ?? null,
        address: attrs.address ?? null,
        city: attrs.city ?? null,
        state: attrs.state ?? null,
        zip: attrs.zip ?? null,
        reward_points: attrs.reward_points ?? 0,
        timezone: attrs.timezone ?? deps.phoneNumbers.pickTimeZone(resolved.timezones),
        carrier_id: resolved.carrierId,
        opt_in_id: optInId,
        source: 'api',
      };
      const writeWithContact = await deps.prepareCreated?.({ ...row, status: 'pending' });
      // A duplicate that slipped in concurrently rolls the transaction back (and with it the
      // seq allocation) through the thrown error.
      const created = await deps.db.transaction().execute(async (trx) => {
        const tx = createContactsRepo(trx);
        const inserted = await tx.insertWithNewSeq(row);
        if (!inserted) throw ValidationError.field('phone_number', CONTACT_EXISTS);
        await tx.addGroups(accountId, inserted.id, ordered.map((g) => g.id));
        await tx.setFieldValues(accountId, inserted.id, fieldValues);
        await writeWithContact?.(trx);
        return inserted;
      });
      return presentOne(accountId, created, include);
    },

    async update(accountId: string, id: string, input: UpdateContactInput, include: Includes): Promise<Contact> {
      const current = await getRow(accountId, id);
      const errors: FieldErrors = {};
      if (input.phone_number !== undefined) {
        const parsed = parsePhone(input.phone_number, await deps.phoneNumbers.defaultCountry(accountId));
        if (!parsed.ok || parsed.e164 !== current.phone_number) errors.phone_number = ['The phone number of a contact cannot be changed.'];
      }
      const attrs = checkAttributes(input, errors, now());
      const fieldValues = await checkFields(accountId, input.fields, errors);
      if (input.groups && input.groups.length > 0) {
        try {
          await deps.groups.requireOwned(accountId, input.groups, 'groups');
        } catch (error) {
          if (error instanceof ValidationError) Object.assign(errors, error.errors);
          else throw error;
        }
      }
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      const changes: Updateable<ContactsTable> = { ...attrs, updated_at: now() };
      const updated = await deps.db.transaction().execute(async (trx) => {
        const tx = createContactsRepo(trx);
        const row = await tx.update(accountId, id, changes);
        if (!row) return null;
        if (input.groups !== undefined) await tx.setGroups(accountId, id, [...new Set(input.groups)]);
        await tx.setFieldValues(accountId, id, fieldValues);
        return row;
      });
      if (!updated) throw new NotFoundError('Contact not found.');
      return presentOne(accountId, updated, include);
    },

    /**
     * Deletes the contact row (with its memberships and field values). Message history keeps
     * its rows: they reference contacts with ON DELETE SET NULL, so they stay countable but
     * no longer point at the person.
     */
    async remove(accountId: string, id: string): Promise<void> {
      if (!(await repo.remove(accountId, id))) throw new NotFoundError('Contact not found.');
    },

    async unsubscribe(accountId: string, phoneNumbers: readonly string[]) {
      const country = await deps.phoneNumbers.defaultCountry(accountId);
      const errors: FieldErrors = {};
      const normalised: string[] = [];
      phoneNumbers.forEach((input, index) => {
        const parsed = parsePhone(input, country);
        if (!parsed.ok) errors[`phone_numbers.${index}`] = [parsed.reason];
        else normalised.push(parsed.e164);
      });
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      const unique = [...new Set(normalised)];
      const changed = await repo.unsubscribe(accountId, unique, now());
      const changedSet = new Set(changed.map((r) => r.phone_number));
      const existing = new Set((await repo.findByPhones(accountId, unique)).map((r) => r.phone_number));
      return {
        unsubscribed: unique.filter((p) => changedSet.has(p)),
        already_unsubscribed: unique.filter((p) => existing.has(p) && !changedSet.has(p)),
        not_found: unique.filter((p) => !existing.has(p)),
      };
    },

    async addGroup(accountId: string, id: string, groupId: string, include: Includes): Promise<Contact> {
      await getRow(accountId, id);
      await deps.groups.requireOwned(accountId, [groupId], 'group_id');
      await repo.addGroups(accountId, id, [groupId]);
      return presentOne(accountId, await getRow(accountId, id), include);
    },

    async removeGroup(accountId: string, id: string, groupId: string): Promise<void> {
      await getRow(accountId, id);
      if (!(await deps.groups.exists(accountId, groupId))) throw new NotFoundError('Group not found.');
      if (!(await repo.removeGroup(accountId, id, groupId))) throw new NotFoundError('The contact is not in this group.');
    },
  };
}
