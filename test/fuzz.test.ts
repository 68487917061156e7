import fc from 'fast-check';
import type { InjectOptions } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from './helpers.js';
import {
  changedTables,
  databaseFingerprint,
  encodeLoose,
  fillPath,
  isErrorShape,
  loadOperations,
  operationName,
  type JsonSchema,
  type Operation,
} from './openapi-operations.js';

/**
 * Property-based fuzzing of every operation in the OpenAPI document the app serves, with an
 * all-scopes token: malformed and hostile path ids, query strings, bodies and content types.
 * For each request: never a 5xx; every error is `{status, message, errors}` with the HTTP
 * status; and a refused request (4xx) leaves every table of the database exactly as it was.
 *
 * Runs per operation: FUZZ_RUNS when set; otherwise about 1,000 requests in all, shared among
 * the operations (between 10 and 40 each) so the file stays well under two minutes as the API
 * grows; with SHORTCODE_LONG_TESTS=1, 300 per operation. A failure prints the shrunk request and
 * fast-check's seed; FUZZ_SEED=<seed> replays it.
 */
const LONG = process.env.SHORTCODE_LONG_TESTS === '1';
const runsPerOperation = (count: number) =>
  process.env.FUZZ_RUNS ? Number(process.env.FUZZ_RUNS) : LONG ? 300 : Math.max(10, Math.min(40, Math.round(1_000 / Math.max(1, count))));
const SEED = process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined;

// ---- hostile values -------------------------------------------------------------------------

const HOSTILE_STRINGS = [
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\ud83d',
  '\u202eevil\u202c',
  '\u200f\u0627\u0644\u0639\u0631\u0628\u064a\u0629',
  '\ufeff\u200b\u200d',
  'Z\u0351\u0352\u0353\u0354\u0355\u0356\u0357',
  '😀👍🏽👨‍👩‍👧',
  '\r\nX-Injected: 1',
  "' OR '1'='1",
  "'; DROP TABLE contacts; --",
  '1; SELECT pg_sleep(10)',
  '%',
  '_',
  '\\',
  '%00',
  '%27',
  '<script>alert(1)</script>',
  '{{7*7}}${7*7}',
  '${jndi:ldap://127.0.0.1/a}',
  '../../../../etc/passwd',
  '__proto__',
  'constructor',
  'null',
  'undefined',
  'NaN',
  'Infinity',
  '-0',
  '1e309',
  '99999999999999999999999999',
  '-9223372036854775809',
  '0x1F',
  'true',
  '2026-02-30T25:61:61Z',
  '0000-00-00',
  '+19999999999999999999',
  '00000000-0000-0000-0000-000000000000',
  'ffffffff-ffff-ffff-ffff-ffffffffffff',
  'a'.repeat(10_000),
  '\u00e9'.repeat(5_000),
  '😀'.repeat(3_000),
];

const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...HOSTILE_STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.integer({ min: 1, max: 70_000 }).map((n) => 'x'.repeat(n)) },
  { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...HOSTILE_STRINGS), fc.string({ maxLength: 10 })).map(([a, b]) => a + b) },
);

const hostileNumber: fc.Arbitrary<number> = fc.oneof(
  fc.constantFrom(0, -1, 1.5, -0.0001, 2 ** 31, 2 ** 53 + 2, -(2 ** 63), 1e308, Number.MAX_SAFE_INTEGER, Number.MIN_SAFE_INTEGER),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }),
);

/** Any JSON value, including deep and wide ones. */
const anyJson: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  { weight: 1, arbitrary: fc.integer({ min: 10, max: 3_000 }).map((d) => deepJson(d)) },
  { weight: 1, arbitrary: fc.integer({ min: 100, max: 20_000 }).map((n) => Array.from({ length: n }, (_, i) => i)) },
  { weight: 1, arbitrary: hostileString },
  { weight: 1, arbitrary: hostileNumber },
  { weight: 1, arbitrary: fc.constantFrom(null, true, false, [], {}) },
);

