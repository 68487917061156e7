import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { CarrierSchema, carrierListSpec } from './carriers.schema.js';

export const carriersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { carriers } = app.services;

  app.get(
    '/carriers',
    {
      config: { scope: 'carriers.view' },
      schema: {
        tags: ['Carriers'],
        summary: 'List all carriers',
        querystring: listQuerySchema(carrierListSpec),
        response: { 200: pageSchema(CarrierSchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, carrierListSpec);
      const { data, total } = await carriers.list(query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/carriers/:id',
    {
      config: { scope: 'carriers.view' },
      schema: {
        tags: ['Carriers'],
        summary: 'Retrieve a carrier',
        params: IdParams,
        response: { 200: Type.Object({ data: CarrierSchema }), ...standardErrors },
      },
    },
    async (request) => ({ data: await carriers.get(request.params.id) }),
  );
};
