import {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  BadRequestError,
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  RateLimitError,
  ServerError,
  Shortcode,
  ShortcodeError,
  UnauthorizedError,
  normaliseBaseUrl,
  serialiseQuery,
} from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
let client: Shortcode;
let token: string;

beforeAll(async () => {
  server = await startServer();
  ({ client, token } = await server.newAccount());
});
afterAll(() => server.close());

/** A fetch that records every request and delegates to the real one. */
function recordingFetch() {
  const calls: Array<{ url: string; init: RequestInit }> = [];
  const fetchImpl: typeof fetch = async (input, init) => {
    calls.push({ url: String(input), init: init ?? {} });
    return fetch(input, init);
  };
  return { calls, fetchImpl };
}

const header = (init: RequestInit, name: string) => (init.headers as Record<string, string>)[name];

describe('requests', () => {
  it('lists a page with limit, page, filter and sort, typed from the OpenAPI document', async () => {
    const page = await client.carriers.list({ limit: 2, page: 2, filter: { country: 'US' }, sort: '-name' });
    expect(page.data).toHaveLength(2);
    expect(page.meta.pagination).toMatchObject({ per_page: 2, current_page: 2, count: 2 });
    expect(page.data.every((c) => c.country === 'US')).toBe(true);
    const names = page.data.map((c) => c.name);
    expect([...names].sort().reverse()).toEqual(names);
    expect(page.meta.pagination.links.previous).toContain('page=1');
  });

  it('sends the bearer token, Accept and the list query as the API reads it', async () => {
    const { calls, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: `${server.baseUrl}/v1/`, fetch: fetchImpl });
    await recorded.carriers.list({ limit: 1, filter: { name: 'Veri', country: undefined }, sort: ['country', '-name'] });
    expect(calls).toHaveLength(1);
    expect(calls[0]!.url).toBe(`${server.baseUrl}/v1/carriers?limit=1&filter[name]=Veri&sort=country%2C-name`);
    expect(header(calls[0]!.init, 'authorization')).toBe(`Bearer ${token}`);
    expect(header(calls[0]!.init, 'accept')).toBe('application/json');
    expect(calls[0]!.init.body).toBeUndefined();
  });

  it('retrieves one resource by id', async () => {
    const [first] = (await client.carriers.list({ limit: 1 })).data;
    const carrier = await client.carriers.retrieve(first!.id);
    expect(carrier).toEqual(first);
  });

  it('iterates over every page through links.next, and listAll gathers them', async () => {
    const total = (await client.carriers.list({ limit: 1 })).meta.pagination.total;
    expect(total).toBeGreaterThan(5);
    const { calls, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl });
    const seen: string[] = [];
    for await (const carrier of recorded.carriers.iterate({ limit: 4, sort: 'name' })) seen.push(carrier.id);
    expect(seen).toHaveLength(total);
    expect(new Set(seen).size).toBe(total);
    expect(calls).toHaveLength(Math.ceil(total / 4));
    // The server's links are absolute URLs on its PUBLIC_URL (http://shortcode.test here): the
    // SDK requests their path and query on its own base URL, never sending the token elsewhere.
    expect(calls.every((c) => c.url.startsWith(`${server.baseUrl}/v1/carriers?`))).toBe(true);
    expect(calls[1]!.url).toBe(`${server.baseUrl}/v1/carriers?limit=4&sort=name&page=2`);
    const all = await client.carriers.listAll({ limit: 4, sort: 'name' });
    expect(all.map((c) => c.id)).toEqual(seen);
  });

  it('stops iterating early when the loop breaks, without fetching further pages', async () => {
    const { calls, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl });
    let n = 0;
    for await (const _ of recorded.carriers.iterate({ limit: 2 })) if (++n === 3) break;
    expect(calls).toHaveLength(2);
  });
});

