import { stat, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateWebhookSecret, signPayload } from '../../../src/modules/webhooks/webhook-signing.js';
import { startServer, type TestServer } from '../../sdk/test/server.js';
import { run, tempConfigHome } from './run.js';

let server: TestServer;
let token: string;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServer();
  ({ token } = await server.newAccount());
  env = { SHORTCODE_TOKEN: token, SHORTCODE_BASE_URL: server.baseUrl, XDG_CONFIG_HOME: await tempConfigHome() };
});
afterAll(() => server.close());

describe('shortcode: help and usage', () => {
  it('--help lists the commands and exits 0', async () => {
    const result = await run(['--help'], {});
    expect(result.code).toBe(0);
    for (const command of ['login --token', 'contacts import', 'imports rows', 'message batch', 'campaigns follow', 'inbox tail', 'webhook verify', 'carriers']) {
      expect(result.stdout).toContain(command);
    }
  });

  it('an unknown command, an unknown flag or a missing argument exit 2 with a pointer to the help', async () => {
    const unknown = await run(['frobnicate'], env);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('Unknown command "frobnicate"');
    expect(unknown.stderr).toContain('shortcode --help');
    const flag = await run(['carriers', 'list', '--colour', 'red'], env);
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/Unknown option '--colour'/);
    const missing = await run(['carriers', 'get'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Missing carrier id.');
    const notAnOperation = await run(['carriers', 'delete', 'x'], env);
    expect(notAnOperation.code).toBe(2);
    expect(notAnOperation.stderr).toContain('carriers supports: list, get');
  });
});

describe('shortcode: login', () => {
  it('stores the token with mode 0600, uses it, and SHORTCODE_TOKEN overrides it', async () => {
    const home = await tempConfigHome();
    const login = await run(['login', '--token', token, '--base-url', `${server.baseUrl}/v1`], { XDG_CONFIG_HOME: home });
    expect(login.stderr).toBe('');
    expect(login.code).toBe(0);
    const file = path.join(home, 'shortcode', 'config.json');
    expect(login.stdout).toContain(file);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect((await stat(path.dirname(file))).mode & 0o777).toBe(0o700);
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual({ token, baseUrl: server.baseUrl });

    const listed = await run(['carriers', 'list', '--limit', '1', '--json'], { XDG_CONFIG_HOME: home });
    expect(listed.code).toBe(0);
    expect(JSON.parse(listed.stdout).data).toHaveLength(1);

    const whoami = await run(['whoami', '--json'], { XDG_CONFIG_HOME: home });
    expect(JSON.parse(whoami.stdout)).toEqual({ base_url: server.baseUrl, token: `${token.slice(0, 4)}…${token.slice(-4)}`, source: file });

    const overridden = await run(['carriers', 'list'], { XDG_CONFIG_HOME: home, SHORTCODE_TOKEN: '00000000-0000-0000-0000-000000000000' });
    expect(overridden.code).toBe(1);
    expect(overridden.stderr).toMatch(/^Error: Unauthenticated: the access token is invalid, expired or revoked. \(HTTP 401\)\nRequest id: [0-9a-f-]{36}\n$/);

    const elsewhere = await run(['carriers', 'list'], { XDG_CONFIG_HOME: home, SHORTCODE_BASE_URL: 'http://127.0.0.1:9' });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toContain('Could not reach http://127.0.0.1:9');

    const logout = await run(['logout'], { XDG_CONFIG_HOME: home });
    expect(logout.code).toBe(0);
    const after = await run(['carriers', 'list'], { XDG_CONFIG_HOME: home });
    expect(after.code).toBe(1);
    expect(after.stderr).toContain('Not logged in: run `shortcode login --token TOKEN` or set SHORTCODE_TOKEN.');
  });

  it('refuses to store a token the server does not accept', async () => {
    const home = await tempConfigHome();
    const login = await run(['login', '--token', 'not-a-token', '--base-url', server.baseUrl], { XDG_CONFIG_HOME: home });
    expect(login.code).toBe(1);
    expect(login.stderr).toContain('(HTTP 401)');
    await expect(stat(path.join(home, 'shortcode', 'config.json'))).rejects.toThrow(/ENOENT/);
  });

  it('login without --token is a usage error', async () => {
    const login = await run(['login'], { XDG_CONFIG_HOME: await tempConfigHome() });
    expect(login.code).toBe(2);
    expect(login.stderr).toContain('login needs --token');
  });
});

describe('shortcode: resources as tables and JSON', () => {
  it('lists a page as a table with a footer, every page with --all, and JSON with --json', async () => {
    const table = await run(['carriers', 'list', '--limit', '3', '--sort', 'name', '--filter', 'country=US'], env);
    expect(table.code).toBe(0);
    const lines = table.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^ID\s+NAME\s+COUNTRY$/);
    expect(lines).toHaveLength(5);
    expect(lines[4]).toMatch(/^page 1 of \d+, 3 of \d+ \(--page or --all for more\)$/);

    const json = await run(['carriers', 'list', '--limit', '2', '--page', '2', '--json'], env);
    const page = JSON.parse(json.stdout);
    expect(page.meta.pagination).toMatchObject({ current_page: 2, per_page: 2 });

    const all = await run(['carriers', 'list', '--all', '--limit', '5', '--json'], env);
    const items = JSON.parse(all.stdout) as Array<{ id: string }>;
    expect(items.length).toBe(page.meta.pagination.total);
  });

  it('gets one object as key/value lines, or JSON', async () => {
    const [first] = JSON.parse((await run(['carriers', 'list', '--limit', '1', '--json'], env)).stdout).data;
    const text = await run(['carriers', 'get', first.id], env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`id          ${first.id}`);
    expect(text.stdout).toContain(`name        ${first.name}`);
    const json = await run(['carriers', 'get', first.id, '--json'], env);
    expect(JSON.parse(json.stdout)).toEqual(first);
  });

  it('prints the server message, field errors and request id, and exits 1', async () => {
    const missing = await run(['carriers', 'get', '5f0c6a43-8a3e-4c1e-9a8e-000000000000'], env);
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe('');
    expect(missing.stderr).toMatch(/^Error: Carrier not found. \(HTTP 404\)\nRequest id: [0-9a-f-]{36}\n$/);

    const bad = await run(['carriers', 'list', '--filter', 'colour=red'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('Error: Unknown filter "colour". (HTTP 400)\n  filter[colour]: Allowed filters: name, country.\nRequest id: ');

    const json = await run(['carriers', 'list', '--filter', 'colour=red', '--json'], env);
    expect(json.code).toBe(1);
    const { error } = JSON.parse(json.stderr);
    expect(error).toMatchObject({ status: 400, message: 'Unknown filter "colour".', errors: { 'filter[colour]': ['Allowed filters: name, country.'] } });
    expect(error.request_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('api sends any request', async () => {
    const result = await run(['api', 'GET', '/v1/carriers?limit=1&filter[country]=CA'], env);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.data).toHaveLength(1);
    expect(body.data[0].country).toBe('CA');
    const wrong = await run(['api', 'DELETE', '/v1/carriers'], env);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toContain('(HTTP 405)');
  });
});

describe('shortcode webhook verify', () => {
  it('verifies a payload signed by the server, and refuses a tampered one with exit 1', async () => {
    const secret = generateWebhookSecret();
    const dir = await tempConfigHome();
    const body = JSON.stringify({ id: 'f82e541a-a4b1-11e8-a85f-127fd0971098', message: 'STOP' });
    const headers = signPayload({ msgId: 'msg_cli1', timestamp: new Date(), body, secrets: [secret] });
    const payloadFile = path.join(dir, 'payload.json');
    await writeFile(payloadFile, body);
    const headerArgs = Object.entries(headers).flatMap(([k, v]) => ['--header', `${k}: ${v}`]);

    const ok = await run(['webhook', 'verify', '--payload', payloadFile, '--secret', secret, ...headerArgs], {});
    expect(ok.code).toBe(0);
    expect(ok.stdout).toContain('Verified: webhook-id msg_cli1');
    expect(ok.stdout).toContain('"message": "STOP"');

    const headersFile = path.join(dir, 'headers.json');
    await writeFile(headersFile, JSON.stringify(headers));
    const fromFile = await run(['webhook', 'verify', '--payload', '-', '--headers', headersFile, '--json'], { SHORTCODE_WEBHOOK_SECRET: secret }, body);
    expect(fromFile.code).toBe(0);
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ verified: true, id: 'msg_cli1', payload: { message: 'STOP' } });

    await writeFile(payloadFile, body.replace('STOP', 'START'));
    const tampered = await run(['webhook', 'verify', '--payload', payloadFile, '--secret', secret, ...headerArgs], {});
    expect(tampered.code).toBe(1);
    expect(tampered.stderr).toBe('Error: Webhook verification failed: No webhook signature matches the secret.\n');

    const noSecret = await run(['webhook', 'verify', '--payload', payloadFile, ...headerArgs], {});
    expect(noSecret.code).toBe(2);
  });
});
