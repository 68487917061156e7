import { sleep } from '../core.js';
import { ShortcodeError } from '../errors.js';
import type { ItemOf, ListParams, Operation, Page, RequestOptions, ResponseData } from '../types.js';
import { CollectionResource } from './base.js';

/** A contact import: its status, options and counts (`/v1/contacts/imports/{id}`). */
export type ContactImport = ResponseData<'/v1/contacts/imports/{id}', 'get'>;
/** The outcome of one row of an import (`/v1/contacts/imports/{id}/rows`). */
export type ContactImportRow = ItemOf<'/v1/contacts/imports/{id}/rows'>;
/** `receiving` (upload in progress), `queued`, `processing`, `completed` or `failed`. */
export type ContactImportStatus = ContactImport['status'];
/** `created`, `updated`, `skipped_duplicate` or `invalid`. */
export type ContactImportOutcome = NonNullable<ContactImportRow['outcome']>;

type ImportQuery = Operation<'/v1/contacts/import', 'post'> extends { parameters: { query?: infer Q } } ? NonNullable<Q> : never;

/**
 * What {@link ContactImports.create} uploads: the file's text, its bytes (`Uint8Array`, Node.js
 * `Buffer`, `ArrayBuffer`), a `Blob` (in Node.js, `await fs.openAsBlob(path)` reads a file from
 * disk as it is sent), a web `ReadableStream`, or any async iterable of chunks (a Node.js
 * `Readable` such as `fs.createReadStream(path)` or `process.stdin`).
 *
 * Strings, bytes and Blobs are retried like any request after a 429 or 503. A stream or an
 * iterable is read once, as it is sent, so it is never retried; memory stays flat whatever its size.
 */
export type ContactImportSource = string | Uint8Array | ArrayBuffer | Blob | ReadableStream<Uint8Array> | AsyncIterable<Uint8Array | string>;

/** Options of {@link ContactImports.create}: the API's query parameters, the file's format and upload progress. */
export interface ContactImportCreateParams extends ImportQuery {
  /**
   * `csv` (default: a header row naming the columns, then one contact per row) or `ndjson`
   * (one JSON contact object per line, as in `contacts.create`).
   */
  format?: 'csv' | 'ndjson';
  /** Check and report every row without writing any contact (default false). */
  validate_only?: boolean;
  /** Update contacts that already exist (non-empty cells only) instead of skipping them (default false). */
  update_existing?: boolean;
  /** Add every created or updated contact to this group, or these groups (at most 20). */
  group_id?: string | string[];
  /** Called as the upload is read: bytes handed to the connection so far, and the total when known. */
  onUploadProgress?: (progress: { sentBytes: number; totalBytes: number | undefined }) => void;
}

/** The query of {@link ContactImports.list}. */
export interface ContactImportListParams extends Omit<ListParams, 'filter'> {
  /** `status`: `receiving`, `queued`, `processing`, `completed` or `failed`. */
  filter?: { status?: ContactImportStatus };
}

/** The query of {@link ContactImports.rows}: rows in file order (`sort: '-row'` for the reverse). */
export interface ContactImportRowListParams extends Omit<ListParams, 'filter'> {
  /** `outcome`: `created`, `updated`, `skipped_duplicate` or `invalid`. */
  filter?: { outcome?: ContactImportOutcome };
}

/** Options of {@link ContactImports.waitFor}. */
export interface WaitForImportOptions extends RequestOptions {
  /** Milliseconds between two looks at the import. Default 1 000. */
  intervalMs?: number;
  /** Give up (a {@link ShortcodeError}) when the import has not finished after this many milliseconds. Default: wait as long as it takes. */
  timeoutMs?: number;
  /** Called with the import at every look, its counts growing as its rows are processed. */
  onProgress?: (contactImport: ContactImport) => void;
}

/** The default deadline of an upload: an hour (the client's `timeoutMs` when longer). */
const UPLOAD_TIMEOUT_MS = 3_600_000;
const FINISHED: ReadonlySet<string> = new Set(['completed', 'failed']);
const CONTENT_TYPES = { csv: 'text/csv; charset=utf-8', ndjson: 'application/x-ndjson; charset=utf-8' } as const;

