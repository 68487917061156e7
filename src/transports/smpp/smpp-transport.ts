import smpp, { type PDU, type Session } from 'smpp';
import { encodeGsm7 } from '../../modules/messages/gsm7.js';
import { planSegments, type SmsEncoding } from '../../modules/messages/segments.js';
import { SMSC_REJECTED, TEMPORARY_FAILURE } from '../delivery-codes.js';
import type { InboundSms, OutboundSms, SmsTransport, SubmitResult, TransportHandlers } from '../transport.js';
import { isReceiptEsmClass, parseReceipt } from './receipt.js';
import { observe } from '../../lib/observe.js';

/**
 * SmsTransport over SMPP 3.4 (bind_transceiver), using the `smpp` package for PDU framing.
 *
 * Behaviour the dispatcher relies on:
 * - Flow control: at most `window` submit_sm are outstanding (awaiting submit_sm_resp) and
 *   at most `throughputPerSecond` are started per second; `submit` simply takes longer.
 * - Reconnects: a dropped connection is re-established with exponential backoff. While
 *   unbound, a part waits up to `connectWaitMs` for a bind and otherwise fails transient.
 * - Exactly-once is impossible across a dropped connection: a submit_sm the SMSC received
 *   but whose submit_sm_resp we never saw is reported `ok:false, transient:true`. A retry may
 *   then produce a duplicate at the SMSC; we prefer that to silently losing a message.
 *   A result is settled exactly once, so a late resp can never turn a transient into an ok.
 * - Long messages go out as concatenated parts (8-bit reference UDH); each part has its own
 *   SMSC id and receipt, and all ids are returned in `carrierMessageIds`. If a later part
 *   fails, the message fails (earlier parts were sent; a retry resends the whole message).
 * - Receipts and inbound messages are acknowledged only after the handler resolves; if it
 *   rejects we answer ESME_RX_T_APPN so the SMSC redelivers later.
 */

export interface SmppTransportConfig {
  host: string;
  port: number;
  systemId: string;
  password: string;
  systemType?: string;
  /** Transport name for logs; default `smpp:host:port`. */
  name?: string;
  /** Outstanding submit_sm without a resp; default 10. */
  window?: number;
  /** submit_sm per second (parts, not messages); 0 or undefined = unlimited. */
  throughputPerSecond?: number;
  /** enquire_link interval; default 30 s. */
  enquireLinkIntervalMs?: number;
  /** Wait for bind_resp, submit_sm_resp and enquire_link_resp; default 10 s. */
  responseTimeoutMs?: number;
  /** First reconnect delay, doubled per failed attempt up to the maximum; defaults 500 ms / 30 s. */
  reconnectInitialDelayMs?: number;
  reconnectMaxDelayMs?: number;
  /** How long a part waits for a (re)bind before failing transient; default 10 s. */
  connectWaitMs?: number;
  /** How long `start` keeps trying to make the first bind over network errors; default 30 s. */
  startTimeoutMs?: number;
  /** Pause after ESME_RTHROTTLED / ESME_RMSGQFUL before the next submit; default 1 s. */
  throttleBackoffMs?: number;
  /** Override the source address TON/NPI derived from `from` (see sourceAddress()). */
  sourceTon?: number;
  sourceNpi?: number;
  log?: (level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>) => void;
}

/** The bind was refused (credentials, system type): a configuration problem, not retried by `start`. */
export class SmppBindError extends Error {
  constructor(
    readonly commandStatus: number,
    where: string,
  ) {
    super(`SMPP bind to ${where} refused: ${statusName(commandStatus)} (check system_id and password)`);
    this.name = 'SmppBindError';
  }
}

const STATUS_NAMES: Record<number, string> = {
  0x01: 'ESME_RINVMSGLEN',
  0x02: 'ESME_RINVCMDLEN',
  0x03: 'ESME_RINVCMDID',
  0x04: 'ESME_RINVBNDSTS',
  0x05: 'ESME_RALYBND',
  0x08: 'ESME_RSYSERR',
  0x0a: 'ESME_RINVSRCADR',
  0x0b: 'ESME_RINVDSTADR',
  0x0d: 'ESME_RBINDFAIL',
  0x0e: 'ESME_RINVPASWD',
  0x0f: 'ESME_RINVSYSID',
  0x14: 'ESME_RMSGQFUL',
  0x45: 'ESME_RSUBMITFAIL',
  0x58: 'ESME_RTHROTTLED',
  0x64: 'ESME_RX_T_APPN',
};

