import { afterEach, describe, expect, it } from 'vitest';
import type { DeliveryReport, InboundSms, OutboundSms, SubmitResult } from '../transport.js';
import { SmppBindError, SmppTransport, type SmppTransportConfig } from './smpp-transport.js';
import { TestSmsc, type TestSmscOptions } from './test-smsc.js';

let smsc: TestSmsc | undefined;
let transport: SmppTransport | undefined;
let reports: DeliveryReport[] = [];
let inbound: InboundSms[] = [];
let failInbound = false;

afterEach(async () => {
  await transport?.stop();
  await smsc?.close();
  transport = undefined;
  smsc = undefined;
  reports = [];
  inbound = [];
  failInbound = false;
});

async function setup(smscOptions: TestSmscOptions = {}, config: Partial<SmppTransportConfig> = {}) {
  smsc = await TestSmsc.start(smscOptions);
  transport = new SmppTransport({
    host: '127.0.0.1',
    port: smsc.port,
    systemId: 'test',
    password: 'secret',
    reconnectInitialDelayMs: 20,
    reconnectMaxDelayMs: 200,
    responseTimeoutMs: 2000,
    connectWaitMs: 3000,
    startTimeoutMs: 3000,
    throttleBackoffMs: 10,
    ...config,
  });
  await transport.start({
    onDeliveryReport: async (r) => {
      reports.push(r);
    },
    onInbound: async (m) => {
      if (failInbound) throw new Error('database down');
      inbound.push(m);
    },
  });
  return { smsc, transport };
}

const sms = (i: number, text = `Hello ${i}`): OutboundSms => ({
  messageId: `m${i}`,
  from: '64600',
  to: `+1555000${String(i).padStart(4, '0')}`,
  text,
});

const okIds = (results: SubmitResult[]) => results.flatMap((r) => (r.ok ? r.carrierMessageIds : []));

