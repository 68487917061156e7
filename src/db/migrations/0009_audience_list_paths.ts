/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * contact_seq_at(account, position): the seq of the contact at 0-based `position` in the
 * account's creation order, so a page of the unfiltered list at any depth is one indexed range
 * read in one statement (see contacts.repo.ts).
 *
 * Every seq from 1 to next_seq is either a contact or a recorded gap (contact_seq_gaps), so the
 * contact at `position` has seq = position + 1 + (gaps below it). A gap g_j (the j-th smallest)
 * lies below it exactly when the contacts below g_j, g_j - j, number at most `position`; since
 * g_j - j never decreases, those gaps are a prefix of the gap list. The usual case (no gaps
 * near the start, or a few) is settled by counting gaps up to the candidate until the count
 * stops changing; a long run of contiguous gaps (a deleted batch) falls through to the exact
 * count, one pass over the account's gaps.
 *
 * Contact lists break ties by seq (unique per account) rather than id, so a filter or sort on
 * reward_points and the default creation order are both read in order from one index.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION contact_seq_at(p_account uuid, p_position bigint) RETURNS bigint
    LANGUAGE plpgsql STABLE AS $$
    DECLARE
      k bigint := 0;
      n bigint;
    BEGIN
      FOR i IN 1..4 LOOP
        SELECT count(*) INTO n FROM contact_seq_gaps WHERE account_id = p_account AND seq <= p_position + 1 + k;
        IF n = k THEN
          RETURN p_position + 1 + k;
        END IF;
        k := n;
      END LOOP;
      SELECT count(*) INTO k
        FROM (SELECT seq - row_number() OVER (ORDER BY seq) AS below FROM contact_seq_gaps WHERE account_id = p_account) g
       WHERE below <= p_position;
      RETURN p_position + 1 + k;
    END $$;

    CREATE INDEX contacts_account_reward_points_seq_idx ON contacts (account_id, reward_points, seq);
    DROP INDEX contacts_account_reward_points_idx;
  `.execute(db);
}