export function statusName(status: number): string {
  return `${STATUS_NAMES[status] ?? 'command_status'} 0x${status.toString(16).padStart(8, '0')}`;
}

const ESME_RMSGQFUL = 0x14;
const ESME_RTHROTTLED = 0x58;
const ESME_RX_T_APPN = 0x64;
/** Throttling and a full queue are the SMSC saying "later"; everything else is a rejection. */
const TRANSIENT_STATUSES = new Set([ESME_RMSGQFUL, ESME_RTHROTTLED]);
const BIND_REFUSALS = new Set([0x0d, 0x0e, 0x0f]);

const UDHI = 0x40;
const REGISTERED_DELIVERY_FINAL = 0x01;
const DATA_CODING: Record<SmsEncoding, number> = { 'GSM-7': 0x00, 'UCS-2': 0x08 };
const INBOUND_PART_TTL_MS = 10 * 60_000;

type PartResult = { ok: true; id: string } | { ok: false; transient: boolean; code: number; error: string };

interface Pending {
  settle(result: PartResult): void;
}

interface Connection {
  session: Session;
  bound: boolean;
  inflight: Set<Pending>;
  timers: Set<NodeJS.Timeout>;
  /** The socket is corked until the end of this tick (see coalesceWrites). */
  corked: boolean;
}

/**
 * Submits made in one tick go out in one write: the responses to a window's submits usually
 * arrive together, and each frees a slot for the next submit. A write to a socket is a system
 * call (tens of microseconds on loopback, the SMSC's wake-up included): corking until the end of
 * the tick sends those PDUs in one writev. The PDUs and the window are unchanged on the wire.
 */
function coalesceWrites(connection: Connection): void {
  if (connection.corked) return;
  const socket = connection.session.socket;
  socket.cork();
  connection.corked = true;
  process.nextTick(() => {
    connection.corked = false;
    socket.uncork();
  });
}

const transient = (error: string): PartResult => ({ ok: false, transient: true, code: TEMPORARY_FAILURE, error });

/** SMPP address fields for our sender: E.164 → international/ISDN; 3-8 digits → short code; else alphanumeric. */
export function sourceAddress(from: string): { addr: string; ton: number; npi: number } {
  if (/^\+\d+$/.test(from)) return { addr: from.slice(1), ton: 1, npi: 1 };
  if (/^\d{3,8}$/.test(from)) return { addr: from, ton: 3, npi: 0 };
  if (/^\d+$/.test(from)) return { addr: from, ton: 0, npi: 1 };
  return { addr: from, ton: 5, npi: 0 };
}

function encodeText(text: string, encoding: SmsEncoding): Buffer {
  if (encoding === 'GSM-7') return encodeGsm7(text);
  // Code unit by code unit, so lone surrogates survive as the units we counted.
  const out = Buffer.alloc(text.length * 2);
  for (let i = 0; i < text.length; i++) out.writeUInt16BE(text.charCodeAt(i), i * 2);
  return out;
}

function shortMessage(value: unknown): { text: string; udh: Buffer[] } {
  if (typeof value === 'string') return { text: value, udh: [] };
  if (Buffer.isBuffer(value)) return { text: value.toString('latin1'), udh: [] };
  if (value && typeof value === 'object' && 'message' in value) {
    const { message, udh } = value as { message: unknown; udh?: Buffer[] };
    return { text: shortMessage(message).text, udh: udh ?? [] };
  }
  return { text: '', udh: [] };
}

function inboundAddress(addr: unknown, ton: unknown): string {
  const value = String(addr ?? '');
  // Only TON international is known to be a full international number; others are passed as-is
  // for the application to normalise with the account's country.
  return Number(ton) === 1 && /^\d+$/.test(value) ? `+${value}` : value;
}

