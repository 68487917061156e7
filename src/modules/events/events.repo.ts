import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newId } from '../../lib/ids.js';

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
    async record(accountId: string, type: EventType, payload: unknown): Promise<string> {
      const id = newId();
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
