/**
 * The delivery report status codes of API v1 (reference, Webhooks → Delivery Reports),
 * as data, plus the mapping from SMPP delivery receipt states to these codes.
 *
 * Flags:
 * - `success`: only 100.
 * - `bounce`: the number itself cannot receive SMS (101, 106-109); three bounces
 *   unsubscribe the contact (DECISIONS.md).
 * - `final`: the message has reached an end state. Only 136 (queued) and 137 (dispatched
 *   to the SMSC) are in-progress states; a later report is expected after them.
 * - `retryable`: a failure that a later re-send may overcome (handset off, network
 *   busy, temporary platform faults). Our choice; the reference only says so for 140.
 */

export interface DeliveryCode {
  code: number;
  text: string;
  success: boolean;
  bounce: boolean;
  final: boolean;
  retryable: boolean;
}

const TEXTS: Record<number, string> = {
  100: 'The message delivered successfully',
  101: 'The MSISDN is inactive or no longer active.',
  102: 'Fault in Number Portability Database or HLR of MSISDN range holder. Occurs more frequently if number ported more than once in certain countries.',
  103: 'Occurs when the MSC that a message has been sent to is not aware of the subscriber IMSI. Suggests HLR has not been updated or MSC malfunction.',
  104: 'It cannot be determined whether this message has been delivered or has failed due to lack of final delivery state information from the carrier.',
  105: 'Rejection due to failed authentication or filtering.',
  106: 'Destination number is not a valid mobile number or its routing cannot be determined.',
  107: 'Rejection due to subscription not supporting SMS.',
  108: 'Rejection due to subscription, handset or network not supporting SMS.',
  109: 'Rejection due to subscription or network not allowing SMS.',
  110: 'Subscriber handset is not logged onto the network due to it being turned off or out of coverage. Likely to have been unavailable for 12 hours or more.',
  111: 'Subscriber handset is not reachable on the network due to it being turned off or out of coverage. Likely to have very recently become unavailable.',
  112: 'Subscriber handset is not reachable on the network due to it being turned off or out of coverage. Likely to have been unavailable for several hours.',
  113: 'The MSC that the subscriber is currently registered to is experiencing a fault.',
  114: 'MSC is busy handling an existing transaction with the handset. The subscriber could be currently receiving an SMS at exactly the same time.',
  115: 'Receiving handset or equipment does not support SMS or an SMS feature. This is temporary because the subscriber could switch to a different device.',
  116: 'Rejection due to subscriber handset not having the memory capacity to receive the message. Likely to have been in state for 12 hours or more.',
  117: 'Rejection due to SS7 protocol or network failure.',
  118: 'Rejection due to subscriber network decoding error or signaling fault.',
  119: 'Rejection due to subscriber handset not having the memory capacity to receive the message. Likely to have run out of capacity recently.',
  120: 'Generic delivery failure',
  121: 'Internal SMSC error due to invalid message syntax.',
  122: 'Internal SMSC error caused by SS7 link/dialogue fault.',
  123: 'SMSC cannot decode the response received from destination network due to an encoding or protocol fault.',
  124: 'Subscriber network or signalling partner has terminated the signalling connection, preventing message transmission.',
  125: 'The reason of rejection for the message is Anti-Spam Rejection because of the content. Carrier identified this kind of traffic which has same marketing content as a spam and block it, this is a carrier based regulation.',
  126: 'Subscriber network not receiving packets from SMSC, or not responding to them. Alternatively, a 3rd party signalling partner may not be routing correctly.',
  127: 'Subscriber network or signalling partner has not responded to signalling connection setup or maintenance packets.',
  128: 'Subscriber network refuses signalling connection or message packet.',
  129: 'Signalling with destination network has been prevented by SMSC partner or signalling partner.',
  130: 'SMSC partner or 3rd party signalling partner has prevented messages being sent to this MSISDN or destination network.',
  131: 'SMSC partner has rejected the message due to an unacceptable message parameter.',
  // "retired" is the reference's spelling (meaning "retried"); kept verbatim as it is the contract text.
  132: 'SMSC partner could not process this message due to a platform fault, but it will be retired.',
  133: 'SMSC partner could not process this message due to a platform fault and it will not be retried.',
  134: 'SMSC partner cannot route this message currently, but it will be retried.',
  135: 'SMSC partner cannot route this message and it will not be retried.',
  136: 'Message is queued within REST API system and will be dispatched according to the rate of the account.',
  137: 'Message has been dispatched to SMSC.',
  138: 'SMSC rejected message. Retrying is likely to cause the same error.',
  139: 'An unexpected error caused the message to fail.',
  140: 'Message failed because of temporary delivery failure. Message can be retried.',
  141: 'One or more parameters in the message body has no mapping for this recipient.',
  142: 'Message was expired before reaching SMSC.',
  143: 'Message was canceled by user before reaching SMSC.',
  144: 'SS7 signalling link at destination network, SMSC, or 3rd party signalling partner is overloaded.',
  214: 'Subscriber network or signalling partner has rejected the signalling connection, preventing message transmission.',
};

