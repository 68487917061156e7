import { describe, expect, it } from 'vitest';
import {
  WEBHOOK_EVENTS,
  buildBouncedMessagePayload,
  buildContactStatusPayload,
  buildDeliveryReportPayload,
  buildInboundMessagePayload,
  buildRejectedMessagePayload,
  buildUnsubscribePayload,
  isWebhookEvent,
  nationalNumber,
  serializeWebhookPayload,
  type ContactSnapshot,
  type MessageDeliveryReport,
} from './webhook-payloads.js';

const at = new Date('2016-07-01T15:11:09.553Z');

/** The contact of the reference's examples. */
const contact: ContactSnapshot = {
  id: 'f82e541a-a4b1-11e8-a85f-127fd0971098',
  firstName: null,
  lastName: null,
  email: null,
  phoneNumber: '+19999999999',
  unsubscribedAt: null,
  bounces: 2,
  createdAt: at,
  updatedAt: at,
};

/** Reference examples, verbatim apart from their trailing commas (not valid JSON). */
const reference = {
  inbound_message: `{
  "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
  "first_name": null,
  "last_name": null,
  "email": null,
  "short_code": "64600",
  "phone_number": "+19999999999",
  "message": "This is an example message",
  "unsubscribed_at": null,
  "created_at": "2016-07-01T15:11:09.553Z",
  "updated_at": "2016-07-01T15:11:09.553Z",
  "received_at": "2016-07-01T15:11:09.553Z"
}`,
  unsubscribe: `{
  "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
  "first_name": null,
  "last_name": null,
  "email": null,
  "phone_number": "+19999999999",
  "to": "64600",
  "unsubscribed_at": "2016-07-01T15:11:09.553Z",
  "created_at": "2016-07-01T15:11:09.553Z",
  "updated_at": "2016-07-01T15:11:09.553Z"
}`,
  delivery_report: `{
  "total_messages": 1,
  "statuses": [
    {
      "code": "100",
      "status": "The message delivered successfully.",
      "count": 1,
      "recipients": ["19999999999"],
      "success": true,
      "bounce": false
    }
  ],
  "messages": [
    {
      "id": "a8a2b40a-86ae-4a91-a61d-7b7ccfc4b148",
      "from": "+15555555555",
      "message": "This is an example message",
      "phone_number": "9999999999",
      "metadata": []
    }
  ]
}`,
  contact_status: `{
  "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
  "first_name": null,
  "last_name": null,
  "email": null,
  "phone_number": "+19999999999",
  "status": "deactivated",
  "created_at": "2016-07-01T15:11:09.553Z",
  "updated_at": "2016-07-01T15:11:09.553Z"
}`,
  bounced_message: `{
  "id": "f82e541a-a4b1-11e8-a85f-127fd0971098",
  "first_name": null,
  "last_name": null,
  "email": null,
  "phone_number": "+19999999999",
  "unsubscribed_at": "2016-07-01T15:11:09.553Z",
  "bounces": 2,
  "created_at": "2016-07-01T15:11:09.553Z",
  "updated_at": "2016-07-01T15:11:09.553Z"
}`,
  rejected_message: `{
    "code": "",
    "message": "",
    "description": "Unsubscribed"
}`,
};

/** Same keys in the same order and same values: compared as serialised JSON text. */
function expectSameJson(actual: unknown, referenceText: string) {
  expect(JSON.stringify(actual)).toBe(JSON.stringify(JSON.parse(referenceText)));
}

const codeText = (code: string) =>
  ({ '100': 'The message delivered successfully.', '101': 'The MSISDN is inactive or no longer active.', '120': 'Generic delivery failure' })[code] ??
  `Code ${code}`;

describe('webhook events', () => {
  it('are the six of the reference', () => {
    expect(WEBHOOK_EVENTS).toEqual([
      'inbound_message',
      'unsubscribe',
      'delivery_report',
      'contact_status',
      'bounced_message',
      'rejected_message',
    ]);
    expect(isWebhookEvent('unsubscribe')).toBe(true);
    expect(isWebhookEvent('message_sent')).toBe(false);
    expect(isWebhookEvent(42)).toBe(false);
  });
});

