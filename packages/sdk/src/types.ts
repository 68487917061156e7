/**
 * Request and response types, looked up in the types generated from the server's OpenAPI
 * document (src/generated/openapi.ts) by path and method, so they follow the API exactly.
 */
import type { paths } from './generated/openapi.js';

/** An object as the API sends it, for an operation the committed document does not describe. */
export type ApiObject = { id: string } & Record<string, unknown>;
/** A JSON request body for an operation the committed document does not describe. */
export type ApiBody = Record<string, unknown>;

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';
type Json<T> = T extends { content: { 'application/json': infer B } } ? B : never;

/** The operation object of `method path` in the document, or `never` when there is none. */
export type Operation<P extends string, M extends Method> = P extends keyof paths ? (paths[P] extends { [K in M]: infer O } ? O : never) : never;

/** The JSON body `method path` accepts. */
export type RequestBody<P extends string, M extends Method> = [Operation<P, M>] extends [never]
  ? ApiBody
  : Operation<P, M> extends { requestBody?: infer B }
    ? Json<NonNullable<B>>
    : never;

/** The JSON body of the success answer (200, 201 or 202) of `method path`. */
export type ResponseBody<P extends string, M extends Method> = [Operation<P, M>] extends [never]
  ? { data: ApiObject }
  : Operation<P, M> extends { responses: infer R }
    ? R extends { 200: infer S }
      ? Json<S>
      : R extends { 201: infer S }
        ? Json<S>
        : R extends { 202: infer S }
          ? Json<S>
          : never
    : never;

/** The `data` of the success answer of `method path` (one object, or the items of a page). */
export type ResponseData<P extends string, M extends Method> = ResponseBody<P, M> extends { data: infer D } ? D : never;

/** The item type of a collection at `path`. */
export type ItemOf<P extends string> = [Operation<P, 'get'>] extends [never] ? ApiObject : ResponseData<P, 'get'> extends Array<infer T> ? T : never;

/** `meta.pagination` of every collection. */
export interface Pagination {
  /** Items in the whole collection (with the filters applied). */
  total: number;
  /** Items on this page. */
  count: number;
  per_page: number;
  current_page: number;
  total_pages: number;
  /** Absolute URLs of the neighbouring pages; absent where there is no such page. */
  links: { next?: string; previous?: string };
}

/** One page of a collection. */
export interface Page<T> {
  data: T[];
  meta: { pagination: Pagination };
}

/** A filter value; dates are sent as ISO 8601. */
export type FilterValue = string | number | boolean | Date;

/**
 * The query of a collection (the reference's "Filtering, Ordering & Pagination"). Unknown
 * filters, sorts and includes are refused by the server with a {@link BadRequestError}.
 */
export interface ListParams {
  /** Page size: default and maximum 100 (larger values are clamped by the server). */
  limit?: number;
  /** Page number, from 1. */
  page?: number;
  /** Sent as `filter[field]=value`. */
  filter?: Record<string, FilterValue | undefined>;
  /** Comma-separated fields, `-` for descending: `-created_at,name`. An array is joined with commas. */
  sort?: string | string[];
  /** Related data to embed, sent as `include=a,b`. */
  include?: string | string[];
}

/** Per-request options, accepted as the last argument of every method. */
export interface RequestOptions {
  /**
   * Sent as `Idempotency-Key`: the server answers a retried request with the same key with the
   * first answer, and sends nothing twice. Sends get a random key automatically.
   */
  idempotencyKey?: string;
  /** Overrides the client's `maxRetries` for this request. */
  maxRetries?: number;
  /** Overrides the client's `timeoutMs` for this request (each attempt). */
  timeoutMs?: number;
  /** Aborts the request (and any retry) when signalled. */
  signal?: AbortSignal;
  /** Extra request headers. */
  headers?: Record<string, string>;
}
