import type { ColumnType, Generated } from 'kysely';

export interface AccessTokensTable {
  id: string;
  account_id: string;
  user_id: string | null;
  kind: 'personal' | 'oauth';
  name: string;
  token_hash: string;
  /** Space-delimited, as OAuth writes scopes. */
  scopes: string;
  last_used_at: Date | null;
  expires_at: Date | null;
  revoked_at: Date | null;
  created_at: Generated<ColumnType<Date, Date | undefined, never>>;
}

export interface TokenTables {
  access_tokens: AccessTokensTable;
}
