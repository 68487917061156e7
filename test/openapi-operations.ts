import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import type { DB } from '../src/db/tables.js';

/**
 * The operations of the live OpenAPI document, for the tests that must cover every operation
 * (fuzzing, tenant isolation): they read the document the app serves, so a resource added on
 * any branch is covered as soon as its routes are registered.
 */
export type JsonSchema = {
  type?: string | string[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  allOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
  maxItems?: number;
  pattern?: string;
  additionalProperties?: boolean | JsonSchema;
  $ref?: string;
  [key: string]: unknown;
};

export interface Parameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required: boolean;
  schema: JsonSchema;
}

export interface Operation {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** OpenAPI template, e.g. /v1/contacts/{id}/groups/{group} */
  path: string;
  pathParams: Parameter[];
  queryParams: Parameter[];
  body: JsonSchema | undefined;
  /** Media types of the request body, when the operation declares one. */
  bodyTypes: string[];
  scope: string | undefined;
  public: boolean;
  /** The documented response status codes. */
  responses: string[];
}

interface OpenApiDocument {
  paths: Record<string, Record<string, {
    parameters?: Parameter[];
    requestBody?: { content?: Record<string, { schema?: JsonSchema }> };
    description?: string;
    security?: unknown[];
    responses?: Record<string, unknown>;
  }>>;
  components?: { schemas?: Record<string, JsonSchema> };
}

const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;

export async function loadOperations(app: FastifyInstance): Promise<{ operations: Operation[]; resolve: (s: JsonSchema) => JsonSchema }> {
  const res = await app.inject({ method: 'GET', url: '/v1/openapi.json' });
  if (res.statusCode !== 200) throw new Error(`GET /v1/openapi.json answered ${res.statusCode}`);
  const doc = res.json() as OpenApiDocument;
  const components = doc.components?.schemas ?? {};
  const resolve = (schema: JsonSchema): JsonSchema => {
    let current = schema;
    for (let hops = 0; current.$ref && hops < 20; hops++) {
      const name = current.$ref.replace('#/components/schemas/', '');
      const target = components[name];
      if (!target) throw new Error(`unresolvable $ref ${current.$ref}`);
      current = target;
    }
    return current;
  };
  const operations: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method];
      if (!op) continue;
      const params = op.parameters ?? [];
      const content = op.requestBody?.content ?? {};
      const bodyTypes = Object.keys(content);
      const bodySchema = bodyTypes.length ? content['application/json']?.schema ?? content[bodyTypes[0]!]?.schema : undefined;
      operations.push({
        method: method.toUpperCase() as Operation['method'],
        path,
        pathParams: params.filter((p) => p.in === 'path'),
        queryParams: params.filter((p) => p.in === 'query'),
        body: bodySchema ? resolve(bodySchema) : undefined,
        bodyTypes,
        scope: /Required scope: `([^`]+)`/.exec(op.description ?? '')?.[1],
        public: Array.isArray(op.security) && op.security.length === 0,
        responses: Object.keys(op.responses ?? {}),
      });
    }
  }
  return { operations, resolve };
}

/** Fills an OpenAPI path template: fill('/v1/x/{id}', {id: 'a b'}) → /v1/x/a%20b */
export function fillPath(template: string, values: Record<string, string>): string {
  return template.replace(/\{([^}]+)\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for {${name}} in ${template}`);
    return encodeLoose(value);
  });
}

/**
 * encodeURIComponent that does not throw on lone surrogates: they are sent as their (invalid
 * UTF-8) WTF-8 bytes, which is what a hostile client can put on the wire.
 */
export function encodeLoose(value: string): string {
  let out = '';
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    const isHigh = code >= 0xd800 && code <= 0xdbff;
    const next = value.charCodeAt(i + 1);
    if (isHigh && next >= 0xdc00 && next <= 0xdfff) {
      out += encodeURIComponent(value.slice(i, i + 2));
      i++;
    } else if (code >= 0xd800 && code <= 0xdfff) {
      out += `%${(0xe0 | (code >> 12)).toString(16).toUpperCase()}%${(0x80 | ((code >> 6) & 0x3f)).toString(16).toUpperCase()}%${(0x80 | (code & 0x3f)).toString(16).toUpperCase()}`;
    } else {
      out += encodeURIComponent(value[i]!);
    }
  }
  return out;
}

export function operationName(op: Pick<Operation, 'method' | 'path'>): string {
  return `${op.method} ${op.path}`;
}

/**
 * A fingerprint of every row of every table (md5 of the rows as text), to prove a refused
 * request wrote nothing. `access_tokens.last_used_at` is left out: authentication refreshes it
 * at most once a minute, whatever the request's outcome.
 */
export async function databaseFingerprint(db: Kysely<DB>): Promise<Record<string, string>> {
  const tables = (
    await sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
      WHERE table_schema = 'public' AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'kysely_%' ORDER BY table_name`.execute(db)
  ).rows.map((r) => r.name);
  if (tables.length === 0) return {};
  const parts = tables.map((name) =>
    name === 'access_tokens'
      ? sql`SELECT ${name} AS name, count(*)::text || ':' || coalesce(md5(string_agg(concat_ws('|', id, revoked_at, scopes), ',' ORDER BY id)), '') AS sum FROM access_tokens`
      : sql`SELECT ${name} AS name, count(*)::text || ':' || coalesce(md5(string_agg(t::text, ',' ORDER BY t::text)), '') AS sum FROM ${sql.table(name)} t`,
  );
  const rows = (await sql<{ name: string; sum: string }>`${sql.join(parts, sql` UNION ALL `)}`.execute(db)).rows;
  return Object.fromEntries(rows.map((r) => [r.name, r.sum]));
}

/** The tables whose fingerprint differs. */
export function changedTables(before: Record<string, string>, after: Record<string, string>): string[] {
  const names = new Set([...Object.keys(before), ...Object.keys(after)]);
  return [...names].filter((n) => before[n] !== after[n]).sort();
}

/** The documented error shape. */
export function isErrorShape(body: unknown, status: number): boolean {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return false;
  const b = body as Record<string, unknown>;
  if (b.status !== status || typeof b.message !== 'string' || b.message.length === 0) return false;
  if (typeof b.errors !== 'object' || b.errors === null || Array.isArray(b.errors)) return false;
  return Object.values(b.errors as Record<string, unknown>).every((v) => Array.isArray(v) && v.every((m) => typeof m === 'string'));
}