function deepJson(depth: number): unknown {
  let v: unknown = 'bottom';
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { a: v };
  return v;
}

/** Values shaped by the schema, each leaf sometimes valid, sometimes hostile or the wrong type. */
function fromSchema(schema: JsonSchema, resolve: (s: JsonSchema) => JsonSchema, depth = 0): fc.Arbitrary<unknown> {
  const s = resolve(schema);
  const wrong = fc.oneof(hostileString, hostileNumber, fc.constantFrom(null, true, false, [], {}, [1, 'a'], { x: 1 }));
  const variants = s.anyOf ?? s.oneOf;
  if (variants && variants.length) return fc.oneof(...variants.map((v) => fromSchema(v, resolve, depth + 1)), wrong);
  if (s.allOf && s.allOf.length) return fromSchema(s.allOf[0]!, resolve, depth + 1);
  if (s.enum && s.enum.length) return fc.oneof({ weight: 3, arbitrary: fc.constantFrom(...s.enum) }, { weight: 1, arbitrary: wrong });
  if (s.const !== undefined) return fc.oneof(fc.constant(s.const), wrong);
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return fc.oneof({ weight: 3, arbitrary: validishString(s) }, { weight: 3, arbitrary: hostileString }, { weight: 1, arbitrary: wrong });
    case 'integer':
    case 'number':
      return fc.oneof(
        { weight: 2, arbitrary: fc.integer({ min: Math.max(-1e6, s.minimum ?? -1e6), max: Math.min(1e6, s.maximum ?? 1e6) }) },
        { weight: 2, arbitrary: hostileNumber },
        { weight: 1, arbitrary: wrong },
      );
    case 'boolean':
      return fc.oneof({ weight: 3, arbitrary: fc.boolean() }, { weight: 1, arbitrary: fc.constantFrom('true', 'yes', 1, 0, null) });
    case 'array': {
      if (depth > 6) return fc.constant([]);
      const item = s.items ? fromSchema(s.items, resolve, depth + 1) : anyJson;
      return fc.oneof(
        { weight: 3, arbitrary: fc.array(item, { maxLength: 5 }) },
        { weight: 1, arbitrary: fc.integer({ min: 500, max: 5_000 }).chain((n) => item.map((v) => Array.from({ length: n }, () => v))) },
        { weight: 1, arbitrary: wrong },
      );
    }
    case 'object':
    case undefined: {
      if (depth > 6 || !s.properties) return anyJson;
      const props = Object.fromEntries(Object.entries(s.properties).map(([k, v]) => [k, fromSchema(v, resolve, depth + 1)]));
      const record = fc.record(props, { requiredKeys: [] });
      const extra = fc.dictionary(fc.oneof(hostileString, fc.constantFrom('__proto__', 'constructor', 'prototype', 'id', 'account_id')), anyJson, { maxKeys: 3 });
      return fc.oneof(
        { weight: 4, arbitrary: record },
        { weight: 1, arbitrary: fc.tuple(record, extra).map(([a, b]) => ({ ...b, ...a })) },
        { weight: 1, arbitrary: wrong },
      );
    }
    default:
      return anyJson;
  }
}

function validishString(s: JsonSchema): fc.Arbitrary<string> {
  switch (s.format) {
    case 'uuid':
      return fc.uuid();
    case 'date-time':
      return fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString());
    case 'date':
      return fc.date({ min: new Date('1900-01-01'), max: new Date('2200-01-01'), noInvalidDate: true }).map((d) => d.toISOString().slice(0, 10));
    case 'email':
      return fc.emailAddress();
    case 'uri':
      return fc.webUrl();
  }
  if (s.examples && Array.isArray(s.examples) && s.examples.length) return fc.constantFrom(...(s.examples as unknown[]).map(String));
  return fc.string({ minLength: s.minLength ?? 0, maxLength: Math.min(s.maxLength ?? 30, 30) });
}

// ---- requests ------------------------------------------------------------------------------

