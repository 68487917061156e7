import type { ColumnType, Generated } from 'kysely';

export type ImportStatus = 'receiving' | 'queued' | 'processing' | 'completed' | 'failed';
export type ImportOutcome = 'created' | 'updated' | 'skipped_duplicate' | 'invalid';

export interface ContactImportsTable {
  id: string;
  account_id: string;
  status: ImportStatus;
  format: 'csv' | 'ndjson';
  validate_only: Generated<boolean>;
  update_existing: Generated<boolean>;
  group_ids: Generated<string[]>;
  columns: Generated<string[]>;
  total_rows: Generated<number>;
  cursor: Generated<number>;
  created: Generated<number>;
  updated: Generated<number>;
  skipped: Generated<number>;
  invalid: Generated<number>;
  error: string | null;
  lease_until: Date | null;
  started_at: Date | null;
  completed_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface ContactImportRowsTable {
  import_id: string;
  row_number: number;
  data: string | null;
  phone_number: string | null;
  outcome: ImportOutcome | null;
  contact_id: string | null;
  message: string | null;
}

export interface ContactImportSeenTable {
  import_id: string;
  phone_number: string;
  row_number: number;
}

export interface ImportTables {
  contact_imports: ContactImportsTable;
  contact_import_rows: ContactImportRowsTable;
  contact_import_seen: ContactImportSeenTable;
}
