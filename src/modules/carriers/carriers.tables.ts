import type { Generated } from 'kysely';

export interface CarriersTable {
  id: string;
  name: string;
  country: string;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface CarrierTables {
  carriers: CarriersTable;
}
