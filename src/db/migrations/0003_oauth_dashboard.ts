/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * OAuth 2.0 (applications, authorization codes, the link from an access token to the client and
 * code that produced it) and the dashboard (sessions), plus recent authentication failures, kept in
 * the database so every process sees them. Every secret is stored as a SHA-256 hash: client secrets, codes and
 * session ids are high-entropy random values, so one indexed lookup by hash is safe.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE oauth_clients (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      name text NOT NULL,
      client_id text NOT NULL UNIQUE,
      client_secret_hash text,
      is_public boolean NOT NULL DEFAULT false,
      redirect_uris jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now(),
      secret_rotated_at timestamptz,
      deleted_at timestamptz,
      CHECK (is_public OR client_secret_hash IS NOT NULL)
    );
    CREATE INDEX oauth_clients_account_id_idx ON oauth_clients (account_id, created_at);

    CREATE TABLE authorization_codes (
      id uuid PRIMARY KEY,
      code_hash text NOT NULL UNIQUE,
      client_id uuid NOT NULL REFERENCES oauth_clients (id) ON DELETE CASCADE,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      user_id uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
      redirect_uri text NOT NULL,
      scopes text NOT NULL,
      code_challenge text,
      code_challenge_method text CHECK (code_challenge_method IN ('S256')),
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX authorization_codes_expires_at_idx ON authorization_codes (expires_at);

    ALTER TABLE access_tokens
      ADD COLUMN client_id uuid REFERENCES oauth_clients (id) ON DELETE CASCADE,
      ADD COLUMN authorization_code_id uuid REFERENCES authorization_codes (id) ON DELETE SET NULL;
    CREATE INDEX access_tokens_client_id_idx ON access_tokens (client_id) WHERE client_id IS NOT NULL;
    CREATE INDEX access_tokens_authorization_code_id_idx ON access_tokens (authorization_code_id) WHERE authorization_code_id IS NOT NULL;

    CREATE TABLE dashboard_sessions (
      id uuid PRIMARY KEY,
      session_hash text NOT NULL UNIQUE,
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
      created_at timestamptz NOT NULL DEFAULT now(),
      last_seen_at timestamptz NOT NULL DEFAULT now(),
      expires_at timestamptz NOT NULL
    );
    CREATE INDEX dashboard_sessions_user_id_idx ON dashboard_sessions (user_id);
    CREATE INDEX dashboard_sessions_expires_at_idx ON dashboard_sessions (expires_at);

    -- Recent failed authentications (dashboard sign-in, OAuth client authentication), for the
    -- brute-force limits. subject_hash is the SHA-256 of the lower-cased email or the client_id.
    CREATE TABLE auth_failures (
      id uuid PRIMARY KEY,
      kind text NOT NULL CHECK (kind IN ('sign-in', 'client')),
      subject_hash text NOT NULL,
      ip text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX auth_failures_subject_idx ON auth_failures (kind, subject_hash, created_at);
    CREATE INDEX auth_failures_ip_idx ON auth_failures (kind, ip, created_at);
  `.execute(db);
}
