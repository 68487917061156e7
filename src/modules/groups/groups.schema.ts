import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';
import { Nullable } from '../../http/nullable.js';
import { OptInSchema } from '../optins/optins.schema.js';

/** Words carriers reserve for compliance (opt-out, help, opt-back-in): never a group keyword. */
export const RESERVED_KEYWORDS = ['STOP', 'STOPALL', 'UNSUBSCRIBE', 'CANCEL', 'END', 'QUIT', 'OPTOUT', 'REVOKE', 'HELP', 'INFO', 'START', 'UNSTOP', 'YES'] as const;

export const KEYWORD_PATTERN = '^[A-Za-z0-9]{1,20}$';
export const MAX_JOIN_MESSAGE_LENGTH = 640;

export const KeywordSchema = Type.Object(
  {
    keyword: Type.String({ examples: ['PIZZA'] }),
    created_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Keyword', title: 'Keyword' },
);

export const GroupSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    join_message: Nullable(Type.String()),
    one_time_message: Type.Boolean(),
    always_send_join: Type.Boolean(),
    social_profiling: Type.Boolean(),
    email_new_contact: Type.Boolean(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
    optin: Nullable(OptInSchema),
    keyword: Type.Optional(Nullable(KeywordSchema)),
  },
  { $id: 'Group', title: 'Group' },
);
export type Group = Static<typeof GroupSchema>;

const Name = Type.String({ minLength: 1, maxLength: 100 });
const JoinMessage = Type.Union([Type.String({ maxLength: MAX_JOIN_MESSAGE_LENGTH }), Type.Null()]);
const Keyword = Type.Union([
  Type.String({ pattern: KEYWORD_PATTERN, description: `1 to 20 letters or digits; unique per account (case-insensitive); not one of ${RESERVED_KEYWORDS.join(', ')}` }),
  Type.Null(),
]);
const OptInId = Type.Union([Type.String({ format: 'uuid' }), Type.Null()], { description: 'One of GET /v1/opt-ins' });

const common = {
  join_message: Type.Optional(JoinMessage),
  one_time_message: Type.Optional(Type.Boolean()),
  always_send_join: Type.Optional(Type.Boolean()),
  social_profiling: Type.Optional(Type.Boolean()),
  email_new_contact: Type.Optional(Type.Boolean()),
  optin_id: Type.Optional(OptInId),
  keyword: Type.Optional(Keyword),
};

export const CreateGroupBody = Type.Object({ name: Name, ...common }, { additionalProperties: false });
export const UpdateGroupBody = Type.Object({ name: Type.Optional(Name), ...common }, { additionalProperties: false });
export type CreateGroupInput = Static<typeof CreateGroupBody>;
export type UpdateGroupInput = Static<typeof UpdateGroupBody>;

export const groupListSpec: ListSpec = {
  filters: { name: 'partial', keyword: 'exact' },
  sorts: ['name', 'created_at', 'updated_at'],
  defaultSort: 'created_at',
  includes: ['keyword'],
};
