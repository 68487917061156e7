import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { createAccountWithToken, createTestApp, createTestDatabase, testConfig, type TestContext, type TestDatabase } from './helpers.js';

describe('rate limits (in memory)', () => {
  let ctx: TestContext;
  beforeAll(async () => {
    ctx = await createTestApp({ RATE_LIMIT_MAX: '3', RATE_LIMIT_WINDOW_MS: '1500' });
  });
  afterAll(() => ctx.close());

  it('counts per token and route, answers 429 with Retry-After, and resets after the window', async () => {
    const { auth } = await createAccountWithToken(ctx.app);
    const hit = () => ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: auth });
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await hit();
      expect(res.statusCode).toBe(200);
      expect(res.headers['x-ratelimit-limit']).toBe('3');
      remaining.push(String(res.headers['x-ratelimit-remaining']));
    }
    expect(remaining).toEqual(['2', '1', '0']);

    const limited = await hit();
    expect(limited.statusCode).toBe(429);
    expect(Number(limited.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(limited.headers['x-ratelimit-remaining']).toBe('0');
    expect(limited.json()).toEqual({ status: 429, message: expect.stringMatching(/Too many requests/), errors: {} });

    // Another route has its own budget, and so does another token.
    const other = await ctx.app.inject({ method: 'GET', url: '/v1/carriers/00000000-0000-4000-8000-000000000000', headers: auth });
    expect(other.statusCode).toBe(404);
    const { auth: second } = await createAccountWithToken(ctx.app);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: second })).statusCode).toBe(200);

    await new Promise((r) => setTimeout(r, 1600));
    const again = await hit();
    expect(again.statusCode).toBe(200);
    expect(again.headers['x-ratelimit-remaining']).toBe('2');
  });
});

describe('rate limits shared through Redis', () => {
  let database: TestDatabase;
  let redis: Redis;
  beforeAll(async () => {
    database = await createTestDatabase();
    redis = new Redis('redis://127.0.0.1:6379', { enableOfflineQueue: true, maxRetriesPerRequest: 1 });
  });
  afterAll(async () => {
    redis.disconnect();
    await database.dispose();
  });

  it('two API instances share one budget per token and route', async () => {
    const config = testConfig({ RATE_LIMIT_MAX: '4', RATE_LIMIT_WINDOW_MS: '60000' });
    const a = await buildApp({ config, database, redis, logger: false });
    const b = await buildApp({ config, database, redis, logger: false });
    try {
      await redis.ping();
      const { auth } = await createAccountWithToken(a);
      const codes: number[] = [];
      for (const app of [a, b, a, b, a, b]) codes.push((await app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: auth })).statusCode);
      expect(codes).toEqual([200, 200, 200, 200, 429, 429]);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('keeps serving, counting per process, when Redis is unreachable', async () => {
    const dead = new Redis('redis://127.0.0.1:1', { enableOfflineQueue: false, maxRetriesPerRequest: 0, lazyConnect: true, retryStrategy: () => null });
    dead.on('error', () => undefined);
    const app = await buildApp({ config: testConfig({ RATE_LIMIT_MAX: '2' }), database, redis: dead, logger: false });
    try {
      const { auth } = await createAccountWithToken(app);
      const started = Date.now();
      const codes: number[] = [];
      for (let i = 0; i < 3; i++) codes.push((await app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: auth })).statusCode);
      expect(codes).toEqual([200, 200, 429]);
      expect(Date.now() - started).toBeLessThan(5_000);
    } finally {
      await app.close();
      dead.disconnect();
    }
  });
});

describe('database outage', () => {
  it('answers 503 in the error shape when the database is gone', async () => {
    const ctx = await createTestApp();
    const { auth } = await createAccountWithToken(ctx.app);
    await ctx.database.close();
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: auth });
    expect(res.statusCode).toBe(503);
    expect(res.json()).toEqual({ status: 503, message: expect.any(String), errors: {} });
    expect((await ctx.app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(503);
    await ctx.app.close();
    await ctx.database.dispose().catch(() => undefined);
  });
});
