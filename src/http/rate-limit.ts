import { createRequire } from 'node:module';
import rateLimit from '@fastify/rate-limit';
import type { FastifyBaseLogger, FastifyInstance, FastifyRequest } from 'fastify';
import type { Redis } from 'ioredis';
import { AppError } from '../lib/errors.js';

const require = createRequire(import.meta.url);
// @fastify/rate-limit's own stores; the Redis one is wrapped below so an outage degrades.
const LocalStore = require('@fastify/rate-limit/store/LocalStore.js') as new (...args: unknown[]) => RateLimitStore;
const RedisStore = require('@fastify/rate-limit/store/RedisStore.js') as new (...args: unknown[]) => RateLimitStore;

type IncrCallback = (err: Error | null, result: { current: number; ttl: number } | null) => void;
interface RateLimitStore {
  incr(key: string, cb: IncrCallback, timeWindow: number, max: number): void;
  child(routeOptions: unknown): RateLimitStore;
}

export interface RateLimitOptions {
  max: number;
  windowMs: number;
  redis?: Redis | undefined;
  /** How long a Redis round trip may take before this process counts on its own. */
  redisTimeoutMs?: number;
}

/**
 * Counts in Redis when it is configured, so every API process shares one budget per token and
 * route. If Redis is slow or down the request is counted in this process instead (with a
 * warning at most once a minute): limits loosen, requests never fail or hang on Redis.
 */
function resilientStoreClass(redis: Redis, timeoutMs: number, log: FastifyBaseLogger) {
  let lastWarning = 0;
  const warn = (err: unknown) => {
    const now = Date.now();
    if (now - lastWarning < 60_000) return;
    lastWarning = now;
    log.warn({ err }, 'Redis is unavailable: rate limits are counted per process until it is back');
  };
  return class ResilientStore implements RateLimitStore {
    private readonly shared: RateLimitStore;
    private readonly local: RateLimitStore;
    // eslint-disable-next-line @typescript-eslint/no-explicit-any
    constructor(params: any) {
      this.shared = new RedisStore(params.continueExceeding, params.exponentialBackoff, redis, 'shortcode:rl:');
      this.local = new LocalStore(params.continueExceeding, params.exponentialBackoff, 100_000);
    }
    incr(key: string, cb: IncrCallback, timeWindow: number, max: number): void {
      if (redis.status !== 'ready') {
        warn(new Error(`redis connection is ${redis.status}`));
        this.local.incr(key, cb, timeWindow, max);
        return;
      }
      let settled = false;
      const timer = setTimeout(() => {
        if (settled) return;
        settled = true;
        warn(new Error(`redis did not answer within ${timeoutMs} ms`));
        this.local.incr(key, cb, timeWindow, max);
      }, timeoutMs);
      this.shared.incr(
        key,
        (err, result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          if (err || !result) {
            warn(err);
            this.local.incr(key, cb, timeWindow, max);
          } else cb(null, result);
        },
        timeWindow,
        max,
      );
    }
    child(): RateLimitStore {
      return this;
    }
  };
}

/** The key: one budget per token (or client address before authentication) and route. */
function keyFor(request: FastifyRequest): string {
  const who = request.auth ? `t:${request.auth.tokenId}` : `ip:${request.ip}`;
  return `${who}|${request.method} ${request.routeOptions.url ?? request.url}`;
}

/**
 * Registers the per-token, per-route limiter in the calling (encapsulated) context: every route
 * registered after it in that context is limited. It runs after authentication (onRequest), so
 * it knows the token, and before the body is parsed.
 */
export async function registerRateLimit(app: FastifyInstance, options: RateLimitOptions): Promise<void> {
  await app.register(rateLimit, {
    global: true,
    hook: 'preParsing',
    max: options.max,
    timeWindow: options.windowMs,
    cache: 100_000,
    keyGenerator: keyFor,
    // The typings omit the (timeWindow, max) arguments the plugin passes to incr().
    ...(options.redis ? { store: resilientStoreClass(options.redis, options.redisTimeoutMs ?? 100, app.log) as never } : {}),
    addHeadersOnExceeding: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true },
    addHeaders: { 'x-ratelimit-limit': true, 'x-ratelimit-remaining': true, 'x-ratelimit-reset': true, 'retry-after': true },
    errorResponseBuilder: (_request, context) =>
      new AppError(429, `Too many requests. Retry in ${context.after}.`, {}),
  });
}
