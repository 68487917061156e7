import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/helpers.js';
import { analyzeSegments } from '../messages/segments.js';
import { compileToSql, contactIdFromToken, contactToken, hasFixedLength, parseTemplate, renderNodes, unknownTags, withLinks } from './merge-tags.js';

describe('parseTemplate', () => {
  it('parses tags, fallbacks and literal braces', () => {
    const { nodes, errors } = parseTemplate('Hi {first_name|there}, {{50%}} off {Favorite Color}!');
    expect(errors).toEqual([]);
    expect(nodes).toEqual([
      { kind: 'text', text: 'Hi ' },
      { kind: 'tag', name: 'first_name', key: 'first_name', fallback: 'there' },
      { kind: 'text', text: ', {50%} off ' },
      { kind: 'tag', name: 'Favorite Color', key: 'favorite color', fallback: '' },
      { kind: 'text', text: '!' },
    ]);
  });

  it.each([
    ['Hi {first_name', /never closed/],
    ['Hi first_name}', /closes nothing/],
    ['Hi {first_{name}}', /not closed before the next/],
    ['Hi {}', /Empty merge tag/],
    ['Hi {|x}', /Empty merge tag/],
    ['Hi {9lives}', /Invalid merge tag name/],
  ])('reports %s as an error', (template, pattern) => {
    const { errors } = parseTemplate(template);
    expect(errors.length).toBeGreaterThan(0);
    expect(errors.join(' ')).toMatch(pattern);
  });

  it('names unknown tags and knows fixed-length templates', () => {
    const { nodes } = parseTemplate('{first_name} {shoe size} {coupon_url} {nope}');
    expect(unknownTags(nodes, new Set(['shoe size']), true)).toEqual(['nope']);
    expect(unknownTags(nodes, new Set(), false)).toEqual(['shoe size', 'coupon_url', 'nope']);
    expect(hasFixedLength(parseTemplate('Sale {coupon_url} https://x.test').nodes)).toBe(true);
    expect(hasFixedLength(nodes)).toBe(false);
  });
});

describe('withLinks', () => {
  it('finds links, leaves trailing punctuation and personalised URLs alone', () => {
    const nodes = withLinks(parseTemplate('See https://shop.test/sale. Or http://a.test/x?y=1, and https://p.test/?n={first_name}').nodes);
    expect(nodes.filter((n) => n.kind === 'link')).toEqual([
      { kind: 'link', url: 'https://shop.test/sale' },
      { kind: 'link', url: 'http://a.test/x?y=1' },
    ]);
    expect(renderNodes(nodes, { contact: { id: '00000000-0000-4000-8000-000000000000', first_name: 'Al' }, fields: {}, link: (u) => `[${u}]`, couponUrl: null })).toBe(
      'See [https://shop.test/sale]. Or [http://a.test/x?y=1], and https://p.test/?n=Al',
    );
  });
});

describe('contact tokens', () => {
  it('round-trip a uuid in 22 characters and refuse garbage', () => {
    const id = 'f82e541a-a4b1-11e8-a85f-127fd0971098';
    const token = contactToken(id);
    expect(token).toHaveLength(22);
    expect(contactIdFromToken(token)).toBe(id);
    expect(contactIdFromToken('short')).toBeNull();
    expect(contactIdFromToken('!!!!!!!!!!!!!!!!!!!!!!')).toBeNull();
  });
});

describe('SQL rendering and segment functions (database)', () => {
  let database: TestDatabase;
  beforeAll(async () => {
    database = await createTestDatabase();
  });
  afterAll(() => database.dispose());

  const samples = [
    '',
    'Hello',
    'a'.repeat(160),
    'a'.repeat(161),
    'a'.repeat(306),
    'a'.repeat(307),
    '{'.repeat(80),
    '{'.repeat(81),
    'a'.repeat(152) + '€' + 'a'.repeat(10),
    'é'.repeat(200),
    'ü€[]~^|\\{}\f' + 'x'.repeat(150),
    'Привет'.repeat(12),
    'Привет'.repeat(11) + '😀',
    '😀'.repeat(35),
    '😀'.repeat(36),
    'a'.repeat(66) + '😀' + 'b'.repeat(10),
    'ç Ç ñ',
    'Straße ☃',
    'new\nline\r\n',
  ];

  it('sms_segments and sms_encoding agree with analyzeSegments', async () => {
    for (const text of samples) {
      const row = (await sql<{ s: number; e: string }>`SELECT sms_segments(${text}) AS s, sms_encoding(${text}) AS e`.execute(database.db)).rows[0]!;
      const expected = analyzeSegments(text);
      expect({ text, s: row.s, e: text === '' ? expected.encoding : row.e }).toEqual({ text, s: expected.segments, e: expected.encoding });
    }
  });

  it('agree on random texts', async () => {
    const alphabet = ['a', 'B', ' ', '€', '{', 'é', 'Я', '😀', '\n', '~', '1'];
    let seed = 7;
    const rnd = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
    for (let n = 0; n < 150; n++) {
      const len = Math.floor(rnd() * 400);
      let text = '';
      const pool = rnd() < 0.5 ? alphabet.slice(0, 7) : alphabet;
      for (let i = 0; i < len; i++) text += pool[Math.floor(rnd() * (rnd() < 0.9 ? 3 : pool.length))]!;
      const row = (await sql<{ s: number }>`SELECT sms_segments(${text}) AS s`.execute(database.db)).rows[0]!;
      expect([text, row.s]).toEqual([text, analyzeSegments(text).segments]);
    }
  });

  it('compileToSql renders what renderNodes renders', async () => {
    const nodes = withLinks(parseTemplate('Hi {first_name|friend} {last_name}! {reward_points} pts. https://shop.test/a {coupon_url} {{ok}}').nodes);
    const id = 'f82e541a-a4b1-11e8-a85f-127fd0971098';
    const expr = compileToSql(nodes, {
      contact: 'c',
      fieldIds: new Map(),
      linkPrefix: (url) => (url === 'https://shop.test/a' ? 'https://s.test/l/abc/' : undefined),
      couponPrefix: 'https://s.test/c/xyz/',
    });
    for (const contact of [
      { id, first_name: 'Ann', last_name: 'Lee', reward_points: 12 },
      { id, first_name: '  ', last_name: null, reward_points: 0 },
    ]) {
      const row = (
        await sql<{ text: string }>`SELECT ${expr} AS text FROM (SELECT ${contact.id}::uuid AS id, ${contact.first_name}::text AS first_name, ${contact.last_name}::text AS last_name, ${contact.reward_points}::int AS reward_points) c`.execute(
          database.db,
        )
      ).rows[0]!;
      const js = renderNodes(nodes, {
        contact,
        fields: {},
        link: (url) => (url === 'https://shop.test/a' ? `https://s.test/l/abc/${contactToken(id)}` : url),
        couponUrl: `https://s.test/c/xyz/${contactToken(id)}`,
      });
      expect(row.text).toBe(js);
    }
  });
});
