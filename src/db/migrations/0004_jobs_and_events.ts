/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * The job queue (background work claimed with FOR UPDATE SKIP LOCKED by any number of worker
 * processes) and the event outbox (every webhook-worthy change, written in the same transaction
 * as the change itself).
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE jobs (
      id uuid PRIMARY KEY,
      account_id uuid REFERENCES accounts (id) ON DELETE CASCADE,
      kind text NOT NULL,
      payload jsonb NOT NULL DEFAULT '{}'::jsonb,
      status text NOT NULL DEFAULT 'queued' CHECK (status IN ('queued', 'running', 'failed')),
      run_at timestamptz NOT NULL DEFAULT now(),
      attempts integer NOT NULL DEFAULT 0,
      max_attempts integer NOT NULL DEFAULT 10,
      locked_by text,
      locked_until timestamptz,
      last_error text,
      dedupe_key text UNIQUE,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX jobs_ready_idx ON jobs (run_at) WHERE status = 'queued';
    CREATE INDEX jobs_lease_idx ON jobs (locked_until) WHERE status = 'running';
    CREATE INDEX jobs_kind_idx ON jobs (kind, status);

    CREATE TABLE events (
      id uuid PRIMARY KEY,
      account_id uuid NOT NULL REFERENCES accounts (id) ON DELETE CASCADE,
      type text NOT NULL,
      payload jsonb NOT NULL,
      dispatched_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE INDEX events_undispatched_idx ON events (created_at) WHERE dispatched_at IS NULL;
    CREATE INDEX events_account_idx ON events (account_id, created_at);
  `.execute(db);
}
