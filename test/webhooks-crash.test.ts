import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../src/container.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { createEventsRepo } from '../src/modules/events/events.repo.js';
import { buildRejectedMessagePayload } from '../src/modules/webhooks/webhook-payloads.js';
import { createTestDatabase, TEST_SECRETS_KEY, testConfig, type TestDatabase } from './helpers.js';
import { startReceiver, waitFor, type TestReceiver } from './webhook-receiver.js';

/**
 * A worker process (the real server, ROLE=worker) is killed with SIGKILL while deliveries are
 * in flight, then started again: every delivery reaches the receiver, none is lost; the ones in
 * flight at the kill arrive again with the same webhook-id (at least once).
 */
const SERVER = fileURLToPath(new URL('../src/server.ts', import.meta.url));
const EVENTS = 30;

let receiver: TestReceiver;
let slow = true;
let secret = '';
let tmp: string | undefined;
let pgDatabase: TestDatabase | undefined;
let child: ChildProcess | undefined;

const usePostgres = Boolean(process.env.DATABASE_URL);

function env(): Record<string, string> {
  const common = {
    ROLE: 'worker',
    PORT: '0',
    HOST: '127.0.0.1',
    NODE_ENV: 'test',
    SECRETS_KEY: TEST_SECRETS_KEY,
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOKS_TIMEOUT_MS: '2000',
    WEBHOOKS_LEASE_MS: '2500',
    WEBHOOKS_MAX_IN_FLIGHT_PER_ENDPOINT: '8',
    WEBHOOKS_BATCH_WINDOW_MS: '0',
  };
  return usePostgres ? { ...common, DATABASE_URL: pgDatabase!.location } : { ...common, DATA_DIR: tmp! };
}

