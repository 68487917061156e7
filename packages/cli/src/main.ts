/**
 * `shortcode`: the command-line client of the Shortcode API, built on @shortcode/sdk.
 * Tables on a terminal, JSON with --json; a non-zero exit status with the server's message,
 * field errors and request id on every error.
 */
import { openAsBlob } from 'node:fs';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import {
  APIConnectionError,
  APIError,
  DEFAULT_BASE_URL,
  Shortcode,
  ShortcodeError,
  verifyWebhook,
  WebhookVerificationError,
  type ContactImport,
  type ContactImportRow,
  type ContactImportSource,
  type ListParams,
  type Page,
} from '@shortcode/sdk';
import { configPath, readLogin, removeLogin, writeLogin } from './config.js';
import { csvRecords } from './csv.js';
import { bytes, keyValues, print, printJson, Progress, table, type Output } from './output.js';
import { findResource, RESOURCES, type ResourceSpec, type Row } from './resources.js';

/** A mistake in the command line: exit status 2 and a pointer to the help. */
class UsageError extends Error {}

type Values = Record<string, string | boolean | string[] | boolean[] | undefined>;
type Options = NonNullable<ParseArgsConfig['options']>;

const GLOBAL_OPTIONS: Options = {
  json: { type: 'boolean' },
  'base-url': { type: 'string' },
  token: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};

const LIST_OPTIONS: Options = {
  limit: { type: 'string' },
  page: { type: 'string' },
  all: { type: 'boolean' },
  filter: { type: 'string', multiple: true },
  sort: { type: 'string' },
  include: { type: 'string' },
};

const BODY_OPTIONS: Options = {
  data: { type: 'string' },
  set: { type: 'string', multiple: true },
};

const IMPORT_HELP = `  contacts import FILE [--group ID]... [--validate-only] [--update-existing] [--format csv|ndjson]
                 [--no-wait] [--interval SECONDS] [--timeout SECONDS] [--show N]
                                         one upload (CSV with a header row, or JSON lines; - for stdin),
                                         then progress until processed; the first N (10) invalid rows are
                                         printed; exit 1 when a row is invalid or the import failed
  imports list | get ID                  the account's imports and their counts
  imports rows ID [--outcome created|updated|skipped_duplicate|invalid] [list options]   per-row results
  imports follow ID [--interval SECONDS] [--timeout SECONDS]   progress of an import until processed
`;

const HELP = `shortcode: the Shortcode API from the terminal

Usage: shortcode <command> [options]

Log in
  login --token TOKEN [--base-url URL]   store the token in ${'$'}XDG_CONFIG_HOME/shortcode/config.json (0600)
  logout                                 forget the stored token
  whoami                                 where requests go, and which token is used

Resources (list, get, create, update, delete where the API has them)
${RESOURCES.map((r) => `  ${r.name.padEnd(19)}${r.operations.join(', ')}`).join('\n')}
    list   [--limit N] [--page N] [--all] [--filter field=value]... [--sort -created_at] [--include a,b]
    get    ID [--include a,b]
    create [--data JSON|@file.json] [--set field=value]... [resource flags, see shortcode <resource> --help]
    update ID [--data JSON|@file.json] [--set field=value]...
    delete ID

Jobs
${IMPORT_HELP}  contacts unsubscribe NUMBER...         unsubscribe up to 100 numbers
  contacts add-group ID GROUP_ID | remove-group ID GROUP_ID
  groups contacts ID [list options]      the contacts of a group
  message send --to NUMBER --message TEXT [--media-url URL]
  message batch FILE.csv [--chunk-size N]   personalised batch (columns phone_number, message; others become metadata)
  message preview --message TEXT         encoding, segments and credits
  schedule create --to NUMBER --message TEXT --at ISO-DATE
  campaigns create --name N --message TEXT [--group ID]... [--send-at ISO] [--draft] [--follow]
  campaigns follow ID [--interval SECONDS] [--timeout SECONDS]   live progress until sent
  campaigns preview ID                   dry run: audience, credits, rendered text
  messages mark-read ID [--unread]
  inbox tail [--interval SECONDS] [--mark-read] [--once] [--count N]   print incoming messages as they arrive
  lookup NUMBER...                       carrier, validity and type of up to 10 numbers
  webhooks rotate-secret ID | deliveries ID | redeliver ID DELIVERY_ID
  webhook verify --payload FILE --secret whsec_... (--header "name: value"... | --headers FILE.json) [--tolerance SECONDS]
  api METHOD PATH [--data JSON]          any API request (PATH like /v1/contacts?limit=5)

Global options
  --json            print JSON (the API's objects) instead of tables
  --base-url URL    the server (default: stored login, ${'$'}SHORTCODE_BASE_URL, or ${DEFAULT_BASE_URL})
  --token TOKEN     the access token (default: ${'$'}SHORTCODE_TOKEN, or the stored login)
  -h, --help        this help

Exit status: 0 success, 1 an error (the server's message, field errors and request id are printed), 2 a usage error.
`;

interface Context {
  output: Output;
  env: NodeJS.ProcessEnv;
  values: Values;
  positionals: string[];
  client(): Promise<Shortcode>;
}

