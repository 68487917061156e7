import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { CreateFieldBody, FieldSchema, UpdateFieldBody, fieldListSpec } from './fields.schema.js';

/** Custom fields (beyond the reference): the account's own contact attributes. */
export const fieldsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { fields } = app.services;
  const tags = ['Custom fields'];

  app.get(
    '/fields',
    {
      config: { scope: 'contacts.view' },
      schema: { tags, summary: 'List custom fields', querystring: listQuerySchema(fieldListSpec), response: { 200: pageSchema(FieldSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, fieldListSpec);
      const { data, total } = await fields.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.post(
    '/fields',
    {
      config: { scope: 'contacts.update' },
      schema: { tags, summary: 'Create a custom field', body: CreateFieldBody, response: { 201: Type.Object({ data: FieldSchema }), 422: ErrorSchema, ...standardErrors } },
    },
    async (request, reply) => reply.code(201).send({ data: await fields.create(request.auth!.accountId, request.body) }),
  );

  app.get(
    '/fields/:id',
    {
      config: { scope: 'contacts.view' },
      schema: { tags, summary: 'Retrieve a custom field', params: IdParams, response: { 200: Type.Object({ data: FieldSchema }), ...standardErrors } },
    },
    async (request) => ({ data: await fields.get(request.auth!.accountId, request.params.id) }),
  );

  app.put(
    '/fields/:id',
    {
      config: { scope: 'contacts.update' },
      schema: {
        tags,
        summary: 'Rename a custom field (its type cannot change)',
        params: IdParams,
        body: UpdateFieldBody,
        response: { 200: Type.Object({ data: FieldSchema }), 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => ({ data: await fields.update(request.auth!.accountId, request.params.id, request.body) }),
  );

  app.delete(
    '/fields/:id',
    {
      config: { scope: 'contacts.update' },
      schema: { tags, summary: 'Delete a custom field and every contact\'s value for it', params: IdParams, response: { 204: Type.Null(), ...standardErrors } },
    },
    async (request, reply) => {
      await fields.remove(request.auth!.accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
