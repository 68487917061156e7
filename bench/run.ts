import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runAudienceBench } from './audience.js';
import { runCampaignsBench } from './campaigns.js';
import { runHttpBench } from './http.js';

/**
 * `npm run bench [-- scenario ...]`: runs the benchmark scenarios (all by default) against the
 * PostgreSQL server in BENCH_DATABASE_URL (default: the local test server), prints each figure
 * beside its same-run baseline and the ratio, and writes bench/results/latest.{json,md}.
 */
type Scenario = (opts: { databaseUrl?: string }) => Promise<Record<string, unknown>>;

const scenarios: Record<string, Scenario> = {
  http: runHttpBench,
  audience: runAudienceBench,
  campaigns: runCampaignsBench,
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const unknown = requested.filter((name) => !scenarios[name]);
if (unknown.length > 0) {
  console.error(`Unknown scenario(s): ${unknown.join(', ')}. Available: ${Object.keys(scenarios).join(', ')}`);
  process.exit(2);
}
const selected = requested.length > 0 ? requested : Object.keys(scenarios);
const databaseUrl = process.env.BENCH_DATABASE_URL;

const results: Record<string, unknown> = {};
for (const name of selected) {
  console.error(`== ${name}`);
  const started = Date.now();
  try {
    results[name] = { ...(await scenarios[name]!({ databaseUrl })), seconds: Math.round((Date.now() - started) / 1000) };
  } catch (err) {
    results[name] = { error: err instanceof Error ? err.message : String(err) };
  }
  console.log(JSON.stringify({ [name]: results[name] }, null, 2));
}

const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version };
const report = { ranAt: new Date().toISOString(), machine, results };
const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), 'results');
fs.mkdirSync(dir, { recursive: true });
fs.writeFileSync(path.join(dir, 'latest.json'), `${JSON.stringify(report, null, 2)}\n`);
fs.writeFileSync(path.join(dir, 'latest.md'), toMarkdown(report));
console.error(`results written to ${path.relative(process.cwd(), dir)}/latest.{json,md}`);

function toMarkdown(r: typeof report): string {
  const lines = [`# Benchmark results`, '', `Run ${r.ranAt} on ${r.machine.cpus} × ${r.machine.cpuModel}, ${r.machine.memoryGiB} GiB, Node ${r.machine.node}.`, ''];
  for (const [name, value] of Object.entries(r.results)) {
    lines.push(`## ${name}`, '', '```json', JSON.stringify(value, null, 2), '```', '');
  }
  return `${lines.join('\n')}\n`;
}
