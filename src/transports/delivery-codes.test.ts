import { describe, expect, it } from 'vitest';
import { DELIVERY_CODES, codeFromReceipt, deliveryCode, messageStateName } from './delivery-codes.js';

describe('delivery codes', () => {
  it('has every code of the reference table: 100-144 and 214', () => {
    const expected = [...Array.from({ length: 45 }, (_, i) => 100 + i), 214];
    expect([...DELIVERY_CODES.keys()].sort((a, b) => a - b)).toEqual(expected);
  });

  it('marks only 100 as success and 101, 106-109 as bounces', () => {
    expect([...DELIVERY_CODES.values()].filter((c) => c.success).map((c) => c.code)).toEqual([100]);
    expect([...DELIVERY_CODES.values()].filter((c) => c.bounce).map((c) => c.code)).toEqual([101, 106, 107, 108, 109]);
  });

  it('treats queued and dispatched as not final', () => {
    expect(deliveryCode(136)?.final).toBe(false);
    expect(deliveryCode(137)?.final).toBe(false);
    expect(deliveryCode(100)?.final).toBe(true);
    expect(deliveryCode(140)).toMatchObject({ final: true, retryable: true });
    expect(deliveryCode(999)).toBeUndefined();
  });
});

describe('codeFromReceipt', () => {
  it.each([
    ['DELIVRD', '000', 100],
    ['EXPIRED', '000', 142],
    ['DELETED', '000', 143],
    ['UNDELIV', '000', 120],
    ['REJECTD', '000', 138],
    ['UNKNOWN', '000', 104],
    ['ACCEPTD', '000', 137],
    ['ENROUTE', '000', 137],
    ['UNDELIV', '001', 101],
    ['UNDELIV', '027', 111],
    ['UNDELIV', '999', 120],
    ['REJECTD', '001', 101],
    ['REJECTD', '027', 138],
    ['DELIVRD', '001', 100],
    ['delivrd', undefined, 100],
    ['GARBAGE', '000', 104],
    [undefined, undefined, 104],
  ])('stat %s err %s → %i', (stat, err, code) => {
    expect(codeFromReceipt(stat, err)).toBe(code);
  });

  it('names message_state TLV values', () => {
    expect(messageStateName(2)).toBe('DELIVRD');
    expect(messageStateName(5)).toBe('UNDELIV');
    expect(messageStateName(42)).toBeUndefined();
  });
});
