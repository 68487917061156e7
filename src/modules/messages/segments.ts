import { gsmSeptets } from './gsm7.js';

/**
 * SMS segment arithmetic: which encoding a text needs and how it splits into parts.
 *
 * GSM-7 counts septets (extension-table characters cost 2: escape + character);
 * UCS-2 counts UTF-16 code units (so an emoji, a surrogate pair, costs 2).
 * A single SMS carries 160 septets / 70 units; concatenated parts lose 7 septets / 3 units
 * to the 6-octet UDH, leaving 153 / 67. Parts never split an escape sequence or a
 * surrogate pair, so a part can be one unit short of the maximum.
 */

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SegmentInfo {
  encoding: SmsEncoding;
  /** Number of SMS parts; 0 for the empty string (nothing to send or charge). */
  segments: number;
  /** User-perceived length in code points (a lone surrogate counts as one). */
  characters: number;
  /** Septets for GSM-7, UTF-16 code units for UCS-2. */
  units: number;
  /** The distinct characters, in order of appearance, that force UCS-2. Empty for GSM-7. */
  nonGsmCharacters: string[];
}

export const LIMITS = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
} as const satisfies Record<SmsEncoding, { single: number; part: number }>;

/** One indivisible piece of text with its cost in units of the chosen encoding. */
interface Atom {
  text: string;
  units: number;
}

function detect(text: string): { encoding: SmsEncoding; nonGsmCharacters: string[] } {
  const nonGsm = new Set<string>();
  // for..of iterates code points; lone surrogates come through as single code units.
  for (const char of text) {
    if (gsmSeptets(char) === 0) nonGsm.add(char);
  }
  return { encoding: nonGsm.size === 0 ? 'GSM-7' : 'UCS-2', nonGsmCharacters: [...nonGsm] };
}

function atoms(text: string, encoding: SmsEncoding): Atom[] {
  const result: Atom[] = [];
  for (const char of text) {
    // In UCS-2 a code point's cost is its UTF-16 length (2 for a surrogate pair, 1 for a lone surrogate).
    result.push({ text: char, units: encoding === 'GSM-7' ? gsmSeptets(char) : char.length });
  }
  return result;
}

function split(list: Atom[], encoding: SmsEncoding): string[] {
  const total = list.reduce((sum, a) => sum + a.units, 0);
  if (total === 0) return [];
  const { single, part } = LIMITS[encoding];
  if (total <= single) return [list.map((a) => a.text).join('')];
  const parts: string[] = [];
  let current = '';
  let used = 0;
  for (const atom of list) {
    if (used + atom.units > part) {
      parts.push(current);
      current = '';
      used = 0;
    }
    current += atom.text;
    used += atom.units;
  }
  parts.push(current);
  return parts;
}

export function analyzeSegments(text: string): SegmentInfo {
  const { encoding, nonGsmCharacters } = detect(text);
  const list = atoms(text, encoding);
  return {
    encoding,
    segments: split(list, encoding).length,
    characters: list.length,
    units: list.reduce((sum, a) => sum + a.units, 0),
    nonGsmCharacters,
  };
}

/** The texts of the parts, in order; joining them gives back the input. Empty input gives no parts. */
export function splitIntoSegments(text: string): string[] {
  const { encoding } = detect(text);
  return split(atoms(text, encoding), encoding);
}

/** Encoding plus parts in one pass, for transports. */
export function planSegments(text: string): { encoding: SmsEncoding; parts: string[] } {
  const { encoding } = detect(text);
  return { encoding, parts: split(atoms(text, encoding), encoding) };
}
