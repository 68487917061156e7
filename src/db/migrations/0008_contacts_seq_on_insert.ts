/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * Any INSERT into contacts gets its creation sequence number, not only the contacts service's
 * (which allocates numbers in bulk): inbound texts from new numbers create contacts too.
 * A number allocated here is recorded as a gap at once and the gap is removed when the row is
 * really inserted, so an insert that loses an ON CONFLICT race leaves a recorded gap and the
 * deep-page arithmetic (n-th contact = n + gaps at or below it) stays exact.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION contacts_assign_seq() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.seq IS NULL THEN
        INSERT INTO contact_counts AS c (account_id, contacts, next_seq) VALUES (NEW.account_id, 0, 1)
        ON CONFLICT (account_id) DO UPDATE SET next_seq = c.next_seq + 1
        RETURNING next_seq INTO NEW.seq;
        INSERT INTO contact_seq_gaps (account_id, seq) VALUES (NEW.account_id, NEW.seq) ON CONFLICT DO NOTHING;
      END IF;
      RETURN NEW;
    END $$;
    CREATE TRIGGER contacts_assign_seq BEFORE INSERT ON contacts FOR EACH ROW EXECUTE FUNCTION contacts_assign_seq();

    CREATE FUNCTION contacts_fill_seq_gaps() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      DELETE FROM contact_seq_gaps g USING new_rows n WHERE g.account_id = n.account_id AND g.seq = n.seq;
      RETURN NULL;
    END $$;
    CREATE TRIGGER contacts_fill_seq_gaps AFTER INSERT ON contacts
      REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION contacts_fill_seq_gaps();
  `.execute(db);
}
