import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';
import pg from 'pg';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { CARRIER_SEED } from '../src/modules/carriers/carriers.seed.js';
import type { Figure } from './report.js';
import { cpuMeter, DEFAULT_BENCH_DATABASE_URL, dropDatabase, freePort, freshDatabase, startProcess, stopProcess } from './lib.js';

/**
 * Issue 9's mixed load. One API process and worker processes on one PostgreSQL database:
 *  1. the throughput the API reaches alone (no worker) with the mixed request set, closed loop;
 *  2. that rate, open loop, sustained for `sustainSeconds` with a worker running (sends
 *     dispatched, delivery reports applied, inbound handled): per-stream latency (p99 of reads),
 *     achieved rate, and the memory of each process sampled every second (growth between the
 *     first and the last 10 s);
 *  3. the end-to-end message pipeline (queued → delivered) with 1 worker, then with 2.
 * Streams whose operations are not in the API's OpenAPI document are left out and listed.
 */
export interface MixedOptions {
  databaseUrl?: string;
  sustainSeconds?: number;
  probeSeconds?: number;
  connections?: number;
  pipelineMessages?: number;
}

interface Stream {
  name: string;
  read: boolean;
  weight: number;
  needs: string[];
  build: (ctx: { token: string; n: () => number; shortCode: string }) => autocannon.Request;
}

let phoneCounter = 0;
/** A valid US number, unique per call; the simulator reports delivery (code 100) for …0199-style endings. */
const phone = (n: number, last3 = '199') => `+1202${200 + (n % 800)}${Math.floor(n / 800) % 10}${last3}`;
const uniquePhone = (n: number) => `+1203${200 + (n % 800)}${String(Math.floor(n / 800) % 10000).padStart(4, '0')}`;

const STREAMS: Stream[] = [
  { name: 'list contacts', read: true, weight: 4, needs: ['GET /v1/contacts'], build: () => ({ method: 'GET', path: '/v1/contacts?limit=20&sort=-created_at' }) },
  { name: 'list carriers', read: true, weight: 2, needs: ['GET /v1/carriers'], build: () => ({ method: 'GET', path: '/v1/carriers?limit=20' }) },
  { name: 'get carrier', read: true, weight: 2, needs: ['GET /v1/carriers/{id}'], build: () => ({ method: 'GET', path: `/v1/carriers/${CARRIER_SEED[0]!.id}` }) },
  {
    name: 'create contact',
    read: false,
    weight: 1,
    needs: ['POST /v1/contacts'],
    build: ({ n }) => ({ method: 'POST', path: '/v1/contacts', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ phone_number: uniquePhone(n()), first_name: 'Bench' }) }) }),
  },
  {
    name: 'send',
    read: false,
    weight: 1,
    needs: ['POST /v1/message'],
    build: ({ n }) => ({ method: 'POST', path: '/v1/message', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ phone_number: phone(n()), message: 'Mixed load: 20% off today' }) }) }),
  },
  {
    name: 'inbound',
    read: false,
    weight: 1,
    needs: ['POST /simulator/inbound'],
    build: ({ n, shortCode }) => ({ method: 'POST', path: '/simulator/inbound', headers: { 'content-type': 'application/json' }, setupRequest: (req) => ({ ...req, body: JSON.stringify({ from: phone(n(), '198'), to: shortCode, message: 'HELLO' }) }) }),
  },
];

interface StreamResult {
  name: string;
  read: boolean;
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

async function runStreams(base: string, token: string, shortCode: string, streams: Stream[], seconds: number, connections: number, rates?: Record<string, number>): Promise<StreamResult[]> {
  const totalWeight = streams.reduce((s, x) => s + x.weight, 0);
  const n = () => ++phoneCounter;
  return Promise.all(
    streams.map(async (stream) => {
      const result = await autocannon({
        url: base,
        connections: Math.max(1, Math.round((connections * stream.weight) / totalWeight)),
        duration: seconds,
        headers: { authorization: `Bearer ${token}` },
        requests: [stream.build({ token, n, shortCode })],
        ...(rates ? { overallRate: Math.max(1, Math.round(rates[stream.name] ?? 1)) } : {}),
      });
      return {
        name: stream.name,
        read: stream.read,
        requestsPerSecond: Math.round(result.requests.average),
        p50Ms: result.latency.p50,
        p99Ms: result.latency.p99,
        non2xx: result.non2xx,
        errors: result.errors,
      };
    }),
  );
}

/** Resident memory (MiB) of a process, from /proc. */
function rssMiB(pid: number | undefined): number | undefined {
  if (!pid) return undefined;
  try {
    const match = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return match ? Math.round(Number(match[1]) / 1024) : undefined;
  } catch {
    return undefined;
  }
}

const mean = (xs: number[]) => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : 0);

