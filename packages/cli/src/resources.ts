/**
 * The resources the CLI drives generically (`shortcode <resource> list|get|create|update|delete`),
 * with the columns of their tables and friendly flags for their bodies.
 */
import type { ListParams, Page, RequestOptions, Shortcode } from '@shortcode/sdk';

export type Row = Record<string, unknown> & { id?: string };
export type Operation = 'list' | 'get' | 'create' | 'update' | 'delete';

/** The shape every SDK resource has, seen loosely (each CLI command checks what it calls). */
export interface GenericResource {
  list(params?: ListParams, options?: RequestOptions): Promise<Page<Row>>;
  iterate(params?: ListParams, options?: RequestOptions): AsyncGenerator<Row, void, undefined>;
  retrieve(id: string, ...rest: unknown[]): Promise<Row>;
  create(body: Record<string, unknown>, ...rest: unknown[]): Promise<Row>;
  update(id: string, body: Record<string, unknown>, ...rest: unknown[]): Promise<Row>;
  delete(id: string): Promise<void>;
}

/** A flag that sets a body field: `--first-name Ada` sets `first_name`. */
export interface FieldFlag {
  field: string;
  kind?: 'string' | 'number' | 'boolean' | 'list';
  description: string;
}

export interface ResourceSpec {
  /** The CLI name (`campaign-templates`). */
  name: string;
  /** Singular, for messages. */
  noun: string;
  of(client: Shortcode): GenericResource;
  operations: readonly Operation[];
  columns: readonly string[];
  /** Single objects may take `include` (contacts, groups, messages). */
  includes?: boolean;
  flags?: Record<string, FieldFlag>;
}

const contactFlags: Record<string, FieldFlag> = {
  phone: { field: 'phone_number', description: 'phone number (E.164 preferred)' },
  'first-name': { field: 'first_name', description: 'first name' },
  'last-name': { field: 'last_name', description: 'last name' },
  email: { field: 'email', description: 'email address' },
  group: { field: 'groups', kind: 'list', description: 'group id (repeatable)' },
  'reward-points': { field: 'reward_points', kind: 'number', description: 'reward points' },
};

export const RESOURCES: readonly ResourceSpec[] = [
  {
    name: 'contacts',
    noun: 'contact',
    of: (c) => c.contacts as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'phone_number', 'first_name', 'last_name', 'email', 'reward_points', 'created_at'],
    includes: true,
    flags: contactFlags,
  },
  {
    name: 'groups',
    noun: 'group',
    of: (c) => c.groups as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update'],
    columns: ['id', 'name', 'keyword', 'join_message', 'created_at'],
    includes: true,
    flags: {
      name: { field: 'name', description: 'group name' },
      keyword: { field: 'keyword', description: 'keyword contacts text to join' },
      'join-message': { field: 'join_message', description: 'message sent on joining' },
    },
  },
  { name: 'opt-ins', noun: 'opt-in', of: (c) => c.optIns as unknown as GenericResource, operations: ['list', 'get'], columns: ['id', 'name', 'description', 'enabled'] },
  { name: 'carriers', noun: 'carrier', of: (c) => c.carriers as unknown as GenericResource, operations: ['list', 'get'], columns: ['id', 'name', 'country'] },
  {
    name: 'fields',
    noun: 'custom field',
    of: (c) => c.fields as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'name', 'type', 'created_at'],
    flags: { name: { field: 'name', description: 'field name' }, type: { field: 'type', description: 'text, number, date or boolean' } },
  },
  {
    name: 'campaigns',
    noun: 'campaign',
    of: (c) => c.campaigns as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'name', 'status', 'send_at', 'created_at'],
    flags: {
      name: { field: 'name', description: 'campaign name' },
      message: { field: 'message', description: 'text (merge tags allowed)' },
      group: { field: 'groups', kind: 'list', description: 'group id (repeatable; none = every subscribed contact)' },
      'send-at': { field: 'send_at', description: 'ISO 8601 date-time (default: now)' },
      draft: { field: 'draft', kind: 'boolean', description: 'save without sending' },
      'template-id': { field: 'template_id', description: 'start from a campaign template' },
      'coupon-id': { field: 'coupon_id', description: 'attach a coupon' },
    },
  },
  {
    name: 'campaign-templates',
    noun: 'campaign template',
    of: (c) => c.campaignTemplates as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'name', 'message', 'created_at'],
    flags: { name: { field: 'name', description: 'template name' }, message: { field: 'message', description: 'text' } },
  },
  {
    name: 'coupons',
    noun: 'coupon',
    of: (c) => c.coupons as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'name', 'title', 'code', 'redemptions', 'expires_at'],
    flags: {
      name: { field: 'name', description: 'coupon name' },
      title: { field: 'title', description: 'title shown on the coupon' },
      code: { field: 'code', description: 'the code to show' },
      'expires-at': { field: 'expires_at', description: 'ISO 8601 date-time' },
    },
  },
  { name: 'coupon-templates', noun: 'coupon template', of: (c) => c.couponTemplates as unknown as GenericResource, operations: ['list', 'get'], columns: ['id', 'name', 'created_at'] },
  {
    name: 'messages',
    noun: 'message',
    of: (c) => c.messages as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update'],
    columns: ['id', 'type', 'phone_number', 'status', 'message', 'read', 'created_at'],
    includes: true,
    flags: {
      'contact-id': { field: 'contact_id', description: 'contact to send to' },
      message: { field: 'message', description: 'text' },
      read: { field: 'read', kind: 'boolean', description: 'mark read (update)' },
    },
  },
  {
    name: 'schedule',
    noun: 'scheduled message',
    of: (c) => c.message.schedule as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'phone_number', 'status', 'send_at', 'message'],
    flags: {
      to: { field: 'phone_number', description: 'recipient phone number' },
      message: { field: 'message', description: 'text' },
      at: { field: 'send_at', description: 'ISO 8601 date-time in the future' },
    },
  },
  {
    name: 'imports',
    noun: 'import',
    of: (c) => c.contacts.imports as unknown as GenericResource,
    operations: ['list', 'get'],
    columns: ['id', 'status', 'format', 'total_rows', 'processed_rows', 'created', 'updated', 'skipped', 'invalid', 'created_at'],
  },
  {
    name: 'webhooks',
    noun: 'webhook endpoint',
    of: (c) => c.webhooks as unknown as GenericResource,
    operations: ['list', 'get', 'create', 'update', 'delete'],
    columns: ['id', 'url', 'events', 'enabled', 'created_at'],
    flags: {
      url: { field: 'url', description: 'https URL receiving the events' },
      event: { field: 'events', kind: 'list', description: 'event name (repeatable)' },
      enabled: { field: 'enabled', kind: 'boolean', description: 'enable or disable' },
    },
  },
];

export function findResource(name: string): ResourceSpec | undefined {
  return RESOURCES.find((r) => r.name === name || (name === 'optins' && r.name === 'opt-ins'));
}
