/* eslint-disable @typescript-eslint/no-explicit-any */
import { sql, type Kysely } from 'kysely';

/**
 * `webhook_cycle(...)`: one cycle of a webhook worker (record the attempts it finished, then
 * claim due deliveries for its free slots) in one call, so one round trip instead of five
 * (BEGIN, record, lock, claim, COMMIT). Under load each round trip waited behind the worker's
 * HTTP traffic for milliseconds, and slots freed by finished attempts stayed empty until the
 * cycle ended. The claim is the statement the repository ran before; inside a function each
 * statement still gets its own snapshot, so the claim, made after the advisory lock is granted,
 * sees every claim committed before it. Recording changed: the attempts are joined to their
 * deliveries by the primary key, one probe each (the old statement's `id = ANY(...)` beside a
 * join to a CTE estimated at 10 rows was planned as a nested loop comparing every attempt with
 * every delivery), and the deliveries are updated before the attempts are logged.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION webhook_cycle(
      p_worker text, p_attempts json, p_claim_limit int, p_max_per_endpoint int, p_lease_seconds float8, p_lock_key bigint
    ) RETURNS TABLE (
      id uuid, endpoint_id uuid, account_id uuid, event_type text, msg_id text, payload text, attempts int,
      url text, secret_encrypted text, previous_secret_encrypted text, previous_secret_expires_at timestamptz, failing_since timestamptz
    ) LANGUAGE plpgsql VOLATILE AS $fn$
    #variable_conflict use_column
    BEGIN
      -- A claim or an outcome lost to a database crash only means one more attempt with the same
      -- webhook-id (at least once): the commit need not wait for the WAL flush.
      PERFORM set_config('synchronous_commit', 'off', true);

      -- p_attempts: a JSON array of the attempts finished, each with the attempt log's columns
      -- and the delivery's state after it (status, next_attempt_at).
      IF json_array_length(p_attempts) > 0 THEN
        UPDATE webhook_deliveries d
        SET status = v.status, next_attempt_at = v.next_attempt_at, last_status_code = v.status_code, last_latency_ms = v.latency_ms,
            last_error = v.error, last_attempt_at = v.attempted_at,
            delivered_at = CASE WHEN v.status = 'delivered' THEN now() ELSE d.delivered_at END,
            locked_by = NULL, locked_until = NULL, updated_at = now()
        FROM json_to_recordset(p_attempts)
          AS v(delivery_id uuid, status text, next_attempt_at timestamptz, status_code int, latency_ms int, error text, attempted_at timestamptz)
        WHERE d.id = v.delivery_id AND d.locked_by = p_worker AND d.status = 'delivering';
        -- Every attempt is logged, also one whose lease another worker took over meanwhile; not
        -- one whose delivery is gone (its endpoint deleted while the attempt was in flight).
        INSERT INTO webhook_attempts (id, delivery_id, attempt, attempted_at, outcome, status_code, latency_ms, error, response_snippet)
        SELECT a.* FROM json_to_recordset(p_attempts)
          AS a(id uuid, delivery_id uuid, attempt int, attempted_at timestamptz, outcome text, status_code int, latency_ms int, error text, response_snippet text)
        WHERE EXISTS (SELECT 1 FROM webhook_deliveries d WHERE d.id = a.delivery_id);
      END IF;

      IF p_claim_limit <= 0 THEN
        RETURN;
      END IF;
      -- Claimers are serialised, so the per-endpoint in-flight count read below is the one acted on.
      PERFORM pg_advisory_xact_lock(p_lock_key);
      RETURN QUERY
        WITH picked AS (
          SELECT due.id FROM webhook_endpoints ep
          CROSS JOIN LATERAL (
            SELECT count(*)::int AS n FROM webhook_deliveries f WHERE f.endpoint_id = ep.id AND f.status = 'delivering'
          ) busy
          CROSS JOIN LATERAL (
            SELECT p.id, p.next_attempt_at FROM webhook_deliveries p
            WHERE p.endpoint_id = ep.id AND p.status = 'pending' AND p.next_attempt_at <= now()
            ORDER BY p.next_attempt_at
            LIMIT least(p_claim_limit, greatest(0, p_max_per_endpoint - busy.n))
          ) due
          WHERE ep.enabled
          ORDER BY due.next_attempt_at
          LIMIT p_claim_limit
        ), locked AS (
          SELECT l.id, l.status FROM webhook_deliveries l
          WHERE l.id = ANY(ARRAY(SELECT picked.id FROM picked))
          FOR UPDATE SKIP LOCKED
        )
        UPDATE webhook_deliveries d
        SET status = 'delivering', locked_by = p_worker,
            locked_until = now() + make_interval(secs => p_lease_seconds),
            attempts = d.attempts + 1, updated_at = now()
        FROM locked, webhook_endpoints e
        WHERE d.id = locked.id AND locked.status = 'pending' AND e.id = d.endpoint_id
        RETURNING d.id, d.endpoint_id, d.account_id, d.event_type, d.msg_id, d.payload, d.attempts,
                  e.url, e.secret_encrypted, e.previous_secret_encrypted, e.previous_secret_expires_at, e.failing_since;
    END
    $fn$`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION webhook_cycle(text, json, int, int, float8, bigint)`.execute(db);
}
