/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * The simulated carrier accepts each message at most once: its own table is the send ledger of
 * the in-database transport (a second hand-over of the same message is refused by this key),
 * so the dispatcher writes no separate send_ledger row for it.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`CREATE UNIQUE INDEX simulator_messages_handover_key ON simulator_messages (message_id) WHERE direction = 'MT' AND message_id IS NOT NULL`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX simulator_messages_handover_key`.execute(db);
}
