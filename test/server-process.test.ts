import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';

/**
 * The newcomer's path, end to end with real processes: `npm start` on an empty data directory
 * prints a demo login and token once, the token works, the admin CLI refuses to share the
 * embedded database with a running server, SIGTERM shuts down cleanly, and a restart keeps data.
 */
const root = path.resolve(import.meta.dirname, '..');
// node --import tsx, as `npm start` runs it: no tsx wrapper process between the signal and the server.
const node = (script: string) => [process.execPath, ['--import', 'tsx', script]] as const;
let dataDir: string;

function startServer(): Promise<{ child: ChildProcessWithoutNullStreams; output: () => string; base: string }> {
  const [bin, args] = node('src/server.ts');
  const child = spawn(bin, [...args], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir, PORT: '0', LOG_LEVEL: 'warn', NODE_ENV: 'production' },
  });
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr.on('data', (c: Buffer) => (out += c.toString()));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`server did not start:\n${out}`)), 60_000);
    const check = setInterval(() => {
      const match = /listening on (http:\/\/[^\s]+)/.exec(out);
      if (match && /Dashboard:/.test(out)) {
        clearInterval(check);
        clearTimeout(timer);
        resolve({ child, output: () => out, base: match[1]! });
      }
    }, 50);
    child.on('exit', (code) => {
      clearInterval(check);
      clearTimeout(timer);
      reject(new Error(`server exited with ${code}:\n${out}`));
    });
  });
}

function stop(child: ChildProcessWithoutNullStreams): Promise<number | null> {
  child.removeAllListeners('exit');
  return new Promise((resolve) => {
    child.once('exit', (code) => resolve(code));
    child.kill('SIGTERM');
  });
}

function cli(args: string[]) {
  const [bin, base] = node('src/cli/admin.ts');
  return spawnSync(bin, [...base, ...args], { cwd: root, env: { ...process.env, DATABASE_URL: '', DATA_DIR: dataDir }, encoding: 'utf8' });
}

/** A POST whose headers go now and whose body goes when `finish` is called. */
function requestWithPendingBody(url: string, token: string, body: string) {
  const req = http.request(url, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    req.on('response', (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, body: text }));
    });
    req.on('error', reject);
  });
  const continued = new Promise<void>((resolve) => req.once('continue', resolve));
  req.flushHeaders();
  return {
    continued,
    finish: () => {
      req.end(body);
      return response;
    },
  };
}

const dataDirs: string[] = [];
beforeEach(() => {
  // A fresh directory per attempt: a retry must see an empty database again.
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-server-test-'));
  dataDirs.push(dataDir);
});
afterAll(() => {
  for (const dir of dataDirs) fs.rmSync(dir, { recursive: true, force: true });
});

describe('npm start on the embedded database', () => {
  it('prints a working demo token once, guards the data directory, and shuts down gracefully', async () => {
    const first = await startServer();
    const out = first.output();
    expect(out).toMatch(/login:\s+demo@shortcode\.local/);
    expect(out).toMatch(/API reference:\s+http:\/\/127\.0\.0\.1:\d+\/v1\/docs/);
    const token = /access token:\s+([0-9a-f-]{36})/.exec(out)?.[1];
    expect(token).toBeDefined();

    const res = await fetch(`${first.base}/v1/carriers?limit=2`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    const body = (await res.json()) as { data: unknown[]; meta: { pagination: { per_page: number } } };
    expect(body.data).toHaveLength(2);
    expect(body.meta.pagination.per_page).toBe(2);

    const blocked = cli(['migrate']);
    expect(blocked.status).toBe(1);
    expect(blocked.stdout).toBe('');
    expect(JSON.parse(blocked.stderr).error).toMatch(/is running on the embedded database/);

    // A request in flight when SIGTERM arrives still gets its answer. "In flight" is made certain,
    // not guessed with a delay: the server's 100 Continue says it has taken the request, and the
    // body is sent only after the signal.
    const { continued, finish } = requestWithPendingBody(`${first.base}/v1/message/preview`, token!, JSON.stringify({ message: 'Still answered' }));
    await continued;
    const exit = stop(first.child);
    const answered = await finish();
    expect(answered.status).toBe(200);
    expect(JSON.parse(answered.body).data).toMatchObject({ encoding: 'GSM-7', segments: 1 });
    expect(await exit).toBe(0);

    // After the stop the CLI may use the directory; the server's data is there.
    const created = cli(['account', 'create', '--name', 'Second', '--email', 'second@example.test', '--password', 'long password']);
    expect(created.status).toBe(0);
    expect(JSON.parse(created.stdout)).toEqual({ id: expect.any(String), user_id: expect.any(String), short_code: expect.stringMatching(/^\d{5,6}$/) });

    const second = await startServer();
    expect(second.output()).not.toMatch(/demo account was created/);
    const again = await fetch(`${second.base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    expect(await stop(second.child)).toBe(0);
    // Four processes each open the embedded database (two servers, two CLI runs): about 32 s on
    // this 2-core machine when alone, 57-60 s beside another suite.
  }, 180_000);
});