const pathValue: fc.Arbitrary<string> = fc.oneof(
  { weight: 2, arbitrary: fc.uuid() },
  { weight: 1, arbitrary: fc.uuid().map((u) => u.toUpperCase()) },
  { weight: 1, arbitrary: fc.uuid().map((u) => `${u}x`) },
  { weight: 1, arbitrary: fc.uuid().map((u) => `${u};DROP TABLE x`) },
  { weight: 1, arbitrary: fc.integer().map(String) },
  { weight: 4, arbitrary: hostileString.filter((v) => v.length > 0 && v.length < 3_000) },
);

const queryValue: fc.Arbitrary<string> = fc.oneof(
  hostileString.filter((v) => v.length < 3_000),
  hostileNumber.map(String),
  fc.constantFrom('-1', '0', '1', '100', '101', '1000000000000', '2147483648', 'abc', 'name', '-name', 'created_at,-name', ',,,', '-'),
);

function queryString(op: Operation, resolve: (s: JsonSchema) => JsonSchema): fc.Arbitrary<string> {
  const known = op.queryParams.map((p) => p.name);
  const documented = op.queryParams.flatMap((p) => {
    const s = resolve(p.schema);
    return s.properties ? Object.keys(s.properties).map((k) => `${p.name}[${k}]`) : [p.name];
  });
  const name = fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...(documented.length ? documented : ['limit'])) },
    { weight: 1, arbitrary: fc.constantFrom(...(known.length ? known : ['page']), 'include[]', 'filter[__proto__]', 'filter[a][b][c]', 'filter', 'sort[]', 'limit[]', 'page[x]') },
    { weight: 1, arbitrary: hostileString.filter((v) => v.length < 200).map((v) => `filter[${v}]`) },
    { weight: 1, arbitrary: hostileString.filter((v) => v.length < 200) },
  );
  const pair = fc.tuple(name, queryValue).map(([k, v]) => `${encodeQueryKey(k)}=${encodeLoose(v)}`);
  return fc.oneof(
    { weight: 6, arbitrary: fc.array(pair, { minLength: 0, maxLength: 6 }).map((pairs) => pairs.join('&')) },
    // raw, possibly malformed percent-encoding and separators
    { weight: 1, arbitrary: fc.constantFrom('%', '%zz', 'a=%E0%A4%A', '&&&', '=&=', 'limit=1&limit=2&limit=x', `filter[name]=${'%61'.repeat(2_000)}`, 'a[]=1&a[0]=2&a[x]=3', `${'x[]=1&'.repeat(300)}`) },
  );
}

function encodeQueryKey(key: string): string {
  // keep the bracket syntax readable for qs; encode everything else
  return encodeLoose(key).replace(/%5B/g, '[').replace(/%5D/g, ']');
}

interface FuzzRequest {
  pathValues: Record<string, string>;
  query: string;
  body: { kind: 'json'; value: unknown } | { kind: 'raw'; contentType: string | undefined; payload: string } | { kind: 'none' };
  accept: string | undefined;
}

function bodyArbitrary(op: Operation, resolve: (s: JsonSchema) => JsonSchema): fc.Arbitrary<FuzzRequest['body']> {
  const raw = fc.oneof(
    fc.record({
      kind: fc.constant('raw' as const),
      contentType: fc.constantFrom('text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/xml', 'application/json; charset=latin1', 'application/json', undefined, 'application/vnd.api+json', ';;;', 'application/json\u0000'),
      payload: fc.oneof(
        fc.constantFrom('{', '{"a":', 'nul', '[1,2', '{"__proto__":{"x":1}}', '{"constructor":{"prototype":{"x":1}}}', '\u0000', '<xml/>', 'a=1&b=2', '--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n1\r\n--x--', '\ufeff{}', '{"a":1,"a":2}'),
        fc.integer({ min: 1, max: 5_000 }).map((d) => '['.repeat(d * 10) + ']'.repeat(d * 10)),
        fc.integer({ min: 1, max: 3 }).map((n) => `{"x":"${'y'.repeat(n * 600_000)}"}`),
        hostileString,
      ),
    }),
  );
  const json = (op.body ? fromSchema(op.body, resolve) : anyJson).map((value) => ({ kind: 'json' as const, value }));
  return fc.oneof({ weight: 6, arbitrary: json }, { weight: 2, arbitrary: raw }, { weight: 1, arbitrary: fc.constant({ kind: 'none' as const }) });
}

