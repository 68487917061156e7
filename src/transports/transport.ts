/**
 * The contract between the dispatcher and a carrier connection (SMPP, the simulator, ...).
 *
 * Delivery semantics the dispatcher can rely on:
 * - `submit` returns exactly one result per input message, in input order, and only
 *   rejects for programming errors (e.g. called before `start`), never for a message.
 * - `ok: true` means the carrier accepted every part of the message; it is reported at most
 *   once per submit call and never for a message that was also reported transient.
 * - `ok: false, transient: true` means "not known to be accepted; retry later". The carrier
 *   may nevertheless have the message (a connection dropped before its acknowledgement), so a
 *   retry can produce a duplicate. Carrier protocols such as SMPP cannot give exactly-once
 *   delivery across a dropped connection; we prefer a possible duplicate to a lost message.
 * - `ok: false, transient: false` is a final rejection; `code` is a delivery code of the
 *   reference table (see delivery-codes.ts), typically 138.
 * - Handlers passed to `start` are awaited before the carrier is acknowledged; a handler that
 *   rejects makes the carrier redeliver the report or message later (at-least-once), so
 *   handlers must be idempotent.
 */

export interface OutboundSms {
  /** Our message id; echoed in the result. */
  messageId: string;
  /** Short code, long number in E.164, or alphanumeric sender. */
  from: string;
  /** Recipient in E.164. */
  to: string;
  text: string;
}

export type SubmitResult =
  | {
      messageId: string;
      ok: true;
      /** Carrier id of the first part; delivery reports may refer to it. */
      carrierMessageId: string;
      /**
       * Carrier ids of all parts, in order. A long message gets one delivery report per part,
       * each naming its part's id, so the dispatcher must map every one back to the message.
       */
      carrierMessageIds: string[];
    }
  | { messageId: string; ok: false; transient: boolean; code: number; error: string };

export interface DeliveryReport {
  /** The carrier id of the part this report is about (see SubmitResult.carrierMessageIds). */
  carrierMessageId: string;
  /** Delivery code of the reference table (100-144, 214). */
  code: number;
  receivedAt: Date;
  /** Protocol details kept for logs and support (e.g. the SMPP receipt text). */
  raw?: unknown;
}

export interface InboundSms {
  from: string;
  to: string;
  text: string;
  receivedAt: Date;
  carrierMessageId?: string;
}

export interface TransportHandlers {
  onDeliveryReport(report: DeliveryReport): Promise<void>;
  onInbound(message: InboundSms): Promise<void>;
}

export interface SmsTransport {
  readonly name: string;
  /** Connects; resolves once ready to submit, rejects on a configuration error (e.g. bad credentials). */
  start(handlers: TransportHandlers): Promise<void>;
  /** One result per input, same order; never throws for per-message failures. */
  submit(batch: OutboundSms[]): Promise<SubmitResult[]>;
  /** Disconnects; in-flight submits resolve (as transient failures if unacknowledged). */
  stop(): Promise<void>;
}
