import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { execSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { Session } from 'node:inspector/promises';
const insp = new Session(); insp.connect(); await insp.post('Profiler.enable'); await insp.post('Profiler.setSamplingInterval', { interval: 200 });
import { sql } from 'kysely';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { createDispatcher } from '../src/modules/messages/dispatcher.js';
import { createReportBatcher } from '../src/modules/messages/messaging-runtime.js';
import { SmppTransport } from '../src/transports/smpp/smpp-transport.js';
import { freshDatabase, dropDatabase, DEFAULT_BENCH_DATABASE_URL, freePort, startProcess, stopProcess } from './lib.js';
import { rawSmpp, newAccount } from './messaging.js';

function pgCpu(): number {
  const out = execSync("for p in $(pgrep postgres); do cut -d' ' -f14,15 /proc/$p/stat 2>/dev/null; done").toString();
  let t = 0; for (const l of out.split('\n')) { const [u, s] = l.split(' '); if (u) t += Number(u) + Number(s); } return t / 100;
}
function pidCpu(pid: number): number { const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' '); return (Number(f[11]) + Number(f[12])) / 100; }
const self = () => { const u = process.cpuUsage(); return (u.user + u.system) / 1e6; };
function snap(smscPid: number) { return { pg: pgCpu(), smsc: pidCpu(smscPid), self: self(), t: Date.now() }; }
function delta(a: ReturnType<typeof snap>, b: ReturnType<typeof snap>) { const w = (b.t - a.t) / 1000; return `wall ${w.toFixed(2)}s self ${((b.self - a.self) / w * 100).toFixed(0)}% smsc ${((b.smsc - a.smsc) / w * 100).toFixed(0)}% pg ${((b.pg - a.pg) / w * 100).toFixed(0)}%`; }

const name = `shortcode_bench_prof_${randomBytes(3).toString('hex')}`;
const url = await freshDatabase(DEFAULT_BENCH_DATABASE_URL, name);
const database = await openDatabase({ databaseUrl: url, poolSize: 10 });
const db = database.db;
await migrateToLatest(db);
await sql`VACUUM ANALYZE`.execute(db);
const total = Number(process.env.N ?? 20000);
const statsPort = await freePort();
const smsc = await startProcess(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./smsc-process.ts', import.meta.url))], { STATS_PORT: String(statsPort) }, /LISTENING/);
const { port } = (await (await fetch(`http://127.0.0.1:${statsPort}/`)).json()) as { port: number };
await rawSmpp(port, total, 10);
for (let round = 0; round < Number(process.env.ROUNDS ?? 3); round++) {
  let a = snap(smsc.pid!);
  const raw = await rawSmpp(port, total, 10);
  console.log('raw', raw.messagesPerSecond, delta(a, snap(smsc.pid!)));
  const { services, account } = await newAccount(db, total * 2);
  const accountId = account.id;
  for (let b = 0; b < total / 1000; b++) {
    await services.messages.sendBatch(accountId, Array.from({ length: 1000 }, (_, i) => ({ phone_number: `+1415555${String(i % 10000).padStart(4, '0')}`, message: `Bench message ${b}-${i}: your order has shipped.` })));
  }
  const transport = new SmppTransport({ host: '127.0.0.1', port, systemId: 'test', password: 'secret', window: 10 });
  const reports = createReportBatcher(db);
  await transport.start({ onDeliveryReport: (r) => reports.add(r), onInbound: async () => undefined });
  const dispatcher = createDispatcher({ db, transport, batchSize: Number(process.env.BATCH ?? 500), concurrency: Number(process.env.CONC ?? 3), pollIntervalMs: 5 });
  a = snap(smsc.pid!);
  if (process.env.PROF) await insp.post('Profiler.start');
  const started = Date.now();
  dispatcher.start();
  for (;;) { const c = await sql<{ n: number }>`SELECT count(*)::int AS n FROM messages WHERE account_id = ${accountId} AND status = 'sent'`.execute(db); if (c.rows[0]!.n >= total) break; await new Promise((r) => setTimeout(r, 20)); }
  const last = await sql<{ t: number }>`SELECT extract(epoch FROM max(sent_at))::float8 AS t FROM messages WHERE account_id = ${accountId}`.execute(db);
  const b = snap(smsc.pid!);
  if (process.env.PROF) { const { profile } = await insp.post('Profiler.stop'); fs.writeFileSync(`/tmp/prof/dispatch-${round}.cpuprofile`, JSON.stringify(profile)); }
  const el = last.rows[0]!.t - started / 1000;
  console.log('ours', Math.round(total / el), delta(a, b));
  await dispatcher.stop(); await transport.stop();
}
await stopProcess(smsc);
await database.close();
await dropDatabase(DEFAULT_BENCH_DATABASE_URL, name);
process.exit(0);
