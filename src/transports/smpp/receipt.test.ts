import { describe, expect, it } from 'vitest';
import { isReceiptEsmClass, parseReceipt } from './receipt.js';

const TEXT = 'id:abc123 sub:001 dlvrd:001 submit date:2611260012 done date:2611260013 stat:DELIVRD err:000 text:Hello';

describe('parseReceipt', () => {
  it('parses the standard receipt text', () => {
    expect(parseReceipt({ text: TEXT })).toMatchObject({ carrierMessageId: 'abc123', stat: 'DELIVRD', err: '000', code: 100 });
  });

  it('prefers the TLVs to the text', () => {
    expect(parseReceipt({ text: TEXT, receiptedMessageId: 'tlv-id', messageState: 5 })).toMatchObject({
      carrierMessageId: 'tlv-id',
      stat: 'UNDELIV',
      code: 120,
    });
  });

  it('maps UNDELIV with a MAP error to a precise code', () => {
    expect(parseReceipt({ text: 'id:9 stat:UNDELIV err:001' })?.code).toBe(101);
  });

  it('accepts lower case and other field orders', () => {
    expect(parseReceipt({ text: 'Stat:expired ID:77 Err:0' })).toMatchObject({ carrierMessageId: '77', code: 142 });
  });

  it('gives 104 when there is no state and undefined when there is no id', () => {
    expect(parseReceipt({ text: 'id:5' })?.code).toBe(104);
    expect(parseReceipt({ text: 'stat:DELIVRD' })).toBeUndefined();
  });
});

describe('isReceiptEsmClass', () => {
  it('recognises receipts and ignores UDH/reply-path bits', () => {
    expect(isReceiptEsmClass(0x04)).toBe(true);
    expect(isReceiptEsmClass(0x44)).toBe(true);
    expect(isReceiptEsmClass(0x00)).toBe(false);
    expect(isReceiptEsmClass(0x40)).toBe(false);
  });
});
