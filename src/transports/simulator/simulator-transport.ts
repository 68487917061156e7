import { sql, type Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newTimeOrderedId } from '../../lib/ids.js';
import type { TransactionalTransport } from '../../modules/messages/dispatcher.js';
import { DELIVERED, DELIVERY_CODES } from '../delivery-codes.js';
import type { DeliveryReport, OutboundSms, SubmitResult, TransportHandlers } from '../transport.js';

/**
 * The simulated carrier (DECISIONS.md): the default transport, so everything works on a laptop.
 * Simulated handsets keep their messages in the database (table simulator_messages), so every
 * API and worker process sees the same handsets. Messages are handed over inside the
 * dispatcher's transaction (exactly once). Each gets a delivery report after `reportDelayMs`:
 * the code named by the recipient's last three digits when it is one of the reference's codes
 * (101-144, 214), otherwise 100.
 */
export function simulatedDeliveryCode(phoneNumber: string): number {
  const last = Number(phoneNumber.replace(/\D/g, '').slice(-3));
  return last !== DELIVERED && DELIVERY_CODES.has(last) ? last : DELIVERED;
}

export interface SimulatorOptions {
  db: Kysely<DB>;
  /** Reports are due this long after the hand-over; default 500 ms. */
  reportDelayMs?: number;
  /** Applies a batch of reports in the given transaction (the messaging engine's handler). */
  applyReports: (trx: Kysely<DB>, reports: DeliveryReport[]) => Promise<unknown>;
  pollIntervalMs?: number;
  batchSize?: number;
  log?: { warn(obj: object, msg?: string): void };
}

export class SimulatorTransport implements TransactionalTransport {
  readonly name = 'simulator';
  private running = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(private readonly options: SimulatorOptions) {}

  async start(_handlers?: TransportHandlers): Promise<void> {
    if (this.running) return;
    this.running = true;
    this.loop = this.reportLoop();
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  /** Outside a dispatcher transaction (tests, tools): its own transaction. */
  async submit(batch: OutboundSms[]): Promise<SubmitResult[]> {
    const withAccounts = await this.options.db.transaction().execute(async (trx) => {
      const ids = batch.map((m) => m.messageId);
      const rows = ids.length
        ? await trx.selectFrom('messages').select(['id', 'account_id']).where('id', 'in', ids).execute()
        : [];
      const accounts = new Map(rows.map((r) => [r.id, r.account_id]));
      return this.handOver(
        trx,
        batch.map((m) => ({ ...m, accountId: accounts.get(m.messageId) ?? '' })),
      );
    });
    return withAccounts;
  }

  async handOver(trx: Kysely<DB>, batch: ReadonlyArray<OutboundSms & { accountId: string }>): Promise<SubmitResult[]> {
    if (batch.length === 0) return [];
    const due = new Date(Date.now() + (this.options.reportDelayMs ?? 500));
    const rows = batch.map((m) => ({
      id: newTimeOrderedId(),
      account_id: m.accountId,
      direction: 'MT' as const,
      handset: m.to,
      short_code: m.from,
      message: m.text,
      message_id: m.messageId,
      report_code: simulatedDeliveryCode(m.to),
      report_due_at: due,
      report_lease_until: null,
      reported_at: null,
    }));
    // The unique key on (message_id) of MT rows makes this table the in-database transport's send
    // ledger: a message already handed over keeps its first carrier id and is not stored again.
    const carrierIds = new Map<string, string>();
    for (let i = 0; i < rows.length; i += 1000) {
      const chunk = rows.slice(i, i + 1000);
      const col = <T>(f: (r: (typeof chunk)[number]) => T) => sql.val(chunk.map(f));
      const stored = await sql<{ id: string; message_id: string }>`
        INSERT INTO simulator_messages (id, account_id, direction, handset, short_code, message, message_id, report_code, report_due_at)
        SELECT id, account_id, 'MT', handset, short_code, message, message_id, report_code, ${due.toISOString()}::timestamptz
        FROM unnest(${col((r) => r.id)}::uuid[], ${col((r) => r.account_id)}::uuid[], ${col((r) => r.handset)}::text[], ${col((r) => r.short_code)}::text[],
                    ${col((r) => r.message)}::text[], ${col((r) => r.message_id)}::uuid[], ${col((r) => r.report_code)}::int[])
          AS v(id, account_id, handset, short_code, message, message_id, report_code)
        ON CONFLICT (message_id) WHERE direction = 'MT' AND message_id IS NOT NULL DO NOTHING
        RETURNING id, message_id`.execute(trx);
      if (stored.rows.length < chunk.length) {
        const earlier = await sql<{ id: string; message_id: string }>`
          SELECT id, message_id FROM simulator_messages WHERE direction = 'MT' AND message_id = ANY(${col((r) => r.message_id)}::uuid[])`.execute(trx);
        for (const r of earlier.rows) carrierIds.set(r.message_id, r.id);
      }
      for (const r of stored.rows) carrierIds.set(r.message_id, r.id);
    }
    return rows.map((r) => {
      const id = carrierIds.get(r.message_id) ?? r.id;
      return { messageId: r.message_id, ok: true, carrierMessageId: id, carrierMessageIds: [id] };
    });
  }

  /** Sends the reports that are due; returns how many. Safe with many processes (SKIP LOCKED). */
  async reportDue(limit = this.options.batchSize ?? 2000): Promise<number> {
    return this.options.db.transaction().execute(async (trx) => {
      // The simulated carrier and the reports' effects are in this one transaction: a commit lost
      // to a database crash only means these reports are sent again, so it need not wait for the WAL flush.
      await sql`SET LOCAL synchronous_commit = off`.execute(trx);
      const due = await sql<{ id: string; report_code: number }>`
        UPDATE simulator_messages SET reported_at = now()
        WHERE id IN (
          SELECT id FROM simulator_messages
          WHERE direction = 'MT' AND reported_at IS NULL AND report_due_at <= now()
          ORDER BY report_due_at LIMIT ${limit}
          FOR UPDATE SKIP LOCKED)
        RETURNING id, report_code`.execute(trx);
      if (due.rows.length === 0) return 0;
      const at = new Date();
      await this.options.applyReports(
        trx,
        due.rows.map((r) => ({ carrierMessageId: r.id, code: r.report_code, receivedAt: at })),
      );
      return due.rows.length;
    });
  }

  private async reportLoop(): Promise<void> {
    const interval = this.options.pollIntervalMs ?? 50;
    while (this.running) {
      let n = 0;
      try {
        n = await this.reportDue();
      } catch (err) {
        this.options.log?.warn({ err }, 'simulator: sending delivery reports failed; retrying');
        await this.sleep(500);
      }
      if (n === 0 && this.running) await this.sleep(interval);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.wake = undefined;
        resolve();
      }, ms);
      this.wake = () => {
        clearTimeout(timer);
        this.wake = undefined;
        resolve();
      };
    });
  }
}
