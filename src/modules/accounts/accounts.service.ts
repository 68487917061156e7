import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import { isSupportedCountry } from 'libphonenumber-js';
import type { DB } from '../../db/tables.js';
import { NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { hashPassword, verifyPassword } from '../../lib/secrets.js';
import { formatDate } from '../../lib/time.js';
import { createAccountsRepo } from './accounts.repo.js';
import { defaultHelpText } from './help-text.js';
import type { UpdateAccountInput } from './accounts.schema.js';

export interface CreateAccountInput {
  name: string;
  email: string;
  password: string;
  defaultCountry?: string | undefined;
  timezone?: string | undefined;
}

export type AccountsService = ReturnType<typeof createAccountsService>;

const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
const MIN_PASSWORD = 8;
const MAX_PASSWORD = 1024;

/**
 * Verified against when the email is unknown, so a sign-in for an address that has no account
 * costs the same argon2 work as one that has (the response time does not tell them apart).
 */
let dummyHash: Promise<string> | undefined;
const getDummyHash = () => (dummyHash ??= hashPassword('not-a-real-password-but-the-same-work'));

export function createAccountsService(deps: { db: Kysely<DB>; newAccountCredits: number }) {
  const repo = createAccountsRepo(deps.db);

  function validate(input: CreateAccountInput): FieldErrors {
    const errors: FieldErrors = {};
    if (!input.name.trim() || input.name.length > 200) errors.name = ['The name must be 1 to 200 characters.'];
    if (!EMAIL_RE.test(input.email) || input.email.length > 254) errors.email = ['The email must be a valid email address.'];
    if (input.password.length < MIN_PASSWORD || input.password.length > MAX_PASSWORD) errors.password = ['The password must be at least 8 characters.'];
    if (input.defaultCountry !== undefined && !isCountry(input.defaultCountry)) errors.default_country = ['Unknown country code.'];
    if (input.timezone !== undefined && !isTimeZone(input.timezone)) errors.timezone = ['Unknown time zone.'];
    return errors;
  }

  return {
    /** Creates an account, its first user and a unique short code, in one transaction. */
    async create(input: CreateAccountInput) {
      const errors = validate(input);
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      if (await repo.findUserByEmail(input.email)) throw ValidationError.field('email', 'The email has already been taken.');
      const passwordHash = await hashPassword(input.password);
      return deps.db.transaction().execute(async (trx) => {
        const tx = createAccountsRepo(trx);
        const shortCode = await allocateShortCode(tx);
        const account = await tx.insertAccount({
          id: newId(),
          name: input.name.trim(),
          shortCode,
          credits: deps.newAccountCredits,
          defaultCountry: (input.defaultCountry ?? 'US').toUpperCase(),
          timezone: input.timezone ?? 'America/New_York',
        });
        const user = await tx.insertUser({
          id: newId(),
          accountId: account.id,
          email: input.email.trim(),
          name: null,
          passwordHash,
        });
        return { account, user };
      });
    },

    async get(id: string) {
      const account = await repo.findById(id);
      if (!account) throw new NotFoundError('Account not found.');
      return account;
    },

    /** GET /v1/account: the account as its owner sees it, settings included. */
    async settings(id: string) {
      const account = await repo.findById(id);
      if (!account) throw new NotFoundError('Account not found.');
      return toAccountView(account);
    },

    /** PUT /v1/account: changes only what is given; 422 (nothing changed) when any value is invalid. */
    async updateSettings(id: string, input: UpdateAccountInput) {
      const current = await repo.findById(id);
      if (!current) throw new NotFoundError('Account not found.');
      const errors: FieldErrors = {};
      const changes: Parameters<typeof repo.updateSettings>[1] = {};
      if (input.name !== undefined) {
        if (!input.name.trim()) errors.name = ['The name may not be empty.'];
        else changes.name = input.name.trim();
      }
      if (input.default_country !== undefined) {
        if (!isCountry(input.default_country)) errors.default_country = ['Unknown country code.'];
        else changes.default_country = input.default_country.toUpperCase();
      }
      if (input.timezone !== undefined) {
        if (!isTimeZone(input.timezone)) errors.timezone = ['Unknown time zone.'];
        else changes.timezone = input.timezone;
      }
      if (input.help_text !== undefined) {
        const text = input.help_text?.trim() ?? null;
        // eslint-disable-next-line no-control-regex
        if (text !== null && /[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/.test(text)) {
          errors.help_text = ['The help text contains a character that cannot be texted.'];
        } else changes.help_text = text || null;
      }
      if (input.quiet_hours) {
        const q = input.quiet_hours;
        if (q.enabled !== undefined) changes.quiet_hours_enabled = q.enabled;
        const start = q.start !== undefined ? minutes(q.start) : current.quiet_hours_start;
        const end = q.end !== undefined ? minutes(q.end) : current.quiet_hours_end;
        if (start >= 1440) errors['quiet_hours.start'] = ['The window cannot start at 24:00.'];
        else if (start === end) errors['quiet_hours.end'] = ['The window must be longer than zero minutes.'];
        else {
          changes.quiet_hours_start = start;
          changes.quiet_hours_end = end;
        }
      }
      if (Object.keys(errors).length > 0) throw new ValidationError(errors);
      const updated = Object.keys(changes).length > 0 ? await repo.updateSettings(id, changes) : current;
      return toAccountView(updated ?? current);
    },

    async addCredits(id: string, amount: number) {
      if (!Number.isSafeInteger(amount)) throw ValidationError.field('add', 'The amount must be an integer.');
      const row = await repo.addCredits(id, amount);
      if (!row) throw new NotFoundError('Account not found.');
      return row;
    },

    count: () => repo.count(),

    /**
     * Checks an email and password. Unknown emails and wrong passwords are indistinguishable:
     * both return null after the same argon2 verification.
     */
    async authenticate(email: string, password: string) {
      const user = email.length <= 254 ? await repo.findUserByEmail(email.trim()) : undefined;
      const candidate = password.length <= MAX_PASSWORD ? password : '';
      const ok = await verifyPassword(user?.password_hash ?? (await getDummyHash()), candidate);
      return user && ok && candidate === password ? user : null;
    },

    async getUser(id: string) {
      const user = await repo.findUserById(id);
      if (!user) throw new NotFoundError('User not found.');
      return user;
    },

    /** Changes a user's password after checking the current one. */
    async changePassword(userId: string, current: string, next: string) {
      const user = await repo.findUserById(userId);
      if (!user) throw new NotFoundError('User not found.');
      if (!(await verifyPassword(user.password_hash, current.slice(0, MAX_PASSWORD)))) {
        throw ValidationError.field('current_password', 'The current password is incorrect.');
      }
      if (next.length < MIN_PASSWORD || next.length > MAX_PASSWORD) {
        throw ValidationError.field('new_password', `The password must be at least ${MIN_PASSWORD} characters.`);
      }
      await repo.updatePassword(userId, await hashPassword(next));
    },
  };
}

type AccountRow = NonNullable<Awaited<ReturnType<ReturnType<typeof createAccountsRepo>['findById']>>>;

const clock = (m: number) => `${String(Math.floor(m / 60)).padStart(2, '0')}:${String(m % 60).padStart(2, '0')}`;
const minutes = (hhmm: string) => Number(hhmm.slice(0, 2)) * 60 + Number(hhmm.slice(3, 5));

function toAccountView(a: AccountRow) {
  return {
    id: a.id,
    name: a.name,
    short_code: a.short_code,
    default_country: a.default_country,
    timezone: a.timezone,
    credit_balance: Number(a.credit_balance),
    help_text: a.help_text?.trim() || defaultHelpText(a.name),
    help_text_is_default: !a.help_text?.trim(),
    quiet_hours: { enabled: a.quiet_hours_enabled, start: clock(a.quiet_hours_start), end: clock(a.quiet_hours_end) },
    created_at: formatDate(a.created_at),
    updated_at: formatDate(a.updated_at),
  };
}

/** Five-digit short codes, as US carriers issue them; six digits once five run short. */
async function allocateShortCode(repo: ReturnType<typeof createAccountsRepo>): Promise<string> {
  for (let attempt = 0; attempt < 20; attempt++) {
    const code = String(attempt < 10 ? randomInt(20_000, 100_000) : randomInt(200_000, 1_000_000));
    if (!(await repo.shortCodeTaken(code))) return code;
  }
  throw new Error('Could not allocate a free short code');
}

function isCountry(code: string): boolean {
  return /^[A-Za-z]{2}$/.test(code) && isSupportedCountry(code.toUpperCase());
}

function isTimeZone(zone: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    return true;
  } catch {
    return false;
  }
}
