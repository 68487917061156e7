import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

export const OptInSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Email'] }),
    description: Type.String({ examples: ['Text Email Address to confirm'] }),
    enabled: Type.Boolean(),
  },
  { $id: 'OptIn', title: 'Opt-in' },
);
export type OptIn = Static<typeof OptInSchema>;

export const optInListSpec: ListSpec = {
  filters: { name: 'partial', enabled: { enum: ['true', 'false'] } },
  sorts: ['name', 'created_at', 'updated_at'],
  defaultSort: 'created_at',
  includes: [],
};
