import type { ColumnType } from 'kysely';

export type FieldType = 'text' | 'number' | 'date' | 'boolean';

export interface CustomFieldsTable {
  id: string;
  account_id: string;
  name: string;
  type: FieldType;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ContactFieldValuesTable {
  contact_id: string;
  field_id: string;
  account_id: string;
  value: string;
}

export interface FieldTables {
  custom_fields: CustomFieldsTable;
  contact_field_values: ContactFieldValuesTable;
}
