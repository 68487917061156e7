import type { ColumnType } from 'kysely';

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
  /** oauth_clients.id for OAuth tokens. */
  client_id: ColumnType<string | null, string | null | undefined, string | null>;
  /** The authorization code this token was exchanged for (a replayed code revokes it). */
  authorization_code_id: ColumnType<string | null, string | null | undefined, string | null>;
  created_at: ColumnType<Date, Date | undefined, never>;
}

export interface TokenTables {
  access_tokens: AccessTokensTable;
}