async function startWorker(): Promise<ChildProcess> {
  const { DATABASE_URL: _ignored, ...parentEnv } = process.env;
  const proc = spawn(process.execPath, ['--import', 'tsx', SERVER], { env: { ...parentEnv, ...env() }, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  await waitFor(() => /listening on/.test(output) || proc.exitCode !== null, 60_000, 'worker start');
  if (proc.exitCode !== null) throw new Error(`worker exited: ${output}`);
  return proc;
}

async function withDb<T>(fn: (db: Database) => Promise<T>): Promise<T> {
  if (usePostgres) return fn(pgDatabase!);
  const database = await openDatabase({ dataDir: tmp! });
  try {
    return await fn(database);
  } finally {
    await database.close();
  }
}

beforeAll(async () => {
  receiver = await startReceiver({ secrets: () => [secret], respond: () => ({ status: 200, delayMs: slow ? 10_000 : 0 }) });
  if (usePostgres) pgDatabase = await createTestDatabase();
  else tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-crash-'));
  await withDb(async (database) => {
    await migrateToLatest(database.db);
    const services = createServices(database.db, testConfig());
    const { account } = await services.accounts.create({ name: 'Crash', email: 'crash@example.test', password: 'crash-password' });
    const endpoint = await services.webhooks.create(account.id, { url: receiver.url, events: ['rejected_message'] });
    secret = endpoint.secret;
    const events = createEventsRepo(database.db);
    for (let i = 0; i < EVENTS; i++) {
      await events.record(account.id, 'rejected_message', buildRejectedMessagePayload({ code: null, message: `message ${i}`, description: 'Unsubscribed' }));
    }
  });
});

afterAll(async () => {
  if (child && child.exitCode === null) child.kill('SIGKILL');
  await receiver.close();
  await pgDatabase?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

describe('worker killed with deliveries in flight', () => {
  it('delivers every event after a restart, none lost, the same webhook-id on the repeats', { timeout: 240_000 }, async () => {
    child = await startWorker();
    await waitFor(() => receiver.inFlight() >= 4, 30_000, 'deliveries in flight');
    const firstRun = child;
    const exited = new Promise((resolve) => firstRun.once('exit', resolve));
    firstRun.kill('SIGKILL');
    await exited;
    const inFlightAtKill = new Set(receiver.requests.map((r) => r.id));
    expect(inFlightAtKill.size).toBeGreaterThanOrEqual(4);

    // What the killed worker had claimed is 'delivering' (on PostgreSQL) or back to 'pending'
    // (PGlite lives in the killed process: claims commit without waiting for the WAL flush).
    const afterKill = await withDb((database) => database.db.selectFrom('webhook_deliveries').select(['status']).execute());
    expect(afterKill).toHaveLength(EVENTS);
    expect(afterKill.filter((d) => d.status !== 'delivered').length).toBeGreaterThanOrEqual(EVENTS - inFlightAtKill.size);

    slow = false;
    child = await startWorker();
    // Nothing was answered before the kill (the receiver was holding every request), so each id
    // seen then must come again after the restart.
    await waitFor(
      () => new Set(receiver.verified().map((r) => r.id)).size === EVENTS && [...inFlightAtKill].every((id) => receiver.requests.filter((r) => r.id === id).length >= 2),
      60_000,
      'every event delivered, the interrupted ones again',
    );
    if (usePostgres) {
      await waitFor(async () => (await pgDatabase!.db.selectFrom('webhook_deliveries').select('status').execute()).every((d) => d.status === 'delivered'), 10_000, 'recorded');
    }
    const stopped = child;
    const done = new Promise((resolve) => stopped.once('exit', resolve));
    stopped.kill('SIGTERM');
    expect(await done).toBe(0);

    const rows = await withDb((database) => database.db.selectFrom('webhook_deliveries').select(['msg_id', 'status']).execute());
    expect(rows.filter((d) => d.status !== 'delivered')).toEqual([]);
    const received = new Set(receiver.verified().map((r) => r.id));
    expect(rows.every((d) => received.has(d.msg_id))).toBe(true);
    // The ones in flight at the kill came again with the same id: receivers deduplicate by it.
    expect([...inFlightAtKill].every((id) => receiver.requests.filter((r) => r.id === id).length >= 2)).toBe(true);
    expect(receiver.requests.every((r) => r.verifiedWith.length === 1)).toBe(true);
  });
});

describe('server start-up and the secrets key', () => {
  it('generates DATA_DIR/secrets.key (0600) on the first embedded start and refuses production with DATABASE_URL and no SECRETS_KEY', { timeout: 180_000 }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-key-'));
    const { DATABASE_URL: _ignored, SECRETS_KEY: _none, ...parentEnv } = process.env;
    try {
      const proc = spawn(process.execPath, ['--import', 'tsx', SERVER], {
        env: { ...parentEnv, ROLE: 'api', PORT: '0', NODE_ENV: 'test', DATA_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let output = '';
      proc.stdout!.on('data', (c: Buffer) => (output += c.toString()));
      proc.stderr!.on('data', (c: Buffer) => (output += c.toString()));
      await waitFor(() => /listening on/.test(output) || proc.exitCode !== null, 60_000, 'server start');
      const exited = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      expect(await exited).toBe(0);
      const file = path.join(dir, 'secrets.key');
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(Buffer.from(fs.readFileSync(file, 'utf8').trim(), 'base64')).toHaveLength(32);
      expect(output).not.toContain(fs.readFileSync(file, 'utf8').trim());

      const refused = spawn(process.execPath, ['--import', 'tsx', SERVER], {
        env: { ...parentEnv, NODE_ENV: 'production', DATABASE_URL: 'postgres://postgres@127.0.0.1:5432/never', DATA_DIR: dir },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let errors = '';
      refused.stderr!.on('data', (c: Buffer) => (errors += c.toString()));
      const code = await new Promise((resolve) => refused.once('exit', resolve));
      expect(code).toBe(1);
      expect(errors).toMatch(/^Configuration error: SECRETS_KEY is required in production with DATABASE_URL/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
