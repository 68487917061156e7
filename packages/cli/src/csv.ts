/**
 * A small RFC 4180 CSV reader: quoted fields (with "" escapes and line breaks inside quotes),
 * comma separators, CRLF or LF line ends, a UTF-8 byte order mark. The first row is the header.
 */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  for (; i < text.length; i += 1) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 1;
        } else quoted = false;
      } else field += ch;
    } else if (ch === '"' && field === '') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (quoted) throw new Error('The CSV ends inside a quoted field.');
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows.filter((r) => r.some((cell) => cell.trim() !== ''));
}

/** Rows as objects keyed by the (trimmed, lower-cased) header, with their 1-based line of data. */
export function csvRecords(text: string): { header: string[]; records: Array<{ row: number; values: Record<string, string> }> } {
  const [head, ...rows] = parseCsv(text);
  if (!head) throw new Error('The CSV file is empty.');
  const header = head.map((h) => h.trim().toLowerCase());
  const records = rows.map((cells, index) => {
    const values: Record<string, string> = {};
    header.forEach((name, column) => {
      if (name) values[name] = (cells[column] ?? '').trim();
    });
    return { row: index + 2, values };
  });
  return { header, records };
}
