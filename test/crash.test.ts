import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import type { DB } from '../src/db/tables.js';
import { withDatabase } from './global-setup.js';
import { subscribeToEvents } from './helpers.js';

/**
 * Exactly once under crashes: real child processes dispatch N messages to the simulator (whose
 * table, keyed by message id, is the in-database transport's send ledger), are killed with
 * SIGKILL mid-run and restarted; afterwards every message was handed over exactly once, none is
 * lost, and the credits match. On the PostgreSQL server (DATABASE_URL, or the local default
 * server when the suite runs on PGlite) also with two worker processes at once, one of them killed.
 * N is 20,000 by default, 100,000 with SHORTCODE_LONG_TESTS=1.
 */
const N = process.env.SHORTCODE_LONG_TESTS === '1' ? 100_000 : 20_000;
const SERVER_URL = process.env.DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
const WORKER = path.resolve('test/crash-worker.ts');

let dbName: string;
let database: Database;
let db: Kysely<DB>;
const children = new Set<ChildProcess>();

async function admin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: SERVER_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

function startWorker(env: Record<string, string>, onOutput?: (text: string) => void): Promise<ChildProcess> {
  // node --import tsx: the tsx CLI would run the worker as its own child, which a SIGKILL of the
  // CLI leaves running (an orphan that goes on dispatching, and the kill proves nothing).
  const child = spawn(process.execPath, ['--import', 'tsx', WORKER], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  child.on('exit', () => children.delete(child));
  if (onOutput) child.stdout!.on('data', (c: Buffer) => onOutput(c.toString()));
  return new Promise((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error(`worker did not start: ${out}`)), 60_000);
    child.stdout!.on('data', (c: Buffer) => {
      out += c.toString();
      if (out.includes('ready')) {
        clearTimeout(timer);
        resolve(child);
      }
    });
    child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`worker exited with ${code}: ${out}`));
    });
  });
}

function kill(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

async function handedOver(accountId: string): Promise<number> {
  const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM simulator_messages WHERE account_id = ${accountId} AND direction = 'MT'`.execute(db);
  return r.rows[0]!.n;
}

async function waitFor(what: string, predicate: () => Promise<boolean>, timeoutMs = 180_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await predicate())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Accepts N messages through the messages service (batches of 1,000, charged), for a new account. */
async function accept(): Promise<{ accountId: string; creditsBefore: number }> {
  const services = createServices(db, loadConfig({ NODE_ENV: 'test' }));
  const { account } = await services.accounts.create({ name: 'Crash', email: `crash-${randomBytes(4).toString('hex')}@example.test`, password: 'long enough password' });
  const creditsBefore = N + 500;
  await db.updateTable('accounts').set({ credit_balance: creditsBefore }).where('id', '=', account.id).execute();
  // Delivery reports are recorded as events only for a subscribed account (an endpoint no one delivers to here).
  await subscribeToEvents(db, account.id, ['delivery_report']);
  for (let b = 0; b < N / 1000; b++) {
    const messages = Array.from({ length: 1000 }, (_, i) => ({ phone_number: `+1202${200 + (i % 800)}${Math.floor(i / 800)}199`, message: `crash ${b}-${i}` }));
    const res = await services.messages.sendBatch(account.id, messages);
    expect(res.status).toBe(201);
  }
  return { accountId: account.id, creditsBefore };
}

async function assertExactlyOnce(accountId: string, creditsBefore: number): Promise<void> {
  await waitFor('every message sent and reported', async () => {
    const r = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE account_id = ${accountId} AND status <> 'delivered'`.execute(db);
    return r.rows[0]!.n === 0;
  });
  const perMessage = await sql<{ messages: number; handovers: number; distinct_messages: number; max_per_message: number }>`
    SELECT (SELECT count(*)::int FROM messages WHERE account_id = ${accountId}) AS messages,
           count(*)::int AS handovers, count(DISTINCT message_id)::int AS distinct_messages,
           COALESCE(max(c), 0)::int AS max_per_message
    FROM (SELECT message_id, count(*) OVER (PARTITION BY message_id) AS c FROM simulator_messages WHERE account_id = ${accountId} AND direction = 'MT') s`.execute(db);
  expect(perMessage.rows[0]).toEqual({ messages: N, handovers: N, distinct_messages: N, max_per_message: 1 });
  const missing = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM messages m WHERE m.account_id = ${accountId}
      AND NOT EXISTS (SELECT 1 FROM simulator_messages s WHERE s.message_id = m.id)`.execute(db);
  expect(missing.rows[0]!.n).toBe(0);
  const credits = await db.selectFrom('accounts').select('credit_balance').where('id', '=', accountId).executeTakeFirstOrThrow();
  const charged = await sql<{ n: number }>`SELECT sum(credits)::int AS n FROM messages WHERE account_id = ${accountId}`.execute(db);
  expect(charged.rows[0]!.n).toBe(N);
  expect(Number(credits.credit_balance)).toBe(creditsBefore - N);
  const reports = await sql<{ n: number }>`SELECT count(*)::int AS n FROM events WHERE account_id = ${accountId} AND type = 'delivery_report'`.execute(db);
  expect(reports.rows[0]!.n).toBe(N);
}

beforeAll(async () => {
  dbName = `shortcode_crash_${randomBytes(4).toString('hex')}`;
  await admin((c) => c.query(`CREATE DATABASE ${dbName}`));
  database = await openDatabase({ databaseUrl: withDatabase(SERVER_URL, dbName), poolSize: 4 });
  db = database.db;
  await migrateToLatest(db);
});

afterAll(async () => {
  await Promise.all([...children].map(kill));
  await database?.close();
  await admin((c) => c.query(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`));
});

