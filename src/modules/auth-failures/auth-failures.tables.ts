import type { ColumnType } from 'kysely';

export interface AuthFailuresTable {
  id: string;
  /** 'sign-in' (dashboard) or 'client' (OAuth client authentication). */
  kind: 'sign-in' | 'client';
  /** SHA-256 of the lower-cased email or of the client_id, so the table holds no addresses. */
  subject_hash: string;
  ip: string;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface AuthFailureTables {
  auth_failures: AuthFailuresTable;
}
