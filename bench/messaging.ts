/**
 * Messaging benchmark (issue 4), on PostgreSQL:
 * - end to end: 100,000 messages accepted (batches of 1,000 through the messages service: the
 *   validation, consent lookup, credit charge and outbox insert of POST /v1/message/batch), handed
 *   to the simulator by the dispatcher and their delivery reports recorded, against
 *   a baseline of the bare inserts and updates that pipeline needs (insert, mark sent, mark
 *   delivered, in the same batches, on the same table);
 * - SMPP: messages through the dispatcher and the SMPP transport to the test SMSC, against the raw
 *   `smpp` client with the same window;
 * - lateness of 10,000 messages scheduled for the same second (sent_at − send_at).
 * Run: `npx tsx bench/messaging.ts` (DATABASE_URL, default the local server).
 */
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { sql, type Kysely } from 'kysely';
import smpp from 'smpp';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import type { DB } from '../src/db/tables.js';
import { newId, newTimeOrderedId } from '../src/lib/ids.js';
import { applyDeliveryReports } from '../src/modules/messages/delivery-reports.js';
import { createDispatcher } from '../src/modules/messages/dispatcher.js';
import { createReportBatcher } from '../src/modules/messages/messaging-runtime.js';
import { SmppTransport } from '../src/transports/smpp/smpp-transport.js';
import { SimulatorTransport } from '../src/transports/simulator/simulator-transport.js';
import { DEFAULT_BENCH_DATABASE_URL, dropDatabase, freePort, freshDatabase, medianBy, percentile, startProcess, stopProcess } from './lib.js';

const phoneFor = (i: number) => `+1202${200 + (i % 800)}${Math.floor(i / 800) % 10}199`;

async function count(db: Kysely<DB>, where: ReturnType<typeof sql>): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE ${where}`.execute(db);
  return r.rows[0]!.n;
}

/** When the last of an account's messages got `column` set, in epoch seconds (the database's clock: this machine's). */
async function lastAt(db: Kysely<DB>, accountId: string, column: 'sent_at' | 'updated_at'): Promise<number> {
  const r = await sql<{ t: number }>`SELECT extract(epoch FROM max(${sql.ref(column)}))::float8 AS t FROM messages WHERE account_id = ${accountId}`.execute(db);
  return Number(r.rows[0]!.t);
}

async function waitUntil(predicate: () => Promise<boolean>, timeoutMs: number, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error('benchmark timed out');
    await new Promise((r) => setTimeout(r, pollMs));
  }
}

async function newAccount(db: Kysely<DB>, credits: number) {
  const services = createServices(db, loadConfig({ NODE_ENV: 'test' }));
  const { account } = await services.accounts.create({ name: 'Bench', email: `bench-${randomBytes(4).toString('hex')}@example.test`, password: 'benchmark password' });
  await db.updateTable('accounts').set({ credit_balance: credits }).where('id', '=', account.id).execute();
  return { services, account };
}

/**
 * `subscribed`: the account has a webhook endpoint for delivery reports (no worker delivers to
 * it here), so every report also writes its event to the outbox; without one (a new account's
 * default) no event is written.
 */
export async function endToEnd(db: Kysely<DB>, total: number, subscribed = false) {
  const { services, account } = await newAccount(db, total * 2);
  if (subscribed) {
    await sql`INSERT INTO webhook_endpoints (id, account_id, url, events, secret_encrypted)
              VALUES (gen_random_uuid(), ${account.id}, 'https://receiver.example.test/hooks', ARRAY['delivery_report'], 'unused')`.execute(db);
  }
  const transport = new SimulatorTransport({ db, reportDelayMs: 500, applyReports: applyDeliveryReports, pollIntervalMs: 10, batchSize: 2000 });
  const dispatcher = createDispatcher({ db, transport, batchSize: 1000, concurrency: 2, pollIntervalMs: 10 });
  const started = Date.now();
  await transport.start();
  dispatcher.start();
  let acceptedAt = 0;
  const accepting = (async () => {
    for (let b = 0; b < total / 1000; b++) {
      const messages = Array.from({ length: 1000 }, (_, i) => ({ phone_number: phoneFor(i), message: `Bench message ${b}-${i}: your order has shipped.` }));
      const res = await services.messages.sendBatch(account.id, messages);
      if (res.status !== 201) throw new Error(`batch refused: ${res.status}`);
    }
    acceptedAt = Date.now();
  })();
  await accepting;
  // Polled slowly (a count over the table costs the database CPU the pipeline needs); the
  // finish time is when the last report was recorded (its message's updated_at), so the poll
  // interval adds no error.
  await waitUntil(async () => (await count(db, sql`account_id = ${account.id} AND status = 'delivered'`)) === total, 600_000, 500);
  const elapsed = (await lastAt(db, account.id, 'updated_at')) - started / 1000;
  await dispatcher.stop();
  await transport.stop();
  const events = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE account_id = ${account.id} AND type = 'delivery_report'`.execute(db);
  return {
    messages: total,
    seconds: Number(elapsed.toFixed(2)),
    messagesPerSecond: Math.round(total / elapsed),
    acceptSeconds: Number(((acceptedAt - started) / 1000).toFixed(2)),
    webhookSubscribed: subscribed,
    deliveryReportEvents: events.rows[0]!.n,
    simulatorReportDelayMs: 500,
  };
}