describe(`exactly once across SIGKILL (${N} messages, PostgreSQL)`, () => {
  it('one worker killed mid-run and restarted: every message reaches the transport exactly once, credits match', { timeout: 240_000 }, async () => {
    const { accountId, creditsBefore } = await accept();
    const env = { DATABASE_URL: withDatabase(SERVER_URL, dbName), DISPATCH_LEASE_MS: '1500' };
    const first = await startWorker(env);
    await waitFor('a third handed over', async () => (await handedOver(accountId)) >= N / 3);
    await kill(first);
    const atKill = await handedOver(accountId);
    expect(atKill).toBeLessThan(N);
    const second = await startWorker(env);
    await waitFor('two thirds handed over', async () => (await handedOver(accountId)) >= (2 * N) / 3);
    await kill(second);
    await startWorker(env);
    await assertExactlyOnce(accountId, creditsBefore);
  });

  it('two worker processes at once, one killed mid-run: exactly once, credits match', { timeout: 240_000 }, async () => {
    const { accountId, creditsBefore } = await accept();
    const env = { DATABASE_URL: withDatabase(SERVER_URL, dbName), DISPATCH_LEASE_MS: '1500', DISPATCH_BATCH_SIZE: '200' };
    const [a] = await Promise.all([startWorker(env), startWorker(env)]);
    await waitFor('half handed over', async () => (await handedOver(accountId)) >= N / 2);
    await kill(a!);
    await assertExactlyOnce(accountId, creditsBefore);
  });
});

// The embedded variant belongs to the suite's embedded run (without DATABASE_URL).
if (!process.env.DATABASE_URL) describe('exactly once across SIGKILL (embedded PGlite)', () => {
  it('a worker on the embedded database killed mid-run and restarted: every message reaches the transport once', { timeout: 240_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-crash-'));
    const count = 1000;
    try {
      let embedded = await openDatabase({ dataDir: dir });
      await migrateToLatest(embedded.db);
      const services = createServices(embedded.db, loadConfig({ NODE_ENV: 'test' }));
      const { account } = await services.accounts.create({ name: 'Crash', email: 'crash@example.test', password: 'long enough password' });
      await services.messages.sendBatch(
        account.id,
        Array.from({ length: count }, (_, i) => ({ phone_number: `+1202${200 + (i % 800)}${Math.floor(i / 800)}199`, message: `pglite ${i}` })),
      );
      await embedded.close();
      // One process at a time on the embedded database: kill the first, then let a second finish.
      const env = { DATA_DIR: dir, DISPATCH_LEASE_MS: '1000', DISPATCH_BATCH_SIZE: '50', DISPATCH_CONCURRENCY: '1', DATABASE_URL: '', PRINT_PROGRESS: '1' };
      let handed = 0;
      const first = await startWorker(env, (text) => {
        for (const m of text.matchAll(/handed (\d+)/g)) handed = Number(m[1]);
      });
      await waitFor('some handed over', async () => handed >= 300, 120_000);
      await kill(first);
      const second = await startWorker({ ...env, EXIT_WHEN_IDLE: '1' });
      await new Promise((r) => (second.exitCode !== null ? r(null) : second.once('exit', r)));
      embedded = await openDatabase({ dataDir: dir });
      try {
        const r = await sql<{ handovers: number; distinct_messages: number; messages: number; not_sent: number }>`
          SELECT (SELECT count(*)::int FROM simulator_messages WHERE direction = 'MT') AS handovers,
                 (SELECT count(DISTINCT message_id)::int FROM simulator_messages WHERE direction = 'MT') AS distinct_messages,
                 (SELECT count(*)::int FROM messages) AS messages,
                 (SELECT count(*)::int FROM messages WHERE status NOT IN ('sent', 'delivered')) AS not_sent`.execute(embedded.db);
        expect(r.rows[0]).toEqual({ handovers: count, distinct_messages: count, messages: count, not_sent: 0 });
      } finally {
        await embedded.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
