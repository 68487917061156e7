import type { ColumnType, Generated } from 'kysely';

export interface JobsTable {
  id: string;
  account_id: string | null;
  kind: string;
  payload: ColumnType<unknown, string, string>;
  status: Generated<'queued' | 'running' | 'failed'>;
  run_at: Generated<Date>;
  attempts: Generated<number>;
  max_attempts: Generated<number>;
  locked_by: string | null;
  locked_until: Date | null;
  last_error: string | null;
  dedupe_key: string | null;
  created_at: Generated<Date>;
  updated_at: Generated<Date>;
}

export interface JobTables {
  jobs: JobsTable;
}
