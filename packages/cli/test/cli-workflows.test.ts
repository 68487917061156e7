import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Shortcode } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from '../../sdk/test/server.js';
import { startWorkers } from '../../sdk/test/workers.js';
import { run, runInTerminal, tempConfigHome } from './run.js';

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
  it('uploads a CSV once, shows progress until processed, prints the invalid rows and exits 1', async () => {
    const group = await client.groups.create({ name: 'Imported' });
    const numbers = Array.from({ length: 11 }, phone);
    const lines = ['Phone,First_Name,Last_Name,Email', ...numbers.map((p, i) => `${p},"Person, ${i}",Import,p${i}@example.test`)];
    lines.splice(5, 0, '12,Bad,Number,');
    lines.push(`${numbers[0]},Again,,`);
    const file = path.join(dir, 'contacts.csv');
    await writeFile(file, `${lines.join('\r\n')}\r\n`);

    const result = await run(['contacts', 'import', file, '--group', group.id, '--interval', '0.1'], env);
    expect(result.code).toBe(1);
    const stderr = result.stderr.split('\n');
    const size = (await stat(file)).size;
    expect(stderr[0]).toBe(`Uploading contacts.csv 0 B/${size} B (0%)`);
    expect(stderr).toContainEqual(expect.stringMatching(new RegExp(`^Uploaded ${size} B in \\d+\\.\\ds$`)));
    const id = /^Import ([0-9a-f-]{36}): 13 rows received$/m.exec(result.stderr)?.[1];
    expect(id).toBeDefined();
    const progress = stderr.filter((l) => l.startsWith('Importing contacts'));
    expect(progress[0]).toBe('Importing contacts 0/13 (0%) created 0, updated 0, skipped 0, invalid 0');
    expect(progress.at(-1)).toBe('Importing contacts 13/13 (100%) created 11, updated 0, skipped 1, invalid 1');
    expect(result.stderr).toMatch(/\nImport completed in \d+\.\ds\n$/);
    expect(result.stdout).toMatch(
      new RegExp(`^Imported 13 rows \\(import ${id}\\):\n {2}created 11, updated 0, skipped 1 \\(already contacts or repeated\\), invalid 1\n1 invalid row:\n {2}row 5 \\(12\\): phone_number: .{10,}\n$`),
    );

    const members = await client.groups.contacts(group.id, { limit: 100 });
    expect(members.data.map((c) => c.phone_number).sort()).toEqual([...numbers].sort());
    const one = members.data.find((c) => c.phone_number === numbers[0]);
    expect(one).toMatchObject({ first_name: 'Person, 0', last_name: 'Import', email: 'p0@example.test' });
  });

  it('--json gives the summary; --show limits the rows printed and says how to see them all; imports rows/list/get', async () => {
    const file = path.join(dir, 'three-bad.csv');
    const good = phone();
    await writeFile(file, `phone_number,email\n1,\n${good},x@example.test\n2,\n${phone()},not-an-email\n`);
    const shown = await run(['contacts', 'import', file, '--show', '1', '--interval', '0.1'], env);
    expect(shown.code).toBe(1);
    const id = /import ([0-9a-f-]{36})/.exec(shown.stdout)![1]!;
    expect(shown.stdout).toContain('3 invalid rows (the first 1):\n  row 1 (1): phone_number: ');
    expect(shown.stdout).toContain(`\nAll of them: shortcode imports rows ${id} --outcome invalid --all\n`);

    const all = await run(['imports', 'rows', id, '--outcome', 'invalid', '--all', '--json'], env);
    expect(all.code).toBe(0);
    const rows = JSON.parse(all.stdout) as Array<{ row: number; outcome: string; message: string }>;
    expect(rows.map((r) => [r.row, r.outcome])).toEqual([
      [1, 'invalid'],
      [3, 'invalid'],
      [4, 'invalid'],
    ]);
    expect(rows[2]!.message).toMatch(/^email: /);
    const table = await run(['imports', 'rows', id], env);
    expect(table.stdout).toMatch(/^ROW\s+PHONE_NUMBER\s+OUTCOME\s+CONTACT_ID\s+MESSAGE\n/);
    expect(table.stdout).toMatch(new RegExp(`\\n2\\s+\\${good}\\s+created\\s+[0-9a-f-]{36}\\n`));
    const badOutcome = await run(['imports', 'rows', id, '--outcome', 'great'], env);
    expect(badOutcome.code).toBe(2);

    const listed = await run(['imports', 'list'], env);
    expect(listed.stdout).toMatch(new RegExp(`${id}\\s+completed\\s+csv\\s+4\\s+4\\s+1\\s+0\\s+0\\s+3`));
    const got = await run(['imports', 'get', id, '--json'], env);
    expect(JSON.parse(got.stdout)).toMatchObject({ id, status: 'completed', created: 1, invalid: 3 });

    const clean = path.join(dir, 'clean.csv');
    await writeFile(clean, `phone_number\n${phone()}\n${phone()}\n`);
    const json = await run(['contacts', 'import', clean, '--json', '--interval', '0.1'], env);
    expect(json.code).toBe(0);
    const summary = JSON.parse(json.stdout);
    expect(summary.import).toMatchObject({ status: 'completed', total_rows: 2, created: 2, invalid: 0, validate_only: false });
    expect(summary.invalid_rows).toEqual([]);
  });

  it('--validate-only writes nothing; JSON lines from standard input; errors exit non-zero with the message', async () => {
    const number = phone();
    const validated = await run(['contacts', 'import', '-', '--format', 'ndjson', '--validate-only', '--json', '--interval', '0.1'], env, `${JSON.stringify({ phone_number: number, first_name: 'Val' })}\n`);
    expect(validated.code).toBe(0);
    expect(validated.stderr).toMatch(/: 1 row received \(validate only: nothing will be written\)\n/);
    expect(validated.stderr).toContain('Validating contacts 1/1 (100%) created 1');
    expect(JSON.parse(validated.stdout).import).toMatchObject({ format: 'ndjson', validate_only: true, created: 1 });
    expect((await client.contacts.list({ filter: { phone_number: number } })).data).toEqual([]);

    const file = path.join(dir, 'bad-header.csv');
    await writeFile(file, 'phone_number,shoe_size\n+12025550123,9\n');
    const refused = await run(['contacts', 'import', file], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/\nError: The CSV header row is not understood\. \(HTTP 400\)\n {2}header\.2: Unknown column "shoe_size": .+\nRequest id: [0-9a-f-]{36}\n$/);
    expect(refused.stdout).toBe('');

    const missing = await run(['contacts', 'import', path.join(dir, 'nope.csv')], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('Cannot read');
    const unknown = await run(['imports', 'get', '2b1c3a50-0000-4000-8000-000000000000'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^Error: Import not found\. \(HTTP 404\)\nRequest id: [0-9a-f-]{36}\n$/);
  });

  it('--no-wait answers at once; imports follow picks the import up, and gives up after --timeout with exit 1', async () => {
    await stopWorkers();
    let id: string;
    try {
      const file = path.join(dir, 'later.csv');
      await writeFile(file, `phone_number\n${phone()}\n`);
      const queued = await run(['contacts', 'import', file, '--no-wait', '--json'], env);
      expect(queued.code).toBe(0);
      ({ id } = JSON.parse(queued.stdout) as { id: string });
      expect(JSON.parse(queued.stdout)).toMatchObject({ status: 'queued', total_rows: 1 });
      const waiting = await run(['imports', 'follow', id, '--interval', '0.1', '--timeout', '0.5'], env);
      expect(waiting.code).toBe(1);
      expect(waiting.stderr).toContain(`Error: The import is not finished after 0.5s (--timeout); it goes on on the server: shortcode imports follow ${id}\n`);
    } finally {
      stopWorkers = await startWorkers(server);
    }
    const followed = await run(['imports', 'follow', id, '--interval', '0.1'], env);
    expect(followed.code).toBe(0);
    expect(followed.stderr).toContain('Importing contacts 1/1 (100%) created 1, updated 0, skipped 0, invalid 0');
    expect(followed.stdout).toMatch(/^Imported 1 row \(import [0-9a-f-]{36}\):\n {2}created 1,/);
  });

  it('draws a progress bar on a terminal', async () => {
    const file = path.join(dir, 'tty.csv');
    await writeFile(file, `phone_number\n${phone()}\n${phone()}\n${phone()}\n`);
    const result = await runInTerminal(['contacts', 'import', file, '--interval', '0.1'], env);
    expect(result.code).toBe(0);
    expect(result.output).toContain('\r\x1b[2K[------------------------] Importing contacts 0/3 (0%)');
    expect(result.output).toContain('\r\x1b[2K[########################] Importing contacts 3/3 (100%) created 3, updated 0, skipped 0, invalid 0');
    expect(result.output).toMatch(/\[########################\] Uploading tty\.csv \d+ B\/\d+ B \(100%\)/);
    expect(result.output).toContain('Imported 3 rows');
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
