import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { createJobHandlers } from '../../jobs/job-handlers.js';
import { createJobRunner } from '../../jobs/job-runner.js';
import { newId } from '../../lib/ids.js';
import { MAX_IMPORT_ROWS } from './imports.parse.js';
import { createImportsService } from './imports.service.js';

let ctx: TestContext;
let auth: { authorization: string };
let other: { authorization: string };

function upload(body: string | Buffer, query = '', type = 'text/csv', headers = auth) {
  return ctx.app.inject({ method: 'POST', url: `/v1/contacts/import${query}`, headers: { ...headers, 'content-type': type }, payload: body });
}

async function drain() {
  const runner = createJobRunner({ db: ctx.database.db, handlers: createJobHandlers(ctx.app.services), log: ctx.app.log });
  await runner.drain();
}

async function rows(id: string, query = '', headers = auth) {
  const res = await ctx.app.inject({ method: 'GET', url: `/v1/contacts/imports/${id}/rows${query}`, headers });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().data as Array<{ row: number; phone_number: string | null; outcome: string; contact_id: string | null; message: string | null }>;
}

const get = (url: string, headers = auth) => ctx.app.inject({ method: 'GET', url, headers });

beforeAll(async () => {
  ctx = await createTestApp();
  auth = (await createAccountWithToken(ctx.app)).auth;
  other = (await createAccountWithToken(ctx.app)).auth;
  expect((await ctx.app.inject({ method: 'POST', url: '/v1/fields', headers: auth, payload: { name: 'color', type: 'text' } })).statusCode).toBe(201);
  expect((await ctx.app.inject({ method: 'POST', url: '/v1/fields', headers: auth, payload: { name: 'visits', type: 'number' } })).statusCode).toBe(201);
});
afterAll(() => ctx.close());

