import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAudienceBench } from './audience.js';
import { runCampaignsBench } from './campaigns.js';
import { runHttpBench } from './http.js';
import { DEFAULT_BENCH_DATABASE_URL } from './lib.js';
import { runMessagingBench } from './messaging.js';
import { runMixedBench } from './mixed.js';
import { toMarkdown, type BenchReport, type ScenarioResult } from './report.js';
import { runWebhooksBench } from './webhooks.js';

/**
 * `npm run bench [-- scenario ...]`: runs the benchmark scenarios (all by default) against the
 * PostgreSQL server in BENCH_DATABASE_URL (default: the local test server), prints each figure
 * beside its same-run baseline and the ratio, and writes bench/results/latest.{json,md}.
 * Running some scenarios keeps the others' last results (each result carries its own ranAt).
 * `npm run bench:readme` then regenerates the README's performance section from latest.json.
 */
type Scenario = (opts: { databaseUrl?: string }) => Promise<Record<string, unknown>>;

const scenarios: Record<string, Scenario> = {
  http: runHttpBench,
  audience: runAudienceBench,
  campaigns: runCampaignsBench,
  messaging: (opts) => runMessagingBench({ databaseUrl: opts.databaseUrl ?? DEFAULT_BENCH_DATABASE_URL }),
  webhooks: runWebhooksBench,
  mixed: runMixedBench,
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((name) => !scenarios[name]);
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Available: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : Object.keys(scenarios);
const databaseUrl = process.env.BENCH_DATABASE_URL;
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
const latest = path.join(dir, 'latest.json');

const previous = fs.existsSync(latest) ? (JSON.parse(fs.readFileSync(latest, 'utf8')) as Partial<BenchReport>) : {};
const results: Record<string, ScenarioResult> = {};
for (const [name, value] of Object.entries(previous.results ?? {})) {
  if (scenarios[name]) results[name] = { ranAt: previous.ranAt, ...value };
}
const machine = {
  cpus: os.cpus().length,
  cpuModel: os.cpus()[0]?.model,
  memoryGiB: Math.round(os.totalmem() / 2 ** 30),
  node: process.version,
  loadAverage: os.loadavg(),
};

let failed = false;
for (const name of selected) {
  console.error(`== ${name}`);
  const started = Date.now();
  const ranAt = new Date().toISOString();
  try {
    results[name] = { ...(await scenarios[name]!({ databaseUrl })), ranAt, seconds: Math.round((Date.now() - started) / 1000) };
  } catch (err) {
    failed = true;
    results[name] = { error: err instanceof Error ? (err.stack ?? err.message) : String(err), ranAt };
  }
  console.log(JSON.stringify({ [name]: results[name] }, null, 2));
}

const report: BenchReport = { ranAt: new Date().toISOString(), machine, results };
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(latest, `${JSON.stringify(report, null, 2)}\n`);
fs.writeFileSync(path.join(dir, 'latest.md'), toMarkdown(report));
console.error(`results written to ${path.relative(process.cwd(), dir)}/latest.{json,md}; run \`npm run bench:readme\` to update the README`);
process.exit(failed ? 1 : 0);