/**
 * Bulk contact imports (`/v1/contacts/import`, `/v1/contacts/imports`): one upload of a CSV or
 * JSON-lines file of up to a million rows, processed in the background, with a result per row.
 *
 * @example
 * const started = await client.contacts.imports.create(await fs.openAsBlob('contacts.csv'), { group_id: groupId });
 * const done = await client.contacts.imports.waitFor(started.id, { onProgress: (i) => console.log(i.processed_rows, '/', i.total_rows) });
 * for await (const row of client.contacts.imports.iterateRows(done.id, { filter: { outcome: 'invalid' } })) console.log(row.row, row.message);
 */
export class ContactImports extends CollectionResource<ContactImport> {
  protected readonly collectionPath = '/v1/contacts/imports';

  /**
   * Uploads a file of contacts. The server checks the file as a whole while it arrives (UTF-8,
   * CSV quoting, known columns, row count) and answers with the import, `queued`; its rows are
   * then processed in the background: follow it with {@link waitFor} or {@link retrieve}.
   *
   * @param source - the file: text, bytes, a Blob, a web ReadableStream or a Node.js Readable (see {@link ContactImportSource}).
   * @param params - `format` (`csv` default, or `ndjson`), `validate_only`, `update_existing`,
   *   `group_id` (one or more group ids), and `onUploadProgress`.
   * @param options - per-request options; `timeoutMs` defaults to an hour here (the server answers
   *   only once the whole file is received).
   * @returns the import (`status: 'queued'`, `total_rows` counted).
   * @throws {BadRequestError} when the file is not UTF-8, its CSV quoting is broken, a line is too long or a column is unknown (`errors` names the line or column).
   * @throws {UnprocessableEntityError} when the file has no rows or too many, or a `group_id` is not one of the account's groups.
   * @throws {APIError} with status 413 when the file is larger than the server accepts, 415 for a charset other than UTF-8.
   */
  create(source: ContactImportSource, params: ContactImportCreateParams = {}, options?: RequestOptions): Promise<ContactImport> {
    const { format = 'csv', onUploadProgress, ...query } = params;
    if (format !== 'csv' && format !== 'ndjson') throw new ShortcodeError(`Unknown import format "${String(format)}": use csv or ndjson.`);
    // The server answers once it has received (and staged) the whole file: give a large upload time.
    const timeoutMs = options?.timeoutMs ?? Math.max(this.client.timeoutMs, UPLOAD_TIMEOUT_MS);
    return this.data(
      {
        method: 'POST',
        path: '/v1/contacts/import',
        query,
        repeatQueryKeys: ['group_id'],
        upload: { contentType: CONTENT_TYPES[format], ...uploadBody(source, onUploadProgress) },
      },
      { ...options, timeoutMs },
    );
  }

  /**
   * Retrieves an import: `status`, `total_rows`, `processed_rows` and the counts `created`,
   * `updated`, `skipped` and `invalid` (and `error` when it failed).
   * @throws {NotFoundError} when there is no such import in this account.
   */
  retrieve(id: string, options?: RequestOptions): Promise<ContactImport> {
    return this.data({ method: 'GET', path: '/v1/contacts/imports/{id}', params: { id } }, options);
  }

  /**
   * Lists one page of the account's imports, newest first.
   * @param params - `limit`, `page`, `filter: { status }`, `sort` (`created_at`, `updated_at`).
   */
  override list(params?: ContactImportListParams, options?: RequestOptions): Promise<Page<ContactImport>> {
    return super.list(params as ListParams | undefined, options);
  }

  /** Every import of the account, page after page, newest first. */
  override iterate(params?: ContactImportListParams, options?: RequestOptions): AsyncGenerator<ContactImport, void, undefined> {
    return super.iterate(params as ListParams | undefined, options);
  }

  /**
   * One page of the per-row results of an import, in file order: `row` (from 1, the CSV header
   * not counted), `phone_number`, `outcome` (`null` until processed), `contact_id`, `message`.
   * @param params - `limit` (at most 100), `page`, `filter: { outcome: 'invalid' }`, `sort` (`row` or `-row`).
   * @throws {NotFoundError} when there is no such import in this account.
   */
  rows(id: string, params?: ContactImportRowListParams, options?: RequestOptions): Promise<Page<ContactImportRow>> {
    return this.page<ContactImportRow>('/v1/contacts/imports/{id}/rows', { id }, params as ListParams | undefined, options);
  }

