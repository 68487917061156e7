import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newTimeOrderedId } from '../../lib/ids.js';

/** The six webhook events of the reference (DECISIONS.md, Webhooks). */
export const EVENT_TYPES = ['inbound_message', 'unsubscribe', 'delivery_report', 'contact_status', 'bounced_message', 'rejected_message'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type EventsRepo = ReturnType<typeof createEventsRepo>;

/**
 * The event outbox. Call `record` with the same transaction handle as the change that caused
 * the event, so an event exists exactly when its change committed; webhook delivery reads it later.
 */
export function createEventsRepo(db: Kysely<DB>) {
  return {
    /** One event, written whatever the subscriptions (tests and tools; the product uses recordEvents). */
    async record(accountId: string, type: EventType, payload: unknown): Promise<string> {
      const id = newTimeOrderedId();
      await db.insertInto('events').values({ id, account_id: accountId, type, payload: JSON.stringify(payload), dispatched_at: null }).execute();
      return id;
    },
    listUndispatched(limit: number) {
      return db.selectFrom('events').selectAll().where('dispatched_at', 'is', null).orderBy('created_at').limit(limit).execute();
    },
    async markDispatched(ids: readonly string[]): Promise<void> {
      if (ids.length === 0) return;
      await db.updateTable('events').set({ dispatched_at: new Date() }).where('id', 'in', ids).execute();
    },
    listForAccount(accountId: string, type: EventType | undefined, limit: number) {
      let q = db.selectFrom('events').selectAll().where('account_id', '=', accountId);
      if (type) q = q.where('type', '=', type);
      return q.orderBy('created_at', 'desc').limit(limit).execute();
    },
  };
}

export interface EventInput {
  accountId: string;
  type: EventType;
  payload: unknown;
}

/**
 * Writes events in the caller's transaction (the outbox), many rows per statement; the product
 * writes events only through here. The outbox feeds webhooks only, so an event is written only
 * when one of the account's enabled endpoints subscribes to its type at that moment: an account
 * without webhooks pays nothing per message (docs/API-NOTES.md, Webhooks). An endpoint created
 * or re-enabled later receives the events recorded from then on.
 */
export async function recordEvents(db: Kysely<DB>, events: readonly EventInput[]): Promise<void> {
  if (events.length === 0) return;
  const accountIds = [...new Set(events.map((e) => e.accountId))];
  const subscribed = await sql<{ key: string }>`
    SELECT DISTINCT w.account_id || '|' || t.type AS key
    FROM webhook_endpoints w CROSS JOIN LATERAL unnest(w.events) AS t(type)
    WHERE w.account_id = ANY(${sql.val(accountIds)}::uuid[]) AND w.enabled`.execute(db);
  if (subscribed.rows.length === 0) return;
  const wanted = new Set(subscribed.rows.map((r) => r.key));
  const kept = events.filter((e) => wanted.has(`${e.accountId}|${e.type}`));
  for (let i = 0; i < kept.length; i += 1000) {
    const chunk = kept.slice(i, i + 1000);
    await sql`INSERT INTO events (id, account_id, type, payload)
      SELECT id, account_id, type, payload::jsonb FROM unnest(${sql.val(chunk.map(() => newTimeOrderedId()))}::uuid[], ${sql.val(chunk.map((e) => e.accountId))}::uuid[],
        ${sql.val(chunk.map((e) => e.type))}::text[], ${sql.val(chunk.map((e) => JSON.stringify(e.payload)))}::text[]) AS e(id, account_id, type, payload)`.execute(db);
  }
}
