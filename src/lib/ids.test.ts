import { describe, expect, it } from 'vitest';
import { isUuid, newId, newTimeOrderedId } from './ids.js';

describe('newTimeOrderedId', () => {
  it('makes version-7 UUIDs that PostgreSQL and the API accept as ids', () => {
    const id = newTimeOrderedId();
    expect(isUuid(id)).toBe(true);
    expect(id[14]).toBe('7');
    expect(['8', '9', 'a', 'b']).toContain(id[19]);
  });

  it('carries the current time in its first 48 bits, so later ids sort after earlier ones', async () => {
    const before = Date.now();
    const first = newTimeOrderedId();
    const millis = Number.parseInt(first.replaceAll('-', '').slice(0, 12), 16);
    expect(millis).toBeGreaterThanOrEqual(before);
    expect(millis).toBeLessThanOrEqual(Date.now());
    await new Promise((resolve) => setTimeout(resolve, 3));
    const later = Array.from({ length: 100 }, () => newTimeOrderedId());
    for (const id of later) expect(id > first).toBe(true);
    expect(new Set(later).size).toBe(100);
  });

  it('differs from the random ids, which carry no time', () => {
    expect(newId()[14]).toBe('4');
  });
});
