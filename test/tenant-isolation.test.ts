import { randomBytes, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DB } from '../src/db/tables.js';
import { createAccountWithToken, createTestApp, type TestContext } from './helpers.js';
import { fillPath, loadOperations, operationName, type JsonSchema, type Operation } from './openapi-operations.js';

/**
 * Tenant isolation over every operation of the served OpenAPI document. Account A creates one
 * resource of every kind a path names; account B then calls every operation with A's ids (in
 * the path, and in the body wherever the body takes an id). Zero leaks means:
 *  - B's answer for A's id is the answer for an id that does not exist (same status, same body
 *    once ids are masked): nothing tells B that A's resource exists;
 *  - no answer to B contains any of A's ids or A's marker text;
 *  - A's rows (every table with account_id, and A's account row) are byte-for-byte unchanged.
 *
 * How to create each kind of resource is the table below, keyed by the path segments before a
 * path parameter (`/v1/contacts/{id}/groups/{group}` names `contacts` and `contacts/groups`...
 * see `kindOf`). An operation whose path names a kind missing from the table fails the test,
 * so a new resource cannot slip through unchecked.
 */

interface Api {
  app: FastifyInstance;
  auth: Record<string, string>;
  /** Unique text to put in every resource A creates; B must never see it. */
  marker: string;
  /** Ids already created for this account, by kind. */
  ids: Record<string, string>;
}

type Fixture =
  | { shared: string; pick: (api: Api) => Promise<string> }
  | {
      create: (api: Api) => Promise<string>;
      /** A value of this kind that exists nowhere (default: a random UUID). */
      absent?: () => string;
      /**
       * A key, not a record (a handset's phone number): B may get a 200 for it, as for any other
       * value, as long as the answer is the one for a value that exists nowhere.
       */
      key?: true;
    };

async function call(api: Api, method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, body?: unknown) {
  const res = await api.app.inject({ method, url, headers: { ...api.auth, 'content-type': 'application/json' }, payload: body === undefined ? undefined : JSON.stringify(body) });
  if (res.statusCode >= 300) throw new Error(`fixture ${method} ${url} → ${res.statusCode} ${res.body}`);
  return res.json() as { data: Record<string, unknown> & { id: string } } & { data: unknown };
}

const firstId = async (api: Api, url: string) => {
  const body = (await call(api, 'GET', url)) as unknown as { data: Array<{ id: string }> };
  if (!body.data[0]) throw new Error(`fixture: ${url} is empty`);
  return body.data[0].id;
};

let phoneCounter = 0;
/** A valid US number in the fictional 555-01xx range (unique within this file). */
const uniquePhone = () => `+1201555${String(100 + (phoneCounter++ % 100)).padStart(4, '0')}`;

