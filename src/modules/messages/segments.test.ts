import { describe, expect, it } from 'vitest';
import { analyzeSegments, splitIntoSegments } from './segments.js';
import { decodeGsm7, encodeGsm7 } from './gsm7.js';

const EMOJI = '😀'; // one code point, two UTF-16 code units

describe('analyzeSegments', () => {
  it('treats the empty string as nothing to send', () => {
    expect(analyzeSegments('')).toEqual({
      encoding: 'GSM-7',
      segments: 0,
      characters: 0,
      units: 0,
      nonGsmCharacters: [],
    });
    expect(splitIntoSegments('')).toEqual([]);
  });

  it.each([
    [160, 1],
    [161, 2],
    [306, 2],
    [307, 3],
    [459, 3],
    [460, 4],
  ])('GSM-7 text of %i characters is %i segment(s)', (length, segments) => {
    const info = analyzeSegments('a'.repeat(length));
    expect(info).toMatchObject({ encoding: 'GSM-7', segments, characters: length, units: length });
    expect(splitIntoSegments('a'.repeat(length))).toHaveLength(segments);
  });

  it.each([
    [70, 1],
    [71, 2],
    [134, 2],
    [135, 3],
  ])('UCS-2 text of %i units is %i segment(s)', (length, segments) => {
    const text = 'ж'.repeat(length);
    expect(analyzeSegments(text)).toMatchObject({ encoding: 'UCS-2', segments, units: length, nonGsmCharacters: ['ж'] });
  });

  it('counts extension characters as two septets', () => {
    expect(analyzeSegments('€{}[]~^|\\\f')).toMatchObject({ encoding: 'GSM-7', characters: 10, units: 20, segments: 1 });
    expect(analyzeSegments('€'.repeat(80))).toMatchObject({ units: 160, segments: 1 });
    expect(analyzeSegments('€'.repeat(80) + 'a')).toMatchObject({ units: 161, segments: 2 });
  });

  it('keeps GSM basic characters such as £ é Ä in GSM-7', () => {
    expect(analyzeSegments('£5 café Ä @ § ¿ ¡ Δ\n\r')).toMatchObject({ encoding: 'GSM-7', nonGsmCharacters: [] });
  });

  it('lists the distinct characters that force UCS-2, in order', () => {
    const info = analyzeSegments(`Hi “there” ${EMOJI} ç ${EMOJI}`);
    expect(info.encoding).toBe('UCS-2');
    expect(info.nonGsmCharacters).toEqual(['“', '”', EMOJI, 'ç']);
  });

  it('treats a literal escape character as non-GSM', () => {
    expect(analyzeSegments('a\x1Bb').encoding).toBe('UCS-2');
  });

  it('counts an emoji as one character and two units', () => {
    expect(analyzeSegments(EMOJI)).toMatchObject({ encoding: 'UCS-2', characters: 1, units: 2, segments: 1 });
    expect(analyzeSegments(EMOJI.repeat(35))).toMatchObject({ units: 70, segments: 1 });
    expect(analyzeSegments(EMOJI.repeat(36))).toMatchObject({ units: 72, segments: 2 });
  });

  it('handles lone surrogates as single UCS-2 units without crashing', () => {
    const text = 'a\uD800b\uDC00c';
    expect(analyzeSegments(text)).toMatchObject({ encoding: 'UCS-2', characters: 5, units: 5, segments: 1 });
    expect(analyzeSegments('\uD83D'.repeat(71))).toMatchObject({ units: 71, segments: 2 });
    expect(splitIntoSegments('\uD83D'.repeat(71)).join('')).toBe('\uD83D'.repeat(71));
  });
});

describe('splitIntoSegments', () => {
  it('returns the text itself when it fits one SMS', () => {
    expect(splitIntoSegments('hello')).toEqual(['hello']);
  });

  it('splits GSM-7 into 153-septet parts that join back to the input', () => {
    const text = 'x'.repeat(400);
    const parts = splitIntoSegments(text);
    expect(parts.map((p) => p.length)).toEqual([153, 153, 94]);
    expect(parts.join('')).toBe(text);
  });

  it('never splits an escape sequence across parts', () => {
    // 152 septets then a 2-septet €: it cannot fit in part 1 (would need 154).
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(20);
    const parts = splitIntoSegments(text);
    expect(parts[0]).toBe('a'.repeat(152));
    expect(parts[1]).toBe('€' + 'b'.repeat(20));
    expect(analyzeSegments(text).segments).toBe(2);
  });

  it('may need an extra part because of escape alignment', () => {
    // 306 septets in total, but a € straddling the 153 boundary pushes the tail into a third part.
    const text = 'a'.repeat(152) + '€' + 'b'.repeat(152);
    expect(analyzeSegments(text).units).toBe(306);
    expect(analyzeSegments(text).segments).toBe(3);
  });

  it('never splits a surrogate pair across parts', () => {
    const text = 'ж'.repeat(66) + EMOJI + 'ж'.repeat(10);
    const parts = splitIntoSegments(text);
    expect(parts[0]).toBe('ж'.repeat(66));
    expect(parts[1]).toBe(EMOJI + 'ж'.repeat(10));
    for (const part of parts) {
      const last = part.charCodeAt(part.length - 1);
      expect(last >= 0xd800 && last <= 0xdbff).toBe(false);
    }
  });

  it('splits UCS-2 into 67-unit parts', () => {
    expect(splitIntoSegments('ж'.repeat(135)).map((p) => p.length)).toEqual([67, 67, 1]);
  });
});

describe('GSM-7 codec', () => {
  it('round-trips basic and extension characters', () => {
    const text = 'Hello @£$ {x} [y] ~|^\\ €5 àÄ§';
    const bytes = encodeGsm7(text);
    expect(bytes[0]).toBe(0x48);
    expect([...encodeGsm7('€')]).toEqual([0x1b, 0x65]);
    expect([...encodeGsm7('@')]).toEqual([0x00]);
    expect(decodeGsm7(bytes)).toBe(text);
  });

  it('refuses characters outside the alphabet', () => {
    expect(() => encodeGsm7('ж')).toThrow(RangeError);
  });
});
