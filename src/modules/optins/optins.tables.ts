import type { Generated } from 'kysely';

export interface OptInsTable {
  id: string;
  key: string;
  name: string;
  description: string;
  enabled: Generated<boolean>;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface OptInTables {
  opt_ins: OptInsTable;
}
