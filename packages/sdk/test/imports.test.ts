import { Readable } from 'node:stream';
import {
  BadRequestError,
  NotFoundError,
  PayloadTooLargeError,
  ShortcodeError,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
  type ContactImport,
  type Shortcode,
} from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';
import { startWorkers } from './workers.js';

let server: TestServer;
let stopWorkers: () => Promise<void>;
let client: Shortcode;
let n = 0;
/** A fresh valid US number. */
const phone = () => `+1202556${String(1000 + (n++ % 9000)).padStart(4, '0')}`;
const REQUEST_ID = /^[0-9a-f-]{36}$/;

beforeAll(async () => {
  // Small limits so "too large" and "too many rows" are quick to reach.
  server = await startServer({ IMPORT_MAX_BYTES: '65536', IMPORT_MAX_ROWS: '500' });
  stopWorkers = await startWorkers(server);
  ({ client } = await server.newAccount());
});
afterAll(async () => {
  await stopWorkers();
  await server.close();
});

describe('contacts.imports', () => {
  it('imports a CSV into groups and reports counts and every row; rows iterate across pages', async () => {
    const [one, two] = await Promise.all([client.groups.create({ name: 'Import A' }), client.groups.create({ name: 'Import B' })]);
    const existing = await client.contacts.create({ phone_number: phone() });
    const [a, b, c] = [phone(), phone(), phone()];
    const csv = ['phone_number,first_name,email', `${a},Ada,ada@example.test`, `${b},"Lovelace, Jr.",`, `${existing.phone_number},Again,`, `${a},Twice,`, 'not a phone,Bad,', `${c},Cy,not-an-email`, `${phone()},Dee,`].join('\n');

    const started = await client.contacts.imports.create(csv, { group_id: [one.id, two.id] });
    expect(started).toMatchObject({ status: 'queued', format: 'csv', total_rows: 7, processed_rows: 0, validate_only: false, update_existing: false });
    expect([...started.group_ids].sort()).toEqual([one.id, two.id].sort());
    expect(started.columns).toEqual(['phone_number', 'first_name', 'email']);

    const seen: ContactImport[] = [];
    const done = await client.contacts.imports.waitFor(started.id, { intervalMs: 50, timeoutMs: 30_000, onProgress: (i) => seen.push(i) });
    expect(done).toMatchObject({ status: 'completed', total_rows: 7, processed_rows: 7, created: 3, updated: 0, skipped: 2, invalid: 2, error: null });
    expect(seen.at(-1)).toEqual(done);

    const firstPage = await client.contacts.imports.rows(done.id, { limit: 3 });
    expect(firstPage.data.map((r) => r.row)).toEqual([1, 2, 3]);
    expect(firstPage.meta.pagination).toMatchObject({ total: 7, total_pages: 3, per_page: 3 });

    const rows = [];
    for await (const row of client.contacts.imports.iterateRows(done.id, { limit: 2 })) rows.push(row);
    expect(rows.map((r) => [r.row, r.outcome])).toEqual([
      [1, 'created'],
      [2, 'created'],
      [3, 'skipped_duplicate'],
      [4, 'skipped_duplicate'],
      [5, 'invalid'],
      [6, 'invalid'],
      [7, 'created'],
    ]);
    expect(rows[0]!.contact_id).toMatch(REQUEST_ID);
    expect(rows[2]).toMatchObject({ phone_number: existing.phone_number, contact_id: existing.id, message: 'The contact already exists.' });

    const invalid = await client.contacts.imports.rows(done.id, { filter: { outcome: 'invalid' } });
    expect(invalid.data.map((r) => r.row)).toEqual([5, 6]);
    expect(invalid.data[0]!.message).toMatch(/^phone_number: /);
    expect(invalid.data[1]!.message).toMatch(/^email: /);

    const inOne = (await client.groups.contacts(one.id, { sort: 'phone_number' })).data.map((x) => x.phone_number);
    const inTwo = (await client.groups.contacts(two.id, { sort: 'phone_number' })).data.map((x) => x.phone_number);
    expect(inOne).toEqual([a, b, rows[6]!.phone_number].sort());
    expect(inTwo).toEqual(inOne);
    const ada = await client.contacts.list({ filter: { phone_number: a } });
    expect(ada.data[0]).toMatchObject({ first_name: 'Ada', email: 'ada@example.test' });
    const lovelace = await client.contacts.list({ filter: { phone_number: b } });
    expect(lovelace.data[0]!.first_name).toBe('Lovelace, Jr.');

    const listed = await client.contacts.imports.list({ filter: { status: 'completed' } });
    expect(listed.data[0]!.id).toBe(done.id);
    expect(await client.contacts.imports.retrieve(done.id)).toEqual(done);
  });

  it('streams JSON lines from a Node.js Readable with upload progress, and updates existing contacts', async () => {
    const existing = await client.contacts.create({ phone_number: phone(), first_name: 'Old' });
    const fresh = phone();
    const lines = [{ phone_number: existing.phone_number, first_name: 'New', reward_points: 5 }, { phone_number: fresh, last_name: 'Streamed' }].map((o) => `${JSON.stringify(o)}\n`);
    const progress: number[] = [];
    const started = await client.contacts.imports.create(Readable.from(lines.map((l) => Buffer.from(l))), {
      format: 'ndjson',
      update_existing: true,
      onUploadProgress: ({ sentBytes }) => progress.push(sentBytes),
    });
    expect(started).toMatchObject({ format: 'ndjson', update_existing: true, total_rows: 2 });
    expect(progress.at(-1)).toBe(Buffer.byteLength(lines.join('')));
    const done = await client.contacts.imports.waitFor(started.id, { intervalMs: 50 });
    expect(done).toMatchObject({ status: 'completed', created: 1, updated: 1, skipped: 0, invalid: 0 });
    expect(await client.contacts.retrieve(existing.id)).toMatchObject({ first_name: 'New', reward_points: 5 });
    expect((await client.contacts.list({ filter: { phone_number: fresh } })).data[0]!.last_name).toBe('Streamed');
  });

  it('accepts bytes, a Blob and a web ReadableStream; progress reports the total when it is known', async () => {
    const bytes = new TextEncoder().encode(`phone_number\n${phone()}\n`);
    const totals: Array<number | undefined> = [];
    const fromBytes = await client.contacts.imports.create(bytes, { onUploadProgress: (p) => totals.push(p.totalBytes) });
    expect(fromBytes.total_rows).toBe(1);
    expect(totals.at(-1)).toBe(bytes.byteLength);
    const fromBlob = await client.contacts.imports.create(new Blob([`phone_number\n${phone()}\n${phone()}\n`]));
    expect(fromBlob.total_rows).toBe(2);
    const fromStream = await client.contacts.imports.create(new Blob([`phone_number\n${phone()}\n`]).stream());
    expect(fromStream.total_rows).toBe(1);
    for (const started of [fromBytes, fromBlob, fromStream]) {
      expect((await client.contacts.imports.waitFor(started.id, { intervalMs: 50 })).created).toBe(started.total_rows);
    }
  });

  it('validate_only reports what would happen and writes nothing', async () => {
    const existing = await client.contacts.create({ phone_number: phone() });
    const [a, b] = [phone(), phone()];
    const started = await client.contacts.imports.create(`phone_number\n${a}\n${existing.phone_number}\n12\n${b}\n`, { validate_only: true });
    expect(started.validate_only).toBe(true);
    const done = await client.contacts.imports.waitFor(started.id, { intervalMs: 50 });
    expect(done).toMatchObject({ status: 'completed', created: 2, skipped: 1, invalid: 1 });
    const rows = await client.contacts.imports.rows(done.id);
    expect(rows.data.map((r) => r.outcome)).toEqual(['created', 'skipped_duplicate', 'invalid', 'created']);
    expect(rows.data[0]!.contact_id).toBeNull();
    for (const number of [a, b]) expect((await client.contacts.list({ filter: { phone_number: number } })).data).toEqual([]);
  });

  it('raises typed errors with the server message, field errors and request id', async () => {
    const tooLarge = `phone_number,first_name\n${Array.from({ length: 3 }, () => `+12025550123,${'x'.repeat(30_000)}`).join('\n')}\n`;
    expect(tooLarge.length).toBeGreaterThan(65536);
    const large = (await client.contacts.imports.create(tooLarge).catch((e: unknown) => e)) as PayloadTooLargeError;
    expect(large).toBeInstanceOf(PayloadTooLargeError);
    expect(large).toMatchObject({ status: 413, message: 'The file is too large.', errors: { file: ['An import may be at most 65536 bytes.'] } });
    expect(large.requestId).toMatch(REQUEST_ID);
    // A stream far beyond the limit: the server answers 413 part-way through, the SDK raises it.
    async function* chunks() {
      yield 'phone_number,first_name\n';
      for (let i = 0; i < 64; i += 1) yield `+12025550123,${'y'.repeat(32_000)}\n`;
    }
    const streamed = (await client.contacts.imports.create(Readable.from(chunks())).catch((e: unknown) => e)) as PayloadTooLargeError;
    expect(streamed).toBeInstanceOf(PayloadTooLargeError);
    expect(streamed.errors).toEqual({ file: ['An import may be at most 65536 bytes.'] });

    const manyRows = await client.contacts.imports.create(`phone_number\n${Array.from({ length: 501 }, () => '1').join('\n')}\n`).catch((e: unknown) => e);
    expect(manyRows).toBeInstanceOf(UnprocessableEntityError);
    expect((manyRows as UnprocessableEntityError).errors).toEqual({ file: ['An import may have at most 500 rows.'] });

    const column = (await client.contacts.imports.create('phone_number,shoe_size\n+12025550123,9\n').catch((e: unknown) => e)) as BadRequestError;
    expect(column).toBeInstanceOf(BadRequestError);
    expect(column.message).toBe('The CSV header row is not understood.');
    expect(Object.keys(column.errors)).toEqual(['header.2']);

    const notUtf8 = await client.contacts.imports.create(new Uint8Array([0x70, 0x68, 0x6f, 0x6e, 0x65, 0x0a, 0xff, 0xfe, 0x0a])).catch((e: unknown) => e);
    expect(notUtf8).toBeInstanceOf(BadRequestError);
    expect((notUtf8 as BadRequestError).message).toBe('The file is not valid UTF-8 text.');

    const group = await client.contacts.imports.create(`phone_number\n${phone()}\n`, { group_id: '00000000-0000-4000-8000-000000000000' }).catch((e: unknown) => e);
    expect(group).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys((group as UnprocessableEntityError).errors)).toEqual(['group_id']);

    // A content type the endpoint does not take (through the client's generic request).
    const mediaType = (await client
      .request({ method: 'POST', path: '/v1/contacts/import', upload: { contentType: 'text/plain', body: () => 'phone_number\n', replayable: true } })
      .catch((e: unknown) => e)) as UnsupportedMediaTypeError;
    expect(mediaType).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(mediaType.status).toBe(415);
    expect(mediaType.requestId).toMatch(REQUEST_ID);
    const latin1 = await client
      .request({ method: 'POST', path: '/v1/contacts/import', upload: { contentType: 'text/csv; charset=iso-8859-1', body: () => 'phone_number\n', replayable: true } })
      .catch((e: unknown) => e);
    expect(latin1).toBeInstanceOf(UnsupportedMediaTypeError);
    expect(() => client.contacts.imports.create('x', { format: 'tsv' as never })).toThrow(ShortcodeError);

    const unknown = '2b1c3a50-0000-4000-8000-000000000000';
    for (const call of [() => client.contacts.imports.retrieve(unknown), () => client.contacts.imports.rows(unknown), () => client.contacts.imports.waitFor(unknown)]) {
      const error = (await call().catch((e: unknown) => e)) as NotFoundError;
      expect(error).toBeInstanceOf(NotFoundError);
      expect(error).toMatchObject({ status: 404, message: 'Import not found.' });
      expect(error.requestId).toMatch(REQUEST_ID);
    }
    const { client: other } = await server.newAccount();
    const mine = await client.contacts.imports.create(`phone_number\n${phone()}\n`);
    await expect(other.contacts.imports.retrieve(mine.id)).rejects.toBeInstanceOf(NotFoundError);
    await expect(client.contacts.imports.rows(mine.id, { filter: { outcome: 'bogus' as never } })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('waitFor gives up after timeoutMs', async () => {
    await stopWorkers();
    try {
      const started = await client.contacts.imports.create(`phone_number\n${phone()}\n`);
      const error = (await client.contacts.imports.waitFor(started.id, { intervalMs: 20, timeoutMs: 100 }).catch((e: unknown) => e)) as ShortcodeError;
      expect(error).toBeInstanceOf(ShortcodeError);
      expect(error.message).toBe(`Import ${started.id} is still queued (0 of 1 rows processed) after 100 ms.`);
    } finally {
      stopWorkers = await startWorkers(server);
    }
  });
});
