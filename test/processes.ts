import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

/**
 * Real processes for the multi-process and fault tests: Shortcode servers (tsx), a private
 * redis-server and a private PostgreSQL cluster, each on a free 127.0.0.1 port, so a test may
 * stop or kill them without touching the services other tests use.
 */
export const root = path.resolve(import.meta.dirname, '..');
const tsxLoader = path.join(root, 'node_modules', 'tsx', 'dist', 'loader.mjs');

export const DEFAULT_SERVER_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Every process of a test shares one key for stored secrets (required in production with PostgreSQL). */
export const TEST_SECRETS_KEY = 'BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc=';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))));
    });
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 30_000, everyMs = 100): Promise<T> {
  const started = Date.now();
  let lastError: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value !== undefined && value !== false) return value;
    } catch (err) {
      lastError = err;
    }
    if (Date.now() - started > timeoutMs) throw new Error(`timed out waiting for ${what}${lastError ? `: ${String(lastError)}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface ServerProcess {
  child: ChildProcess;
  base: string;
  port: number;
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL and wait. */
  kill(): Promise<void>;
}

/** Starts `src/server.ts` with the given env and arguments; resolves once it listens. */
export async function startServer(env: Record<string, string>, args: string[] = [], timeoutMs = 60_000): Promise<ServerProcess> {
  const port = Number(env.PORT ?? (await freePort()));
  const child = spawn(process.execPath, ['--import', tsxLoader, path.join(root, 'src', 'server.ts'), ...args], {
    cwd: root,
    env: { ...process.env, NODE_ENV: 'production', LOG_LEVEL: 'warn', HOST: '127.0.0.1', SECRETS_KEY: TEST_SECRETS_KEY, ...env, PORT: String(port) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  child.stderr!.on('data', (c: Buffer) => (out = (out + c.toString()).slice(-200_000)));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  let listening = false;
  const early = exited.then((code) => {
    if (!listening) throw new Error(`server exited (${code ?? child.signalCode}) before listening:\n${out}`);
  });
  early.catch(() => undefined);
  await Promise.race([waitFor(`server ${args.join(' ')} to listen`, () => /listening on http/.test(out), timeoutMs, 50), early]).catch((err: unknown) => {
    child.kill('SIGKILL');
    throw err;
  });
  listening = true;
  return {
    child,
    port,
    base: `http://127.0.0.1:${port}`,
    output: () => out,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
      child.kill('SIGTERM');
      return exited;
    },
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await exited;
    },
  };
}

/** The scale topology of the multi-process proofs: 2 API and 2 worker processes of one build, started at once. */
export async function startApisAndWorkers(env: Record<string, string>): Promise<{ apis: ServerProcess[]; workers: ServerProcess[] }> {
  const [apis, workers] = await Promise.all([
    Promise.all([startServer(env, ['--role', 'api']), startServer(env, ['--role', 'api'])]),
    Promise.all([startServer(env, ['--role', 'worker']), startServer(env, ['--role', 'worker'])]),
  ]);
  return { apis, workers };
}

export interface PrivateRedis {
  port: number;
  url: string;
  start(): Promise<void>;
  /** SIGKILL: the outage is abrupt. */
  kill(): Promise<void>;
}

export async function privateRedis(): Promise<PrivateRedis> {
  const port = await freePort();
  let child: ChildProcess | undefined;
  const redis: PrivateRedis = {
    port,
    url: `redis://127.0.0.1:${port}`,
    async start() {
      child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
      await waitFor('redis to answer', () => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout.trim() === 'PONG', 10_000);
    },
    async kill() {
      const c = child;
      if (!c || c.exitCode !== null || c.signalCode !== null) return;
      await new Promise<void>((resolve) => {
        c.once('exit', () => resolve());
        c.kill('SIGKILL');
      });
    },
  };
  await redis.start();
  return redis;
}

/** A scratch database on a PostgreSQL server; drop() removes it. */
export async function scratchDatabase(serverUrl: string, prefix: string): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `${prefix}_${Date.now().toString(36)}${Math.random().toString(36).slice(2, 8)}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export interface PrivatePostgres {
  port: number;
  url: string;
  dir: string;
  start(): Promise<void>;
  /** pg_ctl stop -m fast: the server goes away, connections are cut. */
  stop(): Promise<void>;
  destroy(): Promise<void>;
}

function pgBin(name: string): string {
  const base = '/usr/lib/postgresql';
  const versions = fs.existsSync(base) ? fs.readdirSync(base).sort((x, y) => Number(y) - Number(x)) : [];
  for (const v of versions) {
    const candidate = path.join(base, v, 'bin', name);
    if (fs.existsSync(candidate)) return candidate;
  }
  return name;
}

/** Runs a PostgreSQL binary as the postgres user when we are root (initdb refuses root). */
function asPostgres(command: string, args: string[]) {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  const result = isRoot
    ? spawnSync('runuser', ['-u', 'postgres', '--', command, ...args], { encoding: 'utf8' })
    : spawnSync(command, args, { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')} failed (${result.status}): ${result.stderr || result.stdout}`);
  return result.stdout;
}

