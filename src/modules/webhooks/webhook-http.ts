/**
 * One HTTP delivery attempt of a signed webhook, hardened for untrusted receivers.
 *
 * - Only 2xx counts as delivered; redirects are never followed (a 3xx is a failure), so a
 *   receiver cannot bounce us to an internal address; 410 Gone tells the caller to stop.
 * - The host is resolved here, every address is checked against the address policy, and the
 *   socket is handed exactly those addresses through a custom `lookup`: the IP we connect to is
 *   the IP we checked (no second resolution, so DNS rebinding cannot slip in between).
 * - One deadline covers resolution, connect, TLS, headers and body, so a receiver that never
 *   answers or drips bytes cannot hold a worker.
 * - At most `maxResponseBytes` of the body are read, then the socket is destroyed.
 * - It never throws: every problem becomes outcome 'failure' with an error string.
 */
import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { performance } from 'node:perf_hooks';
import { isForbiddenAddress, validateWebhookUrl } from './webhook-url-policy.js';
import { observe } from '../../lib/observe.js';

export type DeliveryOutcome = 'success' | 'failure' | 'gone';

export interface DeliverWebhookInput {
  url: string;
  /** The exact signed JSON text. */
  body: string;
  /** The signature headers (and any others); content-type is always application/json. */
  headers: Record<string, string>;
  /** Deadline for the whole attempt, from resolution to the last byte read. */
  timeoutMs: number;
  /** Upper bound on response body bytes read; the rest is discarded with the socket. */
  maxResponseBytes: number;
  /** The operator's WEBHOOKS_ALLOW_PRIVATE_NETWORKS setting. */
  allowPrivateNetworks: boolean;
  /** Resolver, replaceable in tests to simulate hostile DNS answers. Defaults to dns.lookup (all addresses). */
  resolve?: (hostname: string) => Promise<LookupAddress[]>;
  /**
   * Keep-alive connections, reused only for the exact addresses this attempt resolved and
   * checked (see createConnectionPool). Without a pool every attempt opens a fresh connection.
   */
  pool?: WebhookConnectionPool;
}

export interface WebhookConnectionPool {
  agentFor(protocol: string, hostname: string, port: string, addresses: readonly LookupAddress[]): http.Agent;
  destroy(): void;
}

/**
 * Keep-alive agents keyed by scheme, host name, port and the set of resolved addresses. Each
 * attempt still resolves and checks the host; a pooled socket is reused only when it was
 * opened to that same checked set, so reuse never reaches an address the policy has not just
 * approved. Idle sockets close after `idleMs` (below common server keep-alive timeouts); at most
 * `maxAgents` agents are kept (the least recently used is closed).
 */
export function createConnectionPool(options: { maxSocketsPerAgent?: number; idleMs?: number; maxAgents?: number } = {}): WebhookConnectionPool {
  const agents = new Map<string, http.Agent>();
  const maxAgents = options.maxAgents ?? 1_000;
  const agentOptions = { keepAlive: true, maxSockets: options.maxSocketsPerAgent ?? 64, maxFreeSockets: options.maxSocketsPerAgent ?? 64, timeout: options.idleMs ?? 4_000, scheduling: 'lifo' as const };
  return {
    agentFor(protocol, hostname, port, addresses) {
      const key = `${protocol}//${hostname}:${port}|${addresses.map((a) => a.address).sort().join(',')}`;
      let agent = agents.get(key);
      if (agent) {
        agents.delete(key); // re-inserted below: most recently used last
      } else {
        agent = protocol === 'https:' ? new https.Agent(agentOptions) : new http.Agent(agentOptions);
        if (agents.size >= maxAgents) {
          const [oldestKey, oldest] = agents.entries().next().value as [string, http.Agent];
          agents.delete(oldestKey);
          oldest.destroy();
        }
      }
      agents.set(key, agent);
      return agent;
    },
    destroy() {
      for (const agent of agents.values()) agent.destroy();
      agents.clear();
    },
  };
}

export interface DeliveryResult {
  outcome: DeliveryOutcome;
  status?: number;
  latencyMs: number;
  retryAfterSeconds?: number;
  error?: string;
  responseSnippet?: string;
}

/** How much of the response body is kept for the delivery log. */
export const RESPONSE_SNIPPET_BYTES = 1024;

const USER_AGENT = 'Shortcode-Webhooks/1.0';
const EMPTY = Buffer.alloc(0);

function defaultResolve(hostname: string): Promise<LookupAddress[]> {
  return new Promise((resolve, reject) => {
    dnsLookup(hostname, { all: true, verbatim: true }, (err, addresses) => {
      if (err) reject(err);
      else resolve(addresses);
    });
  });
}

