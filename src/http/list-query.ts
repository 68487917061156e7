import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { BadRequestError } from '../lib/errors.js';

/**
 * Collections share one query language (the reference's "Filtering, Ordering & Pagination"):
 * `filter[field]=value`, `sort=-created_at,name`, `include=a,b` or `include[]=a&include[]=b`,
 * `limit` (default and maximum 100; larger values are clamped) and `page` (from 1).
 * Each resource declares what it supports; anything else is a 400 naming the parameter.
 */
export type FilterKind = 'exact' | 'partial' | 'date_min' | 'date_max' | { enum: readonly string[] };

export interface ListSpec {
  filters: Record<string, FilterKind>;
  sorts: readonly string[];
  defaultSort: string;
  includes: readonly string[];
}

export interface Filter {
  field: string;
  kind: 'exact' | 'partial' | 'date_min' | 'date_max' | 'enum';
  value: string | Date;
}

export interface ListQuery {
  limit: number;
  page: number;
  offset: number;
  filters: Filter[];
  sort: Array<{ field: string; desc: boolean }>;
  include: ReadonlySet<string>;
}

export const MAX_LIMIT = 100;
const MAX_PAGE = 2_147_483_647;

export interface RawListQuery {
  limit?: number;
  page?: number;
  sort?: string;
  include?: string | string[];
  filter?: Record<string, unknown>;
}

/** The querystring schema of a list route, for validation and the OpenAPI document. */
export function listQuerySchema(spec: ListSpec) {
  const filterProps: Record<string, TSchema> = {};
  for (const [field, kind] of Object.entries(spec.filters)) {
    filterProps[field] =
      typeof kind === 'object'
        ? Type.String({ enum: [...kind.enum] })
        : Type.String({ description: `${kind} match`, ...(kind.startsWith('date') ? { format: 'date-time' } : {}) });
  }
  return Type.Object({
    limit: Type.Optional(Type.Integer({ minimum: 1, default: MAX_LIMIT, description: `Page size, at most ${MAX_LIMIT} (larger values are clamped)` })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE, default: 1 })),
    sort: Type.Optional(Type.String({ description: `Comma-separated fields, '-' for descending: ${spec.sorts.join(', ')}`, maxLength: 500 })),
    include: Type.Optional(
      Type.Union([Type.String({ maxLength: 500 }), Type.Array(Type.String({ maxLength: 100 }), { maxItems: 20 })], {
        description: spec.includes.length ? `One or more of: ${spec.includes.join(', ')}` : 'No includes on this collection',
      }),
    ),
    // Declared fields are documented; unknown ones are refused by parseListQuery with a 400
    // (additionalProperties stays open so they reach it instead of being silently dropped).
    filter: Type.Optional(Type.Object(Object.fromEntries(Object.entries(filterProps).map(([k, s]) => [k, Type.Optional(s)])), { additionalProperties: true })),
  });
}

export function parseIncludes(raw: string | string[] | undefined, allowed: readonly string[]): Set<string> {
  const include = new Set<string>();
  const parts = (Array.isArray(raw) ? raw : raw === undefined ? [] : [raw]).flatMap((v) => String(v).split(','));
  for (const part of parts.map((p) => p.trim()).filter(Boolean)) {
    if (!allowed.includes(part)) {
      throw new BadRequestError(`Unknown include "${part}".`, {
        include: [allowed.length ? `Allowed includes: ${allowed.join(', ')}.` : 'This resource has no includes.'],
      });
    }
    include.add(part);
  }
  return include;
}