describe('POST /v1/contacts/import (CSV)', () => {
  it('imports in the background and reports every row (happy)', async () => {
    const group = (await ctx.app.inject({ method: 'POST', url: '/v1/groups', headers: auth, payload: { name: 'Imported' } })).json().data;
    const existing = await ctx.app.inject({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { phone_number: '+12015550300' } });
    expect(existing.statusCode).toBe(201);
    const csv = [
      '\ufeffPhone Number,First Name,last_name,color,visits,birth_date',
      '(201) 555-0301,"Smith, Jr.","O""Neil",red,3,1980-01-31',
      '+33612345678,😀 Zoë,עברית,,,',
      '2015550301,Dup,,,,',
      '201-555-0300,Exists,,,,',
      'not a phone,Bad,,,,',
      '2015550302,Bad type,,,many,',
      '2015550303,short row',
      '',
    ].join('\r\n');
    const res = await upload(csv, `?group_id=${group.id}`);
    expect(res.statusCode, res.body).toBe(202);
    const imp = res.json().data;
    expect(imp).toMatchObject({ status: 'queued', format: 'csv', total_rows: 7, processed_rows: 0, validate_only: false, group_ids: [group.id] });
    expect(imp.columns).toEqual(['phone_number', 'first_name', 'last_name', 'fields.color', 'fields.visits', 'birth_date']);

    await drain();
    const done = (await get(`/v1/contacts/imports/${imp.id}`)).json().data;
    expect(done).toMatchObject({ status: 'completed', processed_rows: 7, created: 2, updated: 0, skipped: 2, invalid: 3 });
    expect(done.completed_at).not.toBeNull();

    const results = await rows(imp.id);
    expect(results.map((r) => [r.row, r.outcome])).toEqual([
      [1, 'created'],
      [2, 'created'],
      [3, 'skipped_duplicate'],
      [4, 'skipped_duplicate'],
      [5, 'invalid'],
      [6, 'invalid'],
      [7, 'invalid'],
    ]);
    expect(results[2]!.message).toBe('Duplicate of row 1.');
    expect(results[3]).toMatchObject({ contact_id: existing.json().data.id, message: 'The contact already exists.' });
    expect(results[4]!.message).toMatch(/^phone_number: /);
    expect(results[5]!.message).toMatch(/^fields\.visits: /);
    expect(results[6]!.message).toMatch(/6 columns/);

    const contact = (await get(`/v1/contacts/${results[0]!.contact_id}?include=fields,groups,status`)).json().data;
    expect(contact).toMatchObject({ phone_number: '+12015550301', first_name: 'Smith, Jr.', last_name: 'O"Neil', birth_date: '1980-01-31', timezone: 'America/New_York', fields: { color: 'red', visits: 3 }, status: { subscription: 'pending' } });
    expect(contact.groups.map((g: { id: string }) => g.id)).toEqual([group.id]);
    expect((await get(`/v1/contacts/${results[1]!.contact_id}?include=carrier`)).json().data).toMatchObject({ first_name: '😀 Zoë', last_name: 'עברית', carrier: { name: 'SFR' } });

    // Creation order (and deep pages) stay consistent after rows skipped as existing.
    const listed = (await get('/v1/contacts?limit=100')).json();
    const viaFilter = (await get('/v1/contacts?filter[reward_points]=0&limit=100')).json();
    expect(listed.data.map((c: { id: string }) => c.id)).toEqual(viaFilter.data.map((c: { id: string }) => c.id));
    expect(listed.meta.pagination.total).toBe(listed.data.length);
    const invalidOnly = await rows(imp.id, '?filter[outcome]=invalid&limit=2');
    expect(invalidOnly.map((r) => r.row)).toEqual([5, 6]);
    const list = (await get('/v1/contacts/imports')).json();
    expect(list.data[0].id).toBe(imp.id);
  });

  it('updates existing contacts with update_existing, only with the cells given', async () => {
    const c = (await ctx.app.inject({ method: 'POST', url: '/v1/contacts', headers: auth, payload: { phone_number: '+12015550310', first_name: 'Keep', city: 'Old' } })).json().data;
    const res = await upload('phone_number,first_name,city\n2015550310,,New\n', '?update_existing=true');
    expect(res.statusCode).toBe(202);
    await drain();
    const [row] = await rows(res.json().data.id);
    expect(row).toMatchObject({ outcome: 'updated', contact_id: c.id });
    expect((await get(`/v1/contacts/${c.id}`)).json().data).toMatchObject({ first_name: 'Keep', city: 'New' });
  });

  it('validate_only reports what would happen and writes no contact', async () => {
    const before = (await get('/v1/contacts?limit=1')).json().meta.pagination.total;
    const res = await upload('phone_number\n2015550320\n2015550320\n2015550300\nnope\n', '?validate_only=true');
    expect(res.statusCode).toBe(202);
    await drain();
    const imp = (await get(`/v1/contacts/imports/${res.json().data.id}`)).json().data;
    expect(imp).toMatchObject({ status: 'completed', validate_only: true, created: 1, skipped: 2, invalid: 1 });
    expect((await rows(imp.id)).map((r) => r.outcome)).toEqual(['created', 'skipped_duplicate', 'skipped_duplicate', 'invalid']);
    expect((await get('/v1/contacts?limit=1')).json().meta.pagination.total).toBe(before);
    expect((await get('/v1/contacts?filter[phone_number]=2015550320')).json().data).toEqual([]);
  });

  it('resumes from its cursor after the worker stops mid-import', async () => {
    const lines = ['phone_number'];
    for (let i = 0; i < 2500; i++) lines.push(`+1201556${String(i).padStart(4, '0')}`);
    const res = await upload(lines.join('\n'));
    expect(res.statusCode).toBe(202);
    const id = res.json().data.id;
    const stop = new AbortController();
    const processing = ctx.app.services.imports.process(id, stop.signal);
    stop.abort();
    expect(await processing).toBe(false);
    await drain();
    const imp = (await get(`/v1/contacts/imports/${id}`)).json().data;
    expect(imp).toMatchObject({ status: 'completed', processed_rows: 2500, created: 2500, skipped: 0, invalid: 0 });
  });
});

