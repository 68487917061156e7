import { Type, type Static } from '@sinclair/typebox';
import type { ListSpec } from '../../http/list-query.js';

export const CarrierSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String({ examples: ['Verizon Wireless'] }),
    country: Type.String({ description: 'ISO 3166-1 alpha-2 country code', examples: ['US'] }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Carrier', title: 'Carrier' },
);
export type Carrier = Static<typeof CarrierSchema>;

export const carrierListSpec: ListSpec = {
  filters: { name: 'partial', country: 'exact' },
  sorts: ['name', 'country', 'created_at', 'updated_at'],
  defaultSort: 'name',
  includes: [],
};
