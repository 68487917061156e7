import { createHash, randomUUID } from 'node:crypto';

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
 *
 * Built from `randomUUID()` (whose random bytes come from a pooled buffer) with its first 48
 * bits replaced by the time: the `uuid` package's v7 drew 16 fresh bytes from the system per id,
 * 7% of a webhook worker's CPU. Ids made in the same millisecond are in random order among
 * themselves, as PostgreSQL's own uuidv7() and our SQL `uuid_v7()` are; nothing relies on more.
 */
export function newTimeOrderedId(): string {
  const now = Date.now();
  if (now !== lastMillis) {
    lastMillis = now;
    const time = now.toString(16).padStart(12, '0');
    timePrefix = `${time.slice(0, 8)}-${time.slice(8, 12)}-7`;
  }
  // A randomUUID() has its version digit (4) at index 14; from index 15 on (random digits and
  // the variant) it is kept, after the time and a 7.
  return timePrefix + randomUUID().slice(15);
}
let lastMillis = -1;
let timePrefix = '';
