import { describe, expect, it } from 'vitest';
import { Webhook } from 'standardwebhooks';
import { generateWebhookMessageId, generateWebhookSecret, isValidWebhookSecret, signPayload } from './webhook-signing.js';

const body = JSON.stringify({ id: 'f82e541a-a4b1-11e8-a85f-127fd0971098', message: 'Hi ✓' });

describe('generateWebhookSecret', () => {
  it('makes whsec_ secrets of 32 random bytes, different each time', () => {
    const a = generateWebhookSecret();
    const b = generateWebhookSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]+=*$/);
    expect(Buffer.from(a.slice('whsec_'.length), 'base64')).toHaveLength(32);
    expect(a).not.toBe(b);
    expect(isValidWebhookSecret(a)).toBe(true);
  });

  it('rejects malformed secrets', () => {
    expect(isValidWebhookSecret('abc')).toBe(false);
    expect(isValidWebhookSecret('whsec_')).toBe(false);
    expect(isValidWebhookSecret('whsec_' + Buffer.alloc(16).toString('base64'))).toBe(false);
    expect(isValidWebhookSecret('whsec_' + Buffer.alloc(24).toString('base64'))).toBe(true);
    expect(isValidWebhookSecret('whsec_not*base64')).toBe(false);
  });
});

describe('generateWebhookMessageId', () => {
  it('makes unique msg_ ids that are safe to sign', () => {
    const id = generateWebhookMessageId();
    expect(id).toMatch(/^msg_[0-9a-f]{32}$/);
    expect(generateWebhookMessageId()).not.toBe(id);
    const secret = generateWebhookSecret();
    expect(() => signPayload({ msgId: id, timestamp: new Date(), body, secrets: [secret] })).not.toThrow();
  });
});

describe('signPayload', () => {
  it('produces headers the standardwebhooks package verifies', () => {
    const secret = generateWebhookSecret();
    const timestamp = new Date();
    const headers = signPayload({ msgId: 'msg_2b3c', timestamp, body, secrets: [secret] });
    expect(headers['webhook-id']).toBe('msg_2b3c');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(timestamp.getTime() / 1000)));
    expect(headers['webhook-signature']).toMatch(/^v1,[A-Za-z0-9+/]+=*$/);
    expect(new Webhook(secret).verify(body, { ...headers })).toEqual(JSON.parse(body));
  });

  it('gives exactly the signature of the package\'s own sign, for any body and secret length', () => {
    const bodies = [body, '', '{"emoji":"🎉","accents":"éàü","cjk":"短信"}', 'x'.repeat(70_000), 'lone \ud800 surrogate'];
    const secrets = [generateWebhookSecret(), 'whsec_' + Buffer.alloc(24, 9).toString('base64'), 'whsec_' + Buffer.alloc(64, 200).toString('base64')];
    const timestamp = new Date('2026-03-04T05:06:07.890Z');
    for (const secret of secrets) {
      for (const b of bodies) {
        const headers = signPayload({ msgId: 'msg_abc', timestamp, body: b, secrets: [secret] });
        expect(headers['webhook-signature']).toBe(new Webhook(secret).sign('msg_abc', timestamp, b));
        expect(headers['webhook-timestamp']).toBe('1772600767');
      }
    }
  });

  it('signs with every secret during a rotation, and each one verifies', () => {
    const oldSecret = generateWebhookSecret();
    const newSecret = generateWebhookSecret();
    const headers = signPayload({ msgId: 'msg_1', timestamp: new Date(), body, secrets: [oldSecret, newSecret] });
    const parts = headers['webhook-signature'].split(' ');
    expect(parts).toHaveLength(2);
    for (const part of parts) expect(part.startsWith('v1,')).toBe(true);
    expect(() => new Webhook(oldSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(newSecret).verify(body, { ...headers })).not.toThrow();
    expect(() => new Webhook(generateWebhookSecret()).verify(body, { ...headers })).toThrow();
  });

  it('is rejected for a tampered body, id or timestamp', () => {
    const secret = generateWebhookSecret();
    const timestamp = new Date();
    const headers = signPayload({ msgId: 'msg_1', timestamp, body, secrets: [secret] });
    const wh = new Webhook(secret);
    expect(() => wh.verify(body.replace('Hi', 'Ho'), { ...headers })).toThrow();
    expect(() => wh.verify(body, { ...headers, 'webhook-id': 'msg_2' })).toThrow();
    expect(() =>
      wh.verify(body, { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) - 1) }),
    ).toThrow();
  });

  it('refuses to sign without a valid secret or with an ambiguous id', () => {
    const timestamp = new Date();
    expect(() => signPayload({ msgId: 'm', timestamp, body, secrets: [] })).toThrow();
    expect(() => signPayload({ msgId: 'm', timestamp, body, secrets: ['whsec_x'] })).toThrow();
    expect(() => signPayload({ msgId: 'a.b', timestamp, body, secrets: [generateWebhookSecret()] })).toThrow();
  });
});
