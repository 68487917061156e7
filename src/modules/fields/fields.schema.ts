import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

export const FIELD_NAME_PATTERN = '^[A-Za-z][A-Za-z0-9_]{0,49}$';
export const FIELD_TYPES = ['text', 'number', 'date', 'boolean'] as const;

export const FieldSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['favorite_color'] }),
    type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'CustomField', title: 'Custom field' },
);
export type Field = Static<typeof FieldSchema>;

const Name = Type.String({ pattern: FIELD_NAME_PATTERN, description: 'Letters, digits and _, starting with a letter, at most 50 characters; unique per account (case-insensitive)' });

export const CreateFieldBody = Type.Object(
  { name: Name, type: Type.Union(FIELD_TYPES.map((t) => Type.Literal(t))) },
  { additionalProperties: false },
);
export const UpdateFieldBody = Type.Object(
  { name: Type.Optional(Name), type: Type.Optional(Type.Union(FIELD_TYPES.map((t) => Type.Literal(t)))) },
  { additionalProperties: false },
);

export const fieldListSpec: ListSpec = {
  filters: { name: 'partial', type: { enum: FIELD_TYPES } },
  sorts: ['name', 'type', 'created_at', 'updated_at'],
  defaultSort: 'name',
  includes: [],
};
