import { sql } from 'kysely';
import { expect } from 'vitest';
import { subscribeToEvents, type TestContext } from '../../../test/helpers.js';
import { SimulatorTransport } from '../../transports/simulator/simulator-transport.js';
import { applyDeliveryReports } from './delivery-reports.js';
import { createDispatcher } from './dispatcher.js';

/** Helpers shared by the messaging tests (not used by the product). */
export function messagingHarness(ctx: () => TestContext) {
  let n = 0;
  /** A fresh valid US number (202 area) ending in `last3`. */
  const nextPhone = (last3: string) => {
    n += 1;
    return `+1202${200 + (n % 800)}${Math.floor(n / 800) % 10}${last3}`;
  };
  const db = () => ctx().database.db;
  const simulator = () => new SimulatorTransport({ db: db(), reportDelayMs: 0, applyReports: (trx, reports) => applyDeliveryReports(trx, reports) });

  return {
    /** A fresh valid US number ending in 0199 style digits that the simulator reports as delivered (100). */
    phone: (last3 = '199') => nextPhone(last3),
    inject(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, headers: Record<string, string>, payload?: unknown) {
      return ctx().app.inject({ method, url, headers, ...(payload !== undefined ? { payload: payload as object } : {}) });
    },
    /** Runs the dispatcher until nothing is due, then sends every due simulator report. */
    async deliver(): Promise<void> {
      const transport = simulator();
      const dispatcher = createDispatcher({ db: db(), transport, backoffMs: () => 0 });
      await dispatcher.drain();
      while ((await transport.reportDue()) > 0);
    },
    async credits(accountId: string): Promise<number> {
      const row = await db().selectFrom('accounts').select('credit_balance').where('id', '=', accountId).executeTakeFirstOrThrow();
      return Number(row.credit_balance);
    },
    async setCredits(accountId: string, credits: number): Promise<void> {
      await db().updateTable('accounts').set({ credit_balance: credits }).where('id', '=', accountId).execute();
    },
    /** Subscribes the account to every event, so its events are recorded (see subscribeToEvents). */
    subscribeAll: (accountId: string) => subscribeToEvents(db(), accountId),
    /** The payloads of the account's recorded events of `type` (see subscribeAll). */
    async events(accountId: string, type: string) {
      const rows = await db().selectFrom('events').select(['payload', 'created_at']).where('account_id', '=', accountId).where('type', '=', type).orderBy('created_at').execute();
      return rows.map((r) => r.payload as Record<string, unknown>);
    },
    /** Creates a contact through the API and sets its status. */
    async contact(headers: Record<string, string>, status: 'pending' | 'subscribed' | 'unsubscribed', extra: Record<string, unknown> = {}, last3 = '199') {
      const res = await ctx().app.inject({ method: 'POST', url: '/v1/contacts', headers, payload: { phone_number: nextPhone(last3), ...extra } });
      expect(res.statusCode, res.body).toBe(201);
      const contact = res.json().data as { id: string; phone_number: string };
      await sql`UPDATE contacts SET status = ${status}, unsubscribed_at = ${status === 'unsubscribed' ? new Date() : null} WHERE id = ${contact.id}`.execute(db());
      return contact;
    },
    async handset(phone: string) {
      return db().selectFrom('simulator_messages').selectAll().where('handset', '=', phone).where('direction', '=', 'MT').orderBy('created_at').execute();
    },
  };
}