export async function baseline(db: Kysely<DB>, total: number) {
  const { account } = await newAccount(db, 0);
  const started = Date.now();
  const ids: string[] = [];
  for (let b = 0; b < total / 1000; b++) {
    const rows = Array.from({ length: 1000 }, (_, i) => {
      const id = newTimeOrderedId();
      ids.push(id);
      return {
        id,
        account_id: account.id,
        type: 'OUTGOING' as const,
        from: account.short_code,
        phone_number: phoneFor(i),
        message: `Bench message ${b}-${i}: your order has shipped.`,
        media_url: null,
        segments: 1,
        encoding: 'GSM-7' as const,
        status: 'queued' as const,
        contact_id: null,
        campaign_id: null,
        metadata: null,
        lease_until: null,
        claimed_by: null,
        last_error: null,
        carrier_message_id: null,
        receipt_code: null,
        receipt_text: null,
        receipt_at: null,
        sent_at: null,
      };
    });
    await db.insertInto('messages').values(rows).execute();
  }
  for (let b = 0; b < ids.length; b += 1000) {
    const chunk = ids.slice(b, b + 1000);
    await sql`UPDATE messages SET status = 'sent', carrier_message_id = id::text, sent_at = now() WHERE id = ANY(${sql.val(chunk)}::uuid[])`.execute(db);
  }
  for (let b = 0; b < ids.length; b += 1000) {
    const chunk = ids.slice(b, b + 1000);
    await sql`UPDATE messages SET status = 'delivered', receipt_code = 100, receipt_at = now() WHERE id = ANY(${sql.val(chunk)}::uuid[])`.execute(db);
  }
  const elapsed = (Date.now() - started) / 1000;
  return { messages: total, seconds: Number(elapsed.toFixed(2)), messagesPerSecond: Math.round(total / elapsed) };
}

async function rawSmpp(port: number, total: number, window: number) {
  const session = smpp.connect({ host: '127.0.0.1', port });
  await new Promise<void>((resolve, reject) => {
    session.on('connect', () =>
      session.bind_transceiver({ system_id: 'test', password: 'secret', interface_version: 0x34 }, (pdu) => (pdu.command_status === 0 ? resolve() : reject(new Error('bind failed')))),
    );
    session.on('error', reject);
  });
  const started = Date.now();
  let sent = 0;
  let answered = 0;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent - answered < window && sent < total) {
        const i = sent++;
        session.submit_sm({ source_addr: '12345', destination_addr: phoneFor(i).slice(1), registered_delivery: 1, short_message: `Bench message ${i}: your order has shipped.` }, () => {
          answered += 1;
          if (answered === total) resolve();
          else pump();
        });
      }
    };
    pump();
  });
  const elapsed = (Date.now() - started) / 1000;
  session.destroy();
  return { messages: total, window, seconds: Number(elapsed.toFixed(2)), messagesPerSecond: Math.round(total / elapsed) };
}

