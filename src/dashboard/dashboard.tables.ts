import type { ColumnType } from 'kysely';

export interface DashboardSessionsTable {
  id: string;
  /** SHA-256 of the cookie value; the value itself is never stored. */
  session_hash: string;
  /** Null for an anonymous session (sign-in and sign-up forms need one for their CSRF token). */
  user_id: string | null;
  account_id: string | null;
  created_at: ColumnType<Date, Date | undefined, never>;
  last_seen_at: ColumnType<Date, Date | undefined, Date>;
  expires_at: Date;
}

export interface DashboardTables {
  dashboard_sessions: DashboardSessionsTable;
}