describe('errors', () => {
  it('401 without a valid token is an UnauthorizedError with the server message and request id', async () => {
    const bad = server.client({ token: '00000000-0000-0000-0000-000000000000' });
    const error = await bad.carriers.list().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnauthorizedError);
    expect(error).toBeInstanceOf(APIError);
    expect(error).toBeInstanceOf(ShortcodeError);
    const e = error as UnauthorizedError;
    expect(e.status).toBe(401);
    expect(e.message).toMatch(/invalid, expired or revoked/);
    expect(e.errors).toEqual({});
    expect(e.requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(e.name).toBe('UnauthorizedError');
  });

  it('no token at all is refused before any request', async () => {
    const { calls, fetchImpl } = recordingFetch();
    const anonymous = new Shortcode({ baseUrl: server.baseUrl, fetch: fetchImpl });
    await expect(anonymous.carriers.list()).rejects.toThrow(/No access token/);
    expect(calls).toHaveLength(0);
  });

  it('403 when the token lacks the scope', async () => {
    const { client: limited } = await server.newAccount(['contacts.view']);
    const error = (await limited.carriers.list().catch((e: unknown) => e)) as ForbiddenError;
    expect(error).toBeInstanceOf(ForbiddenError);
    expect(error.status).toBe(403);
    expect(error.message).toContain('carriers.view');
  });

  it('404 for an unknown id, 400 with field errors for an unknown filter, 405 for a wrong method', async () => {
    const missing = (await client.carriers.retrieve('5f0c6a43-8a3e-4c1e-9a8e-000000000000').catch((e: unknown) => e)) as NotFoundError;
    expect(missing).toBeInstanceOf(NotFoundError);
    expect(missing.status).toBe(404);

    const bad = (await client.carriers.list({ filter: { colour: 'red' } }).catch((e: unknown) => e)) as BadRequestError;
    expect(bad).toBeInstanceOf(BadRequestError);
    expect(bad.message).toBe('Unknown filter "colour".');
    expect(bad.errors['filter[colour]']?.[0]).toMatch(/Allowed filters/);

    const wrong = (await client.request({ method: 'DELETE', path: '/v1/carriers' }).catch((e: unknown) => e)) as MethodNotAllowedError;
    expect(wrong).toBeInstanceOf(MethodNotAllowedError);
    expect(wrong.headers.allow).toContain('GET');
  });

  it('keeps a caller-chosen X-Request-Id, which the error then carries', async () => {
    const traced = server.client({ token: 'nope', headers: { 'x-request-id': 'trace-0123456789' } });
    const error = (await traced.carriers.list().catch((e: unknown) => e)) as UnauthorizedError;
    expect(error.requestId).toBe('trace-0123456789');
  });

  it('an unreachable server is an APIConnectionError naming the base URL', async () => {
    const closed = new Shortcode({ token, baseUrl: 'http://127.0.0.1:9', maxRetries: 0 });
    const error = (await closed.carriers.list().catch((e: unknown) => e)) as APIConnectionError;
    expect(error).toBeInstanceOf(APIConnectionError);
    expect(error.status).toBeUndefined();
    expect(error.message).toContain('http://127.0.0.1:9');
  });

  it('a request slower than timeoutMs is an APIConnectionTimeoutError', async () => {
    const slowFetch: typeof fetch = (input, init) =>
      new Promise((_resolve, reject) => init?.signal?.addEventListener('abort', () => reject(init.signal!.reason)));
    const slow = new Shortcode({ token, baseUrl: server.baseUrl, fetch: slowFetch, timeoutMs: 50, maxRetries: 0 });
    await expect(slow.carriers.list()).rejects.toBeInstanceOf(APIConnectionTimeoutError);
  });

  it('a non-JSON error page (a proxy) still becomes the typed error', async () => {
    const proxy: typeof fetch = async () => new Response('<html>Bad gateway</html>', { status: 502, statusText: 'Bad Gateway', headers: { 'x-request-id': 'proxy-1' } });
    const behindProxy = new Shortcode({ token, baseUrl: server.baseUrl, fetch: proxy });
    const error = (await behindProxy.carriers.list().catch((e: unknown) => e)) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.status).toBe(502);
    expect(error.message).toBe('The server answered 502 Bad Gateway.');
    expect(error.requestId).toBe('proxy-1');
  });
});

