/** Terminal output: tables, key/value views, JSON and progress bars. */

export interface Output {
  json: boolean;
  out: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  err: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
}

type Row = Record<string, unknown>;

function cell(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return value.map((v) => (typeof v === 'object' && v !== null ? ((v as Row).name ?? (v as Row).id ?? JSON.stringify(v)) : String(v))).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value).replace(/\s+/g, ' ');
}

function clip(text: string, width: number): string {
  return text.length > width ? `${text.slice(0, Math.max(1, width - 1))}…` : text;
}

/** A plain-text table: a header of the column names, then one line per row. */
export function table(rows: readonly Row[], columns: readonly string[], maxWidth = 48): string {
  const cells = rows.map((row) => columns.map((c) => clip(cell(row[c]), maxWidth)));
  const widths = columns.map((c, i) => Math.max(c.length, ...cells.map((r) => r[i]!.length)));
  const line = (values: string[]) => values.map((v, i) => v.padEnd(widths[i]!)).join('  ').trimEnd();
  return [line(columns.map((c) => c.toUpperCase())), ...cells.map(line)].join('\n');
}

/** One object as aligned `key  value` lines (nested objects as JSON). */
export function keyValues(object: Row): string {
  const keys = Object.keys(object);
  const width = Math.max(0, ...keys.map((k) => k.length));
  return keys.map((k) => `${k.padEnd(width)}  ${cell(object[k])}`).join('\n');
}

export function printJson(output: Output, value: unknown): void {
  output.out.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Prints a result: JSON with --json, else the text view. */
export function print(output: Output, value: unknown, text: () => string): void {
  if (output.json) printJson(output, value);
  else output.out.write(`${text()}\n`);
}

/**
 * A progress bar on stderr. On a terminal it redraws one line; elsewhere (pipes, CI, tests) it
 * writes a line at each tenth of the way and at the end, so logs stay readable.
 */
export class Progress {
  private lastDecile = -1;
  private lastLine = '';
  private readonly started = Date.now();

  /** @param unit - how amounts are shown (default as they are; {@link bytes} for sizes). */
  constructor(
    private readonly output: Output,
    private readonly label: string,
    private total: number,
    private readonly unit: (amount: number) => string = String,
  ) {}

  update(done: number, detail = '', total = this.total): void {
    this.total = total;
    const ratio = total > 0 ? Math.min(1, done / total) : 1;
    const percent = Math.floor(ratio * 100);
    const text = `${this.label} ${this.unit(done)}/${this.unit(total)} (${percent}%)${detail ? ` ${detail}` : ''}`;
    if (this.output.err.isTTY) {
      const width = 24;
      const filled = Math.round(ratio * width);
      this.output.err.write(`\r\x1b[2K[${'#'.repeat(filled)}${'-'.repeat(width - filled)}] ${text}`);
      return;
    }
    const decile = Math.floor(ratio * 10);
    const final = done >= total;
    // A line per tenth of the way; at the end, a line whenever the detail changes (a campaign
    // that has handed every message over still reports its deliveries).
    if (final ? text === this.lastLine : decile === this.lastDecile) return;
    this.lastDecile = decile;
    this.lastLine = text;
    this.output.err.write(`${text}\n`);
  }

  /** Ends the bar (a newline on a terminal) and reports the elapsed time. */
  finish(summary: string): void {
    const seconds = ((Date.now() - this.started) / 1000).toFixed(1);
    if (this.output.err.isTTY) this.output.err.write('\n');
    this.output.err.write(`${summary} in ${seconds}s\n`);
  }
}

/** A size for people: `512 B`, `1.5 kB`, `12.0 MB` (powers of 1,000). */
export function bytes(amount: number): string {
  if (amount < 1000) return `${amount} B`;
  const units = ['kB', 'MB', 'GB', 'TB'];
  let value = amount;
  let unit = -1;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${value.toFixed(1)} ${units[unit]}`;
}