class Semaphore {
  private available: number;
  private readonly waiters: Array<() => void> = [];
  constructor(size: number) {
    this.available = size;
  }
  async acquire(): Promise<void> {
    if (this.available > 0) {
      this.available--;
      return;
    }
    await new Promise<void>((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.available++;
  }
}

export class SmppTransport implements SmsTransport {
  readonly name: string;
  private readonly config: Required<Omit<SmppTransportConfig, 'sourceTon' | 'sourceNpi' | 'log' | 'systemType'>> &
    Pick<SmppTransportConfig, 'sourceTon' | 'sourceNpi' | 'log' | 'systemType'>;
  private handlers: TransportHandlers | undefined;
  private connection: Connection | undefined;
  private readonly window: Semaphore;
  private readonly windowSize: number;
  /** Submits holding a window slot (for the shortcode_smpp_window_in_flight metric). */
  private inWindow = 0;
  private nextSendAt = 0;
  private concatRef = Math.floor(Math.random() * 256);
  private reconnectAttempt = 0;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private everBound = false;
  private bindWaiters = new Set<{ resolve(): void; reject(error: Error): void }>();
  private startFailure: ((error: Error) => void) | undefined;
  private readonly inboundParts = new Map<string, { parts: Map<number, string>; firstAt: number }>();

  constructor(config: SmppTransportConfig) {
    this.config = {
      window: 10,
      throughputPerSecond: 0,
      enquireLinkIntervalMs: 30_000,
      responseTimeoutMs: 10_000,
      reconnectInitialDelayMs: 500,
      reconnectMaxDelayMs: 30_000,
      connectWaitMs: 10_000,
      startTimeoutMs: 30_000,
      throttleBackoffMs: 1000,
      name: `smpp:${config.host}:${config.port}`,
      // Drop explicit undefineds so they do not override the defaults above.
      ...(Object.fromEntries(Object.entries(config).filter(([, value]) => value !== undefined)) as SmppTransportConfig),
    };
    this.name = this.config.name;
    this.windowSize = Math.max(1, this.config.window);
    this.window = new Semaphore(this.windowSize);
  }

  /** True while bound; submits made now go straight out. */
  get bound(): boolean {
    return this.connection?.bound ?? false;
  }

  async start(handlers: TransportHandlers): Promise<void> {
    if (this.handlers) throw new Error(`${this.name} already started`);
    this.handlers = handlers;
    const first = new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => fail(new Error(`${this.name}: no bind within ${this.config.startTimeoutMs} ms`)), this.config.startTimeoutMs);
      let failed = false;
      const fail = (error: Error) => {
        // stop() below rejects the bind waiter too; the first reason is the one to report.
        if (failed) return;
        failed = true;
        clearTimeout(timer);
        this.startFailure = undefined;
        void this.stop().finally(() => reject(error));
      };
      this.startFailure = fail;
      this.waitForBind(this.config.startTimeoutMs + 1000).then(() => {
        clearTimeout(timer);
        this.startFailure = undefined;
        resolve();
      }, fail);
    });
    this.connect();
    return first;
  }

  async submit(batch: OutboundSms[]): Promise<SubmitResult[]> {
    if (!this.handlers) throw new Error(`${this.name}: submit before start`);
    // At most a window's worth of messages is being prepared or sent per call: each message is
    // encoded just before its turn. Encoding a whole batch up front kept the event loop busy for
    // milliseconds, during which answers from the SMSC waited and the window stood empty.
    const results = new Array<SubmitResult>(batch.length);
    let next = 0;
    const lane = async () => {
      while (next < batch.length) {
        const i = next++;
        results[i] = await this.submitMessage(batch[i]!);
      }
    };
    await Promise.all(Array.from({ length: Math.min(this.windowSize, batch.length) }, lane));
    return results;
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.reconnectTimer);
    for (const waiter of this.bindWaiters) waiter.reject(new Error(`${this.name} stopped`));
    this.bindWaiters.clear();
    const connection = this.connection;
    if (!connection) return;
    const closed = new Promise<void>((resolve) => {
      if (connection.session.socket.destroyed) resolve();
      else connection.session.socket.once('close', () => resolve());
    });
    if (connection.bound) {
      // Polite unbind, but never wait long for it: stop must be prompt.
      const timer = setTimeout(() => connection.session.destroy(), Math.min(1000, this.config.responseTimeoutMs));
      connection.session.unbind({}, () => {
        clearTimeout(timer);
        connection.session.destroy();
      });
    } else {
      connection.session.destroy();
    }
    await closed;
  }

  // ---- outbound ---------------------------------------------------------------------------

  private async submitMessage(message: OutboundSms): Promise<SubmitResult> {
    const fail = (r: Exclude<PartResult, { ok: true }>, prefix = ''): SubmitResult => ({
      messageId: message.messageId,
      ok: false,
      transient: r.transient,
      code: r.code,
      error: prefix + r.error,
    });
    const to = message.to.replace(/^\+/, '');
    if (!/^\d{1,20}$/.test(to)) {
      return fail({ ok: false, transient: false, code: 106, error: `invalid destination ${message.to}` });
    }
    const { encoding, parts: planned } = planSegments(message.text);
    // An empty text is still one (empty) SMS if a caller insists on sending it.
    const parts = planned.length > 0 ? planned : [''];
    const ref = parts.length > 1 ? this.nextConcatRef() : 0;
    const source = sourceAddress(message.from);
    const ids: string[] = [];
    for (let i = 0; i < parts.length; i++) {
      let payload = encodeText(parts[i]!, encoding);
      if (parts.length > 1) {
        // UDH: length 5, IE 0x00 (concatenation, 8-bit reference), IE length 3, ref, total, sequence.
        payload = Buffer.concat([Buffer.from([0x05, 0x00, 0x03, ref, parts.length, i + 1]), payload]);
      }
      const result = await this.submitPart({
        source_addr_ton: this.config.sourceTon ?? source.ton,
        source_addr_npi: this.config.sourceNpi ?? source.npi,
        source_addr: source.addr,
        dest_addr_ton: 1,
        dest_addr_npi: 1,
        destination_addr: to,
        esm_class: parts.length > 1 ? UDHI : 0,
        registered_delivery: REGISTERED_DELIVERY_FINAL,
        data_coding: DATA_CODING[encoding],
        short_message: payload,
      });
      if (!result.ok) return fail(result, parts.length > 1 ? `part ${i + 1}/${parts.length}: ` : '');
      ids.push(result.id);
    }
    return { messageId: message.messageId, ok: true, carrierMessageId: ids[0]!, carrierMessageIds: ids };
  }

  private nextConcatRef(): number {
    this.concatRef = (this.concatRef + 1) & 0xff;
    return this.concatRef;
  }

  private async submitPart(fields: Record<string, unknown>): Promise<PartResult> {
    if (this.stopped) return transient('transport stopped');
    await this.window.acquire();
    this.inWindow++;
    observe.smppWindow(this.name, this.inWindow, this.windowSize);
    try {
      await this.pace();
      // Waiting for the (re)bind inside the window keeps the queue order and the window intact.
      try {
        await this.waitForBind(this.config.connectWaitMs);
      } catch (error) {
        return transient(`not connected: ${(error as Error).message}`);
      }
      const connection = this.connection;
      if (this.stopped || !connection?.bound) return transient('connection lost before submit');
      return await this.send(connection, fields);
    } finally {
      this.inWindow--;
      observe.smppWindow(this.name, this.inWindow, this.windowSize);
      this.window.release();
    }
  }

  private async pace(): Promise<void> {
    const interval = this.config.throughputPerSecond > 0 ? 1000 / this.config.throughputPerSecond : 0;
    const now = Date.now();
    const at = Math.max(now, this.nextSendAt);
    this.nextSendAt = at + interval;
    if (at > now) await new Promise((resolve) => setTimeout(resolve, at - now));
  }

  private send(connection: Connection, fields: Record<string, unknown>): Promise<PartResult> {
    return new Promise<PartResult>((resolve) => {
      let settled = false;
      const pending: Pending = {
        settle: (result) => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          connection.inflight.delete(pending);
          resolve(result);
        },
      };
      const timer = setTimeout(
        () => pending.settle(transient(`no submit_sm_resp within ${this.config.responseTimeoutMs} ms; the SMSC may have it`)),
        this.config.responseTimeoutMs,
      );
      connection.inflight.add(pending);
      coalesceWrites(connection);
      const written = connection.session.submit_sm(fields, (resp) => {
        const status = resp.command_status;
        if (status === 0) {
          pending.settle({ ok: true, id: String(resp.message_id ?? '') });
        } else if (TRANSIENT_STATUSES.has(status)) {
          this.nextSendAt = Math.max(this.nextSendAt, Date.now() + this.config.throttleBackoffMs);
          pending.settle(transient(`SMSC busy: ${statusName(status)}`));
        } else {
          pending.settle({ ok: false, transient: false, code: SMSC_REJECTED, error: `SMSC rejected: ${statusName(status)}` });
        }
      });
      if (!written) pending.settle(transient('connection not writable'));
    });
  }

  // ---- connection -------------------------------------------------------------------------

  private waitForBind(timeoutMs: number): Promise<void> {
    if (this.connection?.bound) return Promise.resolve();
    if (this.stopped) return Promise.reject(new Error(`${this.name} stopped`));
    return new Promise<void>((resolve, reject) => {
      const waiter = {
        resolve: () => {
          clearTimeout(timer);
          this.bindWaiters.delete(waiter);
          resolve();
        },
        reject: (error: Error) => {
          clearTimeout(timer);
          this.bindWaiters.delete(waiter);
          reject(error);
        },
      };
      const timer = setTimeout(() => waiter.reject(new Error(`no bind within ${timeoutMs} ms`)), timeoutMs);
      this.bindWaiters.add(waiter);
    });
  }

  private connect(): void {
    if (this.stopped) return;
    const where = `${this.config.host}:${this.config.port}`;
    const session = smpp.connect({ host: this.config.host, port: this.config.port });
    const connection: Connection = { session, bound: false, inflight: new Set(), timers: new Set(), corked: false };
    this.connection = connection;
    const later = (ms: number, fn: () => void) => {
      const timer = setTimeout(() => {
        connection.timers.delete(timer);
        fn();
      }, ms);
      connection.timers.add(timer);
    };

    session.on('connect', () => {
      later(this.config.responseTimeoutMs, () => {
        if (!connection.bound) {
          this.log('warn', 'bind_resp timed out', { where });
          session.destroy();
        }
      });
      session.bind_transceiver(
        {
          system_id: this.config.systemId,
          password: this.config.password,
          system_type: this.config.systemType ?? '',
          interface_version: 0x34,
        },
        (resp) => {
          if (resp.command_status !== 0) {
            const error = new SmppBindError(resp.command_status, where);
            this.log('error', error.message, { status: resp.command_status });
            // At startup a refused bind is a configuration error: fail start instead of retrying forever.
            if (!this.everBound && BIND_REFUSALS.has(resp.command_status) && this.startFailure) this.startFailure(error);
            session.destroy();
            return;
          }
          connection.bound = true;
          this.everBound = true;
          this.reconnectAttempt = 0;
          this.log('info', 'bound', { where });
          this.scheduleEnquireLink(connection, later);
          for (const waiter of [...this.bindWaiters]) waiter.resolve();
        },
      );
    });
    session.on('error', (error: Error) => {
      this.log('warn', 'connection error; reconnecting', { where, error: error.message });
      // The smpp package stops reading after a PDU parse error, so any error ends this connection.
      session.destroy();
    });
    session.socket.on('close', () => this.onClose(connection));
    session.on('enquire_link', (pdu: PDU) => session.send(pdu.response()));
    session.on('unbind', (pdu: PDU) => {
      connection.bound = false;
      session.send(pdu.response(), () => session.destroy());
    });
    session.on('deliver_sm', (pdu: PDU) => void this.onDeliver(session, pdu));
    session.on('data_sm', (pdu: PDU) => session.send(pdu.response({ command_status: 0x03 })));
  }

  private scheduleEnquireLink(connection: Connection, later: (ms: number, fn: () => void) => void): void {
    later(this.config.enquireLinkIntervalMs, () => {
      let answered = false;
      later(this.config.responseTimeoutMs, () => {
        if (!answered) {
          this.log('warn', 'enquire_link unanswered; reconnecting');
          connection.session.destroy();
        }
      });
      connection.session.enquire_link({}, () => {
        answered = true;
      });
      this.scheduleEnquireLink(connection, later);
    });
  }

  private onClose(connection: Connection): void {
    connection.bound = false;
    for (const timer of connection.timers) clearTimeout(timer);
    connection.timers.clear();
    // Every submit still waiting for its resp is now unknowable: report it transient.
    for (const pending of [...connection.inflight]) {
      pending.settle(transient('connection lost before submit_sm_resp; the SMSC may have accepted it'));
    }
    if (this.connection !== connection || this.stopped) return;
    const delay = Math.min(this.config.reconnectMaxDelayMs, this.config.reconnectInitialDelayMs * 2 ** this.reconnectAttempt);
    this.reconnectAttempt++;
    this.log('warn', 'connection closed; reconnecting', { delayMs: delay, attempt: this.reconnectAttempt });
    this.reconnectTimer = setTimeout(() => this.connect(), delay);
  }

  // ---- inbound ----------------------------------------------------------------------------

  private async onDeliver(session: Session, pdu: PDU): Promise<void> {
    const handlers = this.handlers;
    let status = 0;
    try {
      const esmClass = Number(pdu.esm_class ?? 0);
      const body = shortMessage(pdu.short_message);
      const payload = body.text === '' && pdu.message_payload !== undefined ? shortMessage(pdu.message_payload) : body;
      const receiptedId = typeof pdu.receipted_message_id === 'string' ? pdu.receipted_message_id : undefined;
      if (isReceiptEsmClass(esmClass) || receiptedId) {
        const receipt = parseReceipt({
          text: payload.text,
          receiptedMessageId: receiptedId,
          messageState: typeof pdu.message_state === 'number' ? pdu.message_state : undefined,
        });
        if (!receipt) {
          // Nothing to match it to; acknowledging avoids an endless redelivery loop.
          this.log('warn', 'delivery receipt without message id', { text: payload.text });
        } else {
          await handlers?.onDeliveryReport({
            carrierMessageId: receipt.carrierMessageId,
            code: receipt.code,
            receivedAt: new Date(),
            raw: { text: receipt.text, stat: receipt.stat, err: receipt.err, esmClass },
          });
        }
      } else {
        const text = this.reassemble(pdu, payload);
        if (text !== undefined) {
          const inbound: InboundSms = {
            from: inboundAddress(pdu.source_addr, pdu.source_addr_ton),
            to: inboundAddress(pdu.destination_addr, pdu.dest_addr_ton),
            text,
            receivedAt: new Date(),
          };
          await handlers?.onInbound(inbound);
        }
      }
    } catch (error) {
      this.log('error', 'deliver_sm handler failed; asking the SMSC to redeliver', { error: (error as Error).message });
      status = ESME_RX_T_APPN;
    }
    session.send(pdu.response(status ? { command_status: status } : { message_id: '' }));
  }

  /** Returns the whole text once every part of a concatenated inbound SMS has arrived. */
  private reassemble(pdu: PDU, payload: { text: string; udh: Buffer[] }): string | undefined {
    const ie = payload.udh.find((b) => (b[0] === 0x00 && b[1] === 0x03) || (b[0] === 0x08 && b[1] === 0x04));
    if (!ie) return payload.text;
    const sixteen = ie[0] === 0x08;
    const ref = sixteen ? ie.readUInt16BE(2) : ie[2]!;
    const total = ie[sixteen ? 4 : 3]!;
    const seq = ie[sixteen ? 5 : 4]!;
    if (total <= 1 || seq < 1 || seq > total) return payload.text;
    const now = Date.now();
    for (const [key, entry] of this.inboundParts) {
      if (now - entry.firstAt > INBOUND_PART_TTL_MS) this.inboundParts.delete(key);
    }
    const key = `${String(pdu.source_addr)}|${String(pdu.destination_addr)}|${ref}|${total}`;
    const entry = this.inboundParts.get(key) ?? { parts: new Map<number, string>(), firstAt: now };
    entry.parts.set(seq, payload.text);
    this.inboundParts.set(key, entry);
    if (entry.parts.size < total) return undefined;
    this.inboundParts.delete(key);
    return [...entry.parts.entries()].sort(([a], [b]) => a - b).map(([, text]) => text).join('');
  }

  private log(level: 'info' | 'warn' | 'error', message: string, details?: Record<string, unknown>): void {
    this.config.log?.(level, `${this.name}: ${message}`, details);
  }
}
