/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * A delivery row is written three times (fanned out, claimed, recorded), and no write can be a
 * HOT update (each changes `status`, which the partial indexes test), so every index of the
 * table is written three times per delivery. Two of them earned nothing:
 * - the lease index: the reaper's `status = 'delivering' AND locked_until < now()` reads the
 *   in-flight index instead, whose rows are the deliveries in flight (at most the workers'
 *   concurrency), so its scan stays small;
 * - the unique index on msg_id: nothing looks deliveries up by it, and each webhook-id is a
 *   random UUID (122 random bits), generated once per delivery.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX webhook_deliveries_lease_idx`.execute(db);
  await sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_msg_id_key`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_msg_id_key UNIQUE (msg_id)`.execute(db);
  await sql`CREATE INDEX webhook_deliveries_lease_idx ON webhook_deliveries (locked_until) WHERE status = 'delivering'`.execute(db);
}
