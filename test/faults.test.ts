import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sql } from 'kysely';
import { openDatabase } from '../src/db/database.js';
import { isDatabaseUnavailable } from '../src/http/error-handler.js';
import { DEFAULT_SERVER_URL, freePort, newAccountToken, newToken, privatePostgres, scratchDatabase, startServer, waitFor, type PrivatePostgres, type ServerProcess } from './processes.js';

/**
 * Faults with real processes: PostgreSQL restarted under load (a private cluster, never the
 * shared server), Redis unreachable from the start, a read-only data directory for the
 * embedded database, and SIGKILL right after the embedded server acknowledged a write.
 */

interface Outcome {
  status: number;
  ms: number;
  at: number;
}

async function timed(url: string, init: RequestInit = {}): Promise<Outcome> {
  const t0 = Date.now();
  try {
    const res = await fetch(url, { ...init, signal: AbortSignal.timeout(15_000) });
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - t0, at: t0 };
  } catch {
    return { status: 0, ms: Date.now() - t0, at: t0 };
  }
}

describe('PostgreSQL restarted during load', () => {
  let postgres: PrivatePostgres;
  let api: ServerProcess;
  let env: Record<string, string>;
  let token: string;
  /** Tokens the API has never seen: its 5 s token cache cannot answer for them. */
  let fresh: string[];

  beforeAll(async () => {
    postgres = await privatePostgres();
    env = { DATABASE_URL: postgres.url, RATE_LIMIT_MAX: '1000000' };
    const owner = await newAccountToken(env);
    token = owner.token;
    // Issued here, not in the test: each is a CLI process, slow on a loaded machine.
    fresh = [newToken(env, owner.accountId), newToken(env, owner.accountId)];
    api = await startServer({ ...env, ROLE: 'all' });
  }, 180_000);
  afterAll(async () => {
    await api?.kill();
    await postgres?.destroy();
  });

  it('answers 503 fast while it is down, recovers on its own once it is back, and loses no acknowledged write', async () => {
    const outcomes: Outcome[] = [];
    /** Contacts created during the load: the phone number and, when the API answered 201, the id. */
    const writes: Array<{ phone: string; status: number; id?: string; at: number }> = [];
    let loading = true;
    let n = 0;
    const write = async () => {
      const phone = `+1202555${String(1000 + n++).padStart(4, '0')}`;
      const t0 = Date.now();
      try {
        const res = await fetch(`${api.base}/v1/contacts`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ phone_number: phone, first_name: 'Load' }),
          signal: AbortSignal.timeout(15_000),
        });
        const body = (await res.json()) as { data?: { id: string } };
        writes.push({ phone, status: res.status, id: res.status === 201 ? body.data?.id : undefined, at: t0 });
        outcomes.push({ status: res.status, ms: Date.now() - t0, at: t0 });
      } catch {
        writes.push({ phone, status: 0, at: t0 });
        outcomes.push({ status: 0, ms: Date.now() - t0, at: t0 });
      }
    };
    const load = (async () => {
      while (loading) {
        const batch = await Promise.all([
          timed(`${api.base}/v1/carriers?limit=5`, { headers: { authorization: `Bearer ${token}` } }),
          timed(`${api.base}/readyz`),
          write(),
        ]);
        outcomes.push(...batch.filter((o): o is Outcome => o !== undefined));
      }
    })();

    await waitFor('writes before the restart', () => writes.filter((w) => w.status === 201).length >= 10, 30_000, 50);
    const stoppedAt = Date.now();
    await postgres.stop();

    // While it is down: readiness and uncached work fail fast, in the documented shape.
    const ready = await timed(`${api.base}/readyz`);
    expect(ready.status, api.output().slice(-3000)).toBe(503);
    expect(ready.ms).toBeLessThan(3_000);
    const t0 = Date.now();
    const res = await fetch(`${api.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${fresh[0]}` }, signal: AbortSignal.timeout(15_000) });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('5');
    expect(await res.json()).toEqual({ status: 503, message: expect.any(String), errors: {} });
    await new Promise((r) => setTimeout(r, 1_500));

    await postgres.start();
    const restartedAt = Date.now();
    // No restart of the API: its pool reconnects by itself.
    await waitFor('the API to be ready again', async () => (await timed(`${api.base}/readyz`)).status === 200, 20_000, 200);
    const recoveredMs = Date.now() - restartedAt;
    const again = await fetch(`${api.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${fresh[1]}` } });
    expect(again.status).toBe(200);
    const writesBack = writes.length;
    await waitFor('writes after the restart', () => writes.slice(writesBack).filter((w) => w.status === 201).length >= 10, 30_000, 50);
    loading = false;
    await load;

    const statuses = new Set(outcomes.map((o) => o.status));
    expect([...statuses].filter((s) => s !== 200 && s !== 201 && s !== 503), JSON.stringify([...statuses])).toEqual([]);
    const during = outcomes.filter((o) => o.at >= stoppedAt && o.at < restartedAt);
    expect(during.length).toBeGreaterThan(0);
    expect(during.filter((o) => o.status === 503).length).toBeGreaterThan(0);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(6_000);
    expect(outcomes.filter((o) => o.at > restartedAt + recoveredMs + 200).every((o) => o.status === 200 || o.status === 201)).toBe(true);

    // Every write the API acknowledged is in the database, with the id it answered.
    const acknowledged = writes.filter((w) => w.status === 201);
    expect(acknowledged.every((w) => typeof w.id === 'string')).toBe(true);
    expect(writes.filter((w) => w.status !== 201 && w.status !== 503)).toEqual([]);
    const check = new pg.Client({ connectionString: postgres.url });
    await check.connect();
    try {
      const rows = (await check.query<{ id: string; phone_number: string }>(`SELECT id, phone_number FROM contacts WHERE phone_number LIKE '+1202555%'`)).rows;
      const stored = new Map(rows.map((r) => [r.phone_number, r.id]));
      expect(acknowledged.filter((w) => stored.get(w.phone) !== w.id)).toEqual([]);
      console.info(
        `PostgreSQL restart: ${outcomes.length} requests (${writes.length} writes, ${acknowledged.length} acknowledged, all stored), ` +
          `${outcomes.filter((o) => o.status === 503).length} answered 503 while down, slowest ${Math.max(...outcomes.map((o) => o.ms))} ms, ` +
          `ready again ${recoveredMs} ms after PostgreSQL was back`,
      );
    } finally {
      await check.end();
    }
  }, 180_000);
});