export async function runMixedBench(opts: MixedOptions = {}): Promise<Record<string, unknown>> {
  const serverUrl = opts.databaseUrl ?? DEFAULT_BENCH_DATABASE_URL;
  const sustainSeconds = opts.sustainSeconds ?? 60;
  const probeSeconds = opts.probeSeconds ?? 10;
  const connections = opts.connections ?? 16;
  // Enough messages for the steady state to dominate: each phase ends with a fixed tail (the
  // simulator's 50 ms report delay, up to 250 ms of polling, the last batches' reports), a
  // sizeable part of a 2-second phase at 20,000 messages.
  const pipelineMessages = opts.pipelineMessages ?? 100_000;
  const dbName = 'shortcode_bench_mixed';
  const databaseUrl = await freshDatabase(serverUrl, dbName);

  const database = await openDatabase({ databaseUrl, poolSize: 2 });
  await migrateToLatest(database.db);
  const services = createServices(database.db, loadConfig({ NODE_ENV: 'production' }));
  const { account, user } = await services.accounts.create({ name: 'Bench', email: 'bench-mixed@example.test', password: 'bench-password' });
  await services.accounts.addCredits(account.id, 100_000_000);
  const { token } = await services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 'bench' });
  await database.close();

  const env = {
    DATABASE_URL: databaseUrl,
    NODE_ENV: 'production',
    RATE_LIMIT_MAX: '1000000000',
    LOG_LEVEL: 'warn',
    SIMULATOR_REPORT_DELAY_MS: '50',
    SECRETS_KEY: process.env.SECRETS_KEY ?? 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=',
  };
  const server = fileURLToPath(new URL('../src/server.ts', import.meta.url));
  const apiPort = await freePort();
  const api = await startProcess(process.execPath, ['--import', 'tsx', server, '--role', 'api'], { ...env, PORT: String(apiPort) }, /listening on/);
  const workers: Array<Awaited<ReturnType<typeof startProcess>>> = [];
  const startWorker = async () => {
    const port = await freePort();
    workers.push(await startProcess(process.execPath, ['--import', 'tsx', server, '--role', 'worker'], { ...env, PORT: String(port) }, /listening on/));
  };
  const stopWorkers = async () => {
    while (workers.length) await stopProcess(workers.pop()!);
  };
  const admin = new pg.Client({ connectionString: databaseUrl });
  await admin.connect();
  const base = `http://127.0.0.1:${apiPort}`;

  try {
    const doc = (await (await fetch(`${base}/v1/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const operations = new Set(Object.entries(doc.paths).flatMap(([p, item]) => Object.keys(item).map((m) => `${m.toUpperCase()} ${p}`)));
    const streams = STREAMS.filter((s) => s.needs.every((op) => operations.has(op)));
    const missing = STREAMS.filter((s) => !streams.includes(s)).map((s) => `${s.name} (${s.needs.join(', ')})`);

    // Some contacts for the list to page through.
    if (operations.has('POST /v1/contacts')) {
      for (let i = 0; i < 500; i++) {
        await fetch(`${base}/v1/contacts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ phone_number: uniquePhone(1_000_000 + i), first_name: `Seed ${i}` }),
        });
      }
    }

    // 1. The API alone (no worker), closed loop: the throughput it reaches.
    await runStreams(base, token, account.short_code, streams, 3, connections); // warm-up
    const alone = await runStreams(base, token, account.short_code, streams, probeSeconds, connections);
    const aloneTotal = alone.reduce((s, r) => s + r.requestsPerSecond, 0);

    // 2. That rate, open loop, with a worker running, for sustainSeconds; memory sampled each second.
    await startWorker();
    const samples: Array<{ t: number; api?: number; worker?: number }> = [];
    const t0 = Date.now();
    const sampler = setInterval(() => samples.push({ t: (Date.now() - t0) / 1000, api: rssMiB(api.pid), worker: rssMiB(workers[0]?.pid) }), 1_000);
    const rates = Object.fromEntries(alone.map((r) => [r.name, r.requestsPerSecond]));
    const sustained = await runStreams(base, token, account.short_code, streams, sustainSeconds, connections * 2, rates);
    clearInterval(sampler);
    const sustainedTotal = sustained.reduce((s, r) => s + r.requestsPerSecond, 0);
    const first = samples.filter((s) => s.t <= 10);
    const last = samples.filter((s) => s.t >= sustainSeconds - 10);
    const growth = (key: 'api' | 'worker') => {
      const a = mean(first.map((s) => s[key] ?? 0));
      const b = mean(last.map((s) => s[key] ?? 0));
      return a > 0 ? Number(((b - a) / a).toFixed(3)) : null;
    };
    const memory = {
      apiMiB: { first10s: Math.round(mean(first.map((s) => s.api ?? 0))), last10s: Math.round(mean(last.map((s) => s.api ?? 0))), growth: growth('api') },
      workerMiB: { first10s: Math.round(mean(first.map((s) => s.worker ?? 0))), last10s: Math.round(mean(last.map((s) => s.worker ?? 0))), growth: growth('worker') },
      samples: samples.map((s) => [Math.round(s.t), s.api, s.worker]),
    };
    const readP99 = Math.max(0, ...sustained.filter((r) => r.read).map((r) => r.p99Ms));

    // 3. The pipeline: messages queued while no worker runs, then drained by 1, then by 2 workers.
    let pipeline: Record<string, unknown> = { skipped: 'POST /v1/message/batch is not in the API' };
    if (operations.has('POST /v1/message/batch')) {
      const drain = async (workerCount: number) => {
        await stopWorkers();
        // Let reports and sends of the previous phase settle, then measure from an empty queue.
        const batchTag = `pipeline-${workerCount}-${Date.now()}`;
        const queuedFrom = new Date(Date.now() - 1000);
        for (let sent = 0; sent < pipelineMessages; sent += 1000) {
          const size = Math.min(1000, pipelineMessages - sent);
          const res = await fetch(`${base}/v1/message/batch`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify({ messages: Array.from({ length: size }, (_, i) => ({ phone_number: phone(2_000_000 + workerCount * 100_000 + sent + i), message: batchTag })) }),
          });
          if (res.status >= 300) throw new Error(`batch send answered ${res.status}: ${await res.text()}`);
        }
        const count = async (statuses: string[]) =>
          Number((await admin.query(`SELECT count(*)::int AS n FROM messages WHERE account_id = $3 AND created_at >= $4 AND message = $1 AND status = ANY($2)`, [batchTag, statuses, account.id, queuedFrom])).rows[0].n);
        const started = Date.now();
        await Promise.all(Array.from({ length: workerCount }, () => startWorker()));
        const startedAll = Date.now();
        const cpuBefore = machineCpu();
        const cpu = cpuMeter(Object.fromEntries(workers.map((w, i) => [`worker${i + 1}`, w.pid])));
        // Polled every 250 ms (the count scans this phase's messages; more often would load the
        // database being measured).
        for (;;) {
          const done = await count(['delivered', 'failed']);
          if (done >= pipelineMessages) break;
          if (Date.now() - startedAll > 300_000) throw new Error(`pipeline with ${workerCount} worker(s): ${done}/${pipelineMessages} after 5 minutes`);
          await new Promise((r) => setTimeout(r, 250));
        }
        const seconds = (Date.now() - startedAll) / 1000;
        const cpuAfter = machineCpu();
        const cpuPercent = cpu();
        // How busy the machine's cores were while the workers drained the queue: with both cores
        // busy under one worker, a second worker has no CPU to add throughput with.
        const machineCpuBusy = Number((1 - (cpuAfter.idle - cpuBefore.idle) / (cpuAfter.total - cpuBefore.total)).toFixed(2));
        return { workers: workerCount, messages: pipelineMessages, seconds: Number(seconds.toFixed(2)), startupSeconds: Number(((startedAll - started) / 1000).toFixed(2)), messagesPerSecond: Math.round(pipelineMessages / seconds), delivered: await count(['delivered']), machineCpuBusy, cpuPercent };
      };
      const one = await drain(1);
      const two = await drain(2);
      pipeline = { one, two, ratio: Number((two.messagesPerSecond / one.messagesPerSecond).toFixed(2)) };
    }

    const throughputRatio = aloneTotal > 0 ? Number((sustainedTotal / aloneTotal).toFixed(3)) : 0;
    const figures: Figure[] = [
      {
        figure: `mixed load (${streams.map((s) => s.name).join(', ')}) with a worker running, ${sustainSeconds} s at the rate the API reaches alone`,
        result: `${sustainedTotal.toLocaleString('en-US')} req/s`,
        baseline: `${aloneTotal.toLocaleString('en-US')} req/s (API alone, closed loop)`,
        ratio: throughputRatio,
        target: '≥ 0.95 (rate held)',
        met: throughputRatio >= 0.95,
      },
      { figure: 'p99 of reads under the mixed load', result: `${readP99} ms`, baseline: `${Math.max(0, ...alone.filter((r) => r.read).map((r) => r.p99Ms))} ms (API alone)`, ratio: null, target: '< 50 ms', met: readP99 < 50 },
      {
        figure: 'memory growth, first vs last 10 s (API / worker)',
        result: `${memory.apiMiB.last10s} / ${memory.workerMiB.last10s} MiB`,
        baseline: `${memory.apiMiB.first10s} / ${memory.workerMiB.first10s} MiB`,
        ratio: memory.apiMiB.growth === null ? null : Number((1 + Math.max(memory.apiMiB.growth, memory.workerMiB.growth ?? 0)).toFixed(3)),
        target: 'growth < 10% each',
        met: (memory.apiMiB.growth ?? 1) < 0.1 && (memory.workerMiB.growth ?? 1) < 0.1,
      },
    ];
    if ('ratio' in pipeline) {
      const p = pipeline as { one: { messagesPerSecond: number; machineCpuBusy?: number }; two: { messagesPerSecond: number; machineCpuBusy?: number }; ratio: number };
      figures.push({
        figure: `end-to-end pipeline, ${pipelineMessages.toLocaleString('en-US')} messages queued → delivered: 2 workers vs 1`,
        result: `${p.two.messagesPerSecond.toLocaleString('en-US')} msg/s (2 workers; CPU ${Math.round((p.two.machineCpuBusy ?? 0) * 100)}% busy)`,
        baseline: `${p.one.messagesPerSecond.toLocaleString('en-US')} msg/s (1 worker; the machine's CPU ${Math.round((p.one.machineCpuBusy ?? 0) * 100)}% busy)`,
        ratio: p.ratio,
        target: '≥ 1.6',
        met: p.ratio >= 1.6,
      });
    }
    return {
      scenario: 'mixed load (list, create, send, inbound, delivery reports) and the message pipeline with 1 and 2 workers',
      streams: streams.map((s) => s.name),
      missingStreams: missing,
      alone,
      aloneRequestsPerSecond: aloneTotal,
      sustained,
      sustainedRequestsPerSecond: sustainedTotal,
      sustainSeconds,
      readP99Ms: readP99,
      memory,
      pipeline,
      figures,
    };
  } finally {
    await admin.end();
    await stopWorkers();
    await stopProcess(api);
    await dropDatabase(serverUrl, dbName);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runMixedBench({ databaseUrl: process.env.DATABASE_URL, sustainSeconds: Number(process.env.SUSTAIN_SECONDS ?? 60) }), null, 2));
}

/** Jiffies of all cores since boot, and of those idle (idle + iowait), from /proc/stat. */
function machineCpu(): { total: number; idle: number } {
  const fields = fs.readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  return { total: fields.reduce((a, b) => a + b, 0), idle: (fields[3] ?? 0) + (fields[4] ?? 0) };
}
