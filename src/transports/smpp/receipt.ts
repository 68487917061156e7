import { codeFromReceipt, messageStateName } from '../delivery-codes.js';

/**
 * Tolerant parsing of SMPP delivery receipts.
 *
 * SMSCs differ: some send the receipted_message_id / message_state TLVs (SMPP 3.4 §5.3.2),
 * some only the Appendix B text ("id:... sub:... dlvrd:... submit date:... done date:...
 * stat:... err:... text:..."), many both, with varying case and field order. TLVs win where
 * present because they are unambiguous; the text fills the gaps.
 */

export interface ParsedReceipt {
  carrierMessageId: string;
  /** Receipt state name (DELIVRD, UNDELIV, ...), if any was found. */
  stat?: string;
  err?: string;
  code: number;
  text: string;
}

/** esm_class message type bits (bits 2-5) that mark a deliver_sm as a receipt or acknowledgement. */
const RECEIPT_TYPES = new Set([0x04, 0x08, 0x10, 0x20]);

export function isReceiptEsmClass(esmClass: number): boolean {
  return RECEIPT_TYPES.has(esmClass & 0x3c);
}

function field(text: string, name: string): string | undefined {
  // Values run to the next space; `text:` (free text, last) is never needed.
  const match = new RegExp(`(?:^|\\s)${name}:\\s*(\\S*)`, 'i').exec(text);
  return match?.[1] || undefined;
}

export interface ReceiptInput {
  text: string;
  receiptedMessageId?: string;
  messageState?: number;
}

/** Returns undefined when no message id can be found: such a receipt cannot be matched to anything. */
export function parseReceipt(input: ReceiptInput): ParsedReceipt | undefined {
  const carrierMessageId = input.receiptedMessageId?.trim() || field(input.text, 'id');
  if (!carrierMessageId) return undefined;
  const stat = (input.messageState !== undefined ? messageStateName(input.messageState) : undefined) ?? field(input.text, 'stat');
  const err = field(input.text, 'err');
  return { carrierMessageId, stat, err, code: codeFromReceipt(stat, err), text: input.text };
}
