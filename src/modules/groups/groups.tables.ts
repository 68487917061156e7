import type { ColumnType, Generated } from 'kysely';

export interface GroupsTable {
  id: string;
  account_id: string;
  name: string;
  join_message: string | null;
  one_time_message: Generated<boolean>;
  always_send_join: Generated<boolean>;
  social_profiling: Generated<boolean>;
  email_new_contact: Generated<boolean>;
  optin_id: string | null;
  keyword: string | null;
  keyword_created_at: Date | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  updated_at: ColumnType<Date, Date | undefined, Date>;
}

export interface GroupTables {
  groups: GroupsTable;
}