function parse(args: string[], options: Options, allowPositionals = true): { values: Values; positionals: string[] } {
  try {
    const { values, positionals } = parseArgs({ args, options: { ...GLOBAL_OPTIONS, ...options }, allowPositionals, strict: true });
    return { values: values as Values, positionals };
  } catch (error) {
    throw new UsageError((error as Error).message.replace(/^TypeError \[[A-Z_]+\]: /, ''));
  }
}

function str(values: Values, name: string): string | undefined {
  const value = values[name];
  return typeof value === 'string' ? value : undefined;
}

function list(values: Values, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value.map(String) : typeof value === 'string' ? [value] : [];
}

function int(values: Values, name: string, min = 1): number | undefined {
  const raw = str(values, name);
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be an integer of at least ${min}, got "${raw}".`);
  return n;
}

function seconds(values: Values, name: string, fallback: number): number {
  const raw = str(values, name);
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0) throw new UsageError(`--${name} must be a number of seconds, got "${raw}".`);
  return n;
}

function required(positionals: string[], index: number, what: string): string {
  const value = positionals[index];
  if (!value) throw new UsageError(`Missing ${what}.`);
  return value;
}

function keyValue(pair: string, flag: string): [string, string] {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UsageError(`--${flag} takes field=value, got "${pair}".`);
  return [pair.slice(0, at), pair.slice(at + 1)];
}

/** A `--set` value: JSON when it parses (numbers, booleans, null, arrays), else the text. */
function looseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

async function readData(raw: string): Promise<Record<string, unknown>> {
  const text = raw.startsWith('@') ? await readFile(raw.slice(1), 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${raw.slice(1)}.`);
  }) : raw;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new UsageError('--data must be a JSON object (or @file.json).');
  }
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new UsageError('--data must be a JSON object.');
  return parsed as Record<string, unknown>;
}

/** A request body from --data, --set and the resource's own flags (in that order of precedence, last wins). */
async function body(values: Values, spec: ResourceSpec | undefined): Promise<Record<string, unknown>> {
  const out: Record<string, unknown> = str(values, 'data') ? await readData(str(values, 'data')!) : {};
  for (const pair of list(values, 'set')) {
    const [key, value] = keyValue(pair, 'set');
    out[key] = looseJson(value);
  }
  for (const [flag, def] of Object.entries(spec?.flags ?? {})) {
    const value = values[flag];
    if (value === undefined) continue;
    if (def.kind === 'list') out[def.field] = list(values, flag);
    else if (def.kind === 'number') {
      const n = Number(value);
      if (!Number.isFinite(n)) throw new UsageError(`--${flag} must be a number.`);
      out[def.field] = n;
    } else out[def.field] = value;
  }
  return out;
}

function flagOptions(spec: ResourceSpec | undefined): Options {
  const options: Options = {};
  for (const [flag, def] of Object.entries(spec?.flags ?? {})) {
    options[flag] = def.kind === 'boolean' ? { type: 'boolean' } : { type: 'string', multiple: def.kind === 'list' };
  }
  return options;
}

function listParams(values: Values): ListParams {
  const filter: Record<string, string> = {};
  for (const pair of list(values, 'filter')) {
    const [key, value] = keyValue(pair, 'filter');
    filter[key] = value;
  }
  return {
    limit: int(values, 'limit'),
    page: int(values, 'page'),
    filter: Object.keys(filter).length ? filter : undefined,
    sort: str(values, 'sort'),
    include: str(values, 'include'),
  };
}

function pageFooter(page: Page<Row>): string {
  const p = page.meta.pagination;
  return `page ${p.current_page} of ${p.total_pages}, ${p.count} of ${p.total}${p.links.next ? ' (--page or --all for more)' : ''}`;
}

async function printList(ctx: Context, rows: AsyncGenerator<Row> | Page<Row>, columns: readonly string[]): Promise<void> {
  if (Symbol.asyncIterator in rows) {
    const all: Row[] = [];
    for await (const row of rows) all.push(row);
    print(ctx.output, all, () => (all.length ? `${table(all, columns)}\n${all.length} in all` : 'Nothing found.'));
    return;
  }
  const page = rows;
  print(ctx.output, page, () => (page.data.length ? `${table(page.data, columns)}\n${pageFooter(page)}` : `Nothing found. ${pageFooter(page)}`));
}

function printOne(ctx: Context, row: unknown): void {
  print(ctx.output, row, () => keyValues((row ?? {}) as Row));
}

function resourceHelp(spec: ResourceSpec): string {
  const flags = Object.entries(spec.flags ?? {}).map(([flag, def]) => `  --${flag.padEnd(16)}${def.description}${def.kind === 'boolean' ? '' : ''}`);
  return [
    `shortcode ${spec.name} ${spec.operations.join('|')}`,
    '',
    ...spec.operations.map((op) => `  ${spec.name} ${op}${op === 'list' ? ' [--limit N] [--page N] [--all] [--filter field=value]... [--sort S] [--include a,b]' : op === 'get' || op === 'delete' ? ' ID' : op === 'update' ? ' ID [--data JSON] [--set field=value]...' : ' [--data JSON] [--set field=value]...'}`),
    ...(flags.length ? ['', 'Fields:', ...flags] : []),
  ].join('\n');
}

