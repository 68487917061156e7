/**
 * The GSM 03.38 (3GPP TS 23.038) default alphabet and its extension table.
 *
 * Characters are mapped to their septet values so the same table serves both
 * segment counting (segments.ts) and encoding for SMPP data_coding 0
 * (one septet per octet, "unpacked", which is what SMPP carries).
 */

/** Basic character set, indexed by septet value. Index 0x1B is the escape, not a character. */
const BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1BÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';

/** Extension table: character → septet that follows the 0x1B escape. */
const EXTENSION: ReadonlyArray<readonly [string, number]> = [
  ['\f', 0x0a],
  ['^', 0x14],
  ['{', 0x28],
  ['}', 0x29],
  ['\\', 0x2f],
  ['[', 0x3c],
  ['~', 0x3d],
  [']', 0x3e],
  ['|', 0x40],
  ['€', 0x65],
];

export const GSM_ESCAPE = 0x1b;

const basicSeptet = new Map<string, number>();
for (let i = 0; i < BASIC.length; i++) {
  // The escape itself is not a printable character: a literal ESC in text forces UCS-2.
  if (i !== GSM_ESCAPE) basicSeptet.set(BASIC.charAt(i), i);
}
const extensionSeptet = new Map<string, number>(EXTENSION);
const basicChar = new Map<number, string>([...basicSeptet].map(([c, s]) => [s, c]));
const extensionChar = new Map<number, string>(EXTENSION.map(([c, s]) => [s, c]));

/** Septets a single UTF-16 code unit needs in GSM-7: 1 (basic), 2 (extension) or 0 (not representable). */
export function gsmSeptets(char: string): 0 | 1 | 2 {
  if (basicSeptet.has(char)) return 1;
  if (extensionSeptet.has(char)) return 2;
  return 0;
}

/**
 * Encodes GSM-representable text as unpacked septets (one per octet).
 * Throws on a character outside the alphabet: callers decide the encoding first.
 */
export function encodeGsm7(text: string): Buffer {
  const out: number[] = [];
  for (const char of text) {
    const basic = basicSeptet.get(char);
    if (basic !== undefined) {
      out.push(basic);
      continue;
    }
    const ext = extensionSeptet.get(char);
    if (ext === undefined) throw new RangeError(`Character U+${char.codePointAt(0)?.toString(16)} is not in GSM-7`);
    out.push(GSM_ESCAPE, ext);
  }
  return Buffer.from(out);
}

/** Decodes unpacked septets; unknown values become a space rather than failing on inbound traffic. */
export function decodeGsm7(bytes: Uint8Array): string {
  let text = '';
  for (let i = 0; i < bytes.length; i++) {
    const septet = bytes[i]! & 0x7f;
    if (septet === GSM_ESCAPE && i + 1 < bytes.length) {
      text += extensionChar.get(bytes[++i]! & 0x7f) ?? ' ';
    } else {
      text += basicChar.get(septet) ?? ' ';
    }
  }
  return text;
}