describe('a PostgreSQL connection cut while a transaction holds it', () => {
  let scratch: { url: string; drop(): Promise<void> } | undefined;
  afterAll(async () => {
    await scratch?.drop();
  });

  it('fails the next statement as "database unavailable" instead of crashing the process', async () => {
    scratch = await scratchDatabase(process.env.DATABASE_URL || DEFAULT_SERVER_URL, 'shortcode_cut');
    const database = await openDatabase({ databaseUrl: scratch.url, poolSize: 2 });
    const admin = new pg.Client({ connectionString: scratch.url });
    await admin.connect();
    try {
      const failure = await database.db
        .transaction()
        .execute(async (trx) => {
          const pid = (await sql<{ pid: number }>`SELECT pg_backend_pid() AS pid`.execute(trx)).rows[0]!.pid;
          // The server ends the connection (as a restart does) while no query is running on it:
          // the FATAL arrives as an 'error' event on a client the pool has lent out.
          await admin.query('SELECT pg_terminate_backend($1)', [pid]);
          await new Promise((r) => setTimeout(r, 300));
          await sql`SELECT 1`.execute(trx);
        })
        .then(
          () => undefined,
          (err: unknown) => err,
        );
      expect(isDatabaseUnavailable(failure), String(failure)).toBe(true);
      // The broken connection was discarded: the next statements get a healthy one.
      for (let i = 0; i < 3; i++) expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(database.db)).rows).toEqual([{ one: 1 }]);
    } finally {
      await admin.end();
      await database.close();
    }
  });
});

describe('Redis unreachable from the start', () => {
  let postgres: PrivatePostgres;
  let api: ServerProcess;
  afterAll(async () => {
    await api?.kill();
    await postgres?.destroy();
  });

  it('serves the API, counting rate limits in the process, without slowing down', async () => {
    postgres = await privatePostgres();
    const env = { DATABASE_URL: postgres.url, RATE_LIMIT_MAX: '5' };
    const { token } = await newAccountToken(env);
    api = await startServer({ ...env, REDIS_URL: `redis://127.0.0.1:${await freePort()}` });
    const outcomes: Outcome[] = [];
    for (let i = 0; i < 7; i++) outcomes.push(await timed(`${api.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${token}` } }));
    expect(outcomes.map((o) => o.status)).toEqual([200, 200, 200, 200, 200, 429, 429]);
    expect(Math.max(...outcomes.map((o) => o.ms))).toBeLessThan(1_000);
    await waitFor('the warning', () => /Redis is unavailable/.test(api.output()), 5_000);
  }, 120_000);
});