/** `shortcode <resource> <operation>` for every resource of the table. */
async function resourceCommand(ctx: Context, spec: ResourceSpec, operation: string | undefined, args: string[]): Promise<void> {
  if (!operation || operation === 'help') {
    ctx.output.out.write(`${resourceHelp(spec)}\n`);
    return;
  }
  if (!spec.operations.includes(operation as never)) {
    throw new UsageError(`"${spec.name} ${operation}" is not a command. ${spec.name} supports: ${spec.operations.join(', ')}.`);
  }
  const options: Options =
    operation === 'list' ? LIST_OPTIONS : operation === 'get' ? { include: { type: 'string' } } : operation === 'create' || operation === 'update' ? { ...BODY_OPTIONS, ...flagOptions(spec), ...(spec.includes ? { include: { type: 'string' } } : {}) } : {};
  const { values, positionals } = parse(args, options);
  if (values.help) {
    ctx.output.out.write(`${resourceHelp(spec)}\n`);
    return;
  }
  const resource = spec.of(await ctx.client());
  switch (operation) {
    case 'list': {
      const params = listParams(values);
      await printList(ctx, values.all ? resource.iterate(params) : await resource.list(params), spec.columns);
      return;
    }
    case 'get': {
      const id = required(positionals, 0, `${spec.noun} id`);
      printOne(ctx, spec.includes ? await resource.retrieve(id, { include: str(values, 'include') }) : await resource.retrieve(id));
      return;
    }
    case 'create': {
      const payload = await body(values, spec);
      if (Object.keys(payload).length === 0) throw new UsageError(`Nothing to create: give --data or fields (shortcode ${spec.name} --help).`);
      printOne(ctx, await resource.create(payload));
      return;
    }
    case 'update': {
      const id = required(positionals, 0, `${spec.noun} id`);
      const payload = await body(values, spec);
      if (Object.keys(payload).length === 0) throw new UsageError('Nothing to update: give --data, --set or fields.');
      printOne(ctx, await resource.update(id, payload));
      return;
    }
    case 'delete': {
      const id = required(positionals, 0, `${spec.noun} id`);
      await resource.delete(id);
      print(ctx.output, { deleted: id }, () => `Deleted ${spec.noun} ${id}.`);
      return;
    }
  }
}

const PHONE_ALIASES = ['phone_number', 'phone', 'mobile', 'number'];
const IMPORT_OUTCOMES = ['created', 'updated', 'skipped_duplicate', 'invalid'] as const;
const IMPORT_ROW_COLUMNS = ['row', 'phone_number', 'outcome', 'contact_id', 'message'] as const;

const IMPORT_FOLLOW_OPTIONS: Options = { interval: { type: 'string' }, timeout: { type: 'string' }, show: { type: 'string' } };

/**
 * `contacts import FILE`: one upload to POST /v1/contacts/import (the file is streamed from
 * disk, never read into memory), then the import's progress until the server has processed it.
 */
async function importContacts(ctx: Context, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, {
    ...IMPORT_FOLLOW_OPTIONS,
    group: { type: 'string', multiple: true },
    format: { type: 'string' },
    'validate-only': { type: 'boolean' },
    'update-existing': { type: 'boolean' },
    'no-wait': { type: 'boolean' },
  });
  if (values.help) {
    ctx.output.out.write(IMPORT_HELP);
    return;
  }
  const file = required(positionals, 0, 'file to import (CSV, or JSON lines; - for standard input)');
  const format = str(values, 'format') ?? (/\.(ndjson|jsonl)$/i.test(file) ? 'ndjson' : 'csv');
  if (format !== 'csv' && format !== 'ndjson') throw new UsageError(`--format is csv or ndjson, got "${format}".`);
  const show = int(values, 'show', 0) ?? 10;
  const interval = seconds(values, 'interval', 1);
  const timeout = seconds(values, 'timeout', 0);
  let source: ContactImportSource;
  let size: number | undefined;
  if (file === '-') source = process.stdin;
  else {
    const info = await stat(file).catch(() => undefined);
    if (!info?.isFile()) throw new UsageError(`Cannot read ${file}.`);
    source = await openAsBlob(file);
    size = info.size;
  }
  const client = await ctx.client();
  const upload = size === undefined ? undefined : new Progress(ctx.output, `Uploading ${file === '-' ? 'standard input' : path.basename(file)}`, size, bytes);
  upload?.update(0);
  const started = await client.contacts.imports.create(source, {
    format,
    validate_only: values['validate-only'] === true,
    update_existing: values['update-existing'] === true,
    ...(list(values, 'group').length ? { group_id: list(values, 'group') } : {}),
    ...(upload ? { onUploadProgress: ({ sentBytes }: { sentBytes: number }) => upload.update(sentBytes) } : {}),
  });
  if (upload) upload.finish(`Uploaded ${bytes(size!)}`);
  ctx.output.err.write(`Import ${started.id}: ${rowCount(started.total_rows)} received${started.validate_only ? ' (validate only: nothing will be written)' : ''}\n`);
  if (values['no-wait']) {
    printOne(ctx, started);
    return;
  }
  await followImport(ctx, client, started, { interval, timeout, show });
}

