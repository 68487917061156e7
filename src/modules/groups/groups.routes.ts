import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseIncludes, parseListQuery } from '../../http/list-query.js';
import { NotFoundError } from '../../lib/errors.js';
import { ContactSchema, IncludeQuery, contactListSpec } from '../contacts/contacts.schema.js';
import { listContacts } from '../contacts/contacts.routes.js';
import { CreateGroupBody, GroupSchema, UpdateGroupBody, groupListSpec } from './groups.schema.js';

const GroupData = Type.Object({ data: GroupSchema });

export const groupsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { groups, contacts, fields } = app.services;
  const tags = ['Groups'];

  app.get(
    '/groups',
    {
      config: { scope: 'groups.view' },
      schema: { tags, summary: 'List all groups', querystring: listQuerySchema(groupListSpec), response: { 200: pageSchema(GroupSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, groupListSpec);
      const { data, total } = await groups.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.post(
    '/groups',
    {
      config: { scope: 'groups.create' },
      schema: { tags, summary: 'Create a group', body: CreateGroupBody, response: { 201: GroupData, 422: ErrorSchema, ...standardErrors } },
    },
    async (request, reply) => reply.code(201).send({ data: await groups.create(request.auth!.accountId, request.body) }),
  );

  app.get(
    '/groups/:id',
    {
      config: { scope: 'groups.view' },
      schema: {
        tags,
        summary: 'Retrieve a group',
        params: IdParams,
        querystring: IncludeQuery,
        response: { 200: GroupData, ...standardErrors },
      },
    },
    async (request) => {
      const include = parseIncludes(request.query.include, groupListSpec.includes);
      return { data: await groups.get(request.auth!.accountId, request.params.id, include.has('keyword')) };
    },
  );

  app.put(
    '/groups/:id',
    {
      config: { scope: 'groups.update' },
      schema: { tags, summary: 'Update a group', params: IdParams, body: UpdateGroupBody, response: { 200: GroupData, 422: ErrorSchema, ...standardErrors } },
    },
    async (request) => ({ data: await groups.update(request.auth!.accountId, request.params.id, request.body) }),
  );

  app.get(
    '/groups/:id/contacts',
    {
      config: { scope: 'groups.view' },
      schema: {
        tags,
        summary: 'Retrieve a group contacts',
        params: IdParams,
        querystring: listQuerySchema(contactListSpec),
        response: { 200: pageSchema(ContactSchema), ...standardErrors },
      },
    },
    async (request) => {
      const accountId = request.auth!.accountId;
      if (!(await groups.exists(accountId, request.params.id))) throw new NotFoundError('Group not found.');
      return listContacts(request, request.query, contacts, fields, app.config.publicUrl, request.params.id);
    },
  );
};
