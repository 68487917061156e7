import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cli, DEFAULT_SERVER_URL, newAccountToken, privateRedis, scratchDatabase, startApisAndWorkers, waitFor, type PrivateRedis, type ServerProcess } from './processes.js';

/**
 * Messages with real processes: 2 API and 2 worker processes on one PostgreSQL database and one
 * Redis (rate limits shared between the API processes).
 * Scheduled messages are created through both API processes, fall due together, and one worker
 * is SIGKILLed while they go out: every message reaches its handset exactly once.
 * SHORTCODE_LONG_TESTS=1 schedules 10,000 (the figure); the default suite 600.
 */
const LONG = process.env.SHORTCODE_LONG_TESTS === '1';
const SCHEDULED = LONG ? 10_000 : 600;
const SERVER_URL = process.env.DATABASE_URL || DEFAULT_SERVER_URL;

let redis: PrivateRedis;
let database: { url: string; drop(): Promise<void> };
let apis: ServerProcess[] = [];
let workers: ServerProcess[] = [];
let token: string;
let accountId: string;
let client: pg.Client;

beforeAll(async () => {
  redis = await privateRedis();
  database = await scratchDatabase(SERVER_URL, 'shortcode_mpm');
  // Short leases: a killed worker's claimed messages are taken over within seconds.
  const common = { DATABASE_URL: database.url, REDIS_URL: redis.url, DATABASE_POOL_SIZE: '5', RATE_LIMIT_MAX: '1000000', DISPATCH_LEASE_MS: '3000', SIMULATOR_REPORT_DELAY_MS: '100', DISPATCH_BATCH_SIZE: '20', SENDER_RATE_PER_SECOND: String(LONG ? 1_000 : 100) };
  ({ accountId, token } = await newAccountToken(common));
  cli(common, ['account', 'credit', '--account', accountId, '--add', String(SCHEDULED * 2)]);
  ({ apis, workers } = await startApisAndWorkers(common));
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
}, 180_000);

afterAll(async () => {
  await client?.end();
  await Promise.all([...apis, ...workers].map((p) => p.kill()));
  await redis?.kill();
  await database?.drop();
});

const count = async (query: string, params: unknown[] = []) => Number((await client.query(query, params)).rows[0].n);

describe(`${SCHEDULED.toLocaleString('en-US')} scheduled messages, 2 API + 2 worker processes, one worker killed mid-run${LONG ? ' (long mode)' : ''}`, () => {
  it('sends every one exactly once', async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const phones = Array.from({ length: SCHEDULED }, (_, i) => `+1202${200 + (i % 800)}${String(Math.floor(i / 800)).padStart(2, '0')}99`);
    expect(new Set(phones).size).toBe(SCHEDULED);
    let next = 0;
    const failures: string[] = [];
    await Promise.all(
      Array.from({ length: 6 }, async (_, lane) => {
        for (let i = next++; i < SCHEDULED; i = next++) {
          const api = apis[(lane + i) % 2]!;
          const res = await fetch(`${api.base}/v1/message/schedule`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ phone_number: phones[i], message: `Scheduled ${i}`, send_at: sendAt }),
          });
          if (res.status !== 201) failures.push(`${res.status} ${await res.text()}`);
        }
      }),
    );
    expect(failures.slice(0, 3)).toEqual([]);
    expect(await count(`SELECT count(*)::int AS n FROM messages WHERE account_id = $1 AND status = 'scheduled'`, [accountId])).toBe(SCHEDULED);
    // Fast-forward the clock: every scheduled message falls due at the same moment.
    await client.query(`UPDATE messages SET next_attempt_at = now() WHERE account_id = $1 AND status = 'scheduled'`, [accountId]);

    // Kill one worker once part of the work is done.
    await waitFor('the first sends', async () => (await count(`SELECT count(*)::int AS n FROM simulator_messages WHERE direction = 'MT'`)) >= SCHEDULED * 0.1, 120_000, 50);
    await workers[0]!.kill();
    const atKill = await count(`SELECT count(*)::int AS n FROM simulator_messages WHERE direction = 'MT'`);
    expect(atKill).toBeLessThan(SCHEDULED * 0.9); // the worker died mid-run, with work left

    await waitFor(
      'every message to reach its handset',
      async () => (await count(`SELECT count(*)::int AS n FROM simulator_messages WHERE direction = 'MT'`)) >= SCHEDULED,
      LONG ? 600_000 : 120_000,
      200,
    );
    // Let any duplicate that was going to happen happen.
    await new Promise((r) => setTimeout(r, 4_000));
    const perHandset = await client.query(
      `SELECT handset, count(*)::int AS n FROM simulator_messages WHERE direction = 'MT' AND account_id = $1 GROUP BY handset HAVING count(*) <> 1`,
      [accountId],
    );
    expect(perHandset.rows).toEqual([]);
    expect(await count(`SELECT count(DISTINCT handset)::int AS n FROM simulator_messages WHERE direction = 'MT' AND account_id = $1`, [accountId])).toBe(SCHEDULED);
    expect(await count(`SELECT count(*)::int AS n FROM messages WHERE account_id = $1 AND type = 'OUTGOING' AND status IN ('scheduled', 'queued', 'sending')`, [accountId])).toBe(0);
    console.info(`scheduled ${SCHEDULED}: worker killed after ${atKill} hand-overs; all ${SCHEDULED} delivered once`);
  }, LONG ? 900_000 : 300_000);
});