/**
 * Parses Retry-After: delta-seconds or an HTTP date (RFC 9110 §10.2.3). Returns whole seconds
 * from `now`, never negative, or undefined when the header is absent or malformed.
 */
export function parseRetryAfter(value: string | undefined, now: Date = new Date()): number | undefined {
  if (value === undefined) return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text);
  // Only date-looking values: Date.parse accepts odd strings like "1" that are not HTTP dates.
  if (!/^[A-Za-z]{3},? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now.getTime()) / 1000));
}

function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code !== undefined && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/** A `lookup` for the socket that answers only with the addresses we already resolved and checked. */
function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const usable = options.family === 4 || options.family === 6
      ? addresses.filter((a) => a.family === options.family)
      : addresses;
    const first = usable[0];
    if (first === undefined) {
      callback(Object.assign(new Error('no address of the requested family'), { code: 'ENOTFOUND' }), '', 0);
    } else if (options.all === true) {
      // With autoSelectFamily (Happy Eyeballs) net asks for all addresses.
      (callback as unknown as (err: null, addresses: LookupAddress[]) => void)(null, [...usable]);
    } else {
      callback(null, first.address, first.family);
    }
  };
}

class DeliveryError extends Error {}

/**
 * `validateWebhookUrl` remembered per URL: it is a pure function of the URL and the setting, and
 * a worker sends to the same few URLs thousands of times a second (parsing one costs
 * microseconds). Bounded; the oldest entry goes first. Resolution and the address checks still
 * run on every attempt.
 */
const checkedUrls = new Map<string, ReturnType<typeof validateWebhookUrl>>();
const CHECKED_URLS_MAX = 1_000;
function checkedUrl(raw: string, allowPrivateNetworks: boolean): ReturnType<typeof validateWebhookUrl> {
  const key = allowPrivateNetworks ? `1${raw}` : `0${raw}`;
  let checked = checkedUrls.get(key);
  if (checked === undefined) {
    checked = validateWebhookUrl(raw, { allowPrivateNetworks });
    if (checkedUrls.size >= CHECKED_URLS_MAX) checkedUrls.delete(checkedUrls.keys().next().value as string);
    checkedUrls.set(key, checked);
  }
  return checked;
}

/** Resolution counts against the attempt's deadline; a hung resolver is abandoned, not awaited. */
function resolveWithin(input: DeliverWebhookInput, hostname: string): Promise<LookupAddress[]> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DeliveryError(`timed out after ${input.timeoutMs} ms`)), input.timeoutMs);
  });
  return Promise.race([(input.resolve ?? defaultResolve)(hostname), deadline]).finally(() => clearTimeout(timer));
}

export async function deliverWebhook(input: DeliverWebhookInput): Promise<DeliveryResult> {
  const result = await attemptDelivery(input);
  observe.webhookAttempt(result.outcome);
  return result;
}

async function attemptDelivery(input: DeliverWebhookInput): Promise<DeliveryResult> {
  const started = performance.now();
  const elapsed = () => Math.round(performance.now() - started);
  const fail = (error: string): DeliveryResult => ({ outcome: 'failure', latencyMs: elapsed(), error });

  try {
    const checked = checkedUrl(input.url, input.allowPrivateNetworks);
    if (!checked.ok) return fail(`refused: ${checked.reason}`);
    const url = checked.url;
    const hostname = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;

    const family = isIP(hostname);
    const addresses: LookupAddress[] =
      family !== 0 ? [{ address: hostname, family }] : await resolveWithin(input, hostname);
    if (addresses.length === 0) return fail(`could not resolve ${hostname}`);
    if (!input.allowPrivateNetworks) {
      const bad = addresses.find((a) => isForbiddenAddress(a.address));
      // Refuse when any answer is private: a mixed answer is a rebinding attempt, not a mistake.
      if (bad !== undefined) {
        return fail(`refused: ${hostname} resolves to a private or reserved address (${bad.address})`);
      }
    }
    return await send(input, url, hostname, addresses, elapsed);
  } catch (err) {
    return fail(err instanceof DeliveryError ? err.message : describeError(err));
  }
}

/**
 * Performs the request within what is left of the attempt's deadline. Settles once the body
 * has been read or cut off, and only after the socket has been destroyed, so nothing outlives
 * the attempt.
 */
