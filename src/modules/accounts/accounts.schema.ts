import { Type, type Static } from '@sinclair/typebox';

const Clock = Type.String({ pattern: '^([01]\\d|2[0-3]):[0-5]\\d$|^24:00$', description: 'Local time HH:MM (24:00 for midnight at the end of the day).' });

const QuietHoursSchema = Type.Object({
  enabled: Type.Boolean({ description: 'When on, campaign sends wait for the recipient’s local window (single and batch API sends are not held).' }),
  start: Type.String({ description: 'Start of the sending window, local time HH:MM.' }),
  end: Type.String({ description: 'End of the sending window, local time HH:MM.' }),
});

export const AccountSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    short_code: Type.String({ description: 'The number the account texts from (the simulator’s short code).' }),
    default_country: Type.String({ description: 'ISO 3166 country used to read phone numbers written without a country code.' }),
    timezone: Type.String({ description: 'IANA time zone: for contacts without one, and the dashboard.' }),
    credit_balance: Type.Integer(),
    help_text: Type.String({ description: 'The answer to an inbound HELP or INFO.' }),
    help_text_is_default: Type.Boolean({ description: 'true while no help text of the account’s own is set.' }),
    quiet_hours: QuietHoursSchema,
    created_at: Type.String(),
    updated_at: Type.String(),
  },
  { $id: 'Account', title: 'Account' },
);

export const UpdateAccountBody = Type.Object({
  name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  default_country: Type.Optional(Type.String({ minLength: 2, maxLength: 2 })),
  timezone: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  help_text: Type.Optional(
    Type.Union([Type.Null(), Type.String({ maxLength: 320 })], { description: 'At most 320 characters; null (or an empty text) restores the default text.' }),
  ),
  quiet_hours: Type.Optional(
    Type.Object({
      enabled: Type.Optional(Type.Boolean()),
      start: Type.Optional(Clock),
      end: Type.Optional(Clock),
    }),
  ),
});
export type UpdateAccountInput = Static<typeof UpdateAccountBody>;