const FIXTURES: Record<string, Fixture> = {
  carriers: { shared: 'carriers are reference data shared by every account', pick: (api) => firstId(api, '/v1/carriers?limit=1') },
  'opt-ins': { shared: 'opt-in types are reference data shared by every account', pick: (api) => firstId(api, '/v1/opt-ins?limit=1') },
  contacts: {
    create: async (api) => (await call(api, 'POST', '/v1/contacts', { phone_number: uniquePhone(), first_name: api.marker, last_name: api.marker })).data.id,
  },
  groups: { create: async (api) => (await call(api, 'POST', '/v1/groups', { name: `${api.marker} group` })).data.id },
  'contacts/groups': { create: async (api) => api.ids.groups ?? (await FIXTURES_CREATE('groups', api)) },
  messages: { create: async (api) => (await call(api, 'POST', '/v1/message', { phone_number: uniquePhone(), message: `${api.marker} hello` })).data.id },
  'message/schedule': {
    create: async (api) =>
      (await call(api, 'POST', '/v1/message/schedule', { phone_number: uniquePhone(), message: `${api.marker} later`, send_at: new Date(Date.now() + 86_400_000).toISOString() })).data.id,
  },
  'messages/schedule': { create: (api) => FIXTURES_CREATE('message/schedule', api) },
  // The simulated carrier's handsets are phone numbers; B asks for what the handset A texted received.
  'simulator/handsets': {
    create: async (api) => {
      const phone = uniquePhone();
      await call(api, 'POST', '/v1/message', { phone_number: phone, message: `${api.marker} to a handset` });
      return phone;
    },
    absent: () => `+1202555${String(100 + Math.floor(Math.random() * 100)).padStart(4, '0')}`,
    key: true,
  },
  webhooks: {
    create: async (api) => (await call(api, 'POST', '/v1/webhooks', { url: `https://127.0.0.1:9/${api.marker}`, events: ['delivery_report'] })).data.id,
  },
  // A delivery is made by the outbox worker; the fixture records one as the worker would.
  'webhooks/deliveries': {
    create: async (api) => {
      const endpoint = api.ids.webhooks ?? (await FIXTURES_CREATE('webhooks', api));
      const id = randomUUID();
      const accountId = (await api.app.services.tokens.authenticate(api.auth.authorization!.slice('Bearer '.length)))!.accountId;
      await sql`INSERT INTO webhook_deliveries (id, account_id, endpoint_id, event_type, event_ids, msg_id, payload, status, attempts)
                VALUES (${id}, ${accountId}, ${endpoint}, 'delivery_report', ARRAY[${randomUUID()}]::uuid[], ${`msg_${randomUUID()}`},
                        ${JSON.stringify({ marker: api.marker })}, 'failed', 1)`.execute(api.app.database.db);
      return id;
    },
  },
  fields: { create: async (api) => (await call(api, 'POST', '/v1/fields', { name: `f_${api.marker.replace(/\W/g, '_')}`, type: 'text' })).data.id },
  'coupon_templates': { shared: 'coupon designs are reference data shared by every account', pick: (api) => firstId(api, '/v1/coupon_templates?limit=1') },
  'campaigns/templates': {
    create: async (api) => (await call(api, 'POST', '/v1/campaigns/templates', { name: `${api.marker} template`, message: `${api.marker} offer` })).data.id,
  },
  // A draft: a campaign created to send now would text A's audience.
  campaigns: {
    create: async (api) => (await call(api, 'POST', '/v1/campaigns', { name: `${api.marker} campaign`, message: `${api.marker} sale`, draft: true })).data.id,
  },
  coupons: { create: async (api) => (await call(api, 'POST', '/v1/coupons', { name: `${api.marker} coupon`, title: `${api.marker} 10% off` })).data.id },
  'contacts/imports': {
    create: async (api) => {
      const res = await api.app.inject({
        method: 'POST',
        url: '/v1/contacts/import?validate_only=true',
        headers: { ...api.auth, 'content-type': 'text/csv' },
        payload: `phone_number,first_name\n${uniquePhone()},${api.marker}\n`,
      });
      if (res.statusCode >= 300) throw new Error(`fixture import → ${res.statusCode} ${res.body}`);
      return (res.json() as { data: { id: string } }).data.id;
    },
  },
};

async function FIXTURES_CREATE(kind: string, api: Api): Promise<string> {
  const fixture = FIXTURES[kind];
  if (!fixture) throw new Error(`no fixture for ${kind}`);
  const id = 'shared' in fixture ? await fixture.pick(api) : await fixture.create(api);
  api.ids[kind] = id;
  return id;
}

