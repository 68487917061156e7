import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../sdk/test/server.js';
import { run, tempConfigHome } from './run.js';

let server: TestServer;
let env: Record<string, string>;

beforeAll(async () => {
  server = await startServer();
  const { token } = await server.newAccount();
  env = { SHORTCODE_TOKEN: token, SHORTCODE_BASE_URL: server.baseUrl, XDG_CONFIG_HOME: await tempConfigHome() };
});
afterAll(() => server.close());

describe('shortcode webhooks', () => {
  it('creates an endpoint (showing its secret once), lists, updates, rotates, shows deliveries and deletes it', async () => {
    const created = await run(['webhooks', 'create', '--url', 'https://hooks.example.test/sms', '--event', 'inbound_message', '--event', 'unsubscribe', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const endpoint = JSON.parse(created.stdout);
    expect(endpoint.secret).toMatch(/^whsec_/);
    expect([...endpoint.events].sort()).toEqual(['inbound_message', 'unsubscribe']);

    const listed = await run(['webhooks', 'list'], env);
    expect(listed.stdout).toMatch(/^ID\s+URL\s+EVENTS\s+ENABLED\s+CREATED_AT\n/);
    expect(listed.stdout).toContain('https://hooks.example.test/sms');

    const disabled = await run(['webhooks', 'update', endpoint.id, '--set', 'enabled=false', '--json'], env);
    expect(JSON.parse(disabled.stdout).enabled).toBe(false);

    const rotated = await run(['webhooks', 'rotate-secret', endpoint.id, '--json'], env);
    expect(JSON.parse(rotated.stdout).secret).not.toBe(endpoint.secret);

    const deliveries = await run(['webhooks', 'deliveries', endpoint.id], env);
    expect(deliveries.code).toBe(0);
    expect(deliveries.stdout).toContain('Nothing found.');

    const removed = await run(['webhooks', 'delete', endpoint.id], env);
    expect(removed.stdout).toBe(`Deleted webhook endpoint ${endpoint.id}.\n`);
    const gone = await run(['webhooks', 'get', endpoint.id], env);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain('(HTTP 404)');

    const invalid = await run(['webhooks', 'create', '--url', 'https://hooks.example.test/x', '--event', 'nope'], env);
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toMatch(/\(HTTP 422\)\n {2}events/);
  });
});
