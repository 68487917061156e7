import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { ConflictError, NotFoundError, Shortcode, UnprocessableEntityError, verifyWebhook, WebhookVerificationError } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';
import { startWorkers } from './workers.js';

let server: TestServer;
let stopWorkers: () => Promise<void>;
let client: Shortcode;
let shortCode: string;
let receiver: Server;
let receiverUrl: string;
const received: Array<{ path: string; body: string; headers: Record<string, string | string[] | undefined> }> = [];

beforeAll(async () => {
  server = await startServer({ SIMULATOR_REPORT_DELAY_MS: '0' });
  stopWorkers = await startWorkers(server);
  ({ client, shortCode } = await server.newAccount());
  receiver = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hooks`;
});
afterAll(async () => {
  await stopWorkers();
  await new Promise((resolve) => receiver.close(resolve));
  await server.close();
});

describe('webhooks', () => {
  it('manages endpoints: create (with its secret once), retrieve, update, list, rotate the secret, delete', async () => {
    const created = await client.webhooks.create({ url: `${receiverUrl}/a`, events: ['unsubscribe'] });
    expect(created.secret).toMatch(/^whsec_/);
    const fetched = await client.webhooks.retrieve(created.id);
    expect(fetched).toMatchObject({ id: created.id, url: `${receiverUrl}/a`, events: ['unsubscribe'] });
    expect('secret' in fetched).toBe(false);
    const updated = await client.webhooks.update(created.id, { events: ['unsubscribe', 'inbound_message'] });
    expect([...updated.events].sort()).toEqual(['inbound_message', 'unsubscribe']);
    expect((await client.webhooks.list()).data.map((w) => w.id)).toContain(created.id);
    const rotated = await client.webhooks.rotateSecret(created.id);
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(created.secret);
    await client.webhooks.delete(created.id);
    await expect(client.webhooks.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
    const invalid = (await client.webhooks.create({ url: 'not a url', events: ['nope'] } as never).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(invalid).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys(invalid.errors).length).toBeGreaterThan(0);
  });

  it('delivers a signed event that verifyWebhook accepts; the delivery log and redelivery work', async () => {
    const endpoint = await client.webhooks.create({ url: receiverUrl, events: ['inbound_message'] });
    const contact = await client.contacts.create({ phone_number: '+12025559876' });
    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'Hello webhook' });

    const deadline = Date.now() + 15_000;
    const ours = (r: (typeof received)[number]) => r.path === '/hooks' && r.body.includes('Hello webhook');
    while (!received.some(ours) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const delivery = received.find(ours);
    expect(delivery).toBeDefined();
    const event = await verifyWebhook<{ message: string; phone_number: string }>({ payload: delivery!.body, headers: delivery!.headers, secret: endpoint.secret });
    expect(event.payload).toMatchObject({ message: 'Hello webhook', phone_number: contact.phone_number });
    await expect(verifyWebhook({ payload: delivery!.body, headers: delivery!.headers, secret: (await client.webhooks.rotateSecret(endpoint.id)).secret.replace(/.$/, 'A') })).rejects.toBeInstanceOf(
      WebhookVerificationError,
    );

    let deliveries = await client.webhooks.deliveries(endpoint.id);
    while (deliveries.data[0]?.status !== 'delivered' && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
      deliveries = await client.webhooks.deliveries(endpoint.id);
    }
    expect(deliveries.data).toHaveLength(1);
    const logged = deliveries.data[0]!;
    expect(logged.status).toBe('delivered');
    const detail = await client.webhooks.retrieveDelivery(endpoint.id, logged.id);
    expect(detail.id).toBe(logged.id);
    expect(JSON.stringify(detail)).toContain('Hello webhook');
    const iterated = [];
    for await (const d of client.webhooks.iterateDeliveries(endpoint.id, { limit: 1 })) iterated.push(d.id);
    expect(iterated).toEqual([logged.id]);

    const before = received.filter(ours).length;
    const again = await client.webhooks.redeliver(endpoint.id, logged.id).catch((e: unknown) => e);
    if (again instanceof ConflictError) throw new Error(`redeliver refused: ${again.message}`);
    while (received.filter(ours).length === before && Date.now() < deadline + 10_000) await new Promise((r) => setTimeout(r, 100));
    const redelivered = received.filter(ours).at(-1)!;
    expect(redelivered.headers['webhook-id']).toBe(delivery!.headers['webhook-id']);
  });
});