/** The kind a path parameter names: the literal segments before it (earlier parameters dropped). */
export function kindOf(path: string, param: string): string {
  const segments = path.replace(/^\/v1\//, '/').split('/').filter(Boolean);
  const index = segments.indexOf(`{${param}}`);
  const before = segments.slice(0, index).filter((s) => !s.startsWith('{'));
  // /contacts/{id} → contacts; /contacts/{id}/groups/{group} → contacts/groups; /message/schedule/{id} → message/schedule
  const params = segments.slice(0, index).filter((s) => s.startsWith('{')).length;
  if (params === 0) return before.join('/');
  const parent = segments.slice(0, segments.findIndex((s) => s.startsWith('{'))).join('/');
  return `${parent}/${before.slice(parent.split('/').length).join('/')}`;
}

/** Fills every uuid-typed property of a body schema with `id`, other required properties minimally. */
function bodyWithIds(schema: JsonSchema | undefined, resolve: (s: JsonSchema) => JsonSchema, id: () => string, depth = 0): unknown {
  if (!schema || depth > 5) return {};
  const s = resolve(schema);
  const variants = s.anyOf ?? s.oneOf;
  if (variants?.length) return bodyWithIds(variants[0], resolve, id, depth + 1);
  if (s.format === 'uuid') return id();
  if (s.enum?.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  if (type === 'array') return s.items ? [bodyWithIds(s.items, resolve, id, depth + 1)] : [];
  if (type === 'string') return s.examples && Array.isArray(s.examples) ? s.examples[0] : 'isolation check';
  if (type === 'integer' || type === 'number') return s.minimum ?? 1;
  if (type === 'boolean') return true;
  if (s.properties) {
    const out: Record<string, unknown> = {};
    for (const [name, prop] of Object.entries(s.properties)) {
      const p = resolve(prop);
      const takesId = p.format === 'uuid' || (p.items && resolve(p.items).format === 'uuid') || /(^|_)ids?$/.test(name);
      if (takesId || s.required?.includes(name)) out[name] = bodyWithIds(prop, resolve, id, depth + 1);
    }
    return out;
  }
  return {};
}

/** A's rows: every table with an account_id column, plus A's account row, as text. */
async function tenantFingerprint(db: Kysely<DB>, accountId: string): Promise<Record<string, string>> {
  const tables = (
    await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.columns
      WHERE table_schema = 'public' AND column_name = 'account_id' ORDER BY table_name`.execute(db)
  ).rows.map((r) => r.name);
  const out: Record<string, string> = {};
  for (const name of tables) {
    const column = name === 'access_tokens' ? sql`concat_ws('|', id, revoked_at, scopes, expires_at)` : sql`t::text`;
    const row = (await sql<{ sum: string }>`SELECT count(*)::text || ':' || coalesce(md5(string_agg(${column}, ',' ORDER BY ${column})), '') AS sum
      FROM ${sql.table(name)} t WHERE account_id = ${accountId}`.execute(db)).rows[0]!;
    out[name] = row.sum;
  }
  const account = (await sql<{ sum: string }>`SELECT md5(t::text) AS sum FROM accounts t WHERE id = ${accountId}`.execute(db)).rows[0];
  out.accounts = account?.sum ?? 'missing';
  return out;
}

/** A's or B's id of a kind, or one that exists nowhere; shared kinds are the same for both. */
function idFor(kind: string, source: 'a' | 'b' | 'random'): string {
  const fixture = FIXTURES[kind]!;
  if ('shared' in fixture) return a.ids[kind]!;
  if (source === 'random') return fixture.absent?.() ?? randomUUID();
  return (source === 'a' ? a.ids : b.ids)[kind]!;
}

const mask = (text: string, ids: string[]) => ids.reduce((t, id) => t.split(id).join('<id>'), text).replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/gi, '<uuid>');

let ctx: TestContext;
let operations: Operation[];
let resolve: (s: JsonSchema) => JsonSchema;
let a: Api;
let b: Api;

beforeAll(async () => {
  ctx = await createTestApp({ WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true' });
  ({ operations, resolve } = await loadOperations(ctx.app));
  const accountA = await createAccountWithToken(ctx.app);
  const accountB = await createAccountWithToken(ctx.app);
  a = { app: ctx.app, auth: accountA.auth, marker: `TenantA${randomBytes(4).toString('hex')}`, ids: {} };
  b = { app: ctx.app, auth: accountB.auth, marker: `TenantB${randomBytes(4).toString('hex')}`, ids: {} };
  (a as Api & { accountId: string }).accountId = accountA.account.id;
});
afterAll(() => ctx.close());

describe('tenant isolation over every OpenAPI operation', () => {
  it('has a fixture for every kind of resource a path names', () => {
    const missing = new Set<string>();
    for (const op of operations) for (const p of op.pathParams) if (!FIXTURES[kindOf(op.path, p.name)]) missing.add(`${kindOf(op.path, p.name)} (from ${operationName(op)})`);
    expect([...missing], 'add a fixture to FIXTURES in test/tenant-isolation.test.ts for each of these').toEqual([]);
  });

  it("never lets account B see, change or learn of account A's resources", async () => {
    const kinds = [...new Set(operations.flatMap((op) => op.pathParams.map((p) => kindOf(op.path, p.name))))].filter((k) => FIXTURES[k]);
    // Owned kinds first in dependency-free order; each fixture records its id in api.ids.
    for (const kind of kinds) if (!a.ids[kind]) await FIXTURES_CREATE(kind, a);
    for (const kind of kinds) if (!b.ids[kind]) await FIXTURES_CREATE(kind, b);
    const ownedKinds = kinds.filter((k) => !('shared' in FIXTURES[k]!));
    const aIds = ownedKinds.map((k) => a.ids[k]!);
    const aAccountId = (a as Api & { accountId: string }).accountId;
    const before = await tenantFingerprint(ctx.database.db, aAccountId);

    const leaks: string[] = [];
    const check = (label: string, body: string) => {
      for (const id of [...aIds, aAccountId]) if (body.includes(id)) leaks.push(`${label}: the answer contains A's id ${id}`);
      if (body.includes(a.marker)) leaks.push(`${label}: the answer contains A's marker text`);
    };
    const send = (op: Operation, pathIds: Record<string, string>, body: unknown) =>
      ctx.app.inject({
        method: op.method,
        url: fillPath(op.path, pathIds),
        headers: { ...b.auth, 'content-type': 'application/json' },
        payload: op.method === 'GET' || op.method === 'DELETE' ? undefined : JSON.stringify(body),
      });

    let compared = 0;
    const covered = (op: Operation) => op.pathParams.every((p) => FIXTURES[kindOf(op.path, p.name)]);
    for (const op of operations.filter((o) => !o.public && covered(o))) {
      const paramKinds = op.pathParams.map((p) => [p.name, kindOf(op.path, p.name)] as const);
      const owned = paramKinds.filter(([, k]) => !('shared' in FIXTURES[k]!));
      const withIds = (source: 'a' | 'b' | 'random') =>
        Object.fromEntries(paramKinds.map(([name, kind]) => [name, idFor(kind, source)]));

      // 1. A's ids in the path (owned kinds), body ids also A's, versus ids that exist nowhere.
      if (owned.length > 0) {
        const aBody = bodyWithIds(op.body, resolve, () => a.ids[ownedKinds[0]!]!);
        const withA = await send(op, withIds('a'), aBody);
        const withRandom = await send(op, withIds('random'), bodyWithIds(op.body, resolve, () => randomUUID()));
        const label = `${operationName(op)} with A's ids`;
        check(label, withA.body);
        if (withA.statusCode !== withRandom.statusCode || mask(withA.body, aIds) !== mask(withRandom.body, [])) {
          leaks.push(`${label}: answered ${withA.statusCode} ${withA.body.slice(0, 200)} but ${withRandom.statusCode} ${withRandom.body.slice(0, 200)} for ids that do not exist`);
        }
        const keysOnly = owned.every(([, k]) => { const f = FIXTURES[k]!; return 'key' in f && f.key === true; });
        if (withA.statusCode < 400 && !keysOnly) leaks.push(`${label}: answered ${withA.statusCode}`);
        compared++;
      }

      // 2. B's own path ids (or none) with A's ids in the body, versus ids that exist nowhere.
      if (op.method !== 'GET' && op.method !== 'DELETE' && op.body) {
        const ids = Object.values(a.ids);
        let i = 0;
        const aBody = bodyWithIds(op.body, resolve, () => ids[i++ % ids.length]!);
        const randomBody = bodyWithIds(op.body, resolve, () => randomUUID());
        if (JSON.stringify(aBody) !== JSON.stringify(randomBody)) {
          const withA = await send(op, withIds('b'), aBody);
          const withRandom = await send(op, withIds('b'), randomBody);
          const label = `${operationName(op)} with A's ids in the body`;
          check(label, withA.body);
          if (withA.statusCode !== withRandom.statusCode) {
            leaks.push(`${label}: answered ${withA.statusCode} ${withA.body.slice(0, 200)} but ${withRandom.statusCode} ${withRandom.body.slice(0, 200)} for ids that do not exist`);
          }
          compared++;
        }
      }

      // 3. Lists and everything else B can read: never A's ids or text.
      if (op.method === 'GET') {
        const res = await send(op, withIds('b'), undefined);
        check(`${operationName(op)} as B`, res.body);
        const all = await ctx.app.inject({ method: 'GET', url: `${fillPath(op.path, withIds('b'))}?limit=100&include=${encodeURIComponent('')}`, headers: b.auth });
        check(`${operationName(op)} as B (limit=100)`, all.body);
      }
    }

    expect(leaks, leaks.join('\n')).toEqual([]);
    expect(await tenantFingerprint(ctx.database.db, aAccountId)).toEqual(before);
    // The pass exercised something: on main at least the carrier operations.
    expect(operations.length).toBeGreaterThan(0);
    expect(compared + operations.filter((o) => o.method === 'GET').length).toBeGreaterThan(0);
  });

  it('derives the resource kind of each path parameter', () => {
    expect(kindOf('/v1/contacts/{id}', 'id')).toBe('contacts');
    expect(kindOf('/v1/contacts/{id}/groups/{group}', 'group')).toBe('contacts/groups');
    expect(kindOf('/v1/message/schedule/{id}', 'id')).toBe('message/schedule');
    expect(kindOf('/v1/webhooks/{id}/deliveries/{deliveryId}', 'deliveryId')).toBe('webhooks/deliveries');
    expect(kindOf('/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', 'id')).toBe('webhooks');
  });
});
