import { sql, type RawBuilder } from 'kysely';

/**
 * Merge tags: `{first_name}`, `{first_name|there}` (a fallback when the value is empty),
 * custom fields by name (`{Favorite color|blue}`, case-insensitive), `{coupon_url}` (the
 * recipient's link to the campaign's coupon), and `{{` / `}}` for literal braces.
 * Anything else with braces (an unclosed `{`, a stray `}`, a `{` inside a tag, an empty tag)
 * is an error, reported with its position.
 *
 * A template is parsed once into nodes; the same nodes render in JavaScript (previews, tests)
 * and compile to one SQL expression (campaign fan-out renders every recipient's text inside
 * an INSERT ... SELECT). Links (http:// or https://) in the text become `link` nodes, so the
 * sender can replace them by tracked short links.
 */
export type MergeNode =
  | { kind: 'text'; text: string }
  | { kind: 'tag'; name: string; key: string; fallback: string }
  | { kind: 'link'; url: string };

/** Contact attributes a tag can name, and the column each reads. */
export const CONTACT_TAGS = {
  first_name: 'first_name',
  last_name: 'last_name',
  email: 'email',
  phone_number: 'phone_number',
  address: 'address',
  city: 'city',
  state: 'state',
  zip: 'zip',
  gender: 'gender',
  birth_date: 'birth_date',
  reward_points: 'reward_points',
  timezone: 'timezone',
} as const;
export type ContactTag = keyof typeof CONTACT_TAGS;
export const COUPON_TAG = 'coupon_url';

const isContactTag = (key: string): key is ContactTag => Object.prototype.hasOwnProperty.call(CONTACT_TAGS, key);

const NAME_RE = /^[A-Za-z_][A-Za-z0-9_ .-]{0,63}$/;

export interface ParseResult {
  nodes: MergeNode[];
  errors: string[];
}

/** Splits a template into text and tag nodes (links are found later, by `withLinks`). */
export function parseTemplate(template: string): ParseResult {
  const nodes: MergeNode[] = [];
  const errors: string[] = [];
  let text = '';
  const flush = () => {
    if (text) nodes.push({ kind: 'text', text });
    text = '';
  };
  let i = 0;
  while (i < template.length) {
    const ch = template[i]!;
    if (ch === '{' && template[i + 1] === '{') {
      text += '{';
      i += 2;
      continue;
    }
    if (ch === '}' && template[i + 1] === '}') {
      text += '}';
      i += 2;
      continue;
    }
    if (ch === '}') {
      errors.push(`Unbalanced merge tag: "}" at position ${i + 1} closes nothing (write "}}" for a literal brace).`);
      i += 1;
      continue;
    }
    if (ch !== '{') {
      text += ch;
      i += 1;
      continue;
    }
    const close = template.indexOf('}', i + 1);
    const nextOpen = template.indexOf('{', i + 1);
    if (close === -1) {
      errors.push(`Unbalanced merge tag: "{" at position ${i + 1} is never closed (write "{{" for a literal brace).`);
      break;
    }
    if (nextOpen !== -1 && nextOpen < close) {
      errors.push(`Unbalanced merge tag: "{" at position ${i + 1} is not closed before the next "{" at position ${nextOpen + 1}.`);
      i = nextOpen;
      continue;
    }
    const body = template.slice(i + 1, close);
    const bar = body.indexOf('|');
    const name = (bar === -1 ? body : body.slice(0, bar)).trim();
    const fallback = bar === -1 ? '' : body.slice(bar + 1);
    if (!name) errors.push(`Empty merge tag at position ${i + 1}.`);
    else if (!NAME_RE.test(name)) errors.push(`Invalid merge tag name "${name}" at position ${i + 1}.`);
    else {
      flush();
      nodes.push({ kind: 'tag', name, key: name.toLowerCase(), fallback });
    }
    i = close + 1;
  }
  flush();
  return { nodes, errors };
}

// A URL runs to whitespace or a brace; trailing punctuation belongs to the sentence.
const URL_RE = /https?:\/\/[^\s<>"{}]+/gi;
const TRAILING = /[.,;:!?)\]'"]+$/;

/**
 * Finds links in the text nodes. A URL glued to a following tag (`https://x.test/?n={first_name}`)
 * is personalised, so it is left as it is (not tracked).
 */
export function withLinks(nodes: MergeNode[]): MergeNode[] {
  const out: MergeNode[] = [];
  nodes.forEach((node, index) => {
    if (node.kind !== 'text') {
      out.push(node);
      return;
    }
    const nextIsTag = nodes[index + 1]?.kind === 'tag';
    let last = 0;
    for (const match of node.text.matchAll(URL_RE)) {
      const url = match[0].replace(TRAILING, '');
      const start = match.index;
      const end = start + url.length;
      if (nextIsTag && start + match[0].length === node.text.length && url.length === match[0].length) continue;
      if (url.length <= 'https://'.length) continue;
      if (start > last) out.push({ kind: 'text', text: node.text.slice(last, start) });
      out.push({ kind: 'link', url });
      last = end;
    }
    if (last < node.text.length) out.push({ kind: 'text', text: node.text.slice(last) });
  });
  return out;
}

