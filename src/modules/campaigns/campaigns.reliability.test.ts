import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../app.js';
import { openDatabase, type Database } from '../../db/database.js';
import { migrateToLatest } from '../../db/migrator.js';
import { createAccountWithToken, createTestApp, createTestDatabase, testConfig, type TestContext, type TestDatabase } from '../../../test/helpers.js';
import { createGroup, insertManyContacts } from '../../../test/audience-fixtures.js';
import pino from 'pino';
import { createJobHandlers } from '../../jobs/job-handlers.js';
import { createJobRunner } from '../../jobs/job-runner.js';
import { applyDeliveryReports } from '../messages/delivery-reports.js';
import { createDispatcher } from '../messages/dispatcher.js';
import { SimulatorTransport } from '../../transports/simulator/simulator-transport.js';

/**
 * Reliability: a campaign to 20,000 contacts (100,000 with SHORTCODE_LONG_TESTS=1) whose worker
 * process is killed (SIGKILL) in the middle of the send and started again: every contact gets
 * exactly one message, handed to the carrier exactly once. And a cancel during the send: after
 * the DELETE answers, nothing more is handed over.
 */
const LONG = process.env.SHORTCODE_LONG_TESTS === '1';
const AUDIENCE = LONG ? 100_000 : 20_000;
// The simulated carrier is throttled so that the send lasts a few seconds and the kill lands mid-send.
const RATE = LONG ? 20_000 : 4_000;
const WORKER = path.resolve(import.meta.dirname, '../../../test/campaign-worker.ts');

interface Progress {
  status: string;
  inserted: number;
  handed: number;
}

/** Runs the worker; SIGKILLs it as soon as the figures it prints satisfy `killWhen` (or lets it finish when null). */
function runWorker(env: Record<string, string>, campaignId: string, killWhen: ((p: Progress) => boolean) | null): Promise<{ killed: boolean; last: Progress | null; code: number | null }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WORKER, campaignId], {
      env: { ...process.env, ...env, NODE_ENV: 'test', LOG_LEVEL: 'silent', SIMULATOR_REPORT_DELAY_MS: '0', DISPATCH_LEASE_MS: '2000', DISPATCH_BATCH_SIZE: '500', SENDER_RATE_PER_SECOND: String(RATE), CAMPAIGN_FANOUT_BATCH_SIZE: '1000' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let killed = false;
    let last: Progress | null = null;
    let buffer = '';
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      buffer += d.toString();
      const lines = buffer.split('\n');
      buffer = lines.pop()!;
      for (const line of lines) {
        if (line === 'ready' || !line.trim()) continue;
        last = JSON.parse(line) as Progress;
        if (!killed && killWhen?.(last)) {
          killed = true;
          child.kill('SIGKILL');
        }
      }
    });
    child.on('error', reject);
    child.on('exit', (code) => (code !== 0 && !killed ? reject(new Error(`worker exited ${code}: ${stderr}`)) : resolve({ killed, last, code })));
  });
}

describe(`a campaign to ${AUDIENCE.toLocaleString('en-US')} contacts survives a killed worker`, () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterAll(async () => {
    for (const cleanup of cleanups) await cleanup();
  });

  /** A migrated database of its own for each attempt (CI runs a failed test once more). */
  async function crashDatabase(): Promise<{ database: Database; env: Record<string, string>; reopen: () => Promise<Database> }> {
    if (process.env.DATABASE_URL) {
      const testDb: TestDatabase = await createTestDatabase();
      cleanups.push(() => testDb.dispose());
      return { database: testDb, env: { DATABASE_URL: testDb.location.replace('***', '') }, reopen: async () => testDb };
    }
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-crash-'));
    cleanups.push(async () => fs.rmSync(dataDir, { recursive: true, force: true }));
    const database = await openDatabase({ dataDir });
    await migrateToLatest(database.db);
    return { database, env: { DATA_DIR: dataDir, DATABASE_URL: '' }, reopen: () => openDatabase({ dataDir }) };
  }

  it('each contact gets exactly one message', async () => {
    const embedded = !process.env.DATABASE_URL;
    const crash = await crashDatabase();
    const { env, reopen } = crash;
    let database = crash.database;
    const app = await buildApp({ config: testConfig(), database, logger: false });
    const owner = await createAccountWithToken(app);
    await sql`UPDATE accounts SET credit_balance = ${AUDIENCE * 2} WHERE id = ${owner.account.id}`.execute(database.db);
    const group = await createGroup(database.db, owner.account.id, 'Everyone');
    await insertManyContacts(database.db, owner.account.id, AUDIENCE, group);
    const res = await app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { ...owner.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Big', message: 'Hello {first_name}, our sale starts now', groups: [group] }),
    });
    expect(res.statusCode, res.body).toBe(201);
    const campaignId = res.json().data.id as string;
    await app.close();
    if (embedded) await database.close(); // the embedded database allows one process at a time

    // First worker: killed (SIGKILL) once it reports a tenth of the campaign handed to the carrier.
    const first = await runWorker(env, campaignId, (p) => p.status === 'sending' && p.handed >= AUDIENCE / 10);
    expect(first.killed, `the worker finished before it was seen mid-send: ${JSON.stringify(first.last)}`).toBe(true);
    database = await reopen();
    const atKill = (
      await sql<Pick<Progress, 'status' | 'handed'>>`SELECT status, (SELECT count(*)::int FROM messages WHERE campaign_id = ${campaignId} AND sent_at IS NOT NULL) AS handed
                          FROM campaigns WHERE id = ${campaignId}`.execute(database.db)
    ).rows[0]!;
    if (embedded) await database.close();
    expect(atKill.status).toBe('sending');
    expect(atKill.handed, 'the whole campaign went out before the kill: the test cannot show a mid-send crash').toBeLessThan(AUDIENCE);
    // Second worker: resumes from the fan-out cursor and the expired leases, to the end.
    const second = await runWorker(env, campaignId, null);
    expect(second.code).toBe(0);
    expect(second.last).toMatchObject({ status: 'sent', inserted: AUDIENCE, handed: AUDIENCE });

    database = await reopen();
    const check = (
      await sql<{ messages: number; contacts: number; handovers: number; handed_messages: number; recipients: number; reserved: number; used: number }>`
        SELECT (SELECT count(*)::int FROM messages WHERE campaign_id = ${campaignId}) AS messages,
               (SELECT count(DISTINCT contact_id)::int FROM messages WHERE campaign_id = ${campaignId}) AS contacts,
               (SELECT count(*)::int FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = ${campaignId}) AS handovers,
               (SELECT count(DISTINCT s.message_id)::int FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = ${campaignId}) AS handed_messages,
               (SELECT recipients FROM campaigns WHERE id = ${campaignId}) AS recipients,
               (SELECT credits_reserved::int FROM campaigns WHERE id = ${campaignId}) AS reserved,
               (SELECT credits_used::int FROM campaigns WHERE id = ${campaignId}) AS used`.execute(database.db)
    ).rows[0]!;
    expect(check).toEqual({ messages: AUDIENCE, contacts: AUDIENCE, handovers: AUDIENCE, handed_messages: AUDIENCE, recipients: AUDIENCE, reserved: AUDIENCE, used: AUDIENCE });
    const perHandset = await sql<{ n: number }>`SELECT count(*)::int AS n FROM simulator_messages GROUP BY handset HAVING count(*) > 1 LIMIT 1`.execute(database.db);
    expect(perHandset.rows).toEqual([]);
    if (embedded) await database.close();
  }, 600_000);
});

