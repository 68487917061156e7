import { signWebhook, verifyWebhook, WebhookVerificationError, Shortcode } from '@shortcode/sdk';
import { Webhook } from 'standardwebhooks';
import { describe, expect, it } from 'vitest';
import { generateWebhookSecret, signPayload } from '../../../src/modules/webhooks/webhook-signing.js';

const secret = generateWebhookSecret();
const payload = JSON.stringify({ id: 'f82e541a-a4b1-11e8-a85f-127fd0971098', phone_number: '+19999999999', message: 'Hi ✓' });

/** Headers exactly as the server signs a delivery (through the standardwebhooks package). */
function serverSigned(at = new Date(), secrets = [secret]) {
  return { ...signPayload({ msgId: 'msg_2b3c4d5e6f', timestamp: at, body: payload, secrets }) };
}

describe('verifyWebhook (Standard Webhooks, WebCrypto HMAC-SHA256)', () => {
  it('accepts a delivery signed by the server and returns the parsed payload', async () => {
    const headers = serverSigned();
    const event = await verifyWebhook<{ message: string }>({ payload, headers, secret });
    expect(event.id).toBe('msg_2b3c4d5e6f');
    expect(event.payload.message).toBe('Hi ✓');
    expect(event.timestamp.getTime()).toBe(Number(headers['webhook-timestamp']) * 1000);
  });

  it('accepts a raw body as bytes and headers as a Headers object or in any case', async () => {
    const signed = serverSigned();
    await expect(verifyWebhook({ payload: new TextEncoder().encode(payload), headers: new Headers(signed), secret })).resolves.toBeTruthy();
    const upper = Object.fromEntries(Object.entries(signed).map(([k, v]) => [k.toUpperCase(), v]));
    await expect(verifyWebhook({ payload, headers: upper, secret })).resolves.toBeTruthy();
  });

  it('accepts either secret during a rotation (two v1 signatures)', async () => {
    const next = generateWebhookSecret();
    const headers = serverSigned(new Date(), [secret, next]);
    expect(headers['webhook-signature'].split(' ')).toHaveLength(2);
    await expect(verifyWebhook({ payload, headers, secret: next })).resolves.toBeTruthy();
    await expect(verifyWebhook({ payload, headers, secret })).resolves.toBeTruthy();
  });

  it('refuses a tampered body, a wrong secret, a missing header and a replayed timestamp', async () => {
    const headers = serverSigned();
    await expect(verifyWebhook({ payload: payload.replace('Hi', 'Ho'), headers, secret })).rejects.toThrow(/No webhook signature matches/);
    await expect(verifyWebhook({ payload, headers, secret: generateWebhookSecret() })).rejects.toBeInstanceOf(WebhookVerificationError);
    const { 'webhook-signature': _dropped, ...unsigned } = headers;
    await expect(verifyWebhook({ payload, headers: unsigned, secret })).rejects.toThrow(/Missing/);
    const old = serverSigned(new Date(Date.now() - 10 * 60_000));
    await expect(verifyWebhook({ payload, headers: old, secret })).rejects.toThrow(/too old/);
    const future = serverSigned(new Date(Date.now() + 10 * 60_000));
    await expect(verifyWebhook({ payload, headers: future, secret })).rejects.toThrow(/too new/);
    await expect(verifyWebhook({ payload, headers: { ...headers, 'webhook-signature': 'v2,abc v1,!!!' }, secret })).rejects.toThrow(/No webhook signature/);
  });

  it('signWebhook produces what the standardwebhooks package verifies', async () => {
    const at = new Date();
    const headers = await signWebhook({ id: 'msg_abc', timestamp: at, payload, secret });
    expect(new Webhook(secret).verify(payload, headers)).toEqual(JSON.parse(payload));
    expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_abc', at, payload));
  });

  it('is available as client.webhooks.verify', async () => {
    const client = new Shortcode({ baseUrl: 'http://127.0.0.1:1' });
    await expect(client.webhooks.verify({ payload, headers: serverSigned(), secret })).resolves.toMatchObject({ id: 'msg_2b3c4d5e6f' });
  });
});