describe('retries', () => {
  /** A fetch that fails the first `failures` calls as `failure` says, then reaches the server. */
  function flakyFetch(failures: number, failure: () => Promise<Response>) {
    const calls: RequestInit[] = [];
    const fetchImpl: typeof fetch = async (input, init) => {
      calls.push(init ?? {});
      if (calls.length <= failures) return failure();
      return fetch(input, init);
    };
    return { calls, fetchImpl };
  }
  const networkError = () => Promise.reject(new TypeError('fetch failed', { cause: new Error('ECONNRESET') }));
  const unavailable = (retryAfter?: string) => async () =>
    new Response(JSON.stringify({ status: 503, message: 'The service is temporarily unavailable. Please try again later.', errors: {} }), {
      status: 503,
      headers: { 'content-type': 'application/json', ...(retryAfter ? { 'retry-after': retryAfter } : {}) },
    });

  it('retries a 503 with Retry-After, then succeeds', async () => {
    const { calls, fetchImpl } = flakyFetch(2, unavailable('0'));
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 2 });
    const page = await retrying.carriers.list({ limit: 1 });
    expect(page.data).toHaveLength(1);
    expect(calls).toHaveLength(3);
  });

  it('gives up after maxRetries with a ServerError carrying the 503', async () => {
    const { calls, fetchImpl } = flakyFetch(5, unavailable('0'));
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 1 });
    const error = (await retrying.carriers.list().catch((e: unknown) => e)) as ServerError;
    expect(error).toBeInstanceOf(ServerError);
    expect(error.status).toBe(503);
    expect(error.message).toMatch(/temporarily unavailable/);
    expect(calls).toHaveLength(2);
  });

  it('does not wait for a Retry-After beyond maxRetryDelayMs: the error comes at once', async () => {
    const { calls, fetchImpl } = flakyFetch(5, unavailable('3600'));
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 3, maxRetryDelayMs: 1000 });
    const started = Date.now();
    await expect(retrying.carriers.list()).rejects.toBeInstanceOf(ServerError);
    expect(calls).toHaveLength(1);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('retries network errors on GET', async () => {
    const { calls, fetchImpl } = flakyFetch(1, networkError);
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 1 });
    expect((await retrying.carriers.list({ limit: 1 })).data).toHaveLength(1);
    expect(calls).toHaveLength(2);
  });

  it('never repeats a POST without an Idempotency-Key after a network error', async () => {
    const { calls, fetchImpl } = flakyFetch(1, networkError);
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 3 });
    const error = await retrying.request({ method: 'POST', path: '/v1/carriers', body: {} }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(APIConnectionError);
    expect((error as Error).message).toContain('ECONNRESET');
    expect(calls).toHaveLength(1);
  });

  it('repeats a POST that carries an Idempotency-Key, with the same key', async () => {
    const { calls, fetchImpl } = flakyFetch(1, networkError);
    const retrying = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl, maxRetries: 1 });
    // The carriers collection has no POST: the retried request reaches the server and is answered 405.
    await expect(retrying.request({ method: 'POST', path: '/v1/carriers', body: {}, idempotent: true })).rejects.toBeInstanceOf(MethodNotAllowedError);
    expect(calls).toHaveLength(2);
    const keys = calls.map((c) => header(c, 'idempotency-key'));
    expect(keys[0]).toMatch(/^[0-9a-f-]{36}$/);
    expect(keys[1]).toBe(keys[0]);
  });
});

describe('rate limits against the real limiter', () => {
  let limited: TestServer;
  beforeAll(async () => {
    // A window long enough that the three requests below always fall in one, even on a loaded machine.
    limited = await startServer({ RATE_LIMIT_MAX: '2', RATE_LIMIT_WINDOW_MS: '4000' });
  });
  afterAll(() => limited.close());

  it('raises RateLimitError with retryAfter when retries are off, and waits it out when on', async () => {
    const { token: t } = await limited.newAccount();
    const noRetry = limited.client({ token: t, maxRetries: 0 });
    await noRetry.carriers.list({ limit: 1 });
    await noRetry.carriers.list({ limit: 1 });
    const error = (await noRetry.carriers.list({ limit: 1 }).catch((e: unknown) => e)) as RateLimitError;
    expect(error).toBeInstanceOf(RateLimitError);
    expect(error.status).toBe(429);
    expect(error.retryAfter).toBeGreaterThanOrEqual(1);
    expect(error.message).toMatch(/Too many requests/);
    expect(error.headers['x-ratelimit-limit']).toBe('2');

    const patient = limited.client({ token: t, maxRetries: 3 });
    const page = await patient.carriers.list({ limit: 1 });
    expect(page.data).toHaveLength(1);
  });
});

describe('helpers', () => {
  it('normalises the base URL', () => {
    expect(normaliseBaseUrl('https://sms.example.com/')).toBe('https://sms.example.com');
    expect(normaliseBaseUrl('https://sms.example.com/v1/')).toBe('https://sms.example.com');
    expect(normaliseBaseUrl('https://example.com/shortcode/v1?x=1')).toBe('https://example.com/shortcode');
    expect(() => normaliseBaseUrl('sms.example.com')).toThrow(ShortcodeError);
    expect(() => normaliseBaseUrl('ftp://sms.example.com')).toThrow(/http or https/);
  });

  it('serialises filters, includes, arrays and dates', () => {
    expect(
      serialiseQuery({
        limit: 10,
        filter: { created_at_min: new Date('2026-01-02T03:04:05.000Z'), phone_number: '+1 202', skip: undefined },
        include: ['receipt', 'contact.carrier'],
        sort: '-created_at',
        page: undefined,
      }),
    ).toBe('?limit=10&filter[created_at_min]=2026-01-02T03%3A04%3A05.000Z&filter[phone_number]=%2B1%20202&include=receipt%2Ccontact.carrier&sort=-created_at');
    expect(serialiseQuery({})).toBe('');
    expect(serialiseQuery({ include: [] })).toBe('');
  });
});
