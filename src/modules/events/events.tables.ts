import type { ColumnType, Generated } from 'kysely';

export interface EventsTable {
  id: string;
  account_id: string;
  type: string;
  payload: ColumnType<unknown, string, string>;
  dispatched_at: Date | null;
  created_at: Generated<Date>;
}

export interface EventTables {
  events: EventsTable;
}
