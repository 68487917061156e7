/**
 * The HTTP core: URLs, headers, JSON, retries and errors. Resources call {@link ApiClient.request};
 * nothing here knows about a particular resource.
 */
import { APIConnectionError, APIConnectionTimeoutError, errorClassFor, parseRetryAfter, ShortcodeError, type FieldErrors } from './errors.js';
import type { ListParams, Page, RequestOptions } from './types.js';

export const SDK_VERSION = '0.1.0';
export const DEFAULT_BASE_URL = 'http://127.0.0.1:3000';

/** Options of {@link Shortcode}. */
export interface ClientOptions {
  /** A personal access token or an OAuth 2.0 access token, sent as `Authorization: Bearer`. */
  token?: string | undefined;
  /** The server, e.g. `https://sms.example.com` (a trailing `/v1` is accepted). Default `http://127.0.0.1:3000`. */
  baseUrl?: string | undefined;
  /** The fetch implementation; default the global `fetch`. */
  fetch?: typeof globalThis.fetch;
  /**
   * How many times a request is retried after a 429 or a 503 (any method), or after a network
   * error when it is safe to repeat (GET, PUT, DELETE, or any request with an Idempotency-Key).
   * Default 2.
   */
  maxRetries?: number | undefined;
  /** Deadline of one attempt in milliseconds. Default 60 000. */
  timeoutMs?: number | undefined;
  /**
   * The longest wait before a retry. A `Retry-After` longer than this is not waited for: the
   * error is raised at once so the caller decides. Default 60 000.
   */
  maxRetryDelayMs?: number | undefined;
  /** Headers sent with every request. */
  headers?: Record<string, string> | undefined;
}

/** One HTTP request as the resources describe it. */
export interface ApiRequest {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** A path below the base URL (`/v1/contacts/{id}`), with `{name}` placeholders filled from `params`. */
  path: string;
  params?: Record<string, string>;
  query?: ListParams | Record<string, unknown> | undefined;
  /** A JSON body. */
  body?: unknown;
  /** A form body (`application/x-www-form-urlencoded`), used by the OAuth token endpoints. */
  form?: Record<string, string>;
  /**
   * A raw body (a file upload). `body()` is called for every attempt; a body that cannot be
   * produced twice (`replayable: false`, a stream) is never retried.
   */
  upload?: { contentType: string; body: () => NonNullable<RequestInit['body']>; replayable: boolean };
  /** Query keys whose array values are sent as repeated pairs (`group_id=a&group_id=b`) rather than joined with commas. */
  repeatQueryKeys?: readonly string[];
  /** Send the bearer token (default true). */
  authenticate?: boolean;
  /** Give the request an Idempotency-Key (a random one unless the options name it). */
  idempotent?: boolean;
}

const IDEMPOTENT_METHODS = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);
const RETRY_STATUSES = new Set([429, 503]);
const INITIAL_RETRY_DELAY_MS = 500;
const MAX_BACKOFF_MS = 8_000;

