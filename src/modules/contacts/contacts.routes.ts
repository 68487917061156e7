import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyRequest } from 'fastify';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseIncludes, parseListQuery, type ListSpec, type RawListQuery } from '../../http/list-query.js';
import type { ContactsService } from './contacts.service.js';
import type { FieldsService } from '../fields/fields.service.js';
import {
  AddGroupBody,
  CONTACT_INCLUDES,
  ContactSchema,
  CreateContactBody,
  IncludeQuery,
  UnsubscribeBody,
  UnsubscribeResultSchema,
  UpdateContactBody,
  contactListSpec,
} from './contacts.schema.js';

const ContactData = Type.Object({ data: ContactSchema });

/**
 * The list spec of one request: the fixed filters plus `fields.<name>` for each custom field
 * the account has defined (loaded only when the query filters on one).
 */
export async function contactListQuery(request: FastifyRequest, raw: RawListQuery, fields: FieldsService, base: ListSpec = contactListSpec) {
  const accountId = request.auth!.accountId;
  const wantsFields = raw.filter !== undefined && typeof raw.filter === 'object' && Object.keys(raw.filter).some((k) => k.startsWith('fields.'));
  let spec = base;
  if (wantsFields) {
    const defined = await fields.byName(accountId);
    const extra: ListSpec['filters'] = {};
    for (const key of Object.keys(raw.filter!)) {
      if (key.startsWith('fields.') && defined.has(key.slice('fields.'.length).toLowerCase())) extra[key] = 'exact';
    }
    spec = { ...base, filters: { ...base.filters, ...extra } };
  }
  return parseListQuery(raw, spec);
}

export async function listContacts(request: FastifyRequest, raw: RawListQuery, contacts: ContactsService, fields: FieldsService, publicUrl: string | undefined, groupId?: string) {
  const accountId = request.auth!.accountId;
  const query = await contactListQuery(request, raw, fields);
  const filters = await contacts.filtersFor(accountId, query, groupId);
  const { data, total } = await contacts.list(accountId, query, filters);
  return paginate(request, publicUrl, query, data, total);
}

export const contactsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { contacts, fields } = app.services;
  const tags = ['Contacts'];
  const includes = (raw: string | string[] | undefined) => parseIncludes(raw, CONTACT_INCLUDES);

  app.get(
    '/contacts',
    {
      config: { scope: 'contacts.view' },
      schema: {
        tags,
        summary: 'List all contacts',
        description: 'Filters: phone_number and reward_points (exact), fields.<name> (exact, by custom field). Includes: carrier, status, groups, fields.',
        querystring: listQuerySchema(contactListSpec),
        response: { 200: pageSchema(ContactSchema), ...standardErrors },
      },
    },
    async (request) => listContacts(request, request.query, contacts, fields, app.config.publicUrl),
  );

  app.post(
    '/contacts',
    {
      config: { scope: 'contacts.create' },
      schema: {
        tags,
        summary: 'Create a contact',
        description: 'The contact starts pending: the opt-in text goes out and it must confirm before it can receive marketing.',
        querystring: IncludeQuery,
        body: CreateContactBody,
        response: { 201: ContactData, 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request, reply) => {
      const contact = await contacts.create(request.auth!.accountId, request.body, includes(request.query.include));
      return reply.code(201).send({ data: contact });
    },
  );

  app.patch(
    '/contacts/unsubscribe',
    {
      config: { scope: 'contacts.update' },
      schema: {
        tags,
        summary: 'Unsubscribe contacts',
        description: 'Up to 100 phone numbers per request.',
        body: UnsubscribeBody,
        response: { 200: Type.Object({ data: UnsubscribeResultSchema }), 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => ({ data: await contacts.unsubscribe(request.auth!.accountId, request.body.phone_numbers) }),
  );

  app.get(
    '/contacts/:id',
    {
      config: { scope: 'contacts.view' },
      schema: { tags, summary: 'Retrieve a contact', params: IdParams, querystring: IncludeQuery, response: { 200: ContactData, ...standardErrors } },
    },
    async (request) => ({ data: await contacts.get(request.auth!.accountId, request.params.id, includes(request.query.include)) }),
  );

  app.put(
    '/contacts/:id',
    {
      config: { scope: 'contacts.update' },
      schema: {
        tags,
        summary: 'Update a contact',
        description: 'Changes only the attributes given. An empty groups array removes the contact from all groups. The phone number cannot change.',
        params: IdParams,
        querystring: IncludeQuery,
        body: UpdateContactBody,
        response: { 200: ContactData, 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => ({ data: await contacts.update(request.auth!.accountId, request.params.id, request.body, includes(request.query.include)) }),
  );

  app.delete(
    '/contacts/:id',
    {
      config: { scope: 'contacts.delete' },
      schema: { tags, summary: 'Delete a contact', params: IdParams, response: { 204: Type.Null(), ...standardErrors } },
    },
    async (request, reply) => {
      await contacts.remove(request.auth!.accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/contacts/:id/groups',
    {
      config: { scope: 'contacts.create' },
      schema: {
        tags,
        summary: 'Add a group to a contact',
        description: 'Answers the contact with its groups. Adding a group the contact is already in changes nothing.',
        params: IdParams,
        body: AddGroupBody,
        response: { 200: ContactData, 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => ({ data: await contacts.addGroup(request.auth!.accountId, request.params.id, request.body.group_id, new Set(['groups'])) }),
  );

  app.delete(
    '/contacts/:id/groups/:group',
    {
      config: { scope: 'contacts.delete' },
      schema: {
        tags,
        summary: 'Remove group from contact',
        params: Type.Object({ id: Type.String({ format: 'uuid' }), group: Type.String({ format: 'uuid' }) }),
        response: { 204: Type.Null(), ...standardErrors },
      },
    },
    async (request, reply) => {
      await contacts.removeGroup(request.auth!.accountId, request.params.id, request.params.group);
      return reply.code(204).send(null);
    },
  );
};
