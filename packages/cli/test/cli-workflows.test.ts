import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Shortcode } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../sdk/test/server.js';
import { startWorkers } from '../../sdk/test/workers.js';
import { run, tempConfigHome } from './run.js';

let server: TestServer;
let stopWorkers: () => Promise<void>;
let client: Shortcode;
let shortCode: string;
let env: Record<string, string>;
let dir: string;
let n = 0;
const phone = () => `+1202558${String(1000 + (n++ % 9000)).padStart(4, '0')}`;

beforeAll(async () => {
  server = await startServer({ SIMULATOR_REPORT_DELAY_MS: '0' });
  stopWorkers = await startWorkers(server);
  const account = await server.newAccount();
  ({ client, shortCode } = account);
  dir = await tempConfigHome();
  env = { SHORTCODE_TOKEN: account.token, SHORTCODE_BASE_URL: server.baseUrl, XDG_CONFIG_HOME: dir };
});
afterAll(async () => {
  await stopWorkers();
  await server.close();
});

describe('shortcode contacts and groups', () => {
  it('creates, lists and gets contacts; a duplicate prints the field error and request id', async () => {
    const number = phone();
    const created = await run(['contacts', 'create', '--phone', number, '--first-name', 'Ada', '--set', 'reward_points=7', '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const contact = JSON.parse(created.stdout);
    expect(contact).toMatchObject({ phone_number: number, first_name: 'Ada', reward_points: 7 });

    const listed = await run(['contacts', 'list', '--filter', `phone_number=${number}`], env);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toMatch(/^ID\s+PHONE_NUMBER\s+FIRST_NAME\s+LAST_NAME\s+EMAIL\s+REWARD_POINTS\s+CREATED_AT\n/);
    expect(listed.stdout).toContain(`${contact.id}  ${number}  Ada`);
    expect(listed.stdout).toContain('page 1 of 1, 1 of 1');

    const got = await run(['contacts', 'get', contact.id, '--include', 'status', '--json'], env);
    expect(JSON.parse(got.stdout).status.subscription).toBe('pending');

    const duplicate = await run(['contacts', 'create', '--phone', number], env);
    expect(duplicate.code).toBe(1);
    expect(duplicate.stderr).toMatch(/^Error: A validation error occurred \(HTTP 422\)\n {2}phone_number: The contact already exists.\nRequest id: [0-9a-f-]{36}\n$/);

    const nothing = await run(['contacts', 'create'], env);
    expect(nothing.code).toBe(2);
  });

  it('creates groups, adds contacts, and lists a group’s contacts', async () => {
    const created = await run(['groups', 'create', '--name', 'Regulars', '--keyword', `REG${n}`, '--json'], env);
    expect(created.code).toBe(0);
    const group = JSON.parse(created.stdout);
    const listed = await run(['groups', 'list'], env);
    expect(listed.stdout).toContain('Regulars');
    const contact = await client.contacts.create({ phone_number: phone() });
    const added = await run(['contacts', 'add-group', contact.id, group.id], env);
    expect(added.code).toBe(0);
    const members = await run(['groups', 'contacts', group.id, '--json'], env);
    expect(JSON.parse(members.stdout).data.map((c: { id: string }) => c.id)).toEqual([contact.id]);
    const got = await run(['groups', 'get', group.id], env);
    expect(got.stdout).toContain('Regulars');
  });
});

describe('shortcode contacts import', () => {
  it('imports a CSV with a progress bar, reports the refused rows by line and exits 1', async () => {
    const group = await client.groups.create({ name: 'Imported' });
    const numbers = Array.from({ length: 11 }, phone);
    const lines = ['Phone,First_Name,Last_Name,Email', ...numbers.map((p, i) => `${p},"Person, ${i}",Import,p${i}@example.test`)];
    lines.splice(5, 0, '12,Bad,Number,');
    const file = path.join(dir, 'contacts.csv');
    await writeFile(file, `${lines.join('\r\n')}\r\n`);

    const result = await run(['contacts', 'import', file, '--group', group.id, '--concurrency', '2'], env);
    expect(result.code).toBe(1);
    const progress = result.stderr.split('\n').filter((l) => l.startsWith('Importing contacts'));
    expect(progress[0]).toBe('Importing contacts 0/12 (0%)');
    expect(progress.at(-1)).toBe('Importing contacts 12/12 (100%) created 11, failed 1');
    expect(progress.length).toBeGreaterThanOrEqual(5);
    expect(result.stderr).toMatch(/Imported 11 of 12 contacts in \d+\.\ds/);
    expect(result.stdout).toMatch(/^1 rows failed:\n {2}line 6 \(12\): .+\n {4}phone_number: .+\nRequest id: |^1 rows failed:\n {2}line 6 \(12\): .+\n {4}phone_number: .+\n/);

    const members = await client.groups.contacts(group.id, { limit: 100 });
    expect(members.data.map((c) => c.phone_number).sort()).toEqual([...numbers].sort());
    const one = members.data.find((c) => c.phone_number === numbers[0]);
    expect(one).toMatchObject({ first_name: 'Person, 0', last_name: 'Import', email: 'p0@example.test' });
  });

  it('a clean import exits 0; --json gives the counts', async () => {
    const file = path.join(dir, 'clean.csv');
    await writeFile(file, `phone_number\n${phone()}\n${phone()}\n`);
    const result = await run(['contacts', 'import', file, '--json'], env);
    expect(result.code).toBe(0);
    const body = JSON.parse(result.stdout);
    expect(body.created).toBe(2);
    expect(body.failed).toEqual([]);
    const missing = await run(['contacts', 'import', path.join(dir, 'nope.csv')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
  });
});

describe('shortcode message', () => {
  it('sends one message', async () => {
    const to = phone();
    const result = await run(['message', 'send', '--to', to, '--message', 'Hello from the CLI', '--json'], env);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ type: 'OUTGOING', phone_number: to, message: 'Hello from the CLI' });
    const missing = await run(['message', 'send', '--to', to], env);
    expect(missing.code).toBe(2);
  });

  it('sends a batch from a CSV in chunks with progress; other columns become metadata; rejected numbers exit 1', async () => {
    const unsubscribed = await client.contacts.create({ phone_number: phone() });
    await client.contacts.unsubscribe([unsubscribed.phone_number]);
    const rows = Array.from({ length: 5 }, () => `${phone()},Hi there,${n}`);
    const file = path.join(dir, 'batch.csv');
    await writeFile(file, ['phone_number,message,order_id', ...rows].join('\n'));
    const ok = await run(['message', 'batch', file, '--chunk-size', '2'], env);
    expect(ok.code).toBe(0);
    const progress = ok.stderr.split('\n').filter((l) => l.startsWith('Sending'));
    expect(progress).toEqual(['Sending 0/5 (0%)', 'Sending 2/5 (40%) accepted 2, rejected 0', 'Sending 4/5 (80%) accepted 4, rejected 0', 'Sending 5/5 (100%) accepted 5, rejected 0']);
    expect(ok.stdout).toBe('All 5 messages accepted.\n');

    await writeFile(file, ['phone_number,message', `${phone()},One`, `${unsubscribed.phone_number},Two`].join('\n'));
    const partly = await run(['message', 'batch', file], env);
    expect(partly.code).toBe(1);
    expect(partly.stdout).toContain(`1 rejected:\n  line 3 (${unsubscribed.phone_number}): `);
  });

  it('schedules, lists and deletes a scheduled message', async () => {
    const at = new Date(Date.now() + 3_600_000).toISOString();
    const created = await run(['schedule', 'create', '--to', phone(), '--message', 'Later', '--at', at, '--json'], env);
    expect(created.stderr).toBe('');
    expect(created.code).toBe(0);
    const scheduled = JSON.parse(created.stdout);
    expect(scheduled).toMatchObject({ message: 'Later', status: 'scheduled', send_at: at });
    const listed = await run(['schedule', 'list'], env);
    expect(listed.stdout).toContain(scheduled.id);
    const deleted = await run(['schedule', 'delete', scheduled.id], env);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`Deleted scheduled message ${scheduled.id}.\n`);
  });
});

describe('shortcode campaigns', () => {
  it('creates a campaign and follows it with live progress until sent', async () => {
    const group = await client.groups.create({ name: 'Followers' });
    for (let i = 0; i < 3; i += 1) {
      const contact = await client.contacts.create({ phone_number: phone(), groups: [group.id] });
      await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'YES' });
    }
    const result = await run(['campaigns', 'create', '--name', 'Flash sale', '--message', 'Flash sale today', '--group', group.id, '--follow', '--interval', '0.1', '--timeout', '30'], env);
    expect(result.stderr).toMatch(/^Created campaign [0-9a-f-]{36} \(\w+\)\n/);
    expect(result.code).toBe(0);
    const progress = result.stderr.split('\n').filter((l) => /^Campaign \d/.test(l));
    expect(progress.at(-1)).toMatch(/^Campaign 3\/3 \(100%\) sent: sent 3, delivered 3, failed 0$/);
    expect(result.stderr).toMatch(/Campaign sent in \d+\.\ds\n$/);
    expect(result.stdout).toMatch(/status\s+sent/);
    expect(result.stdout).toMatch(/delivered\s+3/);
  });

  it('follow gives up after --timeout with exit 1 for a campaign that is not sending', async () => {
    const later = await client.campaigns.create({ name: 'Tomorrow', message: 'x', send_at: new Date(Date.now() + 86_400_000).toISOString() });
    const result = await run(['campaigns', 'follow', later.id, '--interval', '0.1', '--timeout', '0.3'], env);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain('Error: The campaign is still scheduled after 0.3s (--timeout).');
  });
});