/** One run of our path: `total` messages accepted, then dispatched through the SMPP transport. */
async function dispatcherSmpp(db: Kysely<DB>, port: number, total: number, window: number, submitsAtSmsc: () => Promise<number>) {
  const { services, account } = await newAccount(db, total * 2);
  for (let b = 0; b < total / 1000; b++) {
    await services.messages.sendBatch(
      account.id,
      Array.from({ length: 1000 }, (_, i) => ({ phone_number: phoneFor(i), message: `Bench message ${b}-${i}: your order has shipped.` })),
    );
  }
  const transport = new SmppTransport({ host: '127.0.0.1', port, systemId: 'test', password: 'secret', window });
  const reports = createReportBatcher(db);
  await transport.start({ onDeliveryReport: (r) => reports.add(r), onInbound: async () => undefined });
  const dispatcher = createDispatcher({ db, transport, batchSize: 500, concurrency: 3, pollIntervalMs: 5 });
  const before = await submitsAtSmsc();
  const started = Date.now();
  dispatcher.start();
  await waitUntil(async () => (await count(db, sql`account_id = ${account.id} AND status = 'sent'`)) === total, 600_000, 200);
  const elapsed = (await lastAt(db, account.id, 'sent_at')) - started / 1000;
  await dispatcher.stop();
  await transport.stop();
  return { messages: total, window, seconds: Number(elapsed.toFixed(2)), messagesPerSecond: Math.round(total / elapsed), submitsAtSmsc: (await submitsAtSmsc()) - before };
}

/**
 * The raw client and our path take turns against the same SMSC process, after a warm-up run
 * (a cold SMSC answers the first run's submits slower, which would favour whichever runs second);
 * each figure is the median of `rounds`.
 */