function requestArbitrary(op: Operation, resolve: (s: JsonSchema) => JsonSchema): fc.Arbitrary<FuzzRequest> {
  return fc.record({
    pathValues: fc.record(Object.fromEntries(op.pathParams.map((p) => [p.name, pathValue]))) as fc.Arbitrary<Record<string, string>>,
    query: queryString(op, resolve),
    body: bodyArbitrary(op, resolve),
    accept: fc.constantFrom(undefined, undefined, 'application/json', '*/*', 'text/html', 'application/xml;q=1, */*;q=0', 'application/json;q=0', '\u0000'),
  });
}

function toInject(op: Operation, req: FuzzRequest, auth: Record<string, string>): InjectOptions {
  const headers: Record<string, string> = { ...auth };
  if (req.accept !== undefined) headers.accept = req.accept;
  const url = `${fillPath(op.path, req.pathValues)}${req.query ? `?${req.query}` : ''}`;
  const options: InjectOptions = { method: op.method, url, headers };
  if (req.body.kind === 'json') {
    headers['content-type'] = 'application/json';
    options.payload = JSON.stringify(req.body.value) ?? 'null';
  } else if (req.body.kind === 'raw') {
    if (req.body.contentType !== undefined) headers['content-type'] = req.body.contentType;
    options.payload = req.body.payload;
  }
  return options;
}

function describeRequest(options: InjectOptions): string {
  const payload = typeof options.payload === 'string' ? options.payload : '';
  const short = (s: string) => (s.length > 300 ? `${s.slice(0, 300)}… (${s.length} chars)` : s);
  return JSON.stringify({ method: options.method, url: short(String(options.url)), headers: { ...options.headers, authorization: '[token]' }, payload: short(payload) });
}

// ---- the test ------------------------------------------------------------------------------

let ctx: TestContext;
let operations: Operation[];
let resolve: (s: JsonSchema) => JsonSchema;
let auth: Record<string, string>;

beforeAll(async () => {
  ctx = await createTestApp();
  ({ operations, resolve } = await loadOperations(ctx.app));
  ({ auth } = await createAccountWithToken(ctx.app));
});
afterAll(() => ctx.close());

