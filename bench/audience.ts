import { Readable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { buildApp } from '../src/app.js';
import { loadConfig } from '../src/config.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { createJobHandlers } from '../src/jobs/job-handlers.js';
import { createJobRunner } from '../src/jobs/job-runner.js';
import { newId } from '../src/lib/ids.js';
import { allocateSeq } from '../src/modules/contacts/contacts.repo.js';
import { DOUBLE_OPT_IN_ID } from '../src/modules/optins/optins.seed.js';
import { DEFAULT_BENCH_DATABASE_URL, dropDatabase, freshDatabase, percentile } from './lib.js';

/**
 * Issue 3's benchmark, on PostgreSQL:
 * - an account with `contacts` contacts (1,000,000 by default) seeded by bulk SQL;
 * - GET /v1/contacts?limit=100 on page 1 and page 5,000, and filtered by phone_number (1 match),
 *   reward_points (1,000 matches) and a custom text field set on every contact (1,000 matches),
 *   each `samples` times in sequence through the full HTTP stack (app.inject: auth, scope, rate
 *   limit, validation, serialisation), reporting p50/p99 in ms;
 * - the bulk import path (upload + background processing to completion) in rows/s against a
 *   bare multi-row INSERT (1,000 rows a statement) of the same rows into another account.
 */
export async function runAudienceBench(
  opts: { databaseUrl?: string | undefined; contacts?: number | undefined; importRows?: number | undefined; samples?: number | undefined; reuseSeed?: boolean | undefined } = {},
): Promise<Record<string, unknown>> {
  const serverUrl = opts.databaseUrl || DEFAULT_BENCH_DATABASE_URL;
  const contacts = opts.contacts ?? 1_000_000;
  const importRows = opts.importRows ?? 100_000;
  const samples = opts.samples ?? 300;
  // For iterating on the list queries only: keep the seeded database between runs (reported
  // figures come from a normal run, which always starts from a fresh database).
  const reuseSeed = opts.reuseSeed ?? false;
  const dbName = 'shortcode_bench_audience';
  const databaseUrl = reuseSeed ? await existingOrFreshDatabase(serverUrl, dbName) : await freshDatabase(serverUrl, dbName);
  const database = await openDatabase({ databaseUrl, poolSize: 10 });
  try {
    await migrateToLatest(database.db);
    const config = loadConfig({
      NODE_ENV: 'production',
      DATABASE_URL: databaseUrl,
      RATE_LIMIT_MAX: '1000000000',
      LOG_LEVEL: 'silent',
      SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    });
    const app = await buildApp({ config, database, logger: false });
    await app.ready();
    const { services } = app;
    const run = Date.now().toString(36);
    const seeded = reuseSeed
      ? await database.db
          .selectFrom('accounts as a')
          .innerJoin('users as u', 'u.account_id', 'a.id')
          .innerJoin('contact_counts as n', 'n.account_id', 'a.id')
          .select(['a.id as accountId', 'u.id as userId'])
          .where('a.name', '=', 'Bench audience')
          .where('n.contacts', '=', contacts)
          .executeTakeFirst()
      : undefined;
    const owner = seeded
      ? { account: { id: seeded.accountId }, user: { id: seeded.userId } }
      : await services.accounts.create({ name: 'Bench audience', email: `bench-audience-${run}@example.test`, password: 'bench-password' });
    const { token } = await services.tokens.issue({ accountId: owner.account.id, userId: owner.user.id, kind: 'personal', name: 'bench' });
    const headers = { authorization: `Bearer ${token}` };

    // Seed by bulk SQL; the statement-level trigger keeps contact_counts exact.
    const seedStart = performance.now();
    if (!seeded) {
      await allocateSeq(database.db, owner.account.id, contacts);
      await sql`INSERT INTO contacts (id, account_id, phone_number, first_name, last_name, reward_points, timezone, opt_in_id, seq, created_at, updated_at)
                SELECT gen_random_uuid(), ${owner.account.id}, '+1201' || lpad(i::text, 7, '0'), 'First' || i, 'Last' || (i % 997), i % 1000, 'America/New_York', NULL, i,
                       timestamptz '2025-01-01' + i * interval '1 second', timestamptz '2025-01-01' + i * interval '1 second'
                FROM generate_series(1, ${contacts}) AS i`.execute(database.db);
      await sql`VACUUM ANALYZE contacts`.execute(database.db);
    }
    // A custom text field on every contact, 1,000 distinct values (1,000 contacts each).
    const hasField = await database.db.selectFrom('custom_fields').select('id').where('account_id', '=', owner.account.id).where('name', '=', 'tier').executeTakeFirst();
    if (!hasField) {
      const field = await services.fields.create(owner.account.id, { name: 'tier', type: 'text' });
      await sql`INSERT INTO contact_field_values (contact_id, field_id, account_id, value)
                SELECT id, ${field.id}, account_id, 'T' || (seq % 1000) FROM contacts WHERE account_id = ${owner.account.id}`.execute(database.db);
      await sql`VACUUM ANALYZE contact_field_values`.execute(database.db);
    }
    const seedSeconds = (performance.now() - seedStart) / 1000;

    async function measure(url: string) {
      for (let i = 0; i < 100; i++) await app.inject({ method: 'GET', url, headers });
      const times: number[] = [];
      let last: { statusCode: number; body: string } | undefined;
      for (let i = 0; i < samples; i++) {
        const t0 = performance.now();
        last = await app.inject({ method: 'GET', url, headers });
        times.push(performance.now() - t0);
        if (last.statusCode !== 200) throw new Error(`${url} answered ${last.statusCode}: ${last.body.slice(0, 200)}`);
      }
      times.sort((a, b) => a - b);
      const body = JSON.parse(last!.body) as { data: unknown[]; meta: { pagination: { total: number } } };
      return { p50Ms: round(percentile(times, 50)), p99Ms: round(percentile(times, 99)), rows: body.data.length, total: body.meta.pagination.total };
    }

    const page1 = await measure('/v1/contacts?limit=100');
    const page5000 = await measure('/v1/contacts?limit=100&page=5000');
    const target = `+1201${String(Math.floor(contacts / 2)).padStart(7, '0')}`;
    const byPhone = await measure(`/v1/contacts?filter[phone_number]=${encodeURIComponent(target)}`);
    const byPoints = await measure('/v1/contacts?limit=100&filter[reward_points]=500');
    const byField = await measure('/v1/contacts?limit=100&filter[fields.tier]=T500');

    // Import path vs bare INSERT, same rows, each into a fresh account.
    // Valid NANP numbers: area code 201, exchange 200-999, any line number.
    const rowsFor = (i: number) => ({
      phone: `+1201${200 + (Math.floor(i / 10_000) % 800)}${String(i % 10_000).padStart(4, '0')}`,
      first: `Imported${i}`,
      last: `Row${i % 991}`,
      points: i % 500,
    });
    function* csvLines() {
      yield 'phone_number,first_name,last_name,reward_points\n';
      let chunk = '';
      for (let i = 1; i <= importRows; i++) {
        const r = rowsFor(i);
        chunk += `${r.phone},${r.first},${r.last},${r.points}\n`;
        if (i % 5000 === 0) {
          yield chunk;
          chunk = '';
        }
      }
      if (chunk) yield chunk;
    }
    const importer = await services.accounts.create({ name: 'Bench import', email: `bench-import-${run}@example.test`, password: 'bench-password' });
    const importToken = await services.tokens.issue({ accountId: importer.account.id, userId: importer.user.id, kind: 'personal', name: 'bench' });
    const runner = createJobRunner({ db: database.db, handlers: createJobHandlers(services), log: app.log });
    const importStart = performance.now();
    const upload = await app.inject({
      method: 'POST',
      url: '/v1/contacts/import',
      headers: { authorization: `Bearer ${importToken.token}`, 'content-type': 'text/csv' },
      payload: Readable.from(csvLines()),
    });
    if (upload.statusCode !== 202) throw new Error(`import upload answered ${upload.statusCode}: ${upload.body.slice(0, 300)}`);
    const uploadSeconds = (performance.now() - importStart) / 1000;
    await runner.drain();
    const importSeconds = (performance.now() - importStart) / 1000;
    const imported = await services.imports.get(importer.account.id, (JSON.parse(upload.body) as { data: { id: string } }).data.id);
    const memoryMb = Math.round(process.memoryUsage().rss / 1024 / 1024);

    const baseline = await services.accounts.create({ name: 'Bench baseline', email: `bench-baseline-${run}@example.test`, password: 'bench-password' });
    const baselineStart = performance.now();
    for (let start = 1; start <= importRows; start += 1000) {
      const firstSeq = await allocateSeq(database.db, baseline.account.id, Math.min(1000, importRows + 1 - start));
      const values = [];
      for (let i = start; i < Math.min(start + 1000, importRows + 1); i++) {
        const r = rowsFor(i);
        // The same row the import writes (time zone from the number, the standard opt-in).
        values.push({ id: newId(), seq: firstSeq + (i - start), account_id: baseline.account.id, phone_number: r.phone, first_name: r.first, last_name: r.last, email: null, gender: null, birth_date: null, address: null, city: null, state: null, zip: null, reward_points: r.points, timezone: 'America/New_York', carrier_id: null, opt_in_id: DOUBLE_OPT_IN_ID, source: 'import' });
      }
      await database.db.insertInto('contacts').values(values).execute();
    }
    const baselineSeconds = (performance.now() - baselineStart) / 1000;
    await app.close();

    const importRate = Math.round(importRows / importSeconds);
    const baselineRate = Math.round(importRows / baselineSeconds);
    return {
      scenario: 'contacts list/filter at scale and bulk import (PostgreSQL)',
      contacts,
      seedSeconds: round(seedSeconds),
      samplesPerMeasure: samples,
      listPage1: page1,
      listPage5000: page5000,
      filterPhoneNumber: byPhone,
      filterRewardPoints: byPoints,
      filterCustomField: byField,
      import: {
        rows: importRows,
        uploadSeconds: round(uploadSeconds),
        totalSeconds: round(importSeconds),
        rowsPerSecond: importRate,
        outcome: { status: imported.status, created: imported.created, invalid: imported.invalid, skipped: imported.skipped },
        rssMbAfter: memoryMb,
      },
      bareInsert: { rows: importRows, seconds: round(baselineSeconds), rowsPerSecond: baselineRate },
      importVsBareInsert: Number((importRate / baselineRate).toFixed(3)),
      targets: 'list and filter p99 < 25 ms at 1M contacts; import >= 30% of the bare insert rate',
    };
  } finally {
    await database.close();
    if (!reuseSeed) await dropDatabase(serverUrl, dbName);
  }
}

async function existingOrFreshDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  const found = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
  await admin.end();
  if (found.rowCount === 0) return freshDatabase(serverUrl, name);
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

const round = (n: number) => Math.round(n * 100) / 100;

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const env = process.env;
  console.log(
    JSON.stringify(
      await runAudienceBench({
        databaseUrl: env.DATABASE_URL ?? DEFAULT_BENCH_DATABASE_URL,
        contacts: env.BENCH_CONTACTS ? Number(env.BENCH_CONTACTS) : undefined,
        importRows: env.BENCH_IMPORT_ROWS ? Number(env.BENCH_IMPORT_ROWS) : undefined,
        reuseSeed: env.BENCH_AUDIENCE_REUSE === '1',
      }),
      null,
      2,
    ),
  );
}