describe('cancel during sending', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestApp();
  });
  afterAll(() => ctx.close());

  it('nothing more goes out after the DELETE answers', async () => {
    const db = ctx.database.db;
    const owner = await createAccountWithToken(ctx.app);
    const group = await createGroup(db, owner.account.id, 'Many');
    await insertManyContacts(db, owner.account.id, 5000, group);
    // Every hand-over to the carrier is recorded with the moment its transaction committed.
    const handOvers: Array<{ messages: number; committedAt: number }> = [];
    const transport = new SimulatorTransport({ db, reportDelayMs: 0, applyReports: (trx, reports) => applyDeliveryReports(trx, reports) });
    const handOver = transport.handOver.bind(transport);
    let pending: Array<{ messages: number; committedAt: number }> = [];
    transport.handOver = async (trx, batch) => {
      const entry = { messages: batch.length, committedAt: Number.POSITIVE_INFINITY };
      pending.push(entry);
      handOvers.push(entry);
      return handOver(trx, batch);
    };
    const dispatcher = createDispatcher({ db, transport, batchSize: 50 });
    const balanceOf = async () => Number((await sql<{ b: number }>`SELECT credit_balance AS b FROM accounts WHERE id = ${owner.account.id}`.execute(db)).rows[0]!.b);
    const balanceBefore = await balanceOf();
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/v1/campaigns',
      headers: { ...owner.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'Stop me', message: 'Hello', groups: [group] }),
    });
    const campaignId = res.json().data.id as string;
    expect(balanceBefore - (await balanceOf())).toBe(5000);
    await createJobRunner({ db, handlers: createJobHandlers(ctx.app.services, db), log: pino({ level: 'silent' }) }).drain();

    // Two dispatcher loops hand batches over while the DELETE comes in after the 20th batch.
    let answeredAt = Number.POSITIVE_INFINITY;
    let deletion: Promise<number> | undefined;
    let batches = 0;
    const loop = async () => {
      for (;;) {
        const n = await dispatcher.dispatchOnce();
        const now = Date.now();
        for (const entry of pending) entry.committedAt = now;
        pending = [];
        batches += 1;
        if (batches === 20) {
          deletion = ctx.app.inject({ method: 'DELETE', url: `/v1/campaigns/${campaignId}`, headers: owner.auth }).then((r) => {
            answeredAt = Date.now();
            return r.statusCode;
          });
        }
        if (n === 0 && deletion) return;
        await new Promise((r) => setImmediate(r));
      }
    };
    await Promise.all([loop(), loop()]);
    expect(await deletion).toBe(204);
    const handed = handOvers.reduce((sum, h) => sum + h.messages, 0);
    expect(handed).toBeGreaterThan(0);
    expect(handed).toBeLessThan(5000);
    // Every hand-over committed before the answer; none started or committed after it.
    expect(handOvers.filter((h) => h.messages > 0 && h.committedAt > answeredAt)).toEqual([]);
    const counts = (
      await sql<{ handed: number; canceled: number; other: number }>`
        SELECT count(*) FILTER (WHERE sent_at IS NOT NULL)::int AS handed, count(*) FILTER (WHERE status = 'canceled')::int AS canceled,
               count(*) FILTER (WHERE sent_at IS NULL AND status <> 'canceled')::int AS other
        FROM messages WHERE campaign_id = ${campaignId}`.execute(db)
    ).rows[0]!;
    expect(counts).toEqual({ handed, canceled: 5000 - handed, other: 0 });
    const campaign = (await ctx.app.inject({ method: 'GET', url: `/v1/campaigns/${campaignId}`, headers: owner.auth })).json().data;
    expect(campaign).toMatchObject({ status: 'canceled', stats: { sent: handed, canceled: 5000 - handed, credits: handed } });
    // The account paid for the messages that reached the carrier, and nothing else.
    expect(balanceBefore - (await balanceOf())).toBe(handed);
  }, 120_000);
});