const BOUNCE = new Set([101, 106, 107, 108, 109]);
const IN_PROGRESS = new Set([136, 137]);
const RETRYABLE = new Set([110, 111, 112, 113, 114, 115, 116, 117, 119, 122, 124, 126, 127, 132, 134, 140, 144]);

export const DELIVERY_CODES: ReadonlyMap<number, DeliveryCode> = new Map(
  Object.entries(TEXTS).map(([key, text]) => {
    const code = Number(key);
    return [
      code,
      {
        code,
        text,
        success: code === 100,
        bounce: BOUNCE.has(code),
        final: !IN_PROGRESS.has(code),
        retryable: RETRYABLE.has(code),
      },
    ];
  }),
);

export const DELIVERED = 100;
export const GENERIC_FAILURE = 120;
export const DISPATCHED = 137;
export const SMSC_REJECTED = 138;
export const UNEXPECTED_ERROR = 139;
export const TEMPORARY_FAILURE = 140;

export function deliveryCode(code: number): DeliveryCode | undefined {
  return DELIVERY_CODES.get(code);
}

export function isDeliveryCode(code: number): boolean {
  return DELIVERY_CODES.has(code);
}

/**
 * `stat:` values of the de-facto SMPP 3.4 receipt text (Appendix B) and the numeric
 * message_state TLV, mapped to codes.
 * - ENROUTE/ACCEPTD are intermediate states: the SMSC has the message → 137.
 * - EXPIRED → 142 and DELETED → 143 are the reference's closest wording even though the
 *   SMSC did have the message (validity period ran out / deleted by the SMSC operator).
 * - UNDELIV → 120 unless `err:` says more (see ERR_CODES).
 * - REJECTD → 138: the SMSC refused it and a retry will not help.
 * - UNKNOWN → 104: exactly the reference's "cannot be determined".
 * - SCHEDULED (state 0) → 136; SKIPPED (SMPP 5.0, state 9) → 133: not retried by the SMSC.
 */
const STAT_CODES: Record<string, number> = {
  DELIVRD: 100,
  DELIVERED: 100,
  EXPIRED: 142,
  DELETED: 143,
  UNDELIV: 120,
  UNDELIVERABLE: 120,
  REJECTD: 138,
  REJECTED: 138,
  UNKNOWN: 104,
  ACCEPTD: 137,
  ACCEPTED: 137,
  ENROUTE: 137,
  SCHEDULED: 136,
  SKIPPED: 133,
};

/** SMPP message_state TLV values (SMPP 3.4 §5.2.28) by name. */
const MESSAGE_STATE_NAMES = ['SCHEDULED', 'ENROUTE', 'DELIVRD', 'EXPIRED', 'DELETED', 'UNDELIV', 'ACCEPTD', 'UNKNOWN', 'REJECTD', 'SKIPPED'];

export function messageStateName(state: number): string | undefined {
  return MESSAGE_STATE_NAMES[state];
}

/**
 * `err:` values are SMSC specific. Most SMSCs pass through the GSM MAP error
 * (3GPP TS 29.002) of the failed MT-ForwardSM, so that is what we decode; anything
 * else keeps the generic code for the state. Only used for UNDELIV (and REJECTD when
 * the MAP error is a bounce, since some SMSCs report "unknown subscriber" as rejected).
 */
const ERR_CODES: Record<number, number> = {
  1: 101, // unknownSubscriber: the number is not (or no longer) assigned
  5: 103, // unidentifiedSubscriber: MSC does not know the IMSI
  6: 111, // absentSubscriberSM: handset off / out of coverage
  9: 105, // illegalSubscriber: authentication failed
  11: 107, // teleserviceNotProvisioned: subscription has no SMS
  12: 108, // illegalEquipment: handset not allowed
  13: 109, // callBarred
  21: 115, // facilityNotSupported
  27: 111, // absentSubscriber
  31: 114, // subscriberBusyForMT-SMS
  32: 120, // sm-DeliveryFailure: generic
  33: 116, // messageWaitingListFull
  34: 113, // systemFailure
  35: 118, // dataMissing
  36: 118, // unexpectedDataValue
};

/**
 * Maps a receipt's state (text `stat:` or message_state name) and `err:` value to a code.
 * Unknown states give 104 ("cannot be determined") rather than guessing success or failure.
 */
export function codeFromReceipt(stat: string | undefined, err?: string | number): number {
  const state = (stat ?? '').trim().toUpperCase();
  const base = STAT_CODES[state];
  if (base === undefined) return 104;
  const errNumber = typeof err === 'number' ? err : err !== undefined && /^\d+$/.test(err.trim()) ? Number(err) : undefined;
  if (errNumber !== undefined && errNumber !== 0) {
    const precise = ERR_CODES[errNumber];
    if (precise !== undefined && (state.startsWith('UNDELIV') || (state.startsWith('REJECT') && BOUNCE.has(precise)))) {
      return precise;
    }
  }
  return base;
}
