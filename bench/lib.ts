import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';

export const DEFAULT_BENCH_DATABASE_URL = 'postgres://postgres@127.0.0.1:5432/test';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

/**
 * Starts a child process with its output going to a log file (so reading it costs the load
 * generator nothing) and resolves once the log shows a line matching `ready`.
 */
export async function startProcess(command: string, args: string[], env: Record<string, string>, ready: RegExp, timeoutMs = 60_000): Promise<ChildProcess> {
  const logFile = path.join(os.tmpdir(), `shortcode-bench-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2)}.log`);
  const fd = fs.openSync(logFile, 'w');
  const child = spawn(command, args, { env: { ...process.env, ...env }, stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  const started = Date.now();
  for (;;) {
    const output = fs.readFileSync(logFile, 'utf8');
    if (ready.test(output)) break;
    if (child.exitCode !== null) throw new Error(`process exited with ${child.exitCode}:\n${output}`);
    if (Date.now() - started > timeoutMs) {
      child.kill('SIGKILL');
      throw new Error(`process did not become ready:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  child.once('exit', () => fs.rm(logFile, { force: true }, () => undefined));
  return child;
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  await new Promise<void>((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

export interface LoadResult {
  requestsPerSecond: number;
  p50Ms: number;
  p99Ms: number;
  non2xx: number;
  errors: number;
}

export async function load(url: string, headers: Record<string, string>, durationSeconds: number, connections = 50): Promise<LoadResult> {
  const result = await autocannon({ url, headers, duration: durationSeconds, connections, pipelining: 1 });
  return {
    requestsPerSecond: Math.round(result.requests.average),
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    non2xx: result.non2xx,
    errors: result.errors,
  };
}

/** Creates (or recreates) a scratch database on the server and returns its URL. */
export async function freshDatabase(serverUrl: string, name: string): Promise<string> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function dropDatabase(serverUrl: string, name: string): Promise<void> {
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.end();
}

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[index]!;
}

/** The round with the median of `value` (the round's other figures come with it). */
export function medianBy<T>(rounds: readonly T[], value: (round: T) => number): T {
  const sorted = [...rounds].sort((a, b) => value(a) - value(b));
  return sorted[Math.floor(sorted.length / 2)]!;
}

/** CPU seconds (user + system) a process has used so far, from /proc (Linux); 0 when unreadable. */
function processCpuSeconds(pid: number): number {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return 0;
  }
}

/** The PostgreSQL server's processes (every backend and helper) on this machine. */
function postgresPids(): number[] {
  try {
    return fs
      .readdirSync('/proc')
      .filter((name) => /^\d+$/.test(name))
      .map(Number)
      .filter((pid) => {
        try {
          return fs.readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'postgres';
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/**
 * Where a phase's CPU went: this process, named child processes and the PostgreSQL server, in
 * % of one core over the phase's wall time. `const done = cpuMeter({ receiver: pid }); ...; done()`.
 */
export function cpuMeter(children: Record<string, number | undefined> = {}) {
  const started = performance.now();
  const self = process.cpuUsage();
  // Per server process: a backend that starts during the phase counts from zero; one that exits
  // takes its share with it (the pools keep theirs open during a phase).
  const postgres = () => new Map(postgresPids().map((pid) => [pid, processCpuSeconds(pid)]));
  const pg0 = postgres();
  const child0 = Object.fromEntries(Object.entries(children).map(([name, pid]) => [name, pid ? processCpuSeconds(pid) : 0]));
  return (): Record<string, number> => {
    const wall = (performance.now() - started) / 1000;
    const used = process.cpuUsage(self);
    const pct = (seconds: number) => Math.round((seconds / wall) * 100);
    return {
      self: pct((used.user + used.system) / 1e6),
      ...Object.fromEntries(Object.entries(children).map(([name, pid]) => [name, pid ? pct(processCpuSeconds(pid) - child0[name]!) : 0])),
      postgres: pct([...postgres()].reduce((sum, [pid, seconds]) => sum + seconds - (pg0.get(pid) ?? 0), 0)),
    };
  };
}
