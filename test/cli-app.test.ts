import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { testConfig } from './helpers.js';
import { basic, form, getCode, signedInUser } from './oauth-helpers.js';

const run = promisify(execFile);
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'shortcode-cli-'));
afterAll(() => fs.rmSync(dataDir, { recursive: true, force: true }));

/** The admin CLI against its own embedded database (a temporary DATA_DIR). */
async function cli(...args: string[]) {
  const env: NodeJS.ProcessEnv = { ...process.env, DATA_DIR: dataDir, NODE_ENV: 'test' };
  delete env.DATABASE_URL;
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', 'src/cli/admin.ts', ...args], { env });
    return { code: 0, stdout, stderr };
  } catch (err) {
    const e = err as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

describe('shortcode-admin app create', () => {
  it('registers an application with repeated --redirect-uri and prints its client_id and secret as JSON', { timeout: 180_000 }, async () => {
    const account = await cli('account', 'create', '--name', 'CLI', '--email', 'cli@example.test', '--password', 'a good password');
    expect(account.code).toBe(0);
    const accountId = JSON.parse(account.stdout).id as string;
    const created = await cli('app', 'create', '--account', accountId, '--name', 'CLI App', '--redirect-uri', 'https://cli.example/cb', '--redirect-uri', 'http://localhost:8080/cb');
    expect(created.code).toBe(0);
    const out = JSON.parse(created.stdout);
    expect(Object.keys(out)).toEqual(['client_id', 'client_secret']);
    expect(out.client_id).toMatch(/^[0-9a-f-]{36}$/);
    expect(out.client_secret).toMatch(/^[A-Za-z0-9_-]{43}$/);

    // The credentials work at the token endpoint, for both registered redirect URIs.
    const database = await openDatabase({ dataDir });
    try {
      await migrateToLatest(database.db);
      const app = await buildApp({ config: testConfig(), database, logger: false });
      await app.ready();
      const user = await signedInUser(app);
      for (const redirectUri of ['https://cli.example/cb', 'http://localhost:8080/cb']) {
        const code = await getCode(app, user, { client_id: out.client_id, redirect_uri: redirectUri });
        const res = await app.inject({
          method: 'POST',
          url: '/oauth/token',
          headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(out.client_id, out.client_secret) },
          payload: form({ grant_type: 'authorization_code', code, redirect_uri: redirectUri }),
        });
        expect(res.statusCode).toBe(200);
      }
      await app.close();
    } finally {
      await database.close();
    }
  });

  it('refuses a missing --redirect-uri, an http URL off localhost and an unknown account', { timeout: 180_000 }, async () => {
    const account = await cli('account', 'create', '--name', 'CLI2', '--email', 'cli2@example.test', '--password', 'a good password');
    const accountId = JSON.parse(account.stdout).id as string;
    const missing = await cli('app', 'create', '--account', accountId, '--name', 'X');
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('--redirect-uri is required');
    const insecure = await cli('app', 'create', '--account', accountId, '--name', 'X', '--redirect-uri', 'http://cli.example/cb');
    expect(insecure.code).toBe(1);
    expect(JSON.parse(insecure.stderr.split('\n')[0]!)).toMatchObject({ status: 422, errors: { redirect_uris: [expect.stringMatching(/must use https/)] } });
    const unknown = await cli('app', 'create', '--account', '00000000-0000-4000-8000-000000000000', '--name', 'X', '--redirect-uri', 'https://a.example/cb');
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe('');
  });
});
