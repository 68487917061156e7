/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * The send ledger of external carriers is the message row's claim: the dispatcher commits
 * `status = 'sending'` (with its worker id and lease) before it contacts the carrier, so a
 * committed claim already says "may have been handed over". The separate send_ledger row,
 * written in that same transaction, repeated it at the cost of two more writes per message.
 * A message left `sending` by a dead worker is marked in doubt and not handed over again,
 * exactly as a `submitting` ledger row was.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE send_ledger`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE send_ledger (
      message_id uuid PRIMARY KEY REFERENCES messages (id) ON DELETE CASCADE,
      transport text NOT NULL,
      state text NOT NULL CHECK (state IN ('submitting', 'accepted', 'rejected', 'in_doubt')),
      worker text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )`.execute(db);
  await sql`CREATE INDEX send_ledger_submitting_idx ON send_ledger (created_at) WHERE state = 'submitting'`.execute(db);
  await sql`INSERT INTO send_ledger (message_id, transport, state, worker) SELECT id, 'unknown', 'submitting', coalesce(claimed_by, 'unknown') FROM messages WHERE status = 'sending'`.execute(db);
}