/** Follows an import with a progress bar until it has finished; prints its counts and its first invalid rows. */
async function followImport(ctx: Context, client: Shortcode, started: ContactImport, options: { interval: number; timeout: number; show: number }): Promise<void> {
  const id = started.id;
  const progress = new Progress(ctx.output, started.validate_only ? 'Validating contacts' : 'Importing contacts', started.total_rows);
  const report = (i: ContactImport) => progress.update(i.processed_rows, `created ${i.created}, updated ${i.updated}, skipped ${i.skipped}, invalid ${i.invalid}`, i.total_rows);
  const onInterrupt = () => {
    ctx.output.err.write(`\nStopped following import ${id}; it goes on on the server: shortcode imports follow ${id}\n`);
    process.exit(130);
  };
  process.once('SIGINT', onInterrupt);
  let done: ContactImport;
  try {
    report(started);
    done = await client.contacts.imports.waitFor(id, { intervalMs: options.interval * 1000, ...(options.timeout > 0 ? { timeoutMs: options.timeout * 1000 } : {}), onProgress: report });
  } catch (error) {
    // waitFor's --timeout: neither an answer of the server nor a connection error.
    if (error instanceof ShortcodeError && !(error instanceof APIError) && !(error instanceof APIConnectionError)) {
      progress.finish(`Stopped following import ${id}`);
      throw new ShortcodeError(`The import is not finished after ${options.timeout}s (--timeout); it goes on on the server: shortcode imports follow ${id}`);
    }
    throw error;
  } finally {
    process.removeListener('SIGINT', onInterrupt);
  }
  progress.finish(`Import ${done.status}`);
  const invalidRows = done.invalid > 0 && options.show > 0 ? (await client.contacts.imports.rows(id, { filter: { outcome: 'invalid' }, limit: Math.min(options.show, 100) })).data : [];
  print(ctx.output, { import: done, invalid_rows: invalidRows }, () => importSummary(done, invalidRows));
  if (done.status === 'failed' || done.invalid > 0) throw new ReportedFailure();
}

const rowCount = (n: number) => `${n} ${n === 1 ? 'row' : 'rows'}`;

function importSummary(done: ContactImport, invalidRows: readonly ContactImportRow[]): string {
  const lines: string[] = [];
  const verb = done.validate_only ? 'Validated' : 'Imported';
  if (done.status === 'failed') lines.push(`Import ${done.id} failed after ${done.processed_rows} of ${done.total_rows} rows: ${done.error ?? 'no reason given'}`);
  else lines.push(`${verb} ${rowCount(done.total_rows)} (import ${done.id})${done.validate_only ? ', writing nothing' : ''}:`);
  const would = done.validate_only ? 'would be ' : '';
  lines.push(`  ${would}created ${done.created}, ${would}updated ${done.updated}, skipped ${done.skipped} (already contacts or repeated), invalid ${done.invalid}`);
  if (invalidRows.length > 0) {
    lines.push(`${done.invalid} invalid ${done.invalid === 1 ? 'row' : 'rows'}${invalidRows.length < done.invalid ? ` (the first ${invalidRows.length})` : ''}:`);
    for (const row of invalidRows) lines.push(`  row ${row.row}${row.phone_number ? ` (${row.phone_number})` : ''}: ${row.message ?? 'invalid'}`);
    if (invalidRows.length < done.invalid) lines.push(`All of them: shortcode imports rows ${done.id} --outcome invalid --all`);
  }
  return lines.join('\n');
}

/** `imports list|get|rows|follow`: the account's contact imports. */
async function importsCommand(ctx: Context, operation: string | undefined, args: string[]): Promise<void> {
  if (!operation || operation === 'help' || (operation === '--help' && args.length === 0)) {
    ctx.output.out.write(IMPORT_HELP);
    return;
  }
  if (operation === 'rows') {
    const { values, positionals } = parse(args, { ...LIST_OPTIONS, outcome: { type: 'string' } });
    const id = required(positionals, 0, 'import id');
    const params = listParams(values);
    const outcome = str(values, 'outcome');
    if (outcome !== undefined) {
      if (!(IMPORT_OUTCOMES as readonly string[]).includes(outcome)) throw new UsageError(`--outcome is one of ${IMPORT_OUTCOMES.join(', ')}, got "${outcome}".`);
      params.filter = { ...params.filter, outcome };
    }
    const imports = (await ctx.client()).contacts.imports;
    const rows = values.all ? imports.iterateRows(id, params as never) : await imports.rows(id, params as never);
    return printList(ctx, rows as unknown as AsyncGenerator<Row> | Page<Row>, IMPORT_ROW_COLUMNS);
  }
  if (operation === 'follow') {
    const { values, positionals } = parse(args, IMPORT_FOLLOW_OPTIONS);
    const client = await ctx.client();
    const started = await client.contacts.imports.retrieve(required(positionals, 0, 'import id'));
    return followImport(ctx, client, started, { interval: seconds(values, 'interval', 1), timeout: seconds(values, 'timeout', 0), show: int(values, 'show', 0) ?? 10 });
  }
  return resourceCommand(ctx, findResource('imports')!, operation, args);
}