export async function smppThroughput(db: Kysely<DB>, total: number, window: number, rounds = 3) {
  // The SMSC runs in its own process, as a carrier's would: both clients measured against it
  // then have this process to themselves.
  const statsPort = await freePort();
  const smsc = await startProcess(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./smsc-process.ts', import.meta.url))], { STATS_PORT: String(statsPort) }, /LISTENING/);
  const smscStats = async () => (await (await fetch(`http://127.0.0.1:${statsPort}/`)).json()) as { port: number; submits: number };
  try {
    const { port } = await smscStats();
    await rawSmpp(port, total, window);
    const raws: Array<Awaited<ReturnType<typeof rawSmpp>>> = [];
    const ours: Array<Awaited<ReturnType<typeof dispatcherSmpp>>> = [];
    for (let r = 0; r < rounds; r++) {
      raws.push(await rawSmpp(port, total, window));
      ours.push(await dispatcherSmpp(db, port, total, window, async () => (await smscStats()).submits));
    }
    const raw = medianBy(raws, (x) => x.messagesPerSecond);
    const dispatcher = medianBy(ours, (x) => x.messagesPerSecond);
    return {
      raw,
      dispatcher,
      ratio: Number((dispatcher.messagesPerSecond / raw.messagesPerSecond).toFixed(2)),
      rounds: { raw: raws.map((x) => x.messagesPerSecond), dispatcher: ours.map((x) => x.messagesPerSecond) },
    };
  } finally {
    await stopProcess(smsc);
  }
}

async function lateness(db: Kysely<DB>, total: number) {
  const { account } = await newAccount(db, 0);
  const sendAt = new Date(Math.ceil((Date.now() + 8000) / 1000) * 1000);
  // Scheduled messages are outgoing messages due at send_at (what POST /v1/message/schedule writes).
  for (let b = 0; b < total; b += 1000) {
    await db
      .insertInto('messages')
      .values(
        Array.from({ length: Math.min(1000, total - b) }, (_, i) => ({
          id: newId(),
          account_id: account.id,
          type: 'OUTGOING' as const,
          from: account.short_code,
          phone_number: phoneFor(b + i),
          message: `Scheduled ${b + i}`,
          media_url: null,
          segments: 1,
          encoding: 'GSM-7' as const,
          status: 'scheduled' as const,
          next_attempt_at: sendAt,
          contact_id: null,
          campaign_id: null,
          metadata: null,
          lease_until: null,
          claimed_by: null,
          last_error: null,
          carrier_message_id: null,
          receipt_code: null,
          receipt_text: null,
          receipt_at: null,
          sent_at: null,
        })),
      )
      .execute();
  }
  const transport = new SimulatorTransport({ db, reportDelayMs: 500, applyReports: applyDeliveryReports, pollIntervalMs: 10 });
  const dispatcher = createDispatcher({ db, transport, batchSize: 1000, concurrency: 2, pollIntervalMs: 10 });
  await transport.start();
  dispatcher.start();
  await waitUntil(async () => (await count(db, sql`account_id = ${account.id} AND status IN ('sent', 'delivered')`)) === total, 600_000, 100);
  await dispatcher.stop();
  await transport.stop();
  const rows = await sql<{ ms: number }>`SELECT extract(epoch FROM (sent_at - ${sendAt}::timestamptz)) * 1000 AS ms FROM messages WHERE account_id = ${account.id}`.execute(db);
  const ms = rows.rows.map((r) => Number(r.ms)).sort((a, b) => a - b);
  return {
    messages: total,
    early: ms.filter((v) => v < 0).length,
    p50Ms: Math.round(percentile(ms, 50)),
    p99Ms: Math.round(percentile(ms, 99)),
    maxMs: Math.round(ms.at(-1) ?? 0),
  };
}

export async function runMessagingBench(opts: { databaseUrl: string; messages?: number; smppMessages?: number; scheduled?: number }): Promise<Record<string, unknown>> {
  const name = `shortcode_bench_msg_${randomBytes(3).toString('hex')}`;
  const url = await freshDatabase(opts.databaseUrl, name);
  const database = await openDatabase({ databaseUrl: url, poolSize: 10 });
  try {
    await migrateToLatest(database.db);
    const total = opts.messages ?? 100_000;
    // Each scenario leaves hundreds of thousands of dead row versions behind it; autovacuum would
    // clean them up a minute later, in the middle of the next scenario. Each one starts after a
    // VACUUM ANALYZE instead, as on a server whose autovacuum has caught up.
    const settle = () => sql`VACUUM ANALYZE`.execute(database.db);
    const base = await baseline(database.db, total);
    await settle();
    const e2e = await endToEnd(database.db, total);
    await settle();
    const e2eSubscribed = await endToEnd(database.db, total, true);
    await settle();
    const smppFigures = await smppThroughput(database.db, opts.smppMessages ?? 20_000, 10);
    await settle();
    const late = await lateness(database.db, opts.scheduled ?? 10_000);
    return {
      endToEnd: { ...e2e, target: '>= 5000 msg/s' },
      endToEndWithWebhookEvents: e2eSubscribed,
      baseline: base,
      endToEndVsBaseline: Number((e2e.messagesPerSecond / base.messagesPerSecond).toFixed(2)),
      smpp: { ...smppFigures, target: '>= 0.70 of raw' },
      scheduledLateness: { ...late, target: 'p99 < 1000 ms' },
    };
  } finally {
    await database.close();
    await dropDatabase(opts.databaseUrl, name);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const result = await runMessagingBench({
    databaseUrl: process.env.DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL,
    ...(process.env.BENCH_MESSAGES ? { messages: Number(process.env.BENCH_MESSAGES) } : {}),
  });
  console.log(JSON.stringify(result, null, 2));
  process.exit(0);
}
