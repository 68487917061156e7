import smpp, { type PDU, type Server, type Session } from 'smpp';
import type { AddressInfo } from 'node:net';
import { planSegments } from '../../modules/messages/segments.js';
import { encodeGsm7 } from '../../modules/messages/gsm7.js';

/**
 * A small in-process SMSC for tests and benchmarks, built on the `smpp` package's server.
 *
 * It accepts binds with one set of credentials, acknowledges submit_sm with its own ids,
 * records everything it receives, sends delivery receipts after a delay (to whichever
 * session of the client is bound, queuing them while none is, as real SMSCs do), injects
 * inbound messages, and can drop every connection on demand, optionally after leaving a
 * number of submits unanswered, to reproduce "the SMSC got it but the resp was lost".
 */

export interface ReceivedSubmit {
  /** The SMSC's id for it; empty when the submit was rejected or left unanswered. */
  messageId: string;
  from: string;
  to: string;
  sourceTon: number;
  destTon: number;
  dataCoding: number;
  esmClass: number;
  registeredDelivery: number;
  /** Raw user data header (UDHL byte included), when esm_class has the UDHI bit. */
  udh?: Buffer;
  /** Concatenation info decoded from the UDH. */
  concat?: { ref: number; total: number; seq: number };
  /** The text as decoded by the `smpp` package (an independent decoder from ours). */
  text: string;
  commandStatus: number;
  /** Whether a submit_sm_resp was written back. */
  answered: boolean;
  receivedAt: number;
}

export interface AssembledMessage {
  from: string;
  to: string;
  text: string;
  parts: ReceivedSubmit[];
}

export interface ReceiptPlan {
  stat: string;
  err?: string;
}

export interface TestSmscOptions {
  systemId?: string;
  password?: string;
  /** Delay before a receipt is sent; default 10 ms. */
  receiptDelayMs?: number;
  /** false: never send receipts. */
  receipts?: boolean;
  /** Decides each receipt; default DELIVRD / 000. */
  receiptFor?: (submit: ReceivedSubmit) => ReceiptPlan;
  /** 'tlv' (default) sends receipted_message_id and message_state TLVs plus the text; 'text' only the text. */
  receiptStyle?: 'tlv' | 'text';
  /** command_status to answer a submit with; default 0 (accepted). */
  submitStatus?: (submit: ReceivedSubmit) => number;
  /** Delay before each submit_sm_resp; default 0. */
  answerDelayMs?: number;
  /** The first message id it hands out (a restarted SMSC should not reuse ids); default 1. */
  firstMessageId?: number;
  /** Port to listen on (a peer coming back where it was); default a free one. */
  port?: number;
}

const MESSAGE_STATES: Record<string, number> = {
  ENROUTE: 1,
  DELIVRD: 2,
  EXPIRED: 3,
  DELETED: 4,
  UNDELIV: 5,
  ACCEPTD: 6,
  UNKNOWN: 7,
  REJECTD: 8,
};

const ESME_RINVBNDSTS = 0x04;
const ESME_RINVPASWD = 0x0e;
const ESME_RINVSYSID = 0x0f;

interface PendingReceipt {
  submit: ReceivedSubmit;
  plan: ReceiptPlan;
}

