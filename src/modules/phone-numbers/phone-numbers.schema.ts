import { Type, type Static } from '@sinclair/typebox';
import { MAX_PHONE_INPUT_LENGTH } from '../../lib/phone.js';

export const MAX_LOOKUPS = 10;

export const LookupBodySchema = Type.Object(
  {
    phone_numbers: Type.Array(Type.String({ minLength: 1, maxLength: MAX_PHONE_INPUT_LENGTH }), {
      minItems: 1,
      maxItems: MAX_LOOKUPS,
      description: `Up to ${MAX_LOOKUPS} phone numbers, in E.164 or in the account's national format`,
    }),
  },
  { additionalProperties: false },
);

export const LookupResultSchema = Type.Object(
  {
    input: Type.String({ description: 'The number as sent' }),
    phone_number: Type.Union([Type.String(), Type.Null()], { description: 'E.164 form; null when it cannot be parsed' }),
    valid: Type.Boolean(),
    possible: Type.Boolean({ description: 'Has the right length for its country (a valid number is always possible)' }),
    country: Type.Union([Type.String(), Type.Null()], { description: 'ISO 3166-1 alpha-2' }),
    type: Type.Union([Type.String(), Type.Null()], { description: 'MOBILE, FIXED_LINE, FIXED_LINE_OR_MOBILE, VOIP, TOLL_FREE, ...' }),
    carrier: Type.Union([
      Type.Object({
        id: Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'The matching carrier of GET /v1/carriers, if any' }),
        name: Type.String(),
      }),
      Type.Null(),
    ]),
    timezones: Type.Array(Type.String()),
    error: Type.Union([Type.String(), Type.Null()], { description: 'Why the number is not valid' }),
  },
  { $id: 'PhoneNumberLookup', title: 'Phone number lookup' },
);
export type LookupResult = Static<typeof LookupResultSchema>;