/** A failure already reported in the command's output: exit 1 without printing more. */
class ReportedFailure extends Error {}

async function sendBatch(ctx: Context, args: string[]): Promise<void> {
  const { values, positionals } = parse(args, { 'chunk-size': { type: 'string' } });
  const file = required(positionals, 0, 'CSV file');
  const { header, records } = csvRecords(await readFile(file, 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${file}.`);
  }));
  const phoneColumn = PHONE_ALIASES.find((a) => header.includes(a));
  if (!phoneColumn || !header.includes('message')) throw new UsageError(`${file} needs a phone_number and a message column.`);
  const chunkSize = Math.min(int(values, 'chunk-size') ?? 1000, 1000);
  const messages = records.map(({ values: row }) => {
    const metadata: Record<string, string> = {};
    for (const [column, value] of Object.entries(row)) if (column !== phoneColumn && column !== 'message' && value !== '') metadata[column] = value;
    return { phone_number: row[phoneColumn], message: row.message, ...(Object.keys(metadata).length ? { metadata } : {}) };
  });
  const client = await ctx.client();
  const progress = new Progress(ctx.output, 'Sending', messages.length);
  progress.update(0);
  let accepted = 0;
  const sent: unknown[] = [];
  const rejected: Array<Record<string, unknown>> = [];
  for (let start = 0; start < messages.length; start += chunkSize) {
    const chunk = messages.slice(start, start + chunkSize);
    const result = (await client.message.batch({ messages: chunk } as never, { maxRetries: 8 })) as unknown as { data: unknown[]; meta: { accepted: number; rejected: Array<{ index: number } & Record<string, unknown>> } };
    accepted += result.meta.accepted;
    sent.push(...result.data);
    for (const r of result.meta.rejected) rejected.push({ ...r, index: start + r.index, line: records[start + r.index]?.row });
    progress.update(Math.min(start + chunk.length, messages.length), `accepted ${accepted}, rejected ${rejected.length}`);
  }
  progress.finish(`Sent ${accepted} of ${messages.length} messages`);
  print(ctx.output, { accepted, rejected, data: sent }, () =>
    rejected.length ? `${rejected.length} rejected:\n${rejected.map((r) => `  line ${String(r.line)} (${String(r.phone_number)}): ${String(r.description)}`).join('\n')}` : `All ${accepted} messages accepted.`,
  );
  if (rejected.length) throw new ReportedFailure();
}

const FINAL_CAMPAIGN_STATUSES = new Set(['sent', 'canceled']);

async function followCampaign(ctx: Context, client: Shortcode, id: string, intervalSeconds: number, timeoutSeconds: number): Promise<void> {
  const deadline = timeoutSeconds > 0 ? Date.now() + timeoutSeconds * 1000 : Infinity;
  const progress = new Progress(ctx.output, 'Campaign', 0);
  let campaign = (await client.campaigns.retrieve(id)) as unknown as Row & { status: string; stats: Record<string, number> };
  for (;;) {
    const s = campaign.stats ?? {};
    const recipients = Number(s.recipients ?? 0);
    const settled = Number(s.delivered ?? 0) + Number(s.failed ?? 0) + Number(s.canceled ?? 0);
    progress.update(Math.min(settled, recipients), `${campaign.status}: sent ${s.sent ?? 0}, delivered ${s.delivered ?? 0}, failed ${s.failed ?? 0}`, recipients);
    const done = FINAL_CAMPAIGN_STATUSES.has(campaign.status) && (campaign.status === 'canceled' || settled >= recipients);
    if (done) break;
    if (Date.now() >= deadline) {
      progress.finish(`Stopped following campaign ${id} (still ${campaign.status})`);
      throw new ShortcodeError(`The campaign is still ${campaign.status} after ${timeoutSeconds}s (--timeout).`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalSeconds * 1000));
    campaign = (await client.campaigns.retrieve(id)) as unknown as typeof campaign;
  }
  progress.finish(`Campaign ${campaign.status}`);
  print(ctx.output, campaign, () => keyValues({ id: campaign.id, name: campaign.name, status: campaign.status, ...campaign.stats }));
  if (campaign.status === 'canceled') throw new ReportedFailure();
}

async function campaignsCommand(ctx: Context, operation: string | undefined, args: string[]): Promise<void> {
  const spec = findResource('campaigns')!;
  if (operation === 'follow') {
    const { values, positionals } = parse(args, { interval: { type: 'string' }, timeout: { type: 'string' } });
    await followCampaign(ctx, await ctx.client(), required(positionals, 0, 'campaign id'), seconds(values, 'interval', 2), seconds(values, 'timeout', 0));
    return;
  }
  if (operation === 'preview') {
    const { positionals } = parse(args, {});
    printOne(ctx, await (await ctx.client()).campaigns.preview(required(positionals, 0, 'campaign id')));
    return;
  }
  if (operation === 'create') {
    const { values } = parse(args, { ...BODY_OPTIONS, ...flagOptions(spec), follow: { type: 'boolean' }, interval: { type: 'string' }, timeout: { type: 'string' } });
    if (values.help) return void ctx.output.out.write(`${resourceHelp(spec)}\n  --follow          follow the send with live progress\n`);
    const client = await ctx.client();
    const campaign = (await client.campaigns.create((await body(values, spec)) as never)) as unknown as Row;
    if (!values.follow) return printOne(ctx, campaign);
    ctx.output.err.write(`Created campaign ${String(campaign.id)} (${String(campaign.status)})\n`);
    await followCampaign(ctx, client, String(campaign.id), seconds(values, 'interval', 2), seconds(values, 'timeout', 0));
    return;
  }
  await resourceCommand(ctx, spec, operation, args);
}

async function inboxTail(ctx: Context, args: string[]): Promise<void> {
  const { values } = parse(args, { interval: { type: 'string' }, 'mark-read': { type: 'boolean' }, once: { type: 'boolean' }, count: { type: 'string' } });
  const client = await ctx.client();
  const interval = seconds(values, 'interval', 2);
  const count = int(values, 'count');
  const seen = new Set<string>();
  let printed = 0;
  if (!ctx.output.json) ctx.output.err.write(values.once ? 'Unread messages:\n' : 'Waiting for incoming messages (Ctrl-C to stop)...\n');
  for (;;) {
    for await (const message of client.messages.iterateUnread({ sort: 'created_at' })) {
      const m = message as unknown as Row;
      const id = String(m.id);
      if (seen.has(id)) continue;
      seen.add(id);
      if (ctx.output.json) ctx.output.out.write(`${JSON.stringify(m)}\n`);
      else ctx.output.out.write(`${String(m.created_at)}  ${String(m.phone_number)}  ${String(m.message).replace(/\s+/g, ' ')}\n`);
      if (values['mark-read']) await client.messages.markRead(id);
      printed += 1;
      if (count !== undefined && printed >= count) return;
    }
    if (values.once) return;
    await new Promise((resolve) => setTimeout(resolve, interval * 1000));
  }
}

async function webhookVerify(ctx: Context, args: string[]): Promise<void> {
  const { values } = parse(args, { payload: { type: 'string' }, secret: { type: 'string' }, header: { type: 'string', multiple: true }, headers: { type: 'string' }, tolerance: { type: 'string' } }, false);
  const payloadFile = str(values, 'payload');
  if (!payloadFile) throw new UsageError('--payload FILE is required (the raw request body; - for standard input).');
  const secret = str(values, 'secret') ?? ctx.env.SHORTCODE_WEBHOOK_SECRET;
  if (!secret) throw new UsageError('--secret whsec_... is required (or SHORTCODE_WEBHOOK_SECRET).');
  const payload = payloadFile === '-' ? await readStdin() : await readFile(payloadFile, 'utf8').catch(() => {
    throw new UsageError(`Cannot read ${payloadFile}.`);
  });
  const headers: Record<string, string> = {};
  if (str(values, 'headers')) {
    const parsed = await readData(`@${str(values, 'headers')!}`);
    for (const [k, v] of Object.entries(parsed)) headers[k.toLowerCase()] = String(v);
  }
  for (const line of list(values, 'header')) {
    const at = line.indexOf(':');
    if (at <= 0) throw new UsageError(`--header takes "name: value", got "${line}".`);
    headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
  }
  const tolerance = str(values, 'tolerance') === undefined ? undefined : seconds(values, 'tolerance', 300);
  const verified = await verifyWebhook({ payload, headers, secret, ...(tolerance === undefined ? {} : { toleranceSeconds: tolerance }) });
  print(ctx.output, { verified: true, id: verified.id, timestamp: verified.timestamp.toISOString(), payload: verified.payload }, () =>
    `Verified: webhook-id ${verified.id}, signed at ${verified.timestamp.toISOString()}\n${JSON.stringify(verified.payload, null, 2)}`,
  );
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function run(ctx: Context, argv: string[]): Promise<void> {
  const [command, operation, ...rest] = argv;
  const afterOperation = operation === undefined ? [] : [operation, ...rest];
  switch (command) {
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      ctx.output.out.write(HELP);
      return;
    case 'login': {
      const { values } = parse(afterOperation, {}, false);
      const token = str(values, 'token');
      if (!token) throw new UsageError('login needs --token TOKEN (a personal access token from the dashboard, Settings, Integrations).');
      const baseUrl = str(values, 'base-url') ?? ctx.env.SHORTCODE_BASE_URL ?? DEFAULT_BASE_URL;
      const client = new Shortcode({ token, baseUrl, maxRetries: 1 });
      // A token the server does not know is refused here, not at the first real command.
      try {
        await client.carriers.list({ limit: 1 });
      } catch (error) {
        if (!(error instanceof APIError && error.status === 403)) throw error;
      }
      const file = await writeLogin({ token, baseUrl: client.baseUrl }, ctx.env);
      print(ctx.output, { logged_in: true, base_url: client.baseUrl, config: file }, () => `Logged in to ${client.baseUrl}. The token is stored in ${file} (mode 0600).`);
      return;
    }
    case 'logout': {
      parse(afterOperation, {}, false);
      const removed = await removeLogin(ctx.env);
      print(ctx.output, { logged_out: removed }, () => (removed ? `Removed ${configPath(ctx.env)}.` : 'Not logged in.'));
      return;
    }
    case 'whoami': {
      parse(afterOperation, {}, false);
      const { baseUrl, token, source } = await resolveLogin(ctx);
      const masked = token ? `${token.slice(0, 4)}…${token.slice(-4)}` : null;
      print(ctx.output, { base_url: baseUrl, token: masked, source }, () => `${baseUrl}\ntoken ${masked ?? '(none)'} from ${source}`);
      return;
    }
    case 'contacts':
      if (operation === 'import') return importContacts(ctx, rest);
      if (operation === 'unsubscribe') {
        const { positionals } = parse(rest, {});
        if (positionals.length === 0) throw new UsageError('Give the phone numbers to unsubscribe.');
        return printOne(ctx, await (await ctx.client()).contacts.unsubscribe(positionals));
      }
      if (operation === 'add-group' || operation === 'remove-group') {
        const { positionals } = parse(rest, {});
        const id = required(positionals, 0, 'contact id');
        const group = required(positionals, 1, 'group id');
        const client = await ctx.client();
        if (operation === 'add-group') return printOne(ctx, await client.contacts.addGroup(id, group));
        await client.contacts.removeGroup(id, group);
        return print(ctx.output, { removed: group }, () => `Removed contact ${id} from group ${group}.`);
      }
      return resourceCommand(ctx, findResource('contacts')!, operation, rest);
    case 'groups':
      if (operation === 'contacts') {
        const { values, positionals } = parse(rest, LIST_OPTIONS);
        const id = required(positionals, 0, 'group id');
        const client = await ctx.client();
        const columns = findResource('contacts')!.columns;
        return printList(ctx, values.all ? (client.groups.iterateContacts(id, listParams(values)) as AsyncGenerator<Row>) : ((await client.groups.contacts(id, listParams(values))) as unknown as Page<Row>), columns);
      }
      return resourceCommand(ctx, findResource('groups')!, operation, rest);
    case 'campaigns':
      return campaignsCommand(ctx, operation, rest);
    case 'imports':
      return importsCommand(ctx, operation, rest);
    case 'messages':
      if (operation === 'mark-read') {
        const { values, positionals } = parse(rest, { unread: { type: 'boolean' } });
        return printOne(ctx, await (await ctx.client()).messages.markRead(required(positionals, 0, 'message id'), !values.unread));
      }
      return resourceCommand(ctx, findResource('messages')!, operation, rest);
    case 'message': {
      if (operation === 'batch') return sendBatch(ctx, rest);
      if (operation === 'send') {
        const { values } = parse(rest, { to: { type: 'string' }, message: { type: 'string' }, 'media-url': { type: 'string' } }, false);
        const to = str(values, 'to');
        const text = str(values, 'message');
        if (!to || !text) throw new UsageError('message send needs --to NUMBER and --message TEXT.');
        const sent = await (await ctx.client()).message.send({ phone_number: to, message: text, ...(str(values, 'media-url') ? { media_url: str(values, 'media-url') } : {}) } as never);
        return printOne(ctx, sent);
      }
      if (operation === 'preview') {
        const { values } = parse(rest, { message: { type: 'string' } }, false);
        const text = str(values, 'message');
        if (!text) throw new UsageError('message preview needs --message TEXT.');
        return printOne(ctx, await (await ctx.client()).message.preview({ message: text } as never));
      }
      throw new UsageError(`"message ${operation ?? ''}" is not a command: use message send, message batch or message preview.`);
    }
    case 'inbox':
      if (operation === 'tail') return inboxTail(ctx, rest);
      throw new UsageError('Use "shortcode inbox tail".');
    case 'lookup': {
      const { positionals } = parse(afterOperation, {});
      if (positionals.length === 0) throw new UsageError('Give up to 10 phone numbers to look up.');
      const result = (await (await ctx.client()).phoneNumbers.lookup(positionals)) as unknown;
      return print(ctx.output, result, () => (Array.isArray(result) ? table(result as Row[], Object.keys((result[0] ?? {}) as Row)) : keyValues(result as Row)));
    }
    case 'webhooks': {
      if (operation === 'rotate-secret') {
        const { positionals } = parse(rest, {});
        return printOne(ctx, await (await ctx.client()).webhooks.rotateSecret(required(positionals, 0, 'webhook id')));
      }
      if (operation === 'deliveries') {
        const { values, positionals } = parse(rest, LIST_OPTIONS);
        const page = await (await ctx.client()).webhooks.deliveries(required(positionals, 0, 'webhook id'), listParams(values));
        return printList(ctx, page as unknown as Page<Row>, ['id', 'event', 'status', 'attempts', 'response_code', 'created_at', 'delivered_at']);
      }
      if (operation === 'redeliver') {
        const { positionals } = parse(rest, {});
        return printOne(ctx, await (await ctx.client()).webhooks.redeliver(required(positionals, 0, 'webhook id'), required(positionals, 1, 'delivery id')));
      }
      return resourceCommand(ctx, findResource('webhooks')!, operation, rest);
    }
    case 'webhook':
      if (operation === 'verify') return webhookVerify(ctx, rest);
      throw new UsageError('Use "shortcode webhook verify" (or "shortcode webhooks ..." to manage endpoints).');
    case 'api': {
      const { values, positionals } = parse(afterOperation, { data: { type: 'string' } });
      const method = required(positionals, 0, 'method (GET, POST, PUT, PATCH, DELETE)').toUpperCase();
      if (!['GET', 'POST', 'PUT', 'PATCH', 'DELETE'].includes(method)) throw new UsageError(`Unknown method "${method}".`);
      const path = required(positionals, 1, 'path (/v1/...)');
      if (!path.startsWith('/')) throw new UsageError('The path starts with / (for example /v1/contacts).');
      const [pathname, search = ''] = path.split('?', 2) as [string, string?];
      const client = await ctx.client();
      const result = await client.request({ method: method as never, path: pathname, query: Object.fromEntries(new URLSearchParams(search)), body: str(values, 'data') ? await readData(str(values, 'data')!) : undefined });
      return printJson(ctx.output, result ?? null);
    }
    default: {
      const spec = findResource(command);
      if (spec) return resourceCommand(ctx, spec, operation, rest);
      throw new UsageError(`Unknown command "${command}".`);
    }
  }
}

async function resolveLogin(ctx: Context): Promise<{ token: string | undefined; baseUrl: string; source: string }> {
  const stored = await readLogin(ctx.env);
  const flagToken = str(ctx.values, 'token');
  const token = flagToken ?? (ctx.env.SHORTCODE_TOKEN || undefined) ?? stored.token;
  const source = flagToken ? '--token' : ctx.env.SHORTCODE_TOKEN ? 'SHORTCODE_TOKEN' : stored.token ? configPath(ctx.env) : 'nowhere';
  const baseUrl = str(ctx.values, 'base-url') ?? (ctx.env.SHORTCODE_BASE_URL || undefined) ?? stored.baseUrl ?? DEFAULT_BASE_URL;
  return { token, baseUrl, source };
}

function describe(error: unknown): { message: string; status?: number; errors: Record<string, string[]>; request_id?: string } {
  if (error instanceof ShortcodeError) {
    return { message: error.message, ...(error.status ? { status: error.status } : {}), errors: error.errors, ...(error.requestId ? { request_id: error.requestId } : {}) };
  }
  return { message: error instanceof Error ? error.message : String(error), errors: {} };
}

function fieldLines(errors: Record<string, string[]>, indent = '  '): string {
  return Object.entries(errors)
    .map(([field, messages]) => `\n${indent}${field}: ${messages.join(' ')}`)
    .join('');
}

/** Runs the CLI; resolves to the exit status. */
export async function main(argv: string[], env: NodeJS.ProcessEnv, output: Omit<Output, 'json'>): Promise<number> {
  const json = argv.includes('--json');
  const ctx: Context = {
    output: { ...output, json },
    env,
    values: {},
    positionals: [],
    client: async () => {
      const { token, baseUrl } = await resolveLogin(ctx);
      if (!token) throw new ShortcodeError('Not logged in: run `shortcode login --token TOKEN` or set SHORTCODE_TOKEN.');
      return new Shortcode({ token, baseUrl, maxRetries: 2 });
    },
  };
  // Global options may appear anywhere; read them once for the client.
  const globals = parseArgs({ args: argv, options: GLOBAL_OPTIONS, strict: false, allowPositionals: true }).values as Values;
  ctx.values = globals;
  const words = argv.filter((a) => a !== '--json');
  if (globals.help && words.length <= 1) {
    output.out.write(HELP);
    return 0;
  }
  try {
    await run(ctx, words);
    return 0;
  } catch (error) {
    if (error instanceof ReportedFailure) return 1;
    if (error instanceof UsageError) {
      output.err.write(`Error: ${error.message}\nRun "shortcode --help" for usage.\n`);
      return 2;
    }
    const described = describe(error);
    if (json) {
      output.err.write(`${JSON.stringify({ error: described })}\n`);
    } else {
      const status = described.status ? ` (HTTP ${described.status})` : '';
      const prefix = error instanceof WebhookVerificationError ? 'Webhook verification failed: ' : '';
      const requestId = described.request_id ? `\nRequest id: ${described.request_id}` : '';
      output.err.write(`Error: ${prefix}${described.message}${status}${fieldLines(described.errors)}${requestId}\n`);
    }
    if (!(error instanceof ShortcodeError) && env.SHORTCODE_DEBUG) output.err.write(`${(error as Error).stack ?? ''}\n`);
    return 1;
  }
}

const status = await main(process.argv.slice(2), process.env, { out: process.stdout, err: process.stderr });
process.exitCode = status;
