/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';
import { CARRIER_SEED } from '../../modules/carriers/carriers.seed.js';

/**
 * Accounts, their users and access tokens, and the carrier reference table.
 * Every table that belongs to a customer carries account_id; carriers are shared reference data.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE accounts (
      id uuid PRIMARY KEY,
      name text NOT NULL,
      default_country char(2) NOT NULL DEFAULT 'US',
      timezone text NOT NULL DEFAULT 'America/New_York',
      credit_balance bigint NOT NULL DEFAULT 0 CHECK (credit_balance >= 0),
      short_code text NOT NULL UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );

    CREATE TABLE users (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      email text NOT NULL,
      name text,
      password_hash text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE UNIQUE INDEX users_email_key ON users (lower(email));
    CREATE INDEX users_account_id_idx ON users (account_id);

    -- Personal access tokens and OAuth access tokens share one table: both authorise /v1 the
    -- same way. Only the SHA-256 of a token is stored.
    CREATE TABLE access_tokens (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      user_id uuid REFERENCES users (id) ON DELETE CASCADE,
      kind text NOT NULL CHECK (kind IN ('personal', 'oauth')),
      name text NOT NULL,
      token_hash text NOT NULL UNIQUE,
      scopes text NOT NULL,
      last_used_at timestamptz,
      expires_at timestamptz,
      revoked_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX access_tokens_account_id_idx ON access_tokens (account_id, created_at);

    CREATE TABLE carriers (
      id uuid PRIMARY KEY,
      name text NOT NULL UNIQUE,
      country char(2) NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX carriers_country_idx ON carriers (country, name);
  `.execute(db);

  for (const carrier of CARRIER_SEED) {
    await sql`INSERT INTO carriers (id, name, country, created_at, updated_at)
              VALUES (${carrier.id}, ${carrier.name}, ${carrier.country}, ${carrier.createdAt}, ${carrier.createdAt})`.execute(db);
  }
}
