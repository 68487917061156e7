import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { OptInSchema, optInListSpec } from './optins.schema.js';

export const optInsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { optIns } = app.services;

  app.get(
    '/opt-ins',
    {
      config: { scope: 'optins.view' },
      schema: {
        tags: ['Opt-ins'],
        summary: "List all opt-in's",
        querystring: listQuerySchema(optInListSpec),
        response: { 200: pageSchema(OptInSchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, optInListSpec);
      const { data, total } = await optIns.list(query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/opt-ins/:id',
    {
      config: { scope: 'optins.view' },
      schema: {
        tags: ['Opt-ins'],
        summary: 'Retrieve an opt-in',
        params: IdParams,
        response: { 200: Type.Object({ data: OptInSchema }), ...standardErrors },
      },
    },
    async (request) => ({ data: await optIns.get(request.params.id) }),
  );
};
