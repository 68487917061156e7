import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import type { MessagesTable } from './messages.tables.js';

export type MessageRow = Selectable<MessagesTable>;
export type NewMessage = Parameters<ReturnType<Kysely<DB>['insertInto']>['values']>[0];

const COLUMNS: ColumnMap = {
  type: 'type',
  phone_number: 'phone_number',
  created_at_min: 'created_at',
  created_at_max: 'created_at',
  created_at: 'created_at',
};

/** The delivery-state columns of a message no dispatcher has claimed or sent yet. */
export const NOT_YET_SENT = {
  lease_until: null,
  claimed_by: null,
  last_error: null,
  carrier_message_id: null,
  receipt_code: null,
  receipt_text: null,
  receipt_at: null,
  sent_at: null,
} as const;

/** Statuses of rows that are not (yet) part of the message log: scheduled or canceled sends. */
export const HIDDEN_STATUSES = ['scheduled', 'canceled'] as const;

/** SQL of the message log. Pass a transaction handle to write atomically with other changes. */
export function createMessagesRepo(db: Kysely<DB>) {
  return {
    /**
     * Inserts outgoing or incoming messages, 1,000 per statement, as arrays (one parameter per
     * column instead of one per value: far less work for the driver and the planner).
     */
    async insertMany(rows: Array<Omit<MessageRow, 'credits' | 'read' | 'bypass_consent' | 'attempts' | 'next_attempt_at' | 'bounce' | 'updated_at' | 'metadata'> & Partial<MessageRow>>): Promise<MessageRow[]> {
      const out: MessageRow[] = [];
      for (let i = 0; i < rows.length; i += 1000) {
        const chunk = rows.slice(i, i + 1000);
        const col = <T>(f: (r: (typeof chunk)[number]) => T) => sql.val(chunk.map(f));
        const result = await sql<MessageRow>`
          INSERT INTO messages (id, account_id, type, "from", phone_number, message, media_url, segments, encoding, credits, status,
                                bypass_consent, contact_id, campaign_id, metadata, next_attempt_at, created_at)
          SELECT id, account_id, type, "from", phone_number, message, media_url, segments, encoding, credits, status,
                 bypass_consent, contact_id, campaign_id, metadata::jsonb, next_attempt_at, created_at
          FROM unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.account_id)}::uuid[], ${col((r) => r.type)}::text[], ${col((r) => r.from)}::text[],
                      ${col((r) => r.phone_number)}::text[], ${col((r) => r.message)}::text[], ${col((r) => r.media_url)}::text[],
                      ${col((r) => r.segments)}::int[], ${col((r) => r.encoding)}::text[], ${col((r) => r.credits ?? 0)}::int[], ${col((r) => r.status)}::text[],
                      ${col((r) => r.bypass_consent ?? false)}::bool[], ${col((r) => r.contact_id)}::uuid[], ${col((r) => r.campaign_id)}::uuid[],
                      ${col((r) => (r.metadata === undefined || r.metadata === null ? null : JSON.stringify(r.metadata)))}::text[],
                      ${col((r) => (r.next_attempt_at ?? new Date()).toISOString())}::timestamptz[], ${col((r) => (r.created_at ?? new Date()).toISOString())}::timestamptz[])
            AS v(id, account_id, type, "from", phone_number, message, media_url, segments, encoding, credits, status,
                 bypass_consent, contact_id, campaign_id, metadata, next_attempt_at, created_at)
          RETURNING *`.execute(db);
        out.push(...result.rows);
      }
      return out;
    },

    async list(accountId: string, query: ListQuery, options: { unreadOnly?: boolean } = {}) {
      let base = db.selectFrom('messages').where('account_id', '=', accountId).where('status', 'not in', [...HIDDEN_STATUSES]);
      if (options.unreadOnly) base = base.where('type', '=', 'INCOMING').where('read', '=', false);
      base = applyFilters(base, query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      const total = await countRows(base);
      return { rows, total };
    },

    findById(accountId: string, id: string) {
      return db
        .selectFrom('messages')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('status', 'not in', [...HIDDEN_STATUSES])
        .executeTakeFirst();
    },

    setRead(accountId: string, id: string, read: boolean) {
      return db
        .updateTable('messages')
        .set({ read, updated_at: new Date() })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('status', 'not in', [...HIDDEN_STATUSES])
        .returningAll()
        .executeTakeFirst();
    },

    /** Atomically takes `amount` credits; false (and nothing taken) when the balance cannot cover it. */
    async charge(accountId: string, amount: number): Promise<boolean> {
      if (amount <= 0) return true;
      const result = await sql`UPDATE accounts SET credit_balance = credit_balance - ${amount}, updated_at = now()
        WHERE id = ${accountId} AND credit_balance >= ${amount}`.execute(db);
      return Number(result.numAffectedRows ?? 0) === 1;
    },

    async refund(accountId: string, amount: number): Promise<void> {
      if (amount <= 0) return;
      await sql`UPDATE accounts SET credit_balance = credit_balance + ${amount}, updated_at = now() WHERE id = ${accountId}`.execute(db);
    },
  };
}

export type MessagesRepo = ReturnType<typeof createMessagesRepo>;