export const linksOf = (nodes: MergeNode[]): string[] => [...new Set(nodes.flatMap((n) => (n.kind === 'link' ? [n.url] : [])))];

/** Tags that are neither contact attributes, `coupon_url` (when allowed), nor known custom fields. */
export function unknownTags(nodes: MergeNode[], customFields: ReadonlySet<string>, allowCoupon: boolean): string[] {
  const unknown = new Set<string>();
  for (const node of nodes) {
    if (node.kind !== 'tag') continue;
    if (isContactTag(node.key)) continue;
    if (node.key === COUPON_TAG && allowCoupon) continue;
    if (customFields.has(node.key)) continue;
    unknown.add(node.name);
  }
  return [...unknown];
}

/** True when every recipient gets text of the same length (no contact-dependent tags). */
export const hasFixedLength = (nodes: MergeNode[]): boolean => nodes.every((n) => n.kind !== 'tag' || n.key === COUPON_TAG);

/** base64url of a UUID's 16 bytes: 22 characters that identify a contact in a link. */
export function contactToken(contactId: string): string {
  return Buffer.from(contactId.replace(/-/g, ''), 'hex').toString('base64url');
}

export function contactIdFromToken(token: string): string | null {
  if (!/^[A-Za-z0-9_-]{22}$/.test(token)) return null;
  const hex = Buffer.from(token, 'base64url').toString('hex');
  if (hex.length !== 32) return null;
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

export interface RenderContext {
  contact: { id: string } & Partial<Record<ContactTag, string | number | null>>;
  /** Custom field values by lower-cased field name. */
  fields: Record<string, string | null | undefined>;
  /** The URL a link becomes for this recipient (identity when links are not tracked). */
  link(url: string): string;
  /** This recipient's coupon link, when the campaign carries a coupon. */
  couponUrl: string | null;
}

const present = (value: string | number | null | undefined): string | null => {
  if (value === null || value === undefined) return null;
  const text = String(value).replace(/^ +| +$/g, ''); // as btrim() does in SQL
  return text === '' ? null : text;
};

export function renderNodes(nodes: MergeNode[], ctx: RenderContext): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'link') out += ctx.link(node.url);
    else if (node.key === COUPON_TAG && ctx.couponUrl !== null) out += ctx.couponUrl;
    else if (isContactTag(node.key)) out += present(ctx.contact[node.key]) ?? node.fallback;
    else out += present(ctx.fields[node.key]) ?? node.fallback;
  }
  return out;
}

export interface SqlRenderOptions {
  /** Alias of the contacts row in the surrounding query. */
  contact: string;
  /** Custom field ids by lower-cased name. */
  fieldIds: ReadonlyMap<string, string>;
  /** Tracked link prefix for a URL (`https://host/l/CODE/`), or undefined to leave it as is. */
  linkPrefix(url: string): string | undefined;
  /** Coupon link prefix (`https://host/c/CODE/`), when the campaign carries a coupon. */
  couponPrefix: string | null;
}

/** The SQL token expression matching `contactToken` (base64url of the uuid bytes, unpadded). */
export const sqlContactToken = (alias: string): RawBuilder<string> =>
  sql<string>`rtrim(translate(encode(uuid_send(${sql.ref(`${alias}.id`)}), 'base64'), '+/', '-_'), '=')`;

/** One SQL text expression rendering `nodes` for the contact row `options.contact`. */
export function compileToSql(nodes: MergeNode[], options: SqlRenderOptions): RawBuilder<string> {
  const parts: RawBuilder<unknown>[] = [];
  for (const node of nodes) {
    if (node.kind === 'text') parts.push(sql`${node.text}::text`);
    else if (node.kind === 'link') {
      const prefix = options.linkPrefix(node.url);
      parts.push(prefix === undefined ? sql`${node.url}::text` : sql`(${prefix}::text || ${sqlContactToken(options.contact)})`);
    } else if (node.key === COUPON_TAG && options.couponPrefix !== null) {
      parts.push(sql`(${options.couponPrefix}::text || ${sqlContactToken(options.contact)})`);
    } else if (isContactTag(node.key)) {
      const column = sql.ref(`${options.contact}.${CONTACT_TAGS[node.key]}`);
      parts.push(sql`coalesce(nullif(btrim(${column}::text), ''), ${node.fallback}::text)`);
    } else {
      const fieldId = options.fieldIds.get(node.key);
      if (fieldId === undefined) parts.push(sql`${node.fallback}::text`);
      else {
        const id = sql.ref(`${options.contact}.id`);
        parts.push(
          sql`coalesce(nullif(btrim((SELECT v.value FROM contact_field_values v WHERE v.contact_id = ${id} AND v.field_id = ${fieldId}::uuid)), ''), ${node.fallback}::text)`,
        );
      }
    }
  }
  if (parts.length === 0) return sql<string>`''::text`;
  return sql<string>`(${sql.join(parts, sql` || `)})`;
}
