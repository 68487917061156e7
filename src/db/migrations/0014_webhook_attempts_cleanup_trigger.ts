/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * The attempt log's foreign key to its delivery is replaced by a trigger that deletes a
 * delivery's attempts with it. The key's check ran once per recorded attempt, locking the
 * delivery row that the same cycle had just updated: 35-80 µs per attempt under load, more than
 * inserting the attempt itself. Attempts are only ever written by `webhook_cycle` for deliveries
 * it reads (see 0013), and every way a delivery goes (retention, its endpoint or account
 * deleted: cascades) fires the trigger, once per statement.
 *
 * A delivery's own key to its account goes too: its endpoint's key (kept) already ties it to
 * the account, whose deletion cascades through the endpoints; the second check cost as much per
 * fanned-out delivery.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_attempts DROP CONSTRAINT webhook_attempts_delivery_id_fkey`.execute(db);
  await sql`ALTER TABLE webhook_deliveries DROP CONSTRAINT webhook_deliveries_account_id_fkey`.execute(db);
  await sql`
    CREATE FUNCTION webhook_attempts_delete_with_deliveries() RETURNS trigger LANGUAGE plpgsql AS $fn$
    BEGIN
      DELETE FROM webhook_attempts a USING gone_deliveries g WHERE a.delivery_id = g.id;
      RETURN NULL;
    END
    $fn$`.execute(db);
  await sql`
    CREATE TRIGGER webhook_deliveries_delete_attempts AFTER DELETE ON webhook_deliveries
    REFERENCING OLD TABLE AS gone_deliveries
    FOR EACH STATEMENT EXECUTE FUNCTION webhook_attempts_delete_with_deliveries()`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER webhook_deliveries_delete_attempts ON webhook_deliveries`.execute(db);
  await sql`DROP FUNCTION webhook_attempts_delete_with_deliveries()`.execute(db);
  await sql`DELETE FROM webhook_attempts a WHERE NOT EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = a.delivery_id)`.execute(db);
  await sql`ALTER TABLE webhook_deliveries ADD CONSTRAINT webhook_deliveries_account_id_fkey FOREIGN KEY (account_id) REFERENCES accounts (id) ON DELETE CASCADE`.execute(db);
  await sql`ALTER TABLE webhook_attempts ADD CONSTRAINT webhook_attempts_delivery_id_fkey FOREIGN KEY (delivery_id) REFERENCES webhook_deliveries (id) ON DELETE CASCADE`.execute(db);
}
