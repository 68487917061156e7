import { analyzeSegments, type SegmentInfo } from './segments.js';

/** Longest message accepted, in characters (code points): ten GSM-7 segments and a bit. */
export const MAX_MESSAGE_CHARACTERS = 1600;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
// C0 controls other than tab, line feed and carriage return, and DEL: no handset shows them.
// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F]/;

/** Checks a message text; returns the error to show, or the segment analysis. */
export function checkMessageText(text: unknown): { ok: true; info: SegmentInfo; text: string } | { ok: false; error: string } {
  if (typeof text !== 'string') return { ok: false, error: 'The message is required.' };
  if (text.trim() === '') return { ok: false, error: 'The message may not be empty.' };
  if (LONE_SURROGATE.test(text)) return { ok: false, error: 'The message contains an invalid character (an unpaired UTF-16 surrogate).' };
  if (CONTROL.test(text)) return { ok: false, error: 'The message contains a control character.' };
  const info = analyzeSegments(text);
  if (info.characters > MAX_MESSAGE_CHARACTERS) {
    return { ok: false, error: `The message may not be longer than ${MAX_MESSAGE_CHARACTERS} characters.` };
  }
  return { ok: true, info, text };
}
