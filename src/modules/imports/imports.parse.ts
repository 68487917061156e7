import { Transform, pipeline, type Readable, type TransformCallback } from 'node:stream';
import { CsvError, parse } from 'csv-parse';
import { AppError } from '../../lib/errors.js';

export const MAX_IMPORT_ROWS = 1_000_000;
export const MAX_IMPORT_BYTES = 1024 * 1024 * 1024;
export const MAX_ROW_CHARS = 100_000;

/** A structural problem with the file as a whole (not one bad row): the upload is refused. */
export class ImportFileError extends AppError {
  constructor(message: string, where: string, detail: string, status = 400) {
    super(status, message, { [where]: [detail] });
  }
}

/**
 * Decodes UTF-8 strictly (a file in another encoding is refused, not mangled) and counts bytes
 * against the upload limit. Chunks pass straight through: nothing is buffered beyond a split
 * multi-byte character.
 */
export function utf8Decoder(maxBytes = MAX_IMPORT_BYTES): Transform {
  const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });
  let bytes = 0;
  return new Transform({
    readableObjectMode: false,
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      bytes += chunk.length;
      if (bytes > maxBytes) {
        callback(new ImportFileError('The file is too large.', 'file', `An import may be at most ${maxBytes} bytes.`, 413));
        return;
      }
      try {
        callback(null, decoder.decode(chunk, { stream: true }));
      } catch {
        callback(new ImportFileError('The file is not valid UTF-8 text.', 'file', 'Save the file as UTF-8 (CSV UTF-8) and upload it again.'));
      }
    },
    flush(callback: TransformCallback) {
      try {
        callback(null, decoder.decode());
      } catch {
        callback(new ImportFileError('The file is not valid UTF-8 text.', 'file', 'Save the file as UTF-8 (CSV UTF-8) and upload it again.'));
      }
    },
  });
}

/** Splits text into lines (LF or CRLF), refusing a line longer than `maxChars`. */
export function lineSplitter(maxChars = MAX_ROW_CHARS): Transform {
  let pending = '';
  let line = 0;
  return new Transform({
    readableObjectMode: true,
    transform(chunk: Buffer | string, _encoding, callback: TransformCallback) {
      pending += chunk.toString();
      const parts = pending.split('\n');
      pending = parts.pop() ?? '';
      for (const part of parts) {
        line += 1;
        if (part.length > maxChars) {
          callback(new ImportFileError('A line of the file is too long.', `line.${line}`, `Lines may be at most ${maxChars} characters.`));
          return;
        }
        this.push({ line, text: part.endsWith('\r') ? part.slice(0, -1) : part });
      }
      if (pending.length > maxChars) {
        callback(new ImportFileError('A line of the file is too long.', `line.${line + 1}`, `Lines may be at most ${maxChars} characters.`));
        return;
      }
      callback();
    },
    flush(callback: TransformCallback) {
      if (pending !== '') this.push({ line: line + 1, text: pending.endsWith('\r') ? pending.slice(0, -1) : pending });
      callback();
    },
  });
}

export interface RawRecord {
  /** Line of the file where the record starts (1-based). */
  line: number;
  /** CSV: the cells; NDJSON: the line's text. */
  value: string[] | string;
}

const CSV_MESSAGES: Record<string, string> = {
  CSV_QUOTE_NOT_CLOSED: 'A quoted value is never closed.',
  CSV_INVALID_CLOSING_QUOTE: 'A quote inside a value must be doubled ("") or the value must be quoted.',
  CSV_NON_TRIMABLE_CHAR_AFTER_CLOSING_QUOTE: 'Unexpected characters after a closing quote.',
  CSV_MAX_RECORD_SIZE: `A row is longer than ${MAX_ROW_CHARS} characters.`,
  INVALID_OPENING_QUOTE: 'A quote may only start a value: double it ("") inside a quoted value.',
};

function csvError(error: unknown): unknown {
  if (error instanceof AppError) return error;
  if (error instanceof CsvError) {
    const e = error as CsvError & { lines?: number };
    return new ImportFileError('The CSV file is malformed.', `line.${e.lines ?? 0}`, CSV_MESSAGES[e.code] ?? e.message.slice(0, 200));
  }
  return error;
}

/** The records of an uploaded body, streamed: CSV (RFC 4180) or JSON lines. */
export async function* readRecords(body: Readable, format: 'csv' | 'ndjson', maxBytes = MAX_IMPORT_BYTES): AsyncGenerator<RawRecord> {
  if (format === 'csv') {
    const parser = parse({ bom: true, relax_column_count: true, skip_empty_lines: true, max_record_size: MAX_ROW_CHARS, info: true });
    pipeline(body, utf8Decoder(maxBytes), parser, () => undefined);
    try {
      for await (const item of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
        yield { line: item.info.lines, value: item.record };
      }
    } catch (error) {
      throw csvError(error);
    }
    return;
  }
  const lines = lineSplitter();
  pipeline(body, utf8Decoder(maxBytes), lines, () => undefined);
  let first = true;
  for await (const item of lines as AsyncIterable<{ line: number; text: string }>) {
    let text = item.text;
    if (first && text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    first = false;
    if (text.trim() === '') continue;
    yield { line: item.line, value: text };
  }
}
