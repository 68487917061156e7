import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createConnectionPool, deliverWebhook, type DeliverWebhookInput, type WebhookConnectionPool } from './webhook-http.js';

let server: http.Server | undefined;
let pool: WebhookConnectionPool | undefined;
const sockets = new Set<Socket>();
let connections = 0;

async function listen(handler: http.RequestListener, host = '127.0.0.1'): Promise<number> {
  server = http.createServer(handler);
  server.on('connection', (socket) => {
    connections += 1;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server!.listen(0, host, resolve));
  return (server.address() as AddressInfo).port;
}

afterEach(async () => {
  pool?.destroy();
  pool = undefined;
  const deadline = Date.now() + 500;
  while (sockets.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
  const leaked = sockets.size;
  for (const s of sockets) s.destroy();
  await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  server = undefined;
  connections = 0;
  expect(leaked, 'connections left open after the pool was destroyed').toBe(0);
});

const input = (url: string, extra: Partial<DeliverWebhookInput> = {}): DeliverWebhookInput => ({
  url,
  body: '{"a":1}',
  headers: { 'webhook-id': 'msg_1', 'webhook-timestamp': '1', 'webhook-signature': 'v1,x' },
  timeoutMs: 2_000,
  maxResponseBytes: 1024,
  allowPrivateNetworks: true,
  ...extra,
});

describe('deliverWebhook with a connection pool', () => {
  it('reuses one keep-alive connection for attempts to the same checked address', async () => {
    const port = await listen((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(204).end());
    });
    pool = createConnectionPool();
    for (let i = 0; i < 5; i++) {
      const result = await deliverWebhook(input(`http://127.0.0.1:${port}/h`, { pool }));
      expect(result).toMatchObject({ outcome: 'success', status: 204 });
    }
    expect(connections).toBe(1);
  });

  it('keeps separate connections per resolved address set, even for one host name', async () => {
    const port = await listen((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(200).end('ok'));
    }, '0.0.0.0'); // reachable on 127.0.0.1 and 127.0.0.2
    pool = createConnectionPool();
    const viaV4 = (host: string) => deliverWebhook(input(`http://${host}:${port}/h`, { pool, resolve: async () => [{ address: '127.0.0.1', family: 4 }] }));
    expect((await viaV4('hooks.example.test')).outcome).toBe('success');
    expect((await viaV4('hooks.example.test')).outcome).toBe('success');
    expect(connections).toBe(1);
    // Same name, another answer: a new agent, a new connection (never a socket to the old address).
    const other = await deliverWebhook(input(`http://hooks.example.test:${port}/h`, { pool, resolve: async () => [{ address: '127.0.0.2', family: 4 }] }));
    expect(other.outcome).toBe('success');
    expect(connections).toBe(2);
  });

  it('does not return a socket to the pool after a cut-off body or a timeout', async () => {
    let mode: 'huge' | 'hang' | 'ok' = 'huge';
    const port = await listen((req, res) => {
      req.resume();
      req.on('end', () => {
        if (mode === 'huge') res.writeHead(200).end('x'.repeat(10_000));
        else if (mode === 'hang') res.writeHead(200).write('partial');
        else res.writeHead(200).end();
      });
    });
    pool = createConnectionPool();
    const url = `http://127.0.0.1:${port}/h`;
    expect((await deliverWebhook(input(url, { pool }))).outcome).toBe('success');
    mode = 'hang';
    expect((await deliverWebhook(input(url, { pool, timeoutMs: 200 }))).outcome).toBe('success');
    mode = 'ok';
    expect((await deliverWebhook(input(url, { pool }))).outcome).toBe('success');
    // Each of the first two attempts lost its socket, so the third needed a fresh one.
    expect(connections).toBe(3);
  });

  it('still refuses private addresses before connecting when they are not allowed', async () => {
    const port = await listen((_req, res) => res.writeHead(200).end());
    pool = createConnectionPool();
    const result = await deliverWebhook(input(`http://127.0.0.1:${port}/h`, { pool, allowPrivateNetworks: false }));
    expect(result.outcome).toBe('failure');
    expect(result.error).toMatch(/^refused:/);
    expect(connections).toBe(0);
  });

  it('closes the least recently used agent beyond its bound', async () => {
    pool = createConnectionPool({ maxAgents: 2 });
    const a = pool.agentFor('http:', 'a', '1', [{ address: '192.0.2.1', family: 4 }]);
    pool.agentFor('http:', 'b', '1', [{ address: '192.0.2.2', family: 4 }]);
    expect(pool.agentFor('http:', 'a', '1', [{ address: '192.0.2.1', family: 4 }])).toBe(a);
    pool.agentFor('http:', 'c', '1', [{ address: '192.0.2.3', family: 4 }]);
    expect(pool.agentFor('http:', 'a', '1', [{ address: '192.0.2.1', family: 4 }])).toBe(a);
    expect(pool.agentFor('http:', 'b', '1', [{ address: '192.0.2.2', family: 4 }])).not.toBe(a);
  });
});