describe('POST /v1/contacts/import (JSON lines)', () => {
  it('imports one contact object per line, each line judged on its own', async () => {
    const body = ['{"phone_number":"2015550401","first_name":"Jo","fields":{"visits":2}}', '{"phone_number":"2015550402","reward_points":"x"}', '{broken', '[1]', '', '{"phone_number":"2015550403","id":"00000000-0000-4000-8000-000000000000","bounces":5}'].join('\n');
    const res = await upload(body, '', 'application/x-ndjson');
    expect(res.statusCode, res.body).toBe(202);
    await drain();
    const results = await rows(res.json().data.id);
    expect(results.map((r) => r.outcome)).toEqual(['created', 'invalid', 'invalid', 'invalid', 'created']);
    expect(results[2]!.message).toBe('The line is not valid JSON.');
    const last = (await get(`/v1/contacts/${results[4]!.contact_id}`)).json().data;
    expect(last.id).not.toBe('00000000-0000-4000-8000-000000000000');
    expect(last.bounces).toBe(0);
    expect((await get(`/v1/contacts/${results[0]!.contact_id}?include=fields`)).json().data.fields).toEqual({ visits: 2 });
  });
});

describe('POST /v1/contacts/import (errors)', () => {
  async function importCount() {
    return (await get('/v1/contacts/imports?limit=1')).json().meta.pagination.total as number;
  }

  it('refuses broken quoting naming the line, and stages nothing', async () => {
    const before = await importCount();
    const res = await upload('phone_number,first_name\n2015550501,"Ann\n2015550502,Bob\n');
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ status: 400, message: 'The CSV file is malformed.' });
    expect(Object.keys(res.json().errors)[0]).toMatch(/^line\.\d+$/);
    const stray = await upload('phone_number,first_name\n2015550503,Ann"e"\n');
    expect(stray.statusCode).toBe(400);
    expect(await importCount()).toBe(before);
    const staged = await ctx.database.db.selectFrom('contact_import_rows').select('import_id').where('data', 'like', '%2015550501%').execute();
    expect(staged).toEqual([]);
  });

  it('refuses a file that is not UTF-8', async () => {
    const latin1 = Buffer.from('phone_number,first_name\n2015550510,Jos\xe9\n', 'latin1');
    const res = await upload(latin1);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('The file is not valid UTF-8 text.');
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('phone_number\n2015550511\n', 'utf16le')]);
    expect((await upload(utf16)).statusCode).toBe(400);
    expect((await upload('phone_number\n2015550512\n', '', 'text/csv; charset=iso-8859-1')).statusCode).toBe(415);
  });

  it('refuses unknown columns, a missing phone column, an empty file and other media types', async () => {
    const unknown = await upload('phone_number,shoe_size\n2015550520,9\n');
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors['header.2']).toBeDefined();
    const noPhone = await upload('first_name\nAnn\n');
    expect(noPhone.statusCode).toBe(400);
    expect(noPhone.json().errors.header).toBeDefined();
    expect((await upload('')).statusCode).toBe(422);
    expect((await upload('phone_number\n')).statusCode).toBe(422);
    expect((await upload('{"phone_number":"2015550521"}', '', 'application/json')).statusCode).toBe(415);
    expect((await upload('x', '', 'application/xml')).statusCode).toBe(415);
    expect((await upload('phone_number\n2015550522\n', '?validate_only=perhaps')).statusCode).toBe(400);
  });

  it('refuses a row longer than the limit', async () => {
    const res = await upload(`phone_number,first_name\n2015550530,${'x'.repeat(200_000)}\n`);
    expect(res.statusCode).toBe(400);
    expect(res.json().message).toBe('The CSV file is malformed.');
    const nd = await upload(`{"phone_number":"2015550531","first_name":"${'x'.repeat(200_000)}"}\n`, '', 'application/x-ndjson');
    expect(nd.statusCode).toBe(400);
  });

  it('refuses a file with more rows than the limit (1,000,000; 3 here), staging nothing', async () => {
    expect(MAX_IMPORT_ROWS).toBe(1_000_000);
    const { account } = await createAccountWithToken(ctx.app);
    const { fields, groups, phoneNumbers } = ctx.app.services;
    const small = createImportsService({ db: ctx.database.db, fields, groups, phoneNumbers, maxRows: 3 });
    const body = Readable.from([Buffer.from('phone_number\n2015550540\n2015550541\n2015550542\n2015550543\n')]);
    await expect(small.receive(account.id, body, { format: 'csv', validateOnly: false, updateExisting: false, groupIds: [] })).rejects.toMatchObject({
      status: 422,
      errors: { file: ['An import may have at most 3 rows.'] },
    });
    const left = await ctx.database.db.selectFrom('contact_imports').select('id').where('account_id', '=', account.id).execute();
    expect(left).toEqual([]);
    const ok = createImportsService({ db: ctx.database.db, fields, groups, phoneNumbers, maxRows: 4 });
    const body2 = Readable.from([Buffer.from('phone_number\n2015550540\n2015550541\n2015550542\n2015550543\n')]);
    expect((await ok.receive(account.id, body2, { format: 'csv', validateOnly: false, updateExisting: false, groupIds: [] })).total_rows).toBe(4);
  });
});