describe('SmppTransport', () => {
  it('binds, sends and receives delivery receipts', async () => {
    const { smsc, transport } = await setup();
    expect(transport.bound).toBe(true);
    const results = await transport.submit([sms(1), sms(2), sms(3, 'Price: 5€ {ok}')]);
    expect(results.map((r) => [r.messageId, r.ok])).toEqual([
      ['m1', true],
      ['m2', true],
      ['m3', true],
    ]);
    expect(smsc.submits.map((s) => s.text)).toEqual(['Hello 1', 'Hello 2', 'Price: 5€ {ok}']);
    expect(smsc.submits[0]).toMatchObject({ from: '64600', sourceTon: 3, to: '15550000001', destTon: 1, dataCoding: 0, registeredDelivery: 1 });
    await smsc.waitFor(() => reports.length === 3, 5000, 'receipts');
    expect(reports.map((r) => r.carrierMessageId).sort()).toEqual(okIds(results).sort());
    expect(reports.every((r) => r.code === 100)).toBe(true);
  });

  it('sends a long GSM-7 message as concatenated parts with a correct UDH', async () => {
    const { smsc, transport } = await setup();
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(200);
    const [result] = await transport.submit([sms(1, text)]);
    expect(result?.ok && result.carrierMessageIds).toHaveLength(3);
    expect(smsc.submits).toHaveLength(3);
    const ref = smsc.submits[0]!.concat!.ref;
    smsc.submits.forEach((part, i) => {
      expect([...part.udh!]).toEqual([0x05, 0x00, 0x03, ref, 3, i + 1]);
      expect(part.esmClass & 0x40).toBe(0x40);
      expect(part.dataCoding).toBe(0);
    });
    expect(smsc.submits[0]!.text).toBe('a'.repeat(152));
    expect(smsc.messages()).toHaveLength(1);
    expect(smsc.messages()[0]!.text).toBe(text);
    // One receipt per part, each naming its own part id.
    await smsc.waitFor(() => reports.length === 3, 5000, 'receipts');
  });

  it('sends UCS-2 text with data_coding 8 and keeps surrogate pairs whole', async () => {
    const { smsc, transport } = await setup();
    const text = 'Привет 😀 '.repeat(10); // 100 code units → 2 parts
    const [result] = await transport.submit([sms(1, text)]);
    expect(result?.ok).toBe(true);
    expect(smsc.submits.map((s) => s.dataCoding)).toEqual([8, 8]);
    expect(smsc.messages()[0]!.text).toBe(text);
    expect(new Set(smsc.submits.map((s) => s.concat?.ref)).size).toBe(1);
  });

  it('uses a new concatenation reference per message', async () => {
    const { smsc, transport } = await setup();
    await transport.submit([sms(1, 'x'.repeat(200)), sms(2, 'y'.repeat(200))]);
    expect(smsc.messages().map((m) => m.text)).toEqual(['x'.repeat(200), 'y'.repeat(200)]);
    const refs = new Set(smsc.submits.map((s) => s.concat?.ref));
    expect(refs.size).toBe(2);
  });

  it.each(['tlv', 'text'] as const)('maps receipts to codes (%s receipts)', async (receiptStyle) => {
    const { smsc, transport } = await setup({
      receiptStyle,
      receiptFor: (s) =>
        s.to.endsWith('0002') ? { stat: 'UNDELIV', err: '001' } : s.to.endsWith('0003') ? { stat: 'EXPIRED' } : { stat: 'DELIVRD' },
    });
    const results = await transport.submit([sms(1), sms(2), sms(3)]);
    await smsc.waitFor(() => reports.length === 3, 5000, 'receipts');
    const codeFor = (i: number) => {
      const r = results[i]!;
      return reports.find((rep) => r.ok && rep.carrierMessageId === r.carrierMessageId)?.code;
    };
    expect([codeFor(0), codeFor(1), codeFor(2)]).toEqual([100, 101, 142]);
    expect(reports[0]!.raw).toMatchObject({ text: expect.stringContaining('stat:') });
  });

  it('delivers inbound messages and acknowledges them after the handler', async () => {
    const { smsc } = await setup();
    expect(await smsc.injectInbound({ from: '+15551234567', to: '64600', text: 'STOP please {now}' })).toEqual([0]);
    expect(await smsc.injectInbound({ from: '+15551234567', to: '64600', text: 'Да 😀' })).toEqual([0]);
    expect(inbound.map((m) => [m.from, m.to, m.text])).toEqual([
      ['+15551234567', '64600', 'STOP please {now}'],
      ['+15551234567', '64600', 'Да 😀'],
    ]);
    failInbound = true;
    // A failing handler makes the SMSC redeliver later (ESME_RX_T_APPN) rather than losing it.
    expect(await smsc.injectInbound({ from: '+15551234567', to: '64600', text: 'again' })).toEqual([0x64]);
  });

  it('reassembles concatenated inbound messages, whatever the part order', async () => {
    const { smsc } = await setup();
    const gsm = 'Long reply € '.repeat(20);
    const ucs = 'Ответ 😀 '.repeat(15);
    expect(await smsc.injectInbound({ from: '+15551234567', to: '64600', text: gsm })).toEqual([0, 0]);
    expect(await smsc.injectInbound({ from: '+15551234567', to: '64600', text: ucs }, { reverseParts: true })).toEqual([0, 0, 0]);
    expect(inbound.map((m) => m.text)).toEqual([gsm, ucs]);
  });

  it('fails start clearly on a wrong password and does not retry', async () => {
    smsc = await TestSmsc.start();
    transport = new SmppTransport({ host: '127.0.0.1', port: smsc.port, systemId: 'test', password: 'wrong', reconnectInitialDelayMs: 10 });
    const started = transport.start({ onDeliveryReport: async () => {}, onInbound: async () => {} });
    await expect(started).rejects.toThrow(SmppBindError);
    await expect(started).rejects.toThrow(/ESME_RINVPASWD/);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(smsc.binds).toBe(0);
    expect(smsc.connectionCount).toBe(0);
    await expect(transport.submit([sms(1)])).resolves.toMatchObject([{ ok: false, transient: true }]);
  });

  it('maps per-message command_status to transient and permanent failures', async () => {
    const { transport } = await setup({
      submitStatus: (s) => (s.to.endsWith('0002') ? 0x58 : s.to.endsWith('0003') ? 0x14 : s.to.endsWith('0004') ? 0x0b : 0),
    });
    const results = await transport.submit([sms(1), sms(2), sms(3), sms(4)]);
    expect(results).toMatchObject([
      { messageId: 'm1', ok: true },
      { messageId: 'm2', ok: false, transient: true, code: 140, error: expect.stringMatching(/ESME_RTHROTTLED/) },
      { messageId: 'm3', ok: false, transient: true, code: 140, error: expect.stringMatching(/ESME_RMSGQFUL/) },
      { messageId: 'm4', ok: false, transient: false, code: 138, error: expect.stringMatching(/ESME_RINVDSTADR/) },
    ]);
  });

  it('respects the throughput limit', async () => {
    const { smsc, transport } = await setup({ receipts: false }, { throughputPerSecond: 50 });
    const started = Date.now();
    const results = await transport.submit(Array.from({ length: 20 }, (_, i) => sms(i)));
    const elapsed = Date.now() - started;
    expect(results.every((r) => r.ok)).toBe(true);
    // 20 messages at 50/s need at least 19 intervals of 20 ms; allow timer slack below.
    expect(elapsed).toBeGreaterThanOrEqual(19 * 20 * 0.8);
    // The SMSC saw them spread over the same span, not in one burst. (Arrival times per 200 ms
    // window are not asserted: on a loaded machine the receiver's event loop bunches arrivals.)
    const times = smsc.submits.map((s) => s.receivedAt).sort((a, b) => a - b);
    expect(times).toHaveLength(20);
    expect(times[19]! - times[0]!).toBeGreaterThanOrEqual(19 * 20 * 0.8);
  });

  it('keeps at most `window` submits outstanding', async () => {
    const { smsc, transport } = await setup({ receipts: false }, { window: 4, responseTimeoutMs: 300 });
    // Leave every submit unanswered; the drop is never reached because the window stops at 4.
    smsc.dropConnections({ withhold: 100 });
    const results = await transport.submit(Array.from({ length: 6 }, (_, i) => sms(i)));
    expect(results.slice(0, 4).every((r) => !r.ok && r.transient)).toBe(true);
    // The first 4 timed out (no resp) before the last 2 could even be sent.
    expect(smsc.submits).toHaveLength(6);
    const firstFour = smsc.submits.slice(0, 4).map((s) => s.receivedAt);
    const lastTwo = smsc.submits.slice(4).map((s) => s.receivedAt);
    expect(Math.min(...lastTwo)).toBeGreaterThanOrEqual(Math.min(...firstFour) + 250);
  });

  it('reconnects after a drop and keeps sending', async () => {
    const { smsc, transport } = await setup();
    await transport.submit([sms(1)]);
    smsc.dropConnections();
    await smsc.waitFor(() => smsc.binds === 2, 3000, 'rebind');
    const [result] = await transport.submit([sms(2)]);
    expect(result?.ok).toBe(true);
    // Receipts for messages sent before the drop still arrive after the rebind.
    await smsc.waitFor(() => reports.length === 2, 3000, 'receipts');
  });

  it('reports unacknowledged submits as transient when the connection drops mid-window', async () => {
    const { smsc, transport } = await setup({ receipts: false }, { window: 5 });
    // Answer 10 submits, then leave 5 unanswered (filling the window) and drop every connection.
    smsc.dropConnections({ answerFirst: 10, withhold: 5 });
    const batch = Array.from({ length: 30 }, (_, i) => sms(i));
    const first = await transport.submit(batch);

    const ok = first.filter((r) => r.ok);
    const retry = first.filter((r) => !r.ok);
    expect(ok.length + retry.length).toBe(30);
    expect(retry.every((r) => !r.ok && r.transient)).toBe(true);
    expect(retry).toHaveLength(5);
    expect(smsc.binds).toBe(2);

    const toOf = (messageId: string) => batch.find((m) => m.messageId === messageId)!.to.slice(1);
    // Every acknowledged message is at the SMSC exactly once, under the id we were given.
    for (const r of ok) {
      const at = smsc.submits.filter((s) => s.to === toOf(r.messageId));
      expect(at).toHaveLength(1);
      expect(r.ok && r.carrierMessageId).toBe(at[0]!.messageId);
    }
    // Every transient one reached the SMSC but its resp was lost.
    for (const r of retry) {
      expect(smsc.submits.filter((s) => s.to === toOf(r.messageId)).map((s) => s.answered)).toEqual([false]);
    }

    const second = await transport.submit(retry.map((r) => batch.find((m) => m.messageId === r.messageId)!));
    expect(second.every((r) => r.ok)).toBe(true);
    for (const message of batch) {
      const at = smsc.submits.filter((s) => s.to === message.to.slice(1));
      expect(at.filter((s) => s.answered)).toHaveLength(1);
      // Duplicates only for the messages whose resp was lost.
      const wasTransient = retry.some((r) => r.messageId === message.messageId);
      expect(at).toHaveLength(wasTransient ? 2 : 1);
    }
  });

  it('keeps the link alive with enquire_link', async () => {
    const { smsc, transport } = await setup({}, { enquireLinkIntervalMs: 30, responseTimeoutMs: 1000 });
    await smsc.waitFor(() => smsc.enquireLinks >= 3, 3000, 'enquire_links');
    expect(transport.bound).toBe(true);
    expect(smsc.binds).toBe(1);
  });

  it('reconnects when enquire_link goes unanswered', async () => {
    const { smsc } = await setup({}, { enquireLinkIntervalMs: 30, responseTimeoutMs: 100 });
    smsc.ignoreEnquireLinks = true;
    await smsc.waitFor(() => smsc.binds >= 2, 3000, 'rebind after a dead link');
  });

  it('reports a submit whose resp is late as transient, never later as ok', async () => {
    const { smsc, transport } = await setup({ receipts: false, answerDelayMs: 400 }, { responseTimeoutMs: 100 });
    const results = await transport.submit([sms(1)]);
    expect(results).toMatchObject([{ ok: false, transient: true, error: expect.stringMatching(/no submit_sm_resp/) }]);
    const snapshot = structuredClone(results);
    await smsc.waitFor(() => smsc.submits[0]!.answered, 3000, 'late resp');
    await new Promise((resolve) => setTimeout(resolve, 50));
    // The late resp changed nothing: the result was settled once, as transient.
    expect(results).toEqual(snapshot);
  });

  it('fails submits transient after stop', async () => {
    const { transport } = await setup();
    await transport.stop();
    expect(await transport.submit([sms(1)])).toMatchObject([{ ok: false, transient: true, code: 140 }]);
  });
});