describe('payload builders reproduce the reference examples', () => {
  it('inbound_message', () => {
    const payload = buildInboundMessagePayload({
      contact,
      shortCode: '64600',
      message: 'This is an example message',
      receivedAt: at,
    });
    expectSameJson(payload, reference.inbound_message);
  });

  it('unsubscribe', () => {
    const payload = buildUnsubscribePayload({ contact: { ...contact, unsubscribedAt: at }, to: '64600' });
    expectSameJson(payload, reference.unsubscribe);
  });

  it('delivery_report', () => {
    const payload = buildDeliveryReportPayload(
      [
        {
          messageId: 'a8a2b40a-86ae-4a91-a61d-7b7ccfc4b148',
          from: '+15555555555',
          message: 'This is an example message',
          phoneNumber: '+19999999999',
          code: 100,
        },
      ],
      { codeText },
    );
    expectSameJson(payload, reference.delivery_report);
  });

  it('contact_status without previous_phone_number unless transferred', () => {
    expectSameJson(buildContactStatusPayload({ contact, status: 'deactivated' }), reference.contact_status);
    for (const status of ['suspended', 'resumed'] as const) {
      expect(buildContactStatusPayload({ contact, status })).not.toHaveProperty('previous_phone_number');
    }
  });

  it('contact_status for a transfer puts previous_phone_number after phone_number', () => {
    const payload = buildContactStatusPayload({ contact, status: 'transferred', previousPhoneNumber: '+18888888888' });
    expect(Object.keys(payload)).toEqual([
      'id',
      'first_name',
      'last_name',
      'email',
      'phone_number',
      'previous_phone_number',
      'status',
      'created_at',
      'updated_at',
    ]);
    expect(payload.previous_phone_number).toBe('+18888888888');
    expect(payload.status).toBe('transferred');
  });

  it('bounced_message', () => {
    expectSameJson(buildBouncedMessagePayload({ contact: { ...contact, unsubscribedAt: at } }), reference.bounced_message);
  });

  it('rejected_message', () => {
    expectSameJson(
      buildRejectedMessagePayload({ code: null, message: null, description: 'Unsubscribed' }),
      reference.rejected_message,
    );
    expect(buildRejectedMessagePayload({ code: 138, message: 'Hi', description: 'SMSC rejected message.' })).toEqual({
      code: '138',
      message: 'Hi',
      description: 'SMSC rejected message.',
    });
  });

  it('formats dates with milliseconds in UTC', () => {
    const payload = buildInboundMessagePayload({
      contact: { ...contact, createdAt: new Date(Date.UTC(2020, 0, 2, 3, 4, 5, 6)) },
      shortCode: null,
      message: null,
      receivedAt: new Date(Date.UTC(2021, 11, 31, 23, 59, 59, 0)),
    });
    expect(payload.created_at).toBe('2020-01-02T03:04:05.006Z');
    expect(payload.received_at).toBe('2021-12-31T23:59:59.000Z');
  });

  it('serialises without reordering', () => {
    const payload = buildRejectedMessagePayload({ code: '', message: '', description: 'Unsubscribed' });
    expect(serializeWebhookPayload('rejected_message', payload)).toBe('{"code":"","message":"","description":"Unsubscribed"}');
  });
});

describe('delivery report aggregation', () => {
  const report = (id: string, phoneNumber: string, code: number | string, metadata?: MessageDeliveryReport['metadata']) => ({
    messageId: id,
    from: '+15555555555',
    message: `message ${id}`,
    phoneNumber,
    code,
    metadata,
  });

  it('groups by code in ascending order, counting messages and listing recipients', () => {
    const payload = buildDeliveryReportPayload(
      [
        report('m1', '+15550000001', 120),
        report('m2', '+15550000002', 100, { campaign: 'spring' }),
        report('m3', '+447911123456', '101'),
        report('m4', '+15550000004', 100),
        report('m5', '+15550000005', 120),
      ],
      { codeText },
    );
    expect(payload.total_messages).toBe(5);
    expect(payload.statuses).toEqual([
      {
        code: '100',
        status: 'The message delivered successfully.',
        count: 2,
        recipients: ['15550000002', '15550000004'],
        success: true,
        bounce: false,
      },
      {
        code: '101',
        status: 'The MSISDN is inactive or no longer active.',
        count: 1,
        recipients: ['447911123456'],
        success: false,
        bounce: true,
      },
      {
        code: '120',
        status: 'Generic delivery failure',
        count: 2,
        recipients: ['15550000001', '15550000005'],
        success: false,
        bounce: false,
      },
    ]);
    expect(payload.messages.map((m) => [m.id, m.phone_number, m.metadata])).toEqual([
      ['m1', '5550000001', []],
      ['m2', '5550000002', { campaign: 'spring' }],
      ['m3', '7911123456', []],
      ['m4', '5550000004', []],
      ['m5', '5550000005', []],
    ]);
  });

  it('counts bounces for the codes that bounce and lets callers override the rules', () => {
    const codes = [101, 106, 107, 108, 109, 110];
    const payload = buildDeliveryReportPayload(
      codes.map((code, i) => report(`m${i}`, '+15550000001', code)),
      { codeText },
    );
    expect(payload.statuses.map((s) => [s.code, s.bounce])).toEqual([
      ['101', true],
      ['106', true],
      ['107', true],
      ['108', true],
      ['109', true],
      ['110', false],
    ]);
    const custom = buildDeliveryReportPayload([report('m', '+15550000001', 104)], {
      codeText,
      isSuccess: (code) => code === '104',
      isBounce: () => true,
    });
    expect(custom.statuses[0]).toMatchObject({ success: true, bounce: true });
  });

  it('is empty for no reports', () => {
    expect(buildDeliveryReportPayload([], { codeText })).toEqual({ total_messages: 0, statuses: [], messages: [] });
  });

  it('strips only the + when a number cannot be parsed', () => {
    expect(nationalNumber('+19999999999')).toBe('9999999999');
    expect(nationalNumber('12345')).toBe('12345');
  });
});