export function parseListQuery(raw: RawListQuery, spec: ListSpec): ListQuery {
  const limit = Math.min(raw.limit ?? MAX_LIMIT, MAX_LIMIT);
  const page = raw.page ?? 1;

  const filters: Filter[] = [];
  if (raw.filter !== undefined) {
    if (typeof raw.filter !== 'object' || raw.filter === null || Array.isArray(raw.filter)) {
      throw new BadRequestError('Filters are given as filter[field]=value.', { filter: ['Malformed filter.'] });
    }
    for (const [field, value] of Object.entries(raw.filter)) {
      const kind = spec.filters[field];
      const key = `filter[${field}]`;
      if (kind === undefined) {
        const known = Object.keys(spec.filters);
        throw new BadRequestError(`Unknown filter "${field}".`, {
          [key]: [known.length ? `Allowed filters: ${known.join(', ')}.` : 'This resource has no filters.'],
        });
      }
      if (typeof value !== 'string') throw new BadRequestError(`Invalid filter "${field}".`, { [key]: ['Must be a single value.'] });
      if (value.length > 500) throw new BadRequestError(`Invalid filter "${field}".`, { [key]: ['Must be at most 500 characters.'] });
      if (value.includes('\u0000')) throw new BadRequestError(`Invalid filter "${field}".`, { [key]: ['Must not contain NUL characters.'] });
      if (typeof kind === 'object') {
        if (!kind.enum.includes(value)) {
          throw new BadRequestError(`Invalid filter "${field}".`, { [key]: [`Must be one of: ${kind.enum.join(', ')}.`] });
        }
        filters.push({ field, kind: 'enum', value });
      } else if (kind === 'date_min' || kind === 'date_max') {
        const date = parseIsoDate(value);
        if (!date) throw new BadRequestError(`Invalid filter "${field}".`, { [key]: ['Must be an ISO 8601 date-time.'] });
        filters.push({ field, kind, value: date });
      } else {
        filters.push({ field, kind, value });
      }
    }
  }

  const sort: ListQuery['sort'] = [];
  for (const part of (raw.sort ?? spec.defaultSort).split(',').map((p) => p.trim()).filter(Boolean)) {
    const desc = part.startsWith('-');
    const field = desc || part.startsWith('+') ? part.slice(1) : part;
    if (!spec.sorts.includes(field)) {
      throw new BadRequestError(`Unknown sort field "${field}".`, { sort: [`Allowed sort fields: ${spec.sorts.join(', ')}.`] });
    }
    if (!sort.some((s) => s.field === field)) sort.push({ field, desc });
  }

  return { limit, page, offset: (page - 1) * limit, filters, sort, include: parseIncludes(raw.include, spec.includes) };
}

const ISO_DATE_RE = /^\d{4}-\d{2}-\d{2}([T ]\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
export function parseIsoDate(value: string): Date | null {
  if (!ISO_DATE_RE.test(value)) return null;
  const date = new Date(value.includes('T') || value.includes(' ') ? value.replace(' ', 'T') : `${value}T00:00:00Z`);
  return Number.isNaN(date.getTime()) ? null : date;
}

/** `meta.pagination` exactly as the reference shows it. */
export const PaginationMetaSchema = Type.Object({
  pagination: Type.Object({
    total: Type.Integer(),
    count: Type.Integer(),
    per_page: Type.Integer(),
    current_page: Type.Integer(),
    total_pages: Type.Integer(),
    links: Type.Object({
      next: Type.Optional(Type.String({ format: 'uri' })),
      previous: Type.Optional(Type.String({ format: 'uri' })),
    }),
  }),
});

export const pageSchema = <T extends TSchema>(item: T) => Type.Object({ data: Type.Array(item), meta: PaginationMetaSchema });

export function paginate<T>(request: FastifyRequest, publicUrl: string | undefined, query: ListQuery, data: T[], total: number) {
  const totalPages = Math.max(1, Math.ceil(total / query.limit));
  const links: { next?: string; previous?: string } = {};
  if (query.page < totalPages) links.next = pageUrl(request, publicUrl, query.page + 1);
  if (query.page > 1) links.previous = pageUrl(request, publicUrl, Math.min(query.page - 1, totalPages));
  return {
    data,
    meta: {
      pagination: { total, count: data.length, per_page: query.limit, current_page: query.page, total_pages: totalPages, links },
    },
  };
}

/** The same URL with every other parameter kept as the client sent it, and `page` replaced. */
function pageUrl(request: FastifyRequest, publicUrl: string | undefined, page: number): string {
  const [path, rawQuery = ''] = request.url.split('?', 2) as [string, string?];
  const kept = rawQuery.split('&').filter((pair) => pair && !/^page(=|$)/.test(pair));
  kept.push(`page=${page}`);
  const origin = publicUrl ?? `${request.protocol}://${request.host}`;
  return `${origin}${path}?${kept.join('&')}`;
}
