import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

export interface ReceivedWebhook {
  id: string;
  timestamp: string;
  signature: string;
  body: string;
  payload: unknown;
  path: string;
  /** Which of the receiver's secrets verified it. */
  verifiedWith: string[];
}

export interface TestReceiver {
  url: string;
  port: number;
  /** Every request, verified or not, in arrival order. */
  requests: ReceivedWebhook[];
  /** Requests whose signature verified with at least one secret. */
  verified: () => ReceivedWebhook[];
  /** Requests in progress right now, and the most seen at once. */
  inFlight: () => number;
  maxInFlight: () => number;
  close(): Promise<void>;
}

/**
 * A webhook receiver for tests: verifies every request with the `standardwebhooks` package
 * against each given secret and answers what `respond` says (default 204).
 */
export async function startReceiver(options: {
  secrets: () => string[];
  /**
   * The answer to a request: its status, headers and body, sent `delayMs` later, and only once
   * `until` (when given) has settled, so a test can hold answers for as long as it needs.
   */
  respond?: (
    request: ReceivedWebhook,
    index: number,
  ) => { status: number; headers?: Record<string, string>; delayMs?: number; body?: string; until?: Promise<unknown> } | undefined;
  port?: number;
}): Promise<TestReceiver> {
  const requests: ReceivedWebhook[] = [];
  let inFlight = 0;
  let maxInFlight = 0;
  const server = http.createServer((req, res) => {
    inFlight += 1;
    maxInFlight = Math.max(maxInFlight, inFlight);
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const headers = {
        'webhook-id': String(req.headers['webhook-id'] ?? ''),
        'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
        'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
      };
      const verifiedWith = options.secrets().filter((secret) => {
        try {
          new Webhook(secret).verify(body, headers);
          return true;
        } catch {
          return false;
        }
      });
      let payload: unknown;
      try {
        payload = JSON.parse(body);
      } catch {
        payload = undefined;
      }
      const received: ReceivedWebhook = {
        id: headers['webhook-id'],
        timestamp: headers['webhook-timestamp'],
        signature: headers['webhook-signature'],
        body,
        payload,
        path: req.url ?? '/',
        verifiedWith,
      };
      const index = requests.length;
      requests.push(received);
      const answer = options.respond?.(received, index) ?? { status: verifiedWith.length > 0 ? 204 : 401 };
      const send = () => {
        inFlight -= 1;
        res.writeHead(answer.status, answer.headers ?? {});
        res.end(answer.body ?? '');
      };
      const later = () => {
        if (answer.delayMs) setTimeout(send, answer.delayMs);
        else send();
      };
      if (answer.until) void answer.until.then(later, later);
      else later();
    });
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/hooks`,
    port,
    requests,
    verified: () => requests.filter((r) => r.verifiedWith.length > 0),
    inFlight: () => inFlight,
    maxInFlight: () => maxInFlight,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** Polls `check` until it is true or `timeoutMs` passes. */
export async function waitFor(check: () => boolean | Promise<boolean>, timeoutMs = 15_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}
