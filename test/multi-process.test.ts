import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  DEFAULT_SERVER_URL,
  newAccountToken,
  newToken,
  privateRedis,
  scratchDatabase,
  startServer,
  waitFor,
  type PrivateRedis,
  type ServerProcess,
} from './processes.js';

/**
 * Scale-out with real processes: 2 API processes (`ROLE=api` and `--role api`) and 2 workers
 * (`--role worker`) on one PostgreSQL database and one Redis (a private redis-server, so it can
 * be killed). Runs on the PostgreSQL server of DATABASE_URL, or the local test server when the
 * suite runs on the embedded database (several processes cannot share PGlite).
 */
const SERVER_URL = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
const LIMIT = 20;

let redis: PrivateRedis;
let database: { url: string; drop(): Promise<void> };
let apis: ServerProcess[] = [];
let workers: ServerProcess[] = [];
/** One token per phase: rate-limit budgets are per token and route. */
let tokens: { smoke: string; shared: string; outage: string; probe: string; after: string };

beforeAll(async () => {
  redis = await privateRedis();
  database = await scratchDatabase(SERVER_URL, 'shortcode_mp');
  const common = { DATABASE_URL: database.url, DATABASE_POOL_SIZE: '4', REDIS_URL: redis.url, RATE_LIMIT_MAX: String(LIMIT), RATE_LIMIT_WINDOW_MS: '60000' };
  // The CLI migrates the database before the servers start, as an operator would.
  const { accountId, token } = await newAccountToken(common);
  tokens = { smoke: newToken(common, accountId), shared: token, outage: newToken(common, accountId), probe: newToken(common, accountId), after: newToken(common, accountId) };
  [apis, workers] = await Promise.all([
    Promise.all([startServer({ ...common, ROLE: 'api' }), startServer(common, ['--role', 'api'])]),
    Promise.all([startServer(common, ['--role', 'worker']), startServer({ ...common, ROLE: 'api' }, ['--role=worker'])]),
  ]);
}, 120_000);

afterAll(async () => {
  await Promise.all([...apis, ...workers].map((p) => p.kill()));
  await redis?.kill();
  await database?.drop();
});

const get = (server: ServerProcess, path: string, token = tokens.shared) =>
  fetch(`${server.base}${path}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(5_000) });

describe('2 API and 2 worker processes on one PostgreSQL and one Redis', () => {
  it('all four are ready; the flag decides the role over ROLE', async () => {
    for (const p of [...apis, ...workers]) expect((await fetch(`${p.base}/readyz`)).status).toBe(200);
    // Workers serve only health and metrics, not the API.
    expect((await get(apis[0]!, '/v1/carriers?limit=1', tokens.smoke)).status).toBe(200);
    expect((await get(apis[1]!, '/v1/carriers?limit=1', tokens.smoke)).status).toBe(200);
    for (const worker of workers) {
      expect((await get(worker, '/v1/carriers?limit=1', tokens.smoke)).status).toBe(404);
      expect((await fetch(`${worker.base}/metrics`)).status).toBe(200);
    }
  });

  it("holds a token's rate limit across both API processes", async () => {
    const codes: number[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) codes.push((await get(apis[i % 2]!, '/v1/carriers?limit=2')).status);
    expect(codes.filter((c) => c === 200)).toHaveLength(LIMIT);
    expect(codes.slice(0, LIMIT).every((c) => c === 200)).toBe(true);
    expect(codes.slice(LIMIT).every((c) => c === 429)).toBe(true);
  });

  it('keeps serving when Redis dies (limits per process, with a warning), and shares limits again when it is back', async () => {
    await redis.kill();
    const started = Date.now();
    const codes: number[] = [];
    for (let i = 0; i < 3 * LIMIT; i++) codes.push((await get(apis[i % 2]!, '/v1/carriers?limit=3', tokens.outage)).status);
    expect(Date.now() - started).toBeLessThan(15_000);
    // Each process counts on its own: up to LIMIT each, so 2 × LIMIT in all, and no errors.
    expect(codes.filter((c) => c === 200)).toHaveLength(2 * LIMIT);
    expect(codes.filter((c) => c !== 200 && c !== 429)).toEqual([]);
    for (const api of apis) expect(api.output()).toMatch(/Redis is unavailable: rate limits are counted per process/);

    await redis.start();
    // ioredis reconnects on its own (backoff up to 2 s): wait until two consecutive requests
    // to the two processes draw on one budget.
    await waitFor(
      'both API processes to count in Redis again',
      async () => {
        const first = Number((await get(apis[0]!, '/v1/carriers?limit=4', tokens.probe)).headers.get('x-ratelimit-remaining'));
        const second = Number((await get(apis[1]!, '/v1/carriers?limit=4', tokens.probe)).headers.get('x-ratelimit-remaining'));
        return second === first - 1;
      },
      8_000,
      500,
    );
    const after: number[] = [];
    for (let i = 0; i < 2 * LIMIT; i++) after.push((await get(apis[i % 2]!, '/v1/carriers?limit=5', tokens.after)).status);
    expect(after.filter((c) => c === 200)).toHaveLength(LIMIT);
  });
});
