import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import type { DisabledReason } from './webhooks.tables.js';

const ENDPOINT_COLUMNS: ColumnMap = { url: 'url', enabled: 'enabled', created_at: 'created_at', updated_at: 'updated_at' };
const DELIVERY_COLUMNS: ColumnMap = {
  status: 'status',
  event: 'event_type',
  created_at: 'created_at',
  next_attempt_at: 'next_attempt_at',
  last_attempt_at: 'last_attempt_at',
};

/** Columns an endpoint is shown with (never the secrets). */
const ENDPOINT_PUBLIC = [
  'id',
  'account_id',
  'url',
  'events',
  'enabled',
  'disabled_reason',
  'disabled_at',
  'failing_since',
  'previous_secret_expires_at',
  'created_at',
  'updated_at',
] as const;

const DELIVERY_PUBLIC = [
  'id',
  'endpoint_id',
  'event_type',
  'msg_id',
  'status',
  'attempts',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'last_latency_ms',
  'last_error',
  'delivered_at',
  'created_at',
] as const;

export type WebhooksRepo = ReturnType<typeof createWebhooksRepo>;

/** SQL of the webhook API. Every query is scoped to the account. */
export function createWebhooksRepo(db: Kysely<DB>) {
  return {
    async insertEndpoint(row: { id: string; accountId: string; url: string; events: string[]; enabled: boolean; secretEncrypted: string }) {
      return db
        .insertInto('webhook_endpoints')
        .values({
          id: row.id,
          account_id: row.accountId,
          url: row.url,
          events: sql<string[]>`${row.events}::text[]`,
          enabled: row.enabled,
          disabled_reason: null,
          disabled_at: null,
          failing_since: null,
          secret_encrypted: row.secretEncrypted,
          previous_secret_encrypted: null,
          previous_secret_expires_at: null,
        })
        .returning(ENDPOINT_PUBLIC)
        .executeTakeFirstOrThrow();
    },

    async countEndpoints(accountId: string): Promise<number> {
      const row = await db.selectFrom('webhook_endpoints').select(sql<number>`count(*)::int`.as('n')).where('account_id', '=', accountId).executeTakeFirst();
      return Number(row?.n ?? 0);
    },

    async listEndpoints(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('webhook_endpoints').where('account_id', '=', accountId), query, ENDPOINT_COLUMNS);
      const rows = await applySortAndPage(base.select(ENDPOINT_PUBLIC), query, ENDPOINT_COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },

    findEndpoint(accountId: string, id: string) {
      return db.selectFrom('webhook_endpoints').select(ENDPOINT_PUBLIC).where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
    },

    async updateEndpoint(accountId: string, id: string, patch: { url?: string; events?: string[]; enabled?: boolean }) {
      return db
        .updateTable('webhook_endpoints')
        .set({
          ...(patch.url !== undefined ? { url: patch.url } : {}),
          ...(patch.events !== undefined ? { events: sql<string[]>`${patch.events}::text[]` } : {}),
          // Enabling (again) forgets why it was disabled and starts a new failure streak.
          ...(patch.enabled === true ? { enabled: true, disabled_reason: null, disabled_at: null, failing_since: null } : {}),
          ...(patch.enabled === false ? { enabled: false } : {}),
          updated_at: new Date(),
        })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returning(ENDPOINT_PUBLIC)
        .executeTakeFirst();
    },

    async rotateSecret(accountId: string, id: string, seal: (endpointId: string) => string, overlapEndsAt: Date) {
      return db
        .updateTable('webhook_endpoints')
        .set((eb) => ({
          previous_secret_encrypted: eb.ref('secret_encrypted'),
          previous_secret_expires_at: overlapEndsAt,
          secret_encrypted: seal(id),
          updated_at: new Date(),
        }))
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returning(ENDPOINT_PUBLIC)
        .executeTakeFirst();
    },

    async deleteEndpoint(accountId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('webhook_endpoints').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },

    async listDeliveries(accountId: string, endpointId: string, query: ListQuery) {
      const base = applyFilters(
        db.selectFrom('webhook_deliveries').where('account_id', '=', accountId).where('endpoint_id', '=', endpointId),
        query,
        DELIVERY_COLUMNS,
      );
      const rows = await applySortAndPage(base.select(DELIVERY_PUBLIC), query, DELIVERY_COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },

    findDelivery(accountId: string, endpointId: string, id: string) {
      return db
        .selectFrom('webhook_deliveries')
        .select([...DELIVERY_PUBLIC, 'payload'])
        .where('account_id', '=', accountId)
        .where('endpoint_id', '=', endpointId)
        .where('id', '=', id)
        .executeTakeFirst();
    },

    listAttempts(deliveryIds: readonly string[]) {
      if (deliveryIds.length === 0) return Promise.resolve([]);
      return db.selectFrom('webhook_attempts').selectAll().where('delivery_id', 'in', deliveryIds).orderBy('delivery_id').orderBy('attempt').execute();
    },

    /** Removes finished deliveries (and their attempts) last changed before `before`. */
    async pruneDeliveries(before: Date): Promise<number> {
      const result = await db
        .deleteFrom('webhook_deliveries')
        .where('status', 'in', ['delivered', 'failed'])
        .where('updated_at', '<', before)
        .executeTakeFirst();
      return Number(result.numDeletedRows);
    },

    /**
     * Queues a delivery again now, with a fresh retry schedule and the same `webhook-id`.
     * Refused (undefined) while an attempt is in flight.
     */
    redeliver(accountId: string, endpointId: string, id: string) {
      return db
        .updateTable('webhook_deliveries')
        .set({ status: 'pending', attempts: 0, next_attempt_at: new Date(), locked_by: null, locked_until: null, updated_at: new Date() })
        .where('account_id', '=', accountId)
        .where('endpoint_id', '=', endpointId)
        .where('id', '=', id)
        .where('status', '<>', 'delivering')
        .returning(DELIVERY_PUBLIC)
        .executeTakeFirst();
    },
  };
}

export type EndpointRow = NonNullable<Awaited<ReturnType<WebhooksRepo['findEndpoint']>>>;
export type DeliveryRow = NonNullable<Awaited<ReturnType<WebhooksRepo['listDeliveries']>>>['rows'][number];
export type AttemptRow = Awaited<ReturnType<WebhooksRepo['listAttempts']>>[number];
export type { DisabledReason };
