/**
 * Verification of webhook deliveries per the Standard Webhooks specification, with WebCrypto
 * (HMAC-SHA256) and no dependency: `webhook-signature` holds one or more `v1,<base64>`
 * signatures of `${webhook-id}.${webhook-timestamp}.${body}` under the endpoint's `whsec_` secret.
 */
import { WebhookVerificationError } from './errors.js';

/** Delivery headers: a `Headers` object, or a plain object (any letter case, as Node gives them). */
export type WebhookHeaders = Headers | Record<string, string | string[] | undefined>;

export interface VerifyWebhookParams {
  /** The raw request body exactly as received (re-serialised JSON does not verify). */
  payload: string | Uint8Array;
  headers: WebhookHeaders;
  /** The endpoint's signing secret, `whsec_...` (during a rotation, either the old or the new one). */
  secret: string;
  /** The largest accepted distance between `webhook-timestamp` and now, in seconds. Default 300. */
  toleranceSeconds?: number;
  /** The current time, for tests. */
  now?: Date;
}

/** What a verified delivery carries. */
export interface VerifiedWebhook<T = unknown> {
  /** `webhook-id`: the same across retries of one event; use it to drop duplicates. */
  id: string;
  /** When this attempt was signed. */
  timestamp: Date;
  /** The parsed JSON body. */
  payload: T;
}

const encoder = new TextEncoder();
type HmacKey = Awaited<ReturnType<typeof globalThis.crypto.subtle.importKey>>;

function header(headers: WebhookHeaders, name: string): string | undefined {
  if (typeof (headers as Headers).get === 'function') return (headers as Headers).get(name) ?? undefined;
  for (const [key, value] of Object.entries(headers as Record<string, string | string[] | undefined>)) {
    if (key.toLowerCase() === name) return Array.isArray(value) ? value.join(' ') : value;
  }
  return undefined;
}

function base64ToBytes(text: string): Uint8Array | undefined {
  try {
    const binary = atob(text);
    const bytes = new Uint8Array(binary.length);
    for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
    return bytes;
  } catch {
    return undefined;
  }
}

/** The HMAC key of a `whsec_` secret (the prefix is optional, as in the reference libraries). */
async function importSecret(secret: string): Promise<HmacKey> {
  const key = base64ToBytes(secret.startsWith('whsec_') ? secret.slice('whsec_'.length) : secret);
  if (!key || key.length === 0) throw new WebhookVerificationError('The webhook secret is not a valid whsec_ secret.');
  return globalThis.crypto.subtle.importKey('raw', key as Uint8Array<ArrayBuffer>, { name: 'HMAC', hash: 'SHA-256' }, false, ['sign', 'verify']);
}

/**
 * Verifies a webhook delivery and returns its parsed payload.
 *
 * @throws {WebhookVerificationError} when a header is missing, the timestamp is outside the
 *   tolerance (a replay), or no signature matches the secret.
 * @example
 * const event = await verifyWebhook({ payload: rawBody, headers: req.headers, secret: process.env.WEBHOOK_SECRET! });
 */
export async function verifyWebhook<T = unknown>(params: VerifyWebhookParams): Promise<VerifiedWebhook<T>> {
  const id = header(params.headers, 'webhook-id');
  const timestamp = header(params.headers, 'webhook-timestamp');
  const signatures = header(params.headers, 'webhook-signature');
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError('Missing webhook-id, webhook-timestamp or webhook-signature header.');
  }
  if (!/^\d{1,12}$/.test(timestamp)) throw new WebhookVerificationError('Invalid webhook-timestamp header.');
  const seconds = Number(timestamp);
  const now = Math.floor((params.now ?? new Date()).getTime() / 1000);
  const tolerance = params.toleranceSeconds ?? 300;
  if (seconds < now - tolerance) throw new WebhookVerificationError('The webhook timestamp is too old.');
  if (seconds > now + tolerance) throw new WebhookVerificationError('The webhook timestamp is too new.');

  const body = typeof params.payload === 'string' ? params.payload : new TextDecoder().decode(params.payload);
  const key = await importSecret(params.secret);
  const signed = encoder.encode(`${id}.${timestamp}.${body}`);
  let verified = false;
  for (const part of signatures.split(' ')) {
    const [version, value] = part.split(',', 2);
    if (version !== 'v1' || !value) continue;
    const signature = base64ToBytes(value);
    if (!signature) continue;
    // subtle.verify compares in constant time.
    if (await globalThis.crypto.subtle.verify('HMAC', key, signature as Uint8Array<ArrayBuffer>, signed)) {
      verified = true;
      break;
    }
  }
  if (!verified) throw new WebhookVerificationError('No webhook signature matches the secret.');
  let payload: T;
  try {
    payload = JSON.parse(body) as T;
  } catch (error) {
    throw new WebhookVerificationError('The webhook body is not JSON.', { cause: error });
  }
  return { id, timestamp: new Date(seconds * 1000), payload };
}

/**
 * Signs a payload the way the server does (for testing receivers): the three Standard Webhooks
 * headers for `body` under `secret`.
 */
export async function signWebhook(params: { id: string; timestamp: Date; payload: string; secret: string }): Promise<Record<'webhook-id' | 'webhook-timestamp' | 'webhook-signature', string>> {
  const key = await importSecret(params.secret);
  const seconds = String(Math.floor(params.timestamp.getTime() / 1000));
  const mac = new Uint8Array(await globalThis.crypto.subtle.sign('HMAC', key, encoder.encode(`${params.id}.${seconds}.${params.payload}`)));
  let binary = '';
  for (const byte of mac) binary += String.fromCharCode(byte);
  return { 'webhook-id': params.id, 'webhook-timestamp': seconds, 'webhook-signature': `v1,${btoa(binary)}` };
}
