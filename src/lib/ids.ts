import { createHash, randomUUID } from 'node:crypto';
import { v7 as uuidV7 } from 'uuid';

export const newId = (): string => randomUUID();

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string => typeof value === 'string' && UUID_RE.test(value);

/**
 * RFC 4122 version-5 UUID (SHA-1 of namespace + name). Seeded reference data (carriers,
 * opt-ins, coupon templates) gets ids derived from its name, so every installation shares them.
 */
export function uuidV5(name: string, namespace = SHORTCODE_NAMESPACE): string {
  const ns = Buffer.from(namespace.replace(/-/g, ''), 'hex');
  const hash = createHash('sha1').update(ns).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const SHORTCODE_NAMESPACE = '6f1d5c86-2a0e-4c59-9a57-3a4ad0f0b1c2';

/**
 * A UUID whose first 48 bits are the time (RFC 9562 version 7), for rows written at a high rate
 * and rewritten soon after: new keys land at the right end of the primary key's index, so a
 * burst of inserts and updates touches a few index pages instead of one per row.
 */
export const newTimeOrderedId = (): string => uuidV7();