/**
 * A throw-away PostgreSQL cluster (initdb into a temp directory, trust auth, 127.0.0.1 only),
 * so a test can stop and start PostgreSQL without touching the server other tests use.
 */
export async function privatePostgres(): Promise<PrivatePostgres> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-pg-'));
  const data = path.join(dir, 'data');
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  if (isRoot) spawnSync('chown', ['-R', 'postgres', dir]);
  asPostgres(pgBin('initdb'), ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-sync', '-E', 'UTF8']);
  const port = await freePort();
  const options = `-p ${port} -c listen_addresses=127.0.0.1 -c unix_socket_directories=${dir} -c fsync=off -c max_connections=100`;
  const logFile = path.join(dir, 'log');
  const server: PrivatePostgres = {
    port,
    dir,
    url: `postgres://postgres@127.0.0.1:${port}/postgres`,
    async start() {
      asPostgres(pgBin('pg_ctl'), ['-D', data, '-l', logFile, '-o', options, '-w', '-t', '30', 'start']);
    },
    async stop() {
      asPostgres(pgBin('pg_ctl'), ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    },
    async destroy() {
      try {
        asPostgres(pgBin('pg_ctl'), ['-D', data, '-m', 'immediate', '-w', '-t', '30', 'stop']);
      } catch {
        // not running
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
  await server.start();
  return server;
}

/** Sets up an account and a token in a database through the admin CLI (as an operator would). */
export function cli(env: Record<string, string>, args: string[]): Record<string, unknown> {
  const result = spawnSync(process.execPath, ['--import', tsxLoader, path.join(root, 'src', 'cli', 'admin.ts'), ...args], {
    cwd: root,
    env: { ...process.env, SECRETS_KEY: TEST_SECRETS_KEY, ...env },
    encoding: 'utf8',
  });
  if (result.status !== 0) throw new Error(`admin CLI ${args.join(' ')} failed: ${result.stderr}`);
  return JSON.parse(result.stdout) as Record<string, unknown>;
}

export function newToken(env: Record<string, string>, accountId: string, name = 'test'): string {
  return String(cli(env, ['token', 'create', '--account', accountId, '--name', name]).token);
}

export async function newAccountToken(env: Record<string, string>, name = 'Load'): Promise<{ accountId: string; token: string }> {
  const email = `${name.toLowerCase()}-${Date.now()}-${Math.random().toString(36).slice(2, 7)}@example.test`;
  const account = cli(env, ['account', 'create', '--name', name, '--email', email, '--password', 'correct horse battery']);
  const token = cli(env, ['token', 'create', '--account', String(account.id), '--name', 'test']);
  return { accountId: String(account.id), token: String(token.token) };
}
