import { PaymentRequiredError, Shortcode, UnprocessableEntityError, type Message } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';
import { startWorkers } from './workers.js';

let server: TestServer;
let stopWorkers: () => Promise<void>;
let client: Shortcode;
let token: string;
let shortCode: string;
let n = 0;
const phone = () => `+1202556${String(1000 + (n++ % 9000)).padStart(4, '0')}`;

beforeAll(async () => {
  server = await startServer({ SIMULATOR_REPORT_DELAY_MS: '0' });
  stopWorkers = await startWorkers(server);
  ({ client, token, shortCode } = await server.newAccount());
});
afterAll(async () => {
  await stopWorkers();
  await server.close();
});

async function eventually<T>(probe: () => Promise<T>, done: (value: T) => boolean, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** A fetch that records request headers and delegates. */
function recordingFetch() {
  const headers: Array<Record<string, string>> = [];
  const fetchImpl: typeof fetch = (input, init) => {
    headers.push({ ...(init?.headers as Record<string, string>) });
    return fetch(input, init);
  };
  return { headers, fetchImpl };
}

describe('message', () => {
  it('sends one message with an automatic Idempotency-Key; the simulated handset receives it', async () => {
    const { headers, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl });
    const to = phone();
    const sent = await recorded.message.send({ phone_number: to, message: 'Hello from the SDK' });
    expect(sent).toMatchObject({ type: 'OUTGOING', phone_number: to, message: 'Hello from the SDK', segments: 1, encoding: 'GSM-7' });
    expect(headers[0]!['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);

    const received = await eventually(() => client.simulator.handsetMessages(to), (m) => m.length > 0);
    expect(received.map((m) => m.message)).toEqual(['Hello from the SDK']);
    const delivered = await eventually(() => client.messages.retrieve(sent.id, { include: 'receipt' }), (m) => m.status === 'delivered');
    expect(delivered.status).toBe('delivered');
    expect(delivered.receipt).toMatchObject({ code: '100', success: true });
  });

  it('a retry with the same Idempotency-Key answers the first message and sends nothing new', async () => {
    const to = phone();
    const first = await client.message.send({ phone_number: to, message: 'Once' }, { idempotencyKey: 'order-1234-confirmation' });
    const again = await client.message.send({ phone_number: to, message: 'Once' }, { idempotencyKey: 'order-1234-confirmation' });
    expect(again.id).toBe(first.id);
    const page = await client.messages.list({ filter: { phone_number: to } });
    expect(page.meta.pagination.total).toBe(1);
  });

  it('sends a personalised batch and reports rejected numbers', async () => {
    const { headers, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl });
    const unsubscribed = await client.contacts.create({ phone_number: phone() });
    await client.contacts.unsubscribe([unsubscribed.phone_number]);
    const a = phone();
    const result = await recorded.message.batch({
      messages: [
        { phone_number: a, message: 'Hi A', metadata: { order: 1 } },
        { phone_number: unsubscribed.phone_number, message: 'Hi B' },
      ],
    });
    expect(headers[0]!['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
    expect(result.meta.accepted).toBe(1);
    expect(result.data.map((m) => m.phone_number)).toEqual([a]);
    expect(result.meta.rejected).toHaveLength(1);
    expect(result.meta.rejected[0]).toMatchObject({ index: 1, phone_number: unsubscribed.phone_number });
  });

  it('previews the cost of a text', async () => {
    const preview = await client.message.preview({ message: 'Ünïcödé ✓ text' });
    expect(preview).toMatchObject({ encoding: 'UCS-2', segments: 1, credits: 1 });
    expect(preview.non_gsm_characters).toContain('✓');
  });

  it('raises PaymentRequiredError when the balance cannot cover a send, and 422 for a bad number', async () => {
    const { client: poor, accountId } = await server.newAccount();
    await server.database.db.updateTable('accounts').set({ credit_balance: 0 }).where('id', '=', accountId).execute();
    const error = (await poor.message.send({ phone_number: phone(), message: 'x' }).catch((e: unknown) => e)) as PaymentRequiredError;
    expect(error).toBeInstanceOf(PaymentRequiredError);
    expect(error.status).toBe(402);
    expect(error.requestId).toBeTruthy();
    const bad = (await client.message.send({ phone_number: '12', message: 'x' }).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(bad).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys(bad.errors)).toContain('phone_number');
  });
});

describe('messages', () => {
  it('sends to a contact, lists with filters, and tracks the unread inbox', async () => {
    const contact = await client.contacts.create({ phone_number: phone() });
    // The contact confirms the opt-in by texting the account; the reply is an unread incoming message.
    const inbound = await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'Is the sale still on?' });
    expect(inbound).toMatchObject({ type: 'INCOMING', phone_number: contact.phone_number, read: false });

    const unread = await client.messages.unread({ filter: { phone_number: contact.phone_number } });
    expect(unread.data.map((m) => m.id)).toEqual([inbound.id]);
    const iterated: Message[] = [];
    for await (const m of client.messages.iterateUnread({ limit: 1 })) iterated.push(m);
    expect(iterated.map((m) => m.id)).toContain(inbound.id);

    const read = await client.messages.markRead(inbound.id);
    expect(read.read).toBe(true);
    expect((await client.messages.unread({ filter: { phone_number: contact.phone_number } })).data).toEqual([]);
    expect((await client.messages.update(inbound.id, { read: false })).read).toBe(false);

    const incoming = await client.messages.list({ filter: { type: 'INCOMING_ALL', phone_number: contact.phone_number }, include: ['contact.carrier'] });
    expect(incoming.data.map((m) => m.id)).toEqual([inbound.id]);
    expect(incoming.data[0]!.contact?.id).toBe(contact.id);
  });

  it('messages.create sends to a subscribed contact with an automatic Idempotency-Key', async () => {
    const contact = await client.contacts.create({ phone_number: phone() });
    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'YES' });
    const { headers, fetchImpl } = recordingFetch();
    const recorded = new Shortcode({ token, baseUrl: server.baseUrl, fetch: fetchImpl });
    const sent = await recorded.messages.create({ contact_id: contact.id, message: 'Thanks for joining' });
    expect(sent).toMatchObject({ type: 'OUTGOING', phone_number: contact.phone_number, contact_id: contact.id });
    expect(headers[0]!['idempotency-key']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('messages.create refuses a contact who unsubscribed', async () => {
    const contact = await client.contacts.create({ phone_number: phone() });
    await client.contacts.unsubscribe([contact.phone_number]);
    await expect(client.messages.create({ contact_id: contact.id, message: 'x' })).rejects.toBeInstanceOf(UnprocessableEntityError);
  });
});

describe('message.schedule', () => {
  it('creates, lists, retrieves, updates and deletes scheduled messages', async () => {
    const sendAt = new Date(Date.now() + 3_600_000).toISOString();
    const scheduled = await client.message.schedule.create({ phone_number: phone(), message: 'Later', send_at: sendAt });
    expect(scheduled).toMatchObject({ message: 'Later', status: 'scheduled', send_at: sendAt });
    expect(await client.message.schedule.retrieve(scheduled.id)).toEqual(scheduled);
    const page = await client.message.schedule.list();
    expect(page.data.map((s) => s.id)).toContain(scheduled.id);
    const moved = await client.message.schedule.update(scheduled.id, { message: 'Later still' });
    expect(moved.message).toBe('Later still');
    await client.message.schedule.delete(scheduled.id);
    expect((await client.message.schedule.retrieve(scheduled.id)).status).toBe('canceled');
    const past = (await client.message.schedule.create({ phone_number: phone(), message: 'x', send_at: '2020-01-01T00:00:00.000Z' }).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(past).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys(past.errors)).toContain('send_at');
  });
});
