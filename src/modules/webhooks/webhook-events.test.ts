import { describe, expect, it } from 'vitest';
import { groupDeliveryReports, isDeliveryReportPayload, mergeDeliveryReports, orderPayload } from './webhook-events.js';
import type { DeliveryReportPayload } from './webhook-payloads.js';

const report = (id: string, code: string, recipient: string): DeliveryReportPayload => ({
  total_messages: 1,
  statuses: [{ code, status: `text ${code}`, count: 1, recipients: [recipient], success: code === '100', bounce: code === '101' }],
  messages: [{ id, from: '+15555555555', message: 'hi', phone_number: recipient.slice(1), metadata: [] }],
});

describe('orderPayload', () => {
  it('puts the reference order back, keeping unknown keys after the known ones', () => {
    const shuffled = { to: '64600', id: 'c1', email: null, extra: 1, phone_number: '+1', first_name: null, last_name: null, unsubscribed_at: null, updated_at: 'u', created_at: 'c' };
    expect(Object.keys(orderPayload('unsubscribe', shuffled) as object)).toEqual([
      'id', 'first_name', 'last_name', 'email', 'phone_number', 'to', 'unsubscribed_at', 'created_at', 'updated_at', 'extra',
    ]);
    expect(Object.keys(orderPayload('rejected_message', { description: 'd', message: 'm', code: '' }) as object)).toEqual(['code', 'message', 'description']);
  });

  it('orders nested delivery report entries and leaves unknown types and non-objects alone', () => {
    const out = orderPayload('delivery_report', {
      messages: [{ metadata: [], phone_number: '9', message: 'm', from: '+1', id: 'x' }],
      statuses: [{ bounce: false, success: true, recipients: [], count: 1, status: 's', code: '100' }],
      total_messages: 1,
    }) as DeliveryReportPayload;
    expect(Object.keys(out)).toEqual(['total_messages', 'statuses', 'messages']);
    expect(Object.keys(out.statuses[0]!)).toEqual(['code', 'status', 'count', 'recipients', 'success', 'bounce']);
    expect(Object.keys(out.messages[0]!)).toEqual(['id', 'from', 'message', 'phone_number', 'metadata']);
    const other = { b: 1, a: 2 };
    expect(orderPayload('something_else', other)).toBe(other);
    expect(orderPayload('unsubscribe', null)).toBeNull();
  });
});

describe('mergeDeliveryReports', () => {
  it('groups statuses by code in ascending order and keeps message order', () => {
    const merged = mergeDeliveryReports([report('a', '101', '11'), report('b', '100', '12'), report('c', '101', '13')]);
    expect(merged.total_messages).toBe(3);
    expect(merged.statuses.map((s) => [s.code, s.count, s.recipients])).toEqual([
      ['100', 1, ['12']],
      ['101', 2, ['11', '13']],
    ]);
    expect(merged.messages.map((m) => m.id)).toEqual(['a', 'b', 'c']);
  });

  it('does not modify its inputs', () => {
    const first = report('a', '100', '11');
    mergeDeliveryReports([first, report('b', '100', '12')]);
    expect(first.statuses[0]!.recipients).toEqual(['11']);
  });
});

describe('groupDeliveryReports', () => {
  it('cuts groups at the message limit and never splits a report', () => {
    const items = [1, 2, 3, 4, 5].map((n) => ({ payload: { ...report(`m${n}`, '100', '1'), messages: Array.from({ length: n === 3 ? 150 : 40 }, () => report('x', '100', '1').messages[0]!) } }));
    expect(groupDeliveryReports(items, 100).map((g) => g.length)).toEqual([2, 1, 2]);
    expect(groupDeliveryReports([], 100)).toEqual([]);
  });

  it('recognises aggregated payloads', () => {
    expect(isDeliveryReportPayload(report('a', '100', '1'))).toBe(true);
    expect(isDeliveryReportPayload({ messageId: 'x', code: 100 })).toBe(false);
  });
});