describe('interrupted uploads', () => {
  it("removes the account's uploads left receiving for over an hour when it uploads again", async () => {
    const { account, auth: fresh } = await createAccountWithToken(ctx.app);
    const stale = newId();
    await ctx.database.db
      .insertInto('contact_imports')
      .values({ id: stale, account_id: account.id, status: 'receiving', format: 'csv', error: null, lease_until: null, started_at: null, completed_at: null, created_at: new Date(Date.now() - 7_200_000), updated_at: new Date(Date.now() - 7_200_000) })
      .execute();
    const recent = newId();
    await ctx.database.db
      .insertInto('contact_imports')
      .values({ id: recent, account_id: account.id, status: 'receiving', format: 'csv', error: null, lease_until: null, started_at: null, completed_at: null })
      .execute();
    expect((await upload('phone_number\n2015550700\n', '', 'text/csv', fresh)).statusCode).toBe(202);
    expect((await get(`/v1/contacts/imports/${stale}`, fresh)).statusCode).toBe(404);
    expect((await get(`/v1/contacts/imports/${recent}`, fresh)).json().data.status).toBe('receiving');
  });
});

describe('contact imports (security)', () => {
  it("keeps imports per account and needs contacts.create / contacts.view", async () => {
    const res = await upload('phone_number\n2015550601\n');
    const id = res.json().data.id;
    expect((await get(`/v1/contacts/imports/${id}`, other)).statusCode).toBe(404);
    expect((await get(`/v1/contacts/imports/${id}/rows`, other)).statusCode).toBe(404);
    expect((await get('/v1/contacts/imports', other)).json().data).toEqual([]);
    expect((await get('/v1/contacts/imports/not-a-uuid')).statusCode).toBe(404);
    const foreignGroup = (await ctx.app.inject({ method: 'POST', url: '/v1/groups', headers: other, payload: { name: 'Theirs' } })).json().data;
    const withForeign = await upload('phone_number\n2015550602\n', `?group_id=${foreignGroup.id}`);
    expect(withForeign.statusCode).toBe(422);
    expect(withForeign.json().errors.group_id).toBeDefined();
    const { auth: viewOnly } = await createAccountWithToken(ctx.app, ['contacts.view']);
    expect((await upload('phone_number\n2015550603\n', '', 'text/csv', viewOnly)).statusCode).toBe(403);
    const { auth: createOnly } = await createAccountWithToken(ctx.app, ['contacts.create']);
    expect((await get(`/v1/contacts/imports/${id}`, createOnly)).statusCode).toBe(403);
    expect((await get('/v1/contacts/imports', createOnly)).statusCode).toBe(403);
    expect((await get(`/v1/contacts/imports/${id}/rows`, createOnly)).statusCode).toBe(403);
    await drain();
    // The other account's import of the same number is its own contact.
    const theirs = await upload('phone_number\n2015550601\n', '', 'text/csv', other);
    await drain();
    expect((await rows(theirs.json().data.id, '', other))[0]!.outcome).toBe('created');
  });
});