function smppDate(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${pad(date.getUTCFullYear() % 100)}${pad(date.getUTCMonth() + 1)}${pad(date.getUTCDate())}${pad(date.getUTCHours())}${pad(date.getUTCMinutes())}`;
}

function decodedText(value: unknown): { text: string; udhList?: Buffer[] } {
  if (typeof value === 'string') return { text: value };
  if (Buffer.isBuffer(value)) return { text: value.toString('latin1') };
  if (value && typeof value === 'object' && 'message' in value) {
    const { message, udh } = value as { message: unknown; udh?: Buffer[] };
    return { text: decodedText(message).text, udhList: udh };
  }
  return { text: '' };
}

export class TestSmsc {
  readonly submits: ReceivedSubmit[] = [];
  /** Successful binds so far (a reconnect adds one). */
  binds = 0;
  readonly options: Required<Omit<TestSmscOptions, 'receiptFor' | 'submitStatus' | 'firstMessageId' | 'port'>> & Pick<TestSmscOptions, 'receiptFor' | 'submitStatus'>;
  /** enquire_link PDUs received. */
  enquireLinks = 0;
  /** When true, enquire_link is left unanswered (a half-dead link). */
  ignoreEnquireLinks = false;
  private readonly server: Server;
  private readonly sessions = new Set<Session>();
  private readonly bound = new Set<Session>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly undeliveredReceipts: PendingReceipt[] = [];
  private nextId = 1;
  private nextInboundRef = 1;
  private dropPlan: { answerFirst: number; withhold: number } | undefined;

  private constructor(options: TestSmscOptions) {
    this.options = {
      systemId: options.systemId ?? 'test',
      password: options.password ?? 'secret',
      receiptDelayMs: options.receiptDelayMs ?? 10,
      receipts: options.receipts ?? true,
      receiptStyle: options.receiptStyle ?? 'tlv',
      receiptFor: options.receiptFor,
      submitStatus: options.submitStatus,
      answerDelayMs: options.answerDelayMs ?? 0,
    };
    this.nextId = options.firstMessageId ?? 1;
    this.server = smpp.createServer({}, (session) => this.accept(session));
  }

  /** Listens on 127.0.0.1 on a free port. */
  static async start(options: TestSmscOptions = {}): Promise<TestSmsc> {
    const smsc = new TestSmsc(options);
    await new Promise<void>((resolve, reject) => {
      smsc.server.once('error', reject);
      smsc.server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    return smsc;
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Submits reassembled into messages (by source, destination and concatenation reference). */
  messages(): AssembledMessage[] {
    const result: AssembledMessage[] = [];
    const open = new Map<string, AssembledMessage>();
    for (const part of this.submits) {
      if (!part.concat || part.concat.total <= 1) {
        result.push({ from: part.from, to: part.to, text: part.text, parts: [part] });
        continue;
      }
      const key = `${part.from}|${part.to}|${part.concat.ref}|${part.concat.total}`;
      let message = open.get(key);
      if (!message) {
        message = { from: part.from, to: part.to, text: '', parts: [] };
        open.set(key, message);
        result.push(message);
      }
      message.parts.push(part);
      if (message.parts.length === part.concat.total) {
        message.parts.sort((a, b) => (a.concat?.seq ?? 0) - (b.concat?.seq ?? 0));
        message.text = message.parts.map((p) => p.text).join('');
        open.delete(key);
      }
    }
    return result;
  }

  /**
   * Drops every connection. With `withhold`, first lets `answerFirst` more submits be
   * answered normally, then records the next `withhold` submits without answering them and
   * drops all connections when the last of them arrives.
   */
  dropConnections(options: { withhold?: number; answerFirst?: number } = {}): void {
    if (options.withhold) {
      this.dropPlan = { answerFirst: options.answerFirst ?? 0, withhold: options.withhold };
      return;
    }
    for (const session of this.sessions) session.destroy();
  }

  /**
   * Sends an inbound (mobile-originated) SMS to a bound client, as concatenated parts when
   * long (parts sent last-first when `reverseParts`, to exercise reassembly). Resolves with
   * the deliver_sm_resp command_status of each part.
   */
  async injectInbound(message: { from: string; to: string; text: string }, options: { reverseParts?: boolean } = {}): Promise<number[]> {
    const session = [...this.bound][0];
    if (!session) throw new Error('no bound session');
    const { encoding, parts } = planSegments(message.text);
    const ref = this.nextInboundRef++ & 0xff;
    const pdus = parts.map((part, i) => {
      const body = encoding === 'GSM-7' ? encodeGsm7(part) : Buffer.from(part, 'utf16le').swap16();
      const udh = parts.length > 1 ? Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]) : Buffer.alloc(0);
      return {
        source_addr_ton: message.from.startsWith('+') ? 1 : 0,
        source_addr_npi: 1,
        source_addr: message.from.replace(/^\+/, ''),
        dest_addr_ton: 3,
        destination_addr: message.to,
        esm_class: parts.length > 1 ? 0x40 : 0,
        data_coding: encoding === 'GSM-7' ? 0 : 8,
        short_message: Buffer.concat([udh, body]),
      };
    });
    if (options.reverseParts) pdus.reverse();
    const statuses: number[] = [];
    for (const pdu of pdus) {
      statuses.push(await new Promise<number>((resolve) => session.deliver_sm(pdu, (resp) => resolve(resp.command_status))));
    }
    return statuses;
  }

  /** Polls until the predicate holds; for tests. */
  async waitFor(predicate: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`Timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
  }

  async close(): Promise<void> {
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
    for (const session of this.sessions) session.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private accept(session: Session): void {
    this.sessions.add(session);
    session.on('error', () => {
      // Peers vanish mid-test on purpose (drops, stops); nothing to report.
    });
    session.socket.on('close', () => {
      this.sessions.delete(session);
      this.bound.delete(session);
    });
    session.on('bind_transceiver', (pdu: PDU) => {
      if (pdu.system_id !== this.options.systemId) {
        session.send(pdu.response({ command_status: ESME_RINVSYSID }));
      } else if (pdu.password !== this.options.password) {
        session.send(pdu.response({ command_status: ESME_RINVPASWD }));
      } else {
        this.binds++;
        this.bound.add(session);
        session.send(pdu.response({ system_id: 'TestSMSC' }));
        this.flushReceipts();
      }
    });
    session.on('enquire_link', (pdu: PDU) => {
      this.enquireLinks++;
      if (!this.ignoreEnquireLinks) session.send(pdu.response());
    });
    session.on('unbind', (pdu: PDU) => {
      this.bound.delete(session);
      session.send(pdu.response(), () => session.close());
    });
    session.on('submit_sm', (pdu: PDU) => this.onSubmit(session, pdu));
  }

  private onSubmit(session: Session, pdu: PDU): void {
    if (!this.bound.has(session)) {
      session.send(pdu.response({ command_status: ESME_RINVBNDSTS }));
      return;
    }
    const { text, udhList } = decodedText(pdu.short_message);
    const esmClass = Number(pdu.esm_class ?? 0);
    let udh: Buffer | undefined;
    let concat: ReceivedSubmit['concat'];
    if (udhList && udhList.length > 0) {
      const body = Buffer.concat(udhList);
      udh = Buffer.concat([Buffer.from([body.length]), body]);
      const ie = udhList.find((b) => b[0] === 0x00 && b[1] === 0x03);
      if (ie) concat = { ref: ie[2]!, total: ie[3]!, seq: ie[4]! };
    }
    const submit: ReceivedSubmit = {
      messageId: '',
      from: String(pdu.source_addr ?? ''),
      to: String(pdu.destination_addr ?? ''),
      sourceTon: Number(pdu.source_addr_ton ?? 0),
      destTon: Number(pdu.dest_addr_ton ?? 0),
      dataCoding: Number(pdu.data_coding ?? 0),
      esmClass,
      registeredDelivery: Number(pdu.registered_delivery ?? 0),
      udh,
      concat,
      text,
      commandStatus: 0,
      answered: false,
      receivedAt: Date.now(),
    };
    this.submits.push(submit);

    if (this.dropPlan) {
      if (this.dropPlan.answerFirst > 0) {
        this.dropPlan.answerFirst--;
      } else {
        this.dropPlan.withhold--;
        if (this.dropPlan.withhold <= 0) {
          this.dropPlan = undefined;
          for (const s of this.sessions) s.destroy();
        }
        return;
      }
    }

    submit.commandStatus = this.options.submitStatus?.(submit) ?? 0;
    if (submit.commandStatus === 0) submit.messageId = (this.nextId++).toString(16).padStart(8, '0');
    const resp = pdu.response(submit.commandStatus ? { command_status: submit.commandStatus } : { message_id: submit.messageId });
    const answer = () => {
      submit.answered = session.send(resp);
    };
    if (this.options.answerDelayMs > 0) this.later(this.options.answerDelayMs, answer);
    else answer();
    if (submit.commandStatus === 0 && this.options.receipts && (submit.registeredDelivery & 0x03) !== 0) {
      const plan = this.options.receiptFor?.(submit) ?? { stat: 'DELIVRD', err: '000' };
      this.later(this.options.receiptDelayMs, () => {
        this.undeliveredReceipts.push({ submit, plan });
        this.flushReceipts();
      });
    }
  }

  private later(ms: number, fn: () => void): void {
    const timer = setTimeout(() => {
      this.timers.delete(timer);
      fn();
    }, ms);
    this.timers.add(timer);
  }

  private flushReceipts(): void {
    const session = [...this.bound][0];
    if (!session) return;
    for (const { submit, plan } of this.undeliveredReceipts.splice(0)) {
      const now = new Date();
      const err = plan.err ?? '000';
      const dlvrd = plan.stat === 'DELIVRD' ? '001' : '000';
      const text =
        `id:${submit.messageId} sub:001 dlvrd:${dlvrd} submit date:${smppDate(new Date(submit.receivedAt))} ` +
        `done date:${smppDate(now)} stat:${plan.stat} err:${err} text:${submit.text.slice(0, 20)}`;
      const tlvs =
        this.options.receiptStyle === 'tlv'
          ? { receipted_message_id: submit.messageId, message_state: MESSAGE_STATES[plan.stat] ?? 7 }
          : {};
      session.deliver_sm({
        source_addr_ton: submit.destTon,
        source_addr_npi: 1,
        source_addr: submit.to,
        destination_addr: submit.from,
        esm_class: 0x04,
        // Receipt text is plain ASCII; IA5 decodes the same everywhere.
        data_coding: 1,
        short_message: text.replace(/[^\x20-\x7e]/g, '?'),
        ...tlvs,
      });
    }
  }
}