/** The base URL without trailing slashes or a trailing `/v1`. */
export function normaliseBaseUrl(baseUrl: string): string {
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new ShortcodeError(`Invalid baseUrl "${baseUrl}": give an absolute URL such as https://sms.example.com.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new ShortcodeError(`Invalid baseUrl "${baseUrl}": use http or https.`);
  url.search = '';
  url.hash = '';
  return url.toString().replace(/\/+$/, '').replace(/\/v1$/, '');
}

/**
 * Serialises list parameters the way the API reads them: `filter[x]=v`, `include=a,b`,
 * `sort=-a,b`; undefined values are left out, dates become ISO 8601.
 */
export function serialiseQuery(query: Record<string, unknown> | undefined, repeatKeys: readonly string[] = []): string {
  if (!query) return '';
  const parts: string[] = [];
  const add = (key: string, value: unknown) => {
    if (value === undefined || value === null) return;
    parts.push(`${key}=${encodeURIComponent(scalar(value))}`);
  };
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null) continue;
    if (key === 'filter' && typeof value === 'object' && !Array.isArray(value) && !(value instanceof Date)) {
      for (const [field, fieldValue] of Object.entries(value as Record<string, unknown>)) add(`filter[${encodeURIComponent(field)}]`, fieldValue);
    } else if (Array.isArray(value) && repeatKeys.includes(key)) {
      for (const item of value as unknown[]) add(encodeURIComponent(key), item);
    } else if (Array.isArray(value)) {
      if (value.length > 0) add(encodeURIComponent(key), value.map(scalar).join(','));
    } else {
      add(encodeURIComponent(key), value);
    }
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

function scalar(value: unknown): string {
  if (value instanceof Date) return value.toISOString();
  return String(value);
}

function headersToRecord(headers: Headers): Record<string, string> {
  const out: Record<string, string> = {};
  headers.forEach((value, name) => {
    out[name.toLowerCase()] = value;
  });
  return out;
}

function backoff(attempt: number): number {
  const delay = Math.min(INITIAL_RETRY_DELAY_MS * 2 ** attempt, MAX_BACKOFF_MS);
  return delay * (0.75 + Math.random() * 0.25);
}

/** Waits `ms`, or rejects with an {@link APIConnectionError} when `signal` aborts. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(new APIConnectionError('The request was aborted.', signal.reason));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(new APIConnectionError('The request was aborted.', signal?.reason));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** A random Idempotency-Key (UUID v4). */
export function newIdempotencyKey(): string {
  return globalThis.crypto.randomUUID();
}

/** The HTTP client every resource goes through. */
export class ApiClient {
  /** The normalised base URL requests go to. */
  readonly baseUrl: string;
  readonly maxRetries: number;
  readonly timeoutMs: number;
  readonly maxRetryDelayMs: number;
  readonly #token: string | undefined;
  readonly #fetch: typeof globalThis.fetch;
  readonly #headers: Record<string, string>;

  /** @param options - see {@link ClientOptions}. */
  constructor(options: ClientOptions = {}) {
    this.baseUrl = normaliseBaseUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.#token = options.token;
    const fetchImpl = options.fetch ?? globalThis.fetch;
    if (typeof fetchImpl !== 'function') throw new ShortcodeError('No fetch implementation: pass options.fetch or use Node.js 20 or later.');
    this.#fetch = fetchImpl;
    this.maxRetries = options.maxRetries ?? 2;
    this.timeoutMs = options.timeoutMs ?? 60_000;
    this.maxRetryDelayMs = options.maxRetryDelayMs ?? 60_000;
    this.#headers = { ...(options.headers ?? {}) };
  }

  /** The absolute URL of a path (placeholders filled, query serialised). */
  buildUrl(path: string, params: Record<string, string> = {}, query?: Record<string, unknown>, repeatQueryKeys?: readonly string[]): string {
    const filled = path.replace(/\{(\w+)\}/g, (_, name: string) => {
      const value = params[name];
      if (value === undefined || value === '') throw new ShortcodeError(`Missing path parameter "${name}" for ${path}.`);
      return encodeURIComponent(value);
    });
    return `${this.baseUrl}${filled}${serialiseQuery(query, repeatQueryKeys)}`;
  }

  /**
   * Sends a request and returns the parsed JSON answer (`undefined` for 204). Retries 429 and
   * 503 answers, and network errors when repeating is safe; raises the typed error otherwise.
   */
  async request<T>(request: ApiRequest, options: RequestOptions = {}): Promise<T> {
    return this.send<T>(this.buildUrl(request.path, request.params, request.query as Record<string, unknown> | undefined, request.repeatQueryKeys), request, options);
  }

  /**
   * Fetches the page a `meta.pagination.links.next` (or `previous`) URL points to. The token is
   * only ever sent to the client's base URL: the link's path and query are requested there, so a
   * server whose public URL differs (a proxy, a misconfiguration) cannot redirect the token.
   */
  async getPage<T>(link: string, options: RequestOptions = {}): Promise<Page<T>> {
    return this.send<Page<T>>(this.rebase(link), { method: 'GET', path: link }, options);
  }

  /** Every item of a collection, page after page, following `links.next`. */
  async *paginate<T>(path: string, params: Record<string, string>, query: ListParams | undefined, options: RequestOptions = {}): AsyncGenerator<T, void, undefined> {
    let page = await this.request<Page<T>>({ method: 'GET', path, params, query }, options);
    for (;;) {
      yield* page.data;
      const next = page.meta?.pagination?.links?.next;
      if (!next || page.data.length === 0) return;
      page = await this.getPage<T>(next, options);
    }
  }

  /** The URL to request for a pagination link: on the base URL, whatever origin the link names. */
  private rebase(link: string): string {
    let url: URL;
    try {
      url = new URL(link, `${this.baseUrl}/`);
    } catch {
      throw new ShortcodeError(`Invalid pagination link "${link}".`);
    }
    const base = new URL(`${this.baseUrl}/`);
    if (url.origin === base.origin && url.pathname.startsWith(base.pathname)) return url.toString();
    const at = url.pathname.indexOf('/v1/');
    if (at < 0) throw new ShortcodeError(`Pagination link "${link}" is not an API v1 URL.`);
    return `${this.baseUrl}${url.pathname.slice(at)}${url.search}`;
  }

  /** One request with its retries: headers, body, timeout per attempt, backoff, typed errors. */
  private async send<T>(url: string, request: ApiRequest, options: RequestOptions): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json', ...this.#headers, ...(options.headers ?? {}) };
    let body: string | undefined;
    if (request.upload !== undefined) {
      headers['content-type'] = request.upload.contentType;
    } else if (request.form !== undefined) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(request.form).toString();
    } else if (request.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(request.body);
    }
    if (request.authenticate !== false) {
      if (!this.#token) throw new ShortcodeError('No access token: pass { token } to new Shortcode() (a personal access token or an OAuth access token).');
      headers.authorization = `Bearer ${this.#token}`;
    }
    const idempotencyKey = options.idempotencyKey ?? (request.idempotent ? newIdempotencyKey() : undefined);
    if (idempotencyKey !== undefined) headers['idempotency-key'] = idempotencyKey;
    const repeatable = IDEMPOTENT_METHODS.has(request.method) || idempotencyKey !== undefined;
    // A streamed upload is consumed by the first attempt: it cannot be sent again.
    const maxRetries = request.upload && !request.upload.replayable ? 0 : (options.maxRetries ?? this.maxRetries);
    const timeoutMs = options.timeoutMs ?? this.timeoutMs;

    for (let attempt = 0; ; attempt += 1) {
      const timeout = AbortSignal.timeout(timeoutMs);
      const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
      let response: Response;
      try {
        const init: RequestInit & { duplex?: 'half' } = { method: request.method, headers, body: request.upload ? request.upload.body() : body, signal };
        // A stream as the body needs `duplex: 'half'` (Node.js fetch and the Fetch standard).
        if (typeof ReadableStream !== 'undefined' && init.body instanceof ReadableStream) init.duplex = 'half';
        response = await this.#fetch(url, init);
      } catch (error) {
        if (options.signal?.aborted) throw new APIConnectionError('The request was aborted.', error);
        const timedOut = timeout.aborted;
        if (repeatable && attempt < maxRetries) {
          await sleep(backoff(attempt), options.signal);
          continue;
        }
        if (timedOut) throw new APIConnectionTimeoutError(`${request.method} ${url} timed out after ${timeoutMs} ms.`, error);
        const reason = error instanceof Error ? (error.cause instanceof Error ? error.cause.message : error.message) : String(error);
        throw new APIConnectionError(`Could not reach ${this.baseUrl} (${request.method} ${new URL(url).pathname}): ${reason}`, error);
      }

      if (response.ok) return (await this.parseSuccess(response)) as T;

      if (RETRY_STATUSES.has(response.status) && attempt < maxRetries) {
        const asked = parseRetryAfter(response.headers.get('retry-after') ?? undefined, Date.now());
        const delay = asked ?? backoff(attempt);
        if (delay <= this.maxRetryDelayMs) {
          await response.body?.cancel().catch(() => undefined);
          await sleep(delay, options.signal);
          continue;
        }
      }
      throw await this.toError(response);
    }
  }

  /** The JSON of a 2xx answer; `undefined` for 204 or an empty body. */
  private async parseSuccess(response: Response): Promise<unknown> {
    if (response.status === 204) return undefined;
    let text: string;
    try {
      text = await response.text();
    } catch (error) {
      throw new APIConnectionError(`The connection broke while reading the answer (${response.status}).`, error);
    }
    if (text === '') return undefined;
    try {
      return JSON.parse(text) as unknown;
    } catch (error) {
      throw new ShortcodeError(`The server answered ${response.status} with a body that is not JSON.`, {
        status: response.status,
        requestId: response.headers.get('x-request-id') ?? undefined,
        cause: error,
      });
    }
  }

  /** The typed error of an error answer: `{status, message, errors}` bodies, OAuth `{error, error_description}`, or anything else. */
  private async toError(response: Response): Promise<ShortcodeError> {
    const headers = headersToRecord(response.headers);
    const text = await response.text().catch(() => '');
    let message = `The server answered ${response.status}${response.statusText ? ` ${response.statusText}` : ''}.`;
    let errors: FieldErrors = {};
    try {
      const body = JSON.parse(text) as Record<string, unknown>;
      if (typeof body.message === 'string' && body.message) message = body.message;
      // OAuth endpoints answer RFC 6749 errors: {error, error_description}.
      else if (typeof body.error_description === 'string' && body.error_description) message = body.error_description;
      else if (typeof body.error === 'string' && body.error) message = body.error;
      if (body.errors && typeof body.errors === 'object' && !Array.isArray(body.errors)) errors = sanitiseErrors(body.errors as Record<string, unknown>);
      if (typeof body.error === 'string' && Object.keys(errors).length === 0) errors = { error: [body.error] };
    } catch {
      // not JSON (a proxy's error page): keep the generic message
    }
    const ErrorClass = errorClassFor(response.status);
    return new ErrorClass(response.status, message, errors, headers['x-request-id'], headers);
  }
}

function sanitiseErrors(raw: Record<string, unknown>): FieldErrors {
  const out: FieldErrors = {};
  for (const [field, value] of Object.entries(raw)) {
    out[field] = Array.isArray(value) ? value.map(String) : [String(value)];
  }
  return out;
}