describe('shortcode inbox tail', () => {
  it('prints unread incoming messages, marks them read, and exits after --count', async () => {
    // A fresh account: the other tests' contacts texted YES, which sits unread in their inbox.
    const { client, shortCode, token } = await server.newAccount();
    const env = { SHORTCODE_TOKEN: token, SHORTCODE_BASE_URL: server.baseUrl, XDG_CONFIG_HOME: dir };
    const contact = await client.contacts.create({ phone_number: phone() });
    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'First question' });
    const tail = run(['inbox', 'tail', '--interval', '0.1', '--count', '2', '--mark-read', '--json'], env);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'Second question' });
    const result = await tail;
    expect(result.code).toBe(0);
    const messages = result.stdout.trim().split('\n').map((l) => JSON.parse(l) as { message: string; phone_number: string });
    expect(messages.map((m) => m.message)).toEqual(['First question', 'Second question']);
    const unread = await client.messages.unread({ filter: { phone_number: contact.phone_number } });
    expect(unread.data).toEqual([]);

    await client.simulator.inbound({ from: contact.phone_number, to: shortCode, message: 'Third' });
    const once = await run(['inbox', 'tail', '--once'], env);
    expect(once.code).toBe(0);
    expect(once.stdout).toMatch(new RegExp(`^\\S+  \\${contact.phone_number}  Third\\n$`));
  });
});

describe('shortcode lookup', () => {
  it('looks up numbers', async () => {
    const result = await run(['lookup', '+12025550123', '--json'], env);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('+12025550123');
  });
});
