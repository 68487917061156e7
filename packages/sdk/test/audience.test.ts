import { BadRequestError, NotFoundError, Shortcode, UnprocessableEntityError } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
let client: Shortcode;
let n = 0;
/** A fresh valid US number. */
const phone = () => `+1202555${String(1000 + (n++ % 9000)).padStart(4, '0')}`;

beforeAll(async () => {
  server = await startServer();
  ({ client } = await server.newAccount());
});
afterAll(() => server.close());

describe('contacts', () => {
  it('creates, retrieves with includes, updates, lists with filters and deletes', async () => {
    const number = phone();
    const created = await client.contacts.create({ phone_number: number, first_name: 'Ada', reward_points: 10 });
    expect(created).toMatchObject({ phone_number: number, first_name: 'Ada', reward_points: 10 });
    expect(created.id).toMatch(/^[0-9a-f-]{36}$/);

    const withStatus = await client.contacts.retrieve(created.id, { include: ['status', 'groups'] });
    expect(withStatus.status?.subscription).toBe('pending');
    expect(withStatus.groups).toEqual([]);

    const updated = await client.contacts.update(created.id, { last_name: 'Lovelace' });
    expect(updated).toMatchObject({ first_name: 'Ada', last_name: 'Lovelace' });

    const found = await client.contacts.list({ filter: { phone_number: number } });
    expect(found.data.map((c) => c.id)).toEqual([created.id]);
    const byPoints = await client.contacts.list({ filter: { reward_points: 10 }, sort: '-created_at' });
    expect(byPoints.data.some((c) => c.id === created.id)).toBe(true);

    await client.contacts.delete(created.id);
    await expect(client.contacts.retrieve(created.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('raises UnprocessableEntityError with the field errors of the reference', async () => {
    const number = phone();
    await client.contacts.create({ phone_number: number });
    const duplicate = (await client.contacts.create({ phone_number: number }).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(duplicate).toBeInstanceOf(UnprocessableEntityError);
    expect(duplicate.status).toBe(422);
    expect(duplicate.message).toBe('A validation error occurred');
    expect(duplicate.errors).toEqual({ phone_number: ['The contact already exists.'] });
    expect(duplicate.requestId).toMatch(/^[0-9a-f-]{36}$/);

    const invalid = (await client.contacts.create({ phone_number: '12' }).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(invalid).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys(invalid.errors)).toEqual(['phone_number']);

    await expect(client.contacts.list({ include: 'nonsense' })).rejects.toBeInstanceOf(BadRequestError);
  });

  it('iterates over every contact across pages', async () => {
    const { client: own } = await server.newAccount();
    const numbers = Array.from({ length: 7 }, phone);
    const result = await own.contacts.createMany(numbers.map((phone_number) => ({ phone_number })), { concurrency: 3 });
    expect(result.failed).toEqual([]);
    expect(result.created.map((c) => c.phone_number).sort()).toEqual([...numbers].sort());
    const seen: string[] = [];
    for await (const contact of own.contacts.iterate({ limit: 3, sort: 'phone_number' })) seen.push(contact.phone_number);
    expect(seen).toEqual([...numbers].sort());
    expect((await own.contacts.listAll({ limit: 2 })).length).toBe(7);
  });

  it('createMany reports refused inputs by position and keeps going, with progress', async () => {
    const { client: own } = await server.newAccount();
    const good = phone();
    const progress: number[] = [];
    const result = await own.contacts.createMany([{ phone_number: 'nope' }, { phone_number: good }, { phone_number: good }], {
      concurrency: 1,
      onProgress: (p) => progress.push(p.done),
    });
    expect(result.created.map((c) => c.phone_number)).toEqual([good]);
    expect(result.failed.map((f) => f.index)).toEqual([0, 2]);
    expect(result.failed[1]!.error).toBeInstanceOf(UnprocessableEntityError);
    expect(progress).toEqual([1, 2, 3]);
  });

  it('adds and removes groups, lists a group’s contacts, and unsubscribes numbers', async () => {
    const group = await client.groups.create({ name: 'VIP', keyword: `VIP${n}` });
    const contact = await client.contacts.create({ phone_number: phone() });
    const withGroup = await client.contacts.addGroup(contact.id, group.id);
    expect(withGroup.groups?.map((g) => g.id)).toEqual([group.id]);

    const members = await client.groups.contacts(group.id);
    expect(members.data.map((c) => c.id)).toEqual([contact.id]);
    const iterated: string[] = [];
    for await (const c of client.groups.iterateContacts(group.id, { limit: 1 })) iterated.push(c.id);
    expect(iterated).toEqual([contact.id]);

    await client.contacts.removeGroup(contact.id, group.id);
    expect((await client.groups.contacts(group.id)).data).toEqual([]);

    const unknown = phone();
    const result = await client.contacts.unsubscribe([contact.phone_number, unknown]);
    expect(result.unsubscribed).toEqual([contact.phone_number]);
    expect(result.not_found).toEqual([unknown]);
    const after = await client.contacts.retrieve(contact.id);
    expect(after.unsubscribed_at).not.toBeNull();
  });
});

describe('groups', () => {
  it('creates, retrieves, updates and lists groups; a reserved keyword is a 422 on keyword', async () => {
    const group = await client.groups.create({ name: 'Pizza lovers', join_message: 'Welcome!' });
    expect(await client.groups.retrieve(group.id)).toMatchObject({ id: group.id, name: 'Pizza lovers', join_message: 'Welcome!' });
    const renamed = await client.groups.update(group.id, { name: 'Pizza fans' });
    expect(renamed.name).toBe('Pizza fans');
    const page = await client.groups.list({ sort: 'name' });
    expect(page.data.some((g) => g.id === group.id)).toBe(true);
    const reserved = (await client.groups.create({ name: 'x', keyword: 'STOP' }).catch((e: unknown) => e)) as UnprocessableEntityError;
    expect(reserved).toBeInstanceOf(UnprocessableEntityError);
    expect(Object.keys(reserved.errors)).toEqual(['keyword']);
  });
});

describe('opt-ins, custom fields, phone numbers', () => {
  it('lists and retrieves the shipped opt-ins', async () => {
    const optIns = await client.optIns.listAll();
    expect(optIns.length).toBeGreaterThanOrEqual(3);
    expect(await client.optIns.retrieve(optIns[0]!.id)).toEqual(optIns[0]);
  });

  it('manages custom fields and sets values on contacts', async () => {
    const field = await client.fields.create({ name: 'favorite_color', type: 'text' });
    expect(await client.fields.retrieve(field.id)).toEqual(field);
    const contact = await client.contacts.create({ phone_number: phone(), fields: { favorite_color: 'blue' } }, { include: 'fields' });
    expect(contact.fields).toEqual({ favorite_color: 'blue' });
    const renamed = await client.fields.update(field.id, { name: 'colour' });
    expect(renamed.name).toBe('colour');
    expect((await client.fields.list({ filter: { type: 'text' } })).data.map((f) => f.id)).toContain(field.id);
    await client.fields.delete(field.id);
    await expect(client.fields.retrieve(field.id)).rejects.toBeInstanceOf(NotFoundError);
  });

  it('looks up phone numbers, at most 10', async () => {
    const result = await client.phoneNumbers.lookup(['+12025550123', 'nonsense']);
    expect(Array.isArray(result)).toBe(true);
    expect(JSON.stringify(result)).toContain('+12025550123');
    const tooMany = Array.from({ length: 11 }, phone);
    await expect(client.phoneNumbers.lookup(tooMany)).rejects.toBeInstanceOf(UnprocessableEntityError);
  });
});

describe('account', () => {
  it('retrieves the token’s account and changes its help text and quiet hours', async () => {
    const account = await client.account.retrieve();
    expect(account).toMatchObject({ help_text_is_default: true, quiet_hours: { enabled: false, start: '08:00', end: '21:00' } });
    const updated = await client.account.update({ help_text: 'Help: 555-0100', quiet_hours: { enabled: true, end: '20:30' } });
    expect(updated).toMatchObject({ id: account.id, help_text: 'Help: 555-0100', help_text_is_default: false, quiet_hours: { enabled: true, start: '08:00', end: '20:30' } });
    const refused = await client.account.update({ timezone: 'Mars/Olympus' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(UnprocessableEntityError);
    expect((refused as UnprocessableEntityError).errors).toHaveProperty('timezone');
    expect((refused as UnprocessableEntityError).requestId).toBeTruthy();
    expect((await client.account.retrieve()).timezone).toBe(account.timezone);
  });
});
