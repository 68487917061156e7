import { parsePhoneNumberFromString, type CountryCode, type PhoneNumber } from 'libphonenumber-js/max';

export type { PhoneNumber } from 'libphonenumber-js/max';

export const MAX_PHONE_INPUT_LENGTH = 40;

export type ParsedPhone =
  | { ok: true; phone: PhoneNumber; e164: string }
  | { ok: false; reason: string; phone?: PhoneNumber | undefined };

/**
 * Parses what a person typed as a phone number, in the account's default country unless it
 * carries its own (+44 ..., 0044 ... from the US is not understood: international numbers are
 * written with a +). Uses libphonenumber's full metadata, so "valid" means the number is
 * assigned in its country's numbering plan, not merely the right length.
 */
export function parsePhone(input: string, defaultCountry: string): ParsedPhone {
  const text = input.trim();
  if (text === '') return { ok: false, reason: 'The phone number is required.' };
  if (text.length > MAX_PHONE_INPUT_LENGTH) return { ok: false, reason: `The phone number may not be longer than ${MAX_PHONE_INPUT_LENGTH} characters.` };
  if (!/^[0-9+\-().\s/]+$/.test(text)) {
    return { ok: false, reason: 'The phone number may only contain digits, spaces and + - ( ) . /' };
  }
  const phone = parsePhoneNumberFromString(text, { defaultCountry: defaultCountry as CountryCode, extract: false });
  if (!phone) return { ok: false, reason: 'The phone number is not a phone number.' };
  if (!phone.isPossible()) return { ok: false, reason: 'The phone number has the wrong number of digits for its country.', phone };
  if (!phone.isValid()) return { ok: false, reason: 'The phone number is not a valid number in its country.', phone };
  return { ok: true, phone, e164: phone.number };
}
