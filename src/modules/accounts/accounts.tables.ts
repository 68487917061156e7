import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | undefined, never>;
type UpdatedAt = ColumnType<Date, Date | undefined, Date>;

export interface AccountsTable {
  id: string;
  name: string;
  default_country: Generated<string>;
  timezone: Generated<string>;
  credit_balance: Generated<number>;
  short_code: string;
  /** Answer to an inbound HELP/INFO (a default text when null). */
  help_text: string | null;
  /** Campaign sends wait for the recipient's local window [start, end) in minutes after midnight. */
  quiet_hours_enabled: Generated<boolean>;
  quiet_hours_start: Generated<number>;
  quiet_hours_end: Generated<number>;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface UsersTable {
  id: string;
  account_id: string;
  email: string;
  name: string | null;
  password_hash: string;
  created_at: CreatedAt;
  updated_at: UpdatedAt;
}

export interface AccountTables {
  accounts: AccountsTable;
  users: UsersTable;
}