describe('the embedded database directory', () => {
  const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
  let base: string;
  let mounted: string | undefined;
  beforeAll(() => {
    base = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-datadir-'));
  });
  afterAll(() => {
    if (mounted) spawnSync('umount', ['-l', mounted]);
    fs.rmSync(base, { recursive: true, force: true });
  });

  const demoToken = (output: string) => /access token:\s+([0-9a-f-]{36})/.exec(output)?.[1];
  let killedToken: string | undefined;

  it('keeps a write acknowledged just before SIGKILL (the demo account and its token)', async () => {
    const dataDir = path.join(base, 'killed');
    const first = await startServer({ DATABASE_URL: '', DATA_DIR: dataDir });
    const token = demoToken(first.output());
    expect(token).toBeDefined();
    killedToken = token;
    await first.kill(); // no shutdown, no checkpoint: straight after the acknowledgement
    const second = await startServer({ DATABASE_URL: '', DATA_DIR: dataDir });
    try {
      expect(second.output()).not.toMatch(/demo account was created/);
      const res = await fetch(`${second.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      expect(await second.stop()).toBe(0);
    }
  }, 180_000);

  it('refuses to start on a read-only data directory with a clear error, and the data is intact afterwards', async () => {
    // The directory the previous test left, stopped cleanly, with its demo token.
    const dataDir = path.join(base, 'killed');
    const token = killedToken;
    expect(token).toBeDefined();

    // Root ignores file permissions: make the directory read-only with a read-only bind mount.
    if (isRoot) {
      const bind = spawnSync('mount', ['--bind', dataDir, dataDir], { encoding: 'utf8' });
      expect(bind.status, bind.stderr).toBe(0);
      mounted = dataDir;
      const ro = spawnSync('mount', ['-o', 'remount,bind,ro', dataDir], { encoding: 'utf8' });
      expect(ro.status, ro.stderr).toBe(0);
    } else {
      spawnSync('chmod', ['-R', 'a-w', dataDir]);
    }
    const before = snapshot(dataDir);
    const t0 = Date.now();
    const failed = await startServer({ DATABASE_URL: '', DATA_DIR: dataDir }).then(
      async (p) => {
        await p.kill();
        return undefined;
      },
      (err: Error) => err.message,
    );
    console.info(`read-only DATA_DIR: refused in ${Date.now() - t0} ms`);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(failed).toMatch(/exited \(1\) before listening/);
    expect(failed).toMatch(/data directory .* is not writable/i);
    expect(failed).not.toMatch(/\n\s+at /); // a sentence, not a stack trace
    expect(snapshot(dataDir)).toEqual(before);

    if (isRoot) {
      expect(spawnSync('umount', [dataDir]).status).toBe(0);
      mounted = undefined;
    } else {
      spawnSync('chmod', ['-R', 'u+w', dataDir]);
    }
    const again = await startServer({ DATABASE_URL: '', DATA_DIR: dataDir });
    try {
      const res = await fetch(`${again.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status).toBe(200);
    } finally {
      await again.stop();
    }
  }, 180_000);
});

describe.runIf(process.getuid?.() === 0)('a full disk under the embedded database (needs root: mounts a small tmpfs)', () => {
  let mountPoint: string | undefined;
  afterAll(() => {
    if (mountPoint) {
      spawnSync('umount', ['-l', mountPoint]);
      fs.rmSync(mountPoint, { recursive: true, force: true });
    }
  });

  it('fills up during writes: 507 in the documented shape, reads go on; SIGKILLed while full it refuses to start plainly; with room again every acknowledged record is there', async () => {
    mountPoint = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-full-'));
    const mount = spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=64m', 'tmpfs', mountPoint], { encoding: 'utf8' });
    expect(mount.status, mount.stderr).toBe(0);
    const dir = mountPoint;
    const dataDir = path.join(dir, 'data');
    const env = { DATABASE_URL: '', DATA_DIR: dataDir, RATE_LIMIT_MAX: '1000000' };
    let server = await startServer(env);
    const token = /access token:\s+([0-9a-f-]{36})/.exec(server.output())?.[1];
    expect(token).toBeDefined();
    const auth = { authorization: `Bearer ${token}` };
    const avail = () => Number(spawnSync('df', ['--output=avail', dir], { encoding: 'utf8' }).stdout.trim().split('\n').at(-1));
    const filler = path.join(dir, 'filler');
    /** Fills the file system, leaving `kib` KiB. */
    const fill = (kib: number) => expect(spawnSync('dd', ['if=/dev/zero', `of=${filler}`, 'bs=1K', `count=${avail() - kib}`]).status).toBe(0);

    const acknowledged = new Map<string, string>();
    const refusals: Array<{ status: number; body: unknown }> = [];
    let n = 0;
    const create = async () => {
      const phone = `+1202${5_000_000 + n++}`;
      const res = await fetch(`${server.base}/v1/contacts`, {
        method: 'POST',
        headers: { ...auth, 'content-type': 'application/json' },
        body: JSON.stringify({ phone_number: phone, first_name: 'Filling the disk up' }),
        signal: AbortSignal.timeout(15_000),
      });
      const body = (await res.json()) as { data?: { id: string } };
      if (res.status === 201) acknowledged.set(phone, body.data!.id);
      else refusals.push({ status: res.status, body });
      return res.status;
    };
    const writeUntilRefused = async (count: number) => {
      const before = refusals.length;
      while (refusals.length - before < count) {
        await Promise.all([create(), create()]);
        expect(n, 'the disk never filled up').toBeLessThan(20_000);
      }
    };

    // About 200 KiB left: a few dozen contacts, then every write is refused, whole.
    const started = Date.now();
    fill(200);
    await writeUntilRefused(10);
    const beforeFull = acknowledged.size;
    expect(beforeFull).toBeGreaterThan(10);
    expect(refusals.filter((r) => r.status !== 507)).toEqual([]);
    expect(refusals[0]!.body).toEqual({ status: 507, message: expect.stringMatching(/run out of storage space: nothing was saved/), errors: {} });
    expect(server.output()).toMatch(/storage full/);
    // Reads go on while the disk is full.
    expect((await fetch(`${server.base}/readyz`)).status).toBe(200);
    const listed = await fetch(`${server.base}/v1/contacts?limit=1`, { headers: auth });
    expect(listed.status).toBe(200);
    expect(((await listed.json()) as { meta: { pagination: { total: number } } }).meta.pagination.total).toBe(acknowledged.size);

    // Space freed: writes succeed again, without a restart.
    fs.rmSync(filler);
    for (let i = 0; i < 3; i++) expect(await create()).toBe(201);
    // Full again, and the server SIGKILLed while it is: no shutdown, no checkpoint.
    fill(100);
    await writeUntilRefused(2);
    await server.kill();
    const fillSeconds = (Date.now() - started) / 1000;

    // A start on the full disk is refused with one plain sentence, and touches nothing.
    fs.rmSync(filler);
    fill(0);
    expect(avail()).toBe(0);
    const before = snapshot(dataDir);
    const failed = await startServer(env).then(
      async (p) => {
        await p.kill();
        return undefined;
      },
      (err: Error) => err.message,
    );
    expect(failed).toMatch(/exited \(1\) before listening/);
    expect(failed).toMatch(/is not writable: it is on a full disk \(ENOSPC\)/);
    expect(failed).not.toMatch(/\n\s+at /);
    expect(snapshot(dataDir)).toEqual(before);

    // Room again: it starts, and every write it acknowledged is there with the id it answered.
    fs.rmSync(filler);
    server = await startServer(env);
    try {
      const stored = new Map<string, string>();
      for (let page = 1; ; page++) {
        const res = await fetch(`${server.base}/v1/contacts?limit=100&page=${page}`, { headers: auth });
        expect(res.status).toBe(200);
        const body = (await res.json()) as { data: Array<{ id: string; phone_number: string }>; meta: { pagination: { total_pages: number } } };
        for (const c of body.data) stored.set(c.phone_number, c.id);
        if (page >= body.meta.pagination.total_pages) break;
      }
      expect(stored.size).toBe(acknowledged.size);
      expect([...acknowledged].filter(([phone, id]) => stored.get(phone) !== id)).toEqual([]);
      console.info(
        `DATA_DIR filling up: ${beforeFull} writes acknowledged, then ${refusals.length} answered 507 in all (${fillSeconds.toFixed(1)} s); ` +
          `SIGKILLed while full, refused to start on the full disk; with room again all ${acknowledged.size} acknowledged contacts are there`,
      );
    } finally {
      expect(await server.stop()).toBe(0);
    }
  }, 240_000);
});

/** Every file's size and mtime under a directory. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const full = path.join(d, entry.name);
      if (entry.isDirectory()) walk(full);
      else {
        const st = fs.statSync(full);
        out[path.relative(dir, full)] = `${st.size}:${st.mtimeMs}`;
      }
    }
  };
  walk(dir);
  return out;
}
