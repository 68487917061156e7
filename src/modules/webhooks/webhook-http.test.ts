import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import https from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { deliverWebhook, parseRetryAfter, type DeliverWebhookInput } from './webhook-http.js';
import { TEST_TLS_CERT, TEST_TLS_KEY } from './webhook-http.test-fixtures.js';

interface Receiver {
  url: string;
  port: number;
  requests: Array<{ method?: string; url?: string; headers: http.IncomingHttpHeaders; body: string }>;
  connections: number;
}

const servers: Array<{ server: http.Server | https.Server; sockets: Set<Socket> }> = [];

/** A receiver on 127.0.0.1 with an ephemeral port; closed (with its sockets) after each test. */
async function receiver(handler: (req: IncomingMessage, res: ServerResponse, body: string) => void): Promise<Receiver> {
  const sockets = new Set<Socket>();
  const state: Receiver = { url: '', port: 0, requests: [], connections: 0 };
  const server = http.createServer((req, res) => {
    const parts: Buffer[] = [];
    req.on('data', (c: Buffer) => parts.push(c));
    req.on('end', () => {
      const body = Buffer.concat(parts).toString('utf8');
      state.requests.push({ method: req.method, url: req.url, headers: req.headers, body });
      handler(req, res, body);
    });
  });
  server.on('connection', (socket) => {
    state.connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  servers.push({ server, sockets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  state.port = (server.address() as AddressInfo).port;
  state.url = `http://127.0.0.1:${state.port}/hooks/sms?account=1`;
  return state;
}

afterEach(async () => {
  for (const { server, sockets } of servers.splice(0)) {
    // The client must have closed every connection itself: a socket still open here would be a
    // leaked handle in the worker. Server-side close events arrive shortly after the client's.
    const deadline = Date.now() + 500;
    while (sockets.size > 0 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
    const leaked = sockets.size;
    for (const socket of sockets) socket.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(leaked, 'connections left open by deliverWebhook').toBe(0);
  }
});

const body = JSON.stringify({ id: 'f82e541a-a4b1-11e8-a85f-127fd0971098', message: 'Hello ✓' });

function input(url: string, overrides: Partial<DeliverWebhookInput> = {}): DeliverWebhookInput {
  return {
    url,
    body,
    headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1700000000', 'webhook-signature': 'v1,abc=' },
    timeoutMs: 2000,
    maxResponseBytes: 64 * 1024,
    allowPrivateNetworks: true,
    ...overrides,
  };
}

describe('deliverWebhook against local receivers', () => {
  it('posts the exact body with JSON content type and signature headers; 200 is success', async () => {
    const r = await receiver((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks'));
    const result = await deliverWebhook(input(r.url));
    expect(result).toMatchObject({ outcome: 'success', status: 200, responseSnippet: 'thanks' });
    expect(result.error).toBeUndefined();
    expect(result.latencyMs).toBeGreaterThanOrEqual(0);
    const [request] = r.requests;
    expect(request?.method).toBe('POST');
    expect(request?.url).toBe('/hooks/sms?account=1');
    expect(request?.body).toBe(body);
    expect(request?.headers['content-type']).toBe('application/json');
    expect(request?.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(request?.headers['webhook-id']).toBe('msg_1');
    expect(request?.headers['webhook-timestamp']).toBe('1700000000');
    expect(request?.headers['webhook-signature']).toBe('v1,abc=');
  });

  it('treats 204 as success', async () => {
    const r = await receiver((_req, res) => res.writeHead(204).end());
    const result = await deliverWebhook(input(r.url));
    expect(result).toMatchObject({ outcome: 'success', status: 204 });
    expect(result.responseSnippet).toBeUndefined();
  });

  it('treats 500 as failure and keeps a snippet', async () => {
    const r = await receiver((_req, res) => res.writeHead(500).end('boom'));
    const result = await deliverWebhook(input(r.url));
    expect(result).toMatchObject({ outcome: 'failure', status: 500, error: 'HTTP 500', responseSnippet: 'boom' });
  });

  it('treats 410 as gone', async () => {
    const r = await receiver((_req, res) => res.writeHead(410).end());
    expect(await deliverWebhook(input(r.url))).toMatchObject({ outcome: 'gone', status: 410 });
  });

  it('does not follow a redirect', async () => {
    const target = await receiver((_req, res) => res.writeHead(200).end());
    const r = await receiver((_req, res) => res.writeHead(301, { location: target.url }).end());
    const result = await deliverWebhook(input(r.url));
    expect(result).toMatchObject({ outcome: 'failure', status: 301 });
    expect(result.error).toMatch(/redirect not followed/);
    expect(target.connections).toBe(0);
  });

  it('reports Retry-After in seconds on 429 and as an HTTP date on 503', async () => {
    const r429 = await receiver((_req, res) => res.writeHead(429, { 'retry-after': '120' }).end());
    expect(await deliverWebhook(input(r429.url))).toMatchObject({ outcome: 'failure', status: 429, retryAfterSeconds: 120 });

    const when = new Date(Date.now() + 3600_000).toUTCString();
    const r503 = await receiver((_req, res) => res.writeHead(503, { 'retry-after': when }).end());
    const result = await deliverWebhook(input(r503.url));
    expect(result).toMatchObject({ outcome: 'failure', status: 503 });
    expect(result.retryAfterSeconds).toBeGreaterThan(3590);
    expect(result.retryAfterSeconds).toBeLessThanOrEqual(3600);
  });

  it('ignores Retry-After on other statuses', async () => {
    const r = await receiver((_req, res) => res.writeHead(500, { 'retry-after': '60' }).end());
    expect((await deliverWebhook(input(r.url))).retryAfterSeconds).toBeUndefined();
  });

  it('gives up on a receiver that never answers, within the timeout', async () => {
    const r = await receiver(() => undefined);
    const result = await deliverWebhook(input(r.url, { timeoutMs: 300 }));
    expect(result.outcome).toBe('failure');
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/timed out after 300 ms/);
    expect(result.latencyMs).toBeGreaterThanOrEqual(290);
    expect(result.latencyMs).toBeLessThan(1500);
  });

  it('bounds a receiver that drips its body, keeping the status it sent', async () => {
    const timers: NodeJS.Timeout[] = [];
    const r = await receiver((_req, res) => {
      res.writeHead(200);
      res.write('a');
      timers.push(setInterval(() => res.write('b'), 20));
      res.on('close', () => timers.forEach(clearInterval));
    });
    const result = await deliverWebhook(input(r.url, { timeoutMs: 300 }));
    timers.forEach(clearInterval);
    expect(result).toMatchObject({ outcome: 'success', status: 200 });
    expect(result.responseSnippet).toMatch(/^ab+…$/);
    expect(result.latencyMs).toBeLessThan(1500);
  });

  it('reads at most maxResponseBytes of a huge body and cuts the connection', async () => {
    let sent = 0;
    let closed = false;
    const chunk = Buffer.alloc(64 * 1024, 'x');
    const r = await receiver((_req, res) => {
      res.writeHead(500);
      res.on('close', () => (closed = true));
      // Writes as fast as the client reads, up to 200 MiB: far more than the client accepts.
      const pump = () => {
        while (!closed && sent < 200 * 1024 * 1024) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    const result = await deliverWebhook(input(r.url, { maxResponseBytes: 100_000 }));
    expect(result).toMatchObject({ outcome: 'failure', status: 500 });
    expect(result.responseSnippet).toBe('x'.repeat(1024) + '…');
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(50 * 1024 * 1024);
  });

  it('keeps the status when the receiver cuts the connection mid-body', async () => {
    const r = await receiver((_req, res) => {
      res.writeHead(200, { 'content-length': '1000' });
      res.write('partial', () => res.socket?.destroy());
    });
    const result = await deliverWebhook(input(r.url));
    expect(result).toMatchObject({ outcome: 'success', status: 200, responseSnippet: 'partial…' });
  });

  it('reports a receiver that hangs up without answering', async () => {
    const r = await receiver((req) => req.socket.destroy());
    const result = await deliverWebhook(input(r.url));
    expect(result.outcome).toBe('failure');
    expect(result.status).toBeUndefined();
    expect(result.error).toMatch(/socket hang up|ECONNRESET/);
  });

  it('reports a refused connection without throwing', async () => {
    const r = await receiver(() => undefined);
    const { server } = servers.pop()!;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const result = await deliverWebhook(input(r.url));
    expect(result.outcome).toBe('failure');
    expect(result.error).toMatch(/ECONNREFUSED/);
  });

  it('connects to the address it resolved and checked, whatever the host name', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).end());
    const resolved: string[] = [];
    const result = await deliverWebhook(
      input(`http://hooks.example.test:${r.port}/in`, {
        resolve: async (hostname) => {
          resolved.push(hostname);
          return [{ address: '127.0.0.1', family: 4 }];
        },
      }),
    );
    expect(result).toMatchObject({ outcome: 'success', status: 200 });
    expect(resolved).toEqual(['hooks.example.test']);
    expect(r.requests[0]?.headers.host).toBe(`hooks.example.test:${r.port}`);
  });

  it('falls back across the resolved addresses of both families', async () => {
    // Nothing listens on [::1] here: the socket must move on to the next checked address.
    const r = await receiver((_req, res) => res.writeHead(200).end());
    const result = await deliverWebhook(
      input(`http://dual.example.test:${r.port}/`, {
        resolve: async () => [
          { address: '::1', family: 6 },
          { address: '127.0.0.1', family: 4 },
        ],
      }),
    );
    expect(result).toMatchObject({ outcome: 'success', status: 200 });
  });

  it('verifies HTTPS certificates, sending the host name (SNI) to the pinned address', async () => {
    const serverNames: string[] = [];
    let requests = 0;
    const server = https.createServer(
      {
        key: TEST_TLS_KEY,
        cert: TEST_TLS_CERT,
        SNICallback: (name, done) => {
          serverNames.push(name);
          done(null, undefined);
        },
      },
      (_req, res) => {
        requests += 1;
        res.writeHead(200).end();
      },
    );
    const sockets = new Set<Socket>();
    server.on('connection', (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
    });
    servers.push({ server, sockets });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const result = await deliverWebhook(
      input(`https://hooks.example.test:${port}/in`, { resolve: async () => [{ address: '127.0.0.1', family: 4 }] }),
    );
    // The certificate is self-signed: trusted by nobody, so the delivery must fail before any request.
    expect(result.outcome).toBe('failure');
    expect(result.error).toMatch(/self[- ]signed/i);
    expect(serverNames).toEqual(['hooks.example.test']);
    expect(requests).toBe(0);
  });

  it('counts a hung resolver against the timeout', async () => {
    const result = await deliverWebhook(
      input('http://slow-dns.example.test/', { timeoutMs: 200, resolve: () => new Promise(() => undefined) }),
    );
    expect(result).toMatchObject({ outcome: 'failure', error: 'timed out after 200 ms' });
  });

  it('reports resolution errors without throwing', async () => {
    const result = await deliverWebhook(
      input('http://missing.example.test/', {
        resolve: () => Promise.reject(Object.assign(new Error('getaddrinfo ENOTFOUND missing.example.test'), { code: 'ENOTFOUND' })),
      }),
    );
    expect(result.outcome).toBe('failure');
    expect(result.error).toMatch(/ENOTFOUND/);
  });

  it('never throws on a bad URL or a header Node refuses to send', async () => {
    expect(await deliverWebhook(input('ftp://example.com/'))).toMatchObject({ outcome: 'failure' });
    expect(await deliverWebhook(input('not a url'))).toMatchObject({ outcome: 'failure' });
    const r = await receiver((_req, res) => res.writeHead(200).end());
    const result = await deliverWebhook(input(r.url, { headers: { 'x-bad': 'a\r\nInjected: 1' } }));
    expect(result.outcome).toBe('failure');
    expect(result.error).toMatch(/ERR_INVALID_CHAR|Invalid character/);
    expect(r.requests).toHaveLength(0);
  });
});

describe('deliverWebhook with private networks forbidden', () => {
  it('refuses 127.0.0.1 and localhost before connecting', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).end());
    for (const url of [r.url, `http://localhost:${r.port}/`, `http://2130706433:${r.port}/`, `http://[::ffff:127.0.0.1]:${r.port}/`]) {
      const result = await deliverWebhook(input(url, { allowPrivateNetworks: false }));
      expect(result.outcome, url).toBe('failure');
      expect(result.error, url).toMatch(/^refused: /);
    }
    expect(r.connections).toBe(0);
  });

  it('refuses a host name that resolves to a private address (DNS rebinding)', async () => {
    const r = await receiver((_req, res) => res.writeHead(200).end());
    for (const answer of [
      [{ address: '127.0.0.1', family: 4 }],
      [{ address: '93.184.216.34', family: 4 }, { address: '127.0.0.1', family: 4 }],
      [{ address: '::ffff:169.254.169.254', family: 6 }],
    ]) {
      const result = await deliverWebhook(
        input(`http://rebind.example.test:${r.port}/`, { allowPrivateNetworks: false, resolve: async () => answer }),
      );
      expect(result.outcome).toBe('failure');
      expect(result.error).toMatch(/resolves to a private or reserved address/);
    }
    expect(r.connections).toBe(0);
  });
});

describe('parseRetryAfter', () => {
  const now = new Date('2026-01-01T00:00:00.000Z');
  it('parses delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('0', now)).toBe(0);
    expect(parseRetryAfter(' 30 ', now)).toBe(30);
    expect(parseRetryAfter('Thu, 01 Jan 2026 00:02:00 GMT', now)).toBe(120);
    expect(parseRetryAfter('Wed, 31 Dec 2025 23:00:00 GMT', now)).toBe(0);
  });
  it('ignores absent or malformed values', () => {
    expect(parseRetryAfter(undefined, now)).toBeUndefined();
    expect(parseRetryAfter('', now)).toBeUndefined();
    expect(parseRetryAfter('-5', now)).toBeUndefined();
    expect(parseRetryAfter('1.5', now)).toBeUndefined();
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter('Fri, 99 Foo 2026 99:99:99 GMT', now)).toBeUndefined();
  });
});
