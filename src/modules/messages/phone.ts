import { parsePhoneNumberFromString, type CountryCode } from 'libphonenumber-js/max';

/**
 * Recipient numbers: parsed with the account's default country and normalised to E.164.
 * "Valid" means assigned in the country's numbering plan (libphonenumber's full metadata).
 */
export function normalizePhone(input: unknown, defaultCountry: string): { ok: true; e164: string } | { ok: false; reason: string } {
  if (typeof input !== 'string' || input.trim() === '') return { ok: false, reason: 'The phone number is required.' };
  const text = input.trim();
  if (text.length > 40) return { ok: false, reason: 'The phone number may not be longer than 40 characters.' };
  if (!/^[0-9+\-().\s/]+$/.test(text)) return { ok: false, reason: 'The phone number may only contain digits, spaces and + - ( ) . /' };
  const phone = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode, extract: false });
  if (!phone || !phone.isValid()) return { ok: false, reason: 'The phone number is not a valid phone number.' };
  return { ok: true, e164: phone.number };
}

/** The national significant number (the reference's delivery report shows it without country code). */
export function nationalNumber(e164: string): string {
  const phone = parsePhoneNumberFromString(e164);
  return phone ? String(phone.nationalNumber) : e164.replace(/^\+/, '');
}
