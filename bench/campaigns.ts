import fs from 'node:fs';
import os from 'node:os';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { newId } from '../src/lib/ids.js';
import { allocateSeq } from '../src/modules/contacts/contacts.repo.js';
import { DEFAULT_BENCH_DATABASE_URL, dropDatabase, freePort, freshDatabase, percentile, startProcess, stopProcess } from './lib.js';

/**
 * Issue 5's benchmark: a campaign to a group of 1,000,000 contacts on PostgreSQL, with an API
 * process (ROLE=api) and a worker process (ROLE=worker with the default settings: fan-out job,
 * dispatcher, simulated carrier). Measured: the time from the POST to every message queued (fan-out) and to every
 * message handed to the simulator, against a bare INSERT ... SELECT of the same rows into the
 * same table; the resident memory of both processes, sampled during the run; and the latency of
 * GET /v1/contacts/{id} while the campaign sends.
 */
export async function runCampaignsBench(opts: { databaseUrl?: string; contacts?: number } = {}): Promise<Record<string, unknown>> {
  const serverUrl = opts.databaseUrl ?? DEFAULT_BENCH_DATABASE_URL;
  const total = opts.contacts ?? 1_000_000;
  const dbName = 'shortcode_bench_campaigns';
  const databaseUrl = await freshDatabase(serverUrl, dbName);
  const database = await openDatabase({ databaseUrl, poolSize: 4 });
  const db = database.db;
  const log = (msg: string) => process.stderr.write(`[campaigns] ${msg}\n`);
  try {
    await migrateToLatest(db);
    const services = createServices(db, loadConfig({ NODE_ENV: 'production' }));
    const { account, user } = await services.accounts.create({ name: 'Bench', email: 'bench-campaigns@example.test', password: 'bench-password' });
    const { token } = await services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 'bench' });
    await sql`UPDATE accounts SET credit_balance = ${total * 4} WHERE id = ${account.id}`.execute(db);
    const groupId = newId();
    await db.insertInto('groups').values({ id: groupId, account_id: account.id, name: 'Everyone', join_message: null, optin_id: null, keyword: null, keyword_created_at: null }).execute();

    log(`inserting ${total} contacts`);
    const seeded = Date.now();
    for (let start = 0; start < total; start += 100_000) {
      const n = Math.min(100_000, total - start);
      const first = await allocateSeq(db, account.id, n);
      await sql`
        WITH c AS (
          INSERT INTO contacts (id, account_id, phone_number, first_name, status, timezone, seq, created_at, updated_at)
          SELECT gen_random_uuid(), ${account.id}::uuid, '+1' || (2000000000 + g)::text, 'Name' || g::text, 'subscribed', 'America/Chicago', ${first - start - 1}::bigint + g, now() - interval '1 minute', now() - interval '1 minute'
          FROM generate_series(${start + 1}::int, ${start + n}::int) AS g
          RETURNING id, account_id)
        INSERT INTO contact_groups (contact_id, group_id, account_id, created_at)
        SELECT id, ${groupId}::uuid, account_id, now() - interval '1 minute' FROM c`.execute(db);
    }
    await sql`VACUUM ANALYZE contacts`.execute(db);
    await sql`VACUUM ANALYZE contact_groups`.execute(db);
    log(`contacts in ${((Date.now() - seeded) / 1000).toFixed(1)} s`);

    // Baseline: the same rows into the same table (same indexes), with the bare INSERT ... SELECT.
    const baselineCampaign = newId();
    await sql`INSERT INTO campaigns (id, account_id, name, message, status, link_base) VALUES (${baselineCampaign}, ${account.id}, 'baseline', 'x', 'draft', 'http://x')`.execute(db);
    const bareStart = Date.now();
    await sql`
      INSERT INTO messages (id, account_id, type, "from", phone_number, message, segments, encoding, credits, status, contact_id, campaign_id)
      SELECT uuid_v7(), c.account_id, 'OUTGOING', '12345', c.phone_number, 'Hi ' || c.first_name || ', the spring sale starts today!', 1, 'GSM-7', 1, 'canceled', c.id, ${baselineCampaign}::uuid
      FROM contacts c JOIN contact_groups g ON g.contact_id = c.id AND g.group_id = ${groupId}::uuid`.execute(db);
    const bareSeconds = (Date.now() - bareStart) / 1000;
    log(`bare INSERT ... SELECT: ${bareSeconds.toFixed(2)} s`);
    await sql`DELETE FROM messages WHERE campaign_id = ${baselineCampaign}`.execute(db);
    await sql`DELETE FROM campaigns WHERE id = ${baselineCampaign}`.execute(db);
    await sql`VACUUM ANALYZE messages`.execute(db);
    const someContact = (await sql<{ id: string }>`SELECT id FROM contacts WHERE account_id = ${account.id} ORDER BY phone_number LIMIT 1 OFFSET ${Math.floor(total / 2)}`.execute(db)).rows[0]!.id;

    const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
    const common = {
      DATABASE_URL: databaseUrl,
      NODE_ENV: 'production',
      RATE_LIMIT_MAX: '1000000000',
      LOG_LEVEL: 'warn',
      SIMULATOR_REPORT_DELAY_MS: '500',
      SECRETS_KEY: process.env.SECRETS_KEY ?? Buffer.alloc(32, 7).toString('base64'),
    };
    const apiPort = await freePort();
    const api = await startProcess(process.execPath, ['--import', 'tsx', server], { ...common, PORT: String(apiPort), ROLE: 'api' }, /listening on/);
    const workerPort = await freePort();
    const worker = await startProcess(process.execPath, ['--import', 'tsx', server], { ...common, PORT: String(workerPort), ROLE: 'worker' }, /listening on/);
    const memory = { api: [] as number[], worker: [] as number[] };
    const rss = (pid: number | undefined) => {
      const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
      return Math.round(Number(/VmRSS:\s+(\d+)/.exec(status)![1]) / 1024);
    };
    const sampler = setInterval(() => {
      memory.api.push(rss(api.pid));
      memory.worker.push(rss(worker.pid));
    }, 500);
    // Each GET's latency, tagged with the phase it ran in: before the POST (idle, the same-run
    // baseline), while the fan-out runs (with the dispatcher), after it (dispatch only).
    const latencies: Record<'idle' | 'fanout' | 'dispatch', number[]> = { idle: [], fanout: [], dispatch: [] };
    let phase: keyof typeof latencies = 'idle';
    let sending = true;
    const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
    const readers = Array.from({ length: 4 }, async () => {
      while (sending) {
        const t = performance.now();
        const res = await fetch(`http://127.0.0.1:${apiPort}/v1/contacts/${someContact}`, { headers: { authorization: headers.authorization } });
        await res.arrayBuffer();
        if (res.status !== 200) throw new Error(`GET /v1/contacts/{id}: ${res.status}`);
        latencies[phase].push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    try {
      await new Promise((r) => setTimeout(r, 10_000));
      const idle = { api: memory.api.at(-1), worker: memory.worker.at(-1) };
      const loadAtPost = os.loadavg()[0]!;
      log('POST /v1/campaigns');
      phase = 'fanout';
      const posted = Date.now();
      const res = await fetch(`http://127.0.0.1:${apiPort}/v1/campaigns`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ name: 'Spring sale', message: 'Hi {first_name|there}, the spring sale starts today! https://shop.example/spring', groups: [groupId] }),
      });
      const postSeconds = (Date.now() - posted) / 1000;
      if (res.status !== 201) throw new Error(`POST /v1/campaigns answered ${res.status}: ${await res.text()}`);
      const campaignId = ((await res.json()) as { data: { id: string } }).data.id;
      let fanoutSeconds = 0;
      let handedSeconds = 0;
      for (;;) {
        await new Promise((r) => setTimeout(r, 250));
        const row = (
          await sql<{ fanout_done: boolean; recipients: number; status: string }>`SELECT fanout_done, recipients, status FROM campaigns WHERE id = ${campaignId}`.execute(db)
        ).rows[0]!;
        if (!fanoutSeconds && row.fanout_done) {
          fanoutSeconds = (Date.now() - posted) / 1000;
          phase = 'dispatch';
          log(`fan-out done: ${row.recipients} messages queued in ${fanoutSeconds.toFixed(2)} s`);
        }
        if (fanoutSeconds) {
          const left = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaignId} AND status IN ('queued', 'sending')`.execute(db)).rows[0]!.n;
          if (left === 0) {
            handedSeconds = (Date.now() - posted) / 1000;
            break;
          }
        }
        if (Date.now() - posted > 3_600_000) throw new Error('the campaign did not finish within an hour');
      }
      log(`all handed over in ${handedSeconds.toFixed(2)} s`);
      sending = false;
      await Promise.all(readers);
      clearInterval(sampler);
      const handed = (await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE campaign_id = ${campaignId} AND sent_at IS NOT NULL`.execute(db)).rows[0]!.n;
      const stats = (list: number[]) => ({ min: Math.min(...list), max: Math.max(...list), samples: list.length });
      const latency = (list: number[]) => {
        const sorted = [...list].sort((a, b) => a - b);
        return {
          requests: sorted.length,
          p50Ms: Number(percentile(sorted, 50).toFixed(1)),
          p99Ms: Number(percentile(sorted, 99).toFixed(1)),
          maxMs: Number((sorted.at(-1) ?? 0).toFixed(1)),
        };
      };
      return {
        scenario: `campaign to a group of ${total.toLocaleString('en-US')} contacts (API and worker processes, simulated carrier)`,
        contacts: total,
        messagesHandedOver: handed,
        postSeconds: Number(postSeconds.toFixed(2)),
        fanoutSeconds: Number(fanoutSeconds.toFixed(2)),
        handedOverSeconds: Number(handedSeconds.toFixed(2)),
        bareInsertSelectSeconds: Number(bareSeconds.toFixed(2)),
        fanoutVsBareInsert: Number((fanoutSeconds / bareSeconds).toFixed(2)),
        memoryMb: { idleBefore: idle, api: stats(memory.api), worker: stats(memory.worker) },
        getContactWhileSending: latency([...latencies.fanout, ...latencies.dispatch]),
        getContactDuringFanout: latency(latencies.fanout),
        getContactDuringDispatchOnly: latency(latencies.dispatch),
        getContactIdleBaseline: latency(latencies.idle),
        loadAverage: { atPost: loadAtPost, atEnd: os.loadavg()[0] },
        targets: 'fan-out within 3x the bare insert; memory flat; p99 of GET /v1/contacts/{id} < 50 ms',
      };
    } finally {
      sending = false;
      clearInterval(sampler);
      await stopProcess(api);
      await stopProcess(worker);
    }
  } finally {
    await database.close();
    await dropDatabase(serverUrl, dbName);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const contacts = process.env.BENCH_CONTACTS ? Number(process.env.BENCH_CONTACTS) : undefined;
  console.log(JSON.stringify(await runCampaignsBench({ databaseUrl: process.env.BENCH_DATABASE_URL ?? process.env.DATABASE_URL, contacts }), null, 2));
}