function send(
  input: DeliverWebhookInput,
  url: URL,
  hostname: string,
  addresses: readonly LookupAddress[],
  elapsed: () => number,
): Promise<DeliveryResult> {
  return new Promise<DeliveryResult>((resolve, reject) => {
    // Passed to end() as a string, so Node joins it to the headers in one chunk (a Buffer is
    // copied first, then written as a chunk of its own).
    const body = input.body;
    const transport = url.protocol === 'https:' ? https : http;
    let response: IncomingMessage | undefined;
    let status: number | undefined;
    let settled = false;
    // A pooled socket goes back to its agent only after a complete, in-time answer.
    let reusable = false;
    const agent = input.pool ? input.pool.agentFor(url.protocol, hostname, url.port, addresses) : false;

    const req = transport.request({
      protocol: url.protocol,
      host: hostname,
      // SNI and certificate checks use the name, while the socket uses the pinned address.
      servername: isIP(hostname) === 0 ? hostname : undefined,
      port: url.port === '' ? undefined : Number(url.port),
      path: `${url.pathname}${url.search}`,
      method: 'POST',
      // Without a pool, a fresh connection per attempt; with one, a socket opened to the very
      // addresses checked above.
      agent,
      lookup: pinnedLookup(addresses),
      headers: {
        ...input.headers,
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(body, 'utf8')),
        'user-agent': USER_AGENT,
        ...(agent === false ? { connection: 'close' } : {}),
      },
    });

    const finish = (result: DeliveryResult | Error) => {
      if (settled) return;
      settled = true;
      // Unless the answer was read completely on a pooled connection, the socket goes: no
      // half-read bodies or idle sockets are left behind.
      if (!reusable) {
        response?.destroy();
        req.destroy();
      }
      if (result instanceof Error) reject(result);
      else resolve(result);
    };

    // When the status line has arrived, the receiver has answered: a slow body only cuts the
    // snippet short and does not turn a 2xx into a failure.
    const timer = setTimeout(() => {
      if (response !== undefined && status !== undefined) finish(resultFor(status, response, chunks, elapsed(), true));
      else finish(new DeliveryError(`timed out after ${input.timeoutMs} ms`));
    }, Math.max(0, input.timeoutMs - elapsed()));
    const chunks: Buffer[] = [];
    const done = (result: DeliveryResult | Error) => {
      clearTimeout(timer);
      finish(result);
    };

    if (!input.allowPrivateNetworks) {
      // Second line of defence behind the pinned lookup, which already keeps the socket to the
      // checked addresses: should any other path ever reach a forbidden peer, drop it at once.
      req.on('socket', (socket) => {
        const check = () => {
          const peer = socket.remoteAddress;
          if (peer === undefined || isForbiddenAddress(peer)) {
            done(new DeliveryError(`refused: connected to a private or reserved address (${peer ?? 'unknown'})`));
          }
        };
        // A pooled socket is already connected: check its peer now.
        if (socket.connecting) socket.once('connect', check);
        else check();
      });
    }

    req.on('error', (err) => done(err));
    req.on('response', (res) => {
      response = res;
      status = res.statusCode ?? 0;
      let received = 0;
      res.on('data', (chunk: Buffer) => {
        const room = input.maxResponseBytes - received;
        if (room > 0) chunks.push(room >= chunk.length ? chunk : chunk.subarray(0, room));
        received += chunk.length;
        if (received >= input.maxResponseBytes) done(resultFor(status ?? 0, res, chunks, elapsed(), true));
      });
      res.on('end', () => {
        if (agent !== false && !settled && received < input.maxResponseBytes) reusable = true;
        done(resultFor(status ?? 0, res, chunks, elapsed(), false));
      });
      // A connection cut after the status line (reset mid-body) keeps the status-based outcome:
      // the receiver has already answered.
      res.on('error', () => done(resultFor(status ?? 0, res, chunks, elapsed(), true)));
      res.on('close', () => done(resultFor(status ?? 0, res, chunks, elapsed(), !res.complete)));
    });
    req.end(body, 'utf8');
  });
}

function resultFor(
  status: number,
  res: IncomingMessage,
  chunks: readonly Buffer[],
  latencyMs: number,
  truncated: boolean,
): DeliveryResult {
  const raw = chunks.length === 0 ? EMPTY : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks);
  const snippet = raw.length === 0 ? '' : raw.subarray(0, RESPONSE_SNIPPET_BYTES).toString('utf8').replace(/\uFFFD+$/, '');
  const result: DeliveryResult = {
    outcome: status >= 200 && status < 300 ? 'success' : status === 410 ? 'gone' : 'failure',
    status,
    latencyMs,
  };
  if (snippet.length > 0) result.responseSnippet = truncated || raw.length > RESPONSE_SNIPPET_BYTES ? `${snippet}…` : snippet;
  if (status === 429 || status === 503) {
    const header = res.headers['retry-after'];
    const retryAfter = parseRetryAfter(Array.isArray(header) ? header[0] : header);
    if (retryAfter !== undefined) result.retryAfterSeconds = retryAfter;
  }
  if (result.outcome === 'failure') {
    result.error =
      status >= 300 && status < 400
        ? `HTTP ${status}: redirect not followed${res.headers.location ? ` (Location: ${res.headers.location.slice(0, 200)})` : ''}`
        : `HTTP ${status}`;
  }
  return result;
}