  /**
   * Every per-row result of an import (or those matching `filter`), fetching page after page as
   * the loop consumes them, so a million-row report is never held in memory.
   *
   * @example
   * for await (const row of client.contacts.imports.iterateRows(id, { filter: { outcome: 'invalid' } })) console.log(row.row, row.message);
   */
  iterateRows(id: string, params?: ContactImportRowListParams, options?: RequestOptions): AsyncGenerator<ContactImportRow, void, undefined> {
    return this.walk<ContactImportRow>('/v1/contacts/imports/{id}/rows', { id }, params as ListParams | undefined, options);
  }

  /**
   * Waits until an import has finished (`completed` or `failed`), looking at it every
   * `intervalMs`, and resolves to it. A `failed` import resolves too: check `status` and `error`.
   *
   * @param options - `intervalMs` (default 1 000), `timeoutMs`, `onProgress(import)`, `signal`.
   * @throws {ShortcodeError} when `timeoutMs` passes first; {@link APIConnectionError} when `signal` aborts.
   * @throws {NotFoundError} when there is no such import in this account.
   */
  async waitFor(id: string, options: WaitForImportOptions = {}): Promise<ContactImport> {
    const { intervalMs = 1000, timeoutMs, onProgress, ...requestOptions } = options;
    const deadline = timeoutMs === undefined ? Infinity : Date.now() + timeoutMs;
    for (;;) {
      const current = await this.retrieve(id, requestOptions);
      onProgress?.(current);
      if (FINISHED.has(current.status)) return current;
      if (Date.now() + intervalMs > deadline) {
        throw new ShortcodeError(`Import ${id} is still ${current.status} (${current.processed_rows} of ${current.total_rows} rows processed) after ${timeoutMs} ms.`);
      }
      await sleep(intervalMs, requestOptions.signal);
    }
  }
}

type Body = NonNullable<RequestInit['body']>;
type ProgressCallback = ContactImportCreateParams['onUploadProgress'];

/** The request body of an upload, produced afresh for every attempt, counting bytes when asked. */
function uploadBody(source: ContactImportSource, onProgress: ProgressCallback): { body: () => Body; replayable: boolean } {
  const isBlob = typeof Blob !== 'undefined' && source instanceof Blob;
  if (typeof source === 'string' || source instanceof Uint8Array || source instanceof ArrayBuffer || isBlob) {
    if (!onProgress) return { body: () => source as Body, replayable: true };
    const blob = isBlob ? (source as Blob) : new Blob([source as string | Uint8Array | ArrayBuffer]);
    return { body: () => counting(blob.stream() as ReadableStream<Uint8Array>, blob.size, onProgress), replayable: true };
  }
  if (typeof ReadableStream !== 'undefined' && source instanceof ReadableStream) {
    const stream = source as ReadableStream<Uint8Array>;
    return { body: () => (onProgress ? counting(stream, undefined, onProgress) : stream), replayable: false };
  }
  if (source !== null && typeof source === 'object' && Symbol.asyncIterator in source) {
    return { body: () => counting(streamOf(source), undefined, onProgress), replayable: false };
  }
  throw new ShortcodeError('Give the file as a string, a Uint8Array or Buffer, a Blob, a ReadableStream or a Node.js Readable.');
}

/** A web stream of the chunks of an async iterable (a Node.js Readable), read as the upload needs them. */
function streamOf(iterable: AsyncIterable<Uint8Array | string>): ReadableStream<Uint8Array> {
  const iterator = iterable[Symbol.asyncIterator]();
  const encoder = new TextEncoder();
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      const { value, done } = await iterator.next();
      if (done) controller.close();
      else controller.enqueue(typeof value === 'string' ? encoder.encode(value) : value);
    },
    async cancel(reason) {
      await iterator.return?.(reason);
    },
  });
}

function counting(stream: ReadableStream<Uint8Array>, total: number | undefined, onProgress: ProgressCallback): ReadableStream<Uint8Array> {
  if (!onProgress) return stream;
  let sent = 0;
  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        sent += chunk.byteLength;
        controller.enqueue(chunk);
        onProgress({ sentBytes: sent, totalBytes: total });
      },
    }),
  );
}
