import type { ColumnType, Generated } from 'kysely';

type CreatedAt = ColumnType<Date, Date | undefined, never>;

export interface OAuthClientsTable {
  id: string;
  /** The developer account that registered the application. */
  account_id: string;
  name: string;
  client_id: string;
  /** SHA-256 of the secret; null for public clients, which have none. */
  client_secret_hash: string | null;
  is_public: Generated<boolean>;
  /** Registered redirect URIs (a JSON array), compared as exact strings. Written as JSON text. */
  redirect_uris: ColumnType<string[], string, string>;
  created_at: CreatedAt;
  updated_at: ColumnType<Date, Date | undefined, Date>;
  secret_rotated_at: Date | null;
  deleted_at: Date | null;
}

export interface AuthorizationCodesTable {
  id: string;
  code_hash: string;
  /** oauth_clients.id */
  client_id: string;
  account_id: string;
  user_id: string;
  redirect_uri: string;
  scopes: string;
  code_challenge: string | null;
  code_challenge_method: 'S256' | null;
  expires_at: Date;
  used_at: Date | null;
  created_at: CreatedAt;
}

export interface OAuthTables {
  oauth_clients: OAuthClientsTable;
  authorization_codes: AuthorizationCodesTable;
}