describe(`fuzzing every OpenAPI operation${LONG ? ' (long mode: SHORTCODE_LONG_TESTS=1)' : ''}`, () => {
  it('finds the operations in the served document', () => {
    expect(operations.length).toBeGreaterThan(0);
    expect(operations.map(operationName)).toContain('GET /v1/carriers/{id}');
  });

  it('answers hostile requests without a 5xx, always in the error shape, writing nothing when it refuses', async () => {
    const failures: string[] = [];
    const RUNS = runsPerOperation(operations.length);
    const statuses = new Map<string, Set<number>>();
    for (const op of operations) {
      const seen = new Set<number>();
      statuses.set(operationName(op), seen);
      // One fingerprint per request: the state after each request is the next one's "before"
      // (a request that succeeded may have written; a refused one must not have).
      let current = await databaseFingerprint(ctx.database.db);
      const result = await fc.check(
        fc.asyncProperty(requestArbitrary(op, resolve), async (req) => {
          const options = toInject(op, req, auth);
          const res = await ctx.app.inject(options);
          seen.add(res.statusCode);
          const before = current;
          current = await databaseFingerprint(ctx.database.db);
          if (res.statusCode >= 500) throw new Error(`${res.statusCode}: ${res.body.slice(0, 300)}`);
          if (res.statusCode >= 400) {
            if (!/^application\/json/.test(String(res.headers['content-type']))) throw new Error(`error without JSON content type: ${res.headers['content-type']}`);
            const body = safeJson(res.body);
            if (!isErrorShape(body, res.statusCode)) throw new Error(`error not in the documented shape: ${res.body.slice(0, 300)}`);
            const changed = changedTables(before, current);
            if (changed.length) throw new Error(`refused with ${res.statusCode} but wrote to: ${changed.join(', ')}`);
          }
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: false, maxSkipsPerRun: 10 },
      );
      if (result.failed) {
        const example = result.counterexample?.[0] as FuzzRequest | undefined;
        failures.push(
          `${operationName(op)}: ${result.errorInstance instanceof Error ? result.errorInstance.message : String(result.errorInstance)}\n` +
            `  request: ${example ? describeRequest(toInject(op, example, auth)) : '?'}\n  seed: ${result.seed}, path: ${result.counterexamplePath}`,
        );
      }
    }
    console.info(`fuzzed ${operations.length} operations × ${RUNS} requests; statuses seen: ${[...new Set([...statuses.values()].flatMap((x) => [...x]))].sort().join(', ')}`);
    expect(failures, failures.join('\n\n')).toEqual([]);
    // The fuzzer reached past validation somewhere: not every answer was a refusal.
    const all = [...statuses.values()].flatMap((s) => [...s]);
    expect(all.some((s) => s < 400)).toBe(true);
    expect(all.some((s) => s >= 400)).toBe(true);
  }, LONG ? 3_600_000 : 180_000);

  it('refuses bodies over the limit, deep JSON and unknown content types on every write operation, writing nothing', async () => {
    const writes = operations.filter((op) => op.method !== 'GET' && op.method !== 'DELETE');
    const pathValues = (op: Operation) => Object.fromEntries(op.pathParams.map((p) => [p.name, '00000000-0000-4000-8000-000000000000']));
    for (const op of writes) {
      const url = fillPath(op.path, pathValues(op));
      const cases: InjectOptions[] = [
        { method: op.method, url, headers: { ...auth, 'content-type': 'application/json' }, payload: `{"x":"${'y'.repeat(ctx.config.bodyLimitBytes + 10)}"}` },
        { method: op.method, url, headers: { ...auth, 'content-type': 'application/json' }, payload: '['.repeat(100_000) + ']'.repeat(100_000) },
        { method: op.method, url, headers: { ...auth, 'content-type': 'application/json' }, payload: `${'{"a":['.repeat(20_000)}1${']}'.repeat(20_000)}` },
        { method: op.method, url, headers: { ...auth, 'content-type': 'text/plain' }, payload: 'hello' },
        { method: op.method, url, headers: { ...auth, 'content-type': 'application/json' }, payload: '{"a":' },
      ];
      const before = await databaseFingerprint(ctx.database.db);
      for (const options of cases) {
        const res = await ctx.app.inject(options);
        expect(res.statusCode, `${operationName(op)} ${describeRequest(options)} → ${res.body.slice(0, 200)}`).toBeGreaterThanOrEqual(400);
        expect(res.statusCode).toBeLessThan(500);
        expect(isErrorShape(safeJson(res.body), res.statusCode), res.body.slice(0, 200)).toBe(true);
      }
      expect(changedTables(before, await databaseFingerprint(ctx.database.db)), operationName(op)).toEqual([]);
    }
  }, 120_000);
});

describe('URLs the router cannot decode', () => {
  it('answers 404 in the error shape for invalid percent-encoding, lone surrogates and over-long ids', async () => {
    for (const url of ['/v1/carriers/%ED%A0%80', '/v1/carriers/%E0%A4%A', `/v1/carriers/${'a'.repeat(300)}`, '/v1/carriers/%zz', '/v1/%C0%AF']) {
      const res = await ctx.app.inject({ method: 'GET', url, headers: auth });
      expect(res.statusCode, url).toBe(404);
      expect(res.json()).toEqual({ status: 404, message: 'Resource not found.', errors: {} });
      expect(res.headers['x-request-id']).toEqual(expect.any(String));
    }
  });
});

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
