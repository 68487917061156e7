import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { baseUrl } from '../../http/base-url.js';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { CampaignSchema, CreateCampaignBody, PreviewSchema, UpdateCampaignBody, campaignListSpec } from './campaigns.schema.js';

export const campaignsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { campaigns } = app.services;
  const tags = ['Campaigns'];
  const One = Type.Object({ data: CampaignSchema });
  const errors = { ...standardErrors, 402: ErrorSchema, 422: ErrorSchema };

  app.get(
    '/campaigns',
    { config: { scope: 'campaigns.view' }, schema: { tags, summary: 'List all campaigns', querystring: listQuerySchema(campaignListSpec), response: { 200: pageSchema(CampaignSchema), ...standardErrors } } },
    async (request) => {
      const query = parseListQuery(request.query, campaignListSpec);
      const { data, total } = await campaigns.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );
  app.post(
    '/campaigns',
    {
      config: { scope: 'campaigns.create' },
      schema: {
        tags,
        summary: 'Create a campaign',
        description: 'Sends now (send_at absent or null), at send_at, or saves a draft (draft: true). A send the credit balance cannot cover answers 402 and nothing is created or sent.',
        body: CreateCampaignBody,
        response: { 201: One, ...errors },
      },
    },
    async (request, reply) => reply.code(201).send({ data: await campaigns.create(request.auth!.accountId, request.body, baseUrl(request, app.config.publicUrl)) }),
  );
  app.get(
    '/campaigns/:id',
    { config: { scope: 'campaigns.view' }, schema: { tags, summary: 'Retrieve a campaign', params: IdParams, response: { 200: One, ...standardErrors } } },
    async (request) => ({ data: await campaigns.get(request.auth!.accountId, request.params.id) }),
  );
  app.put(
    '/campaigns/:id',
    {
      config: { scope: 'campaigns.update' },
      schema: { tags, summary: 'Update a campaign', description: 'Drafts and scheduled campaigns only (422 once sending).', params: IdParams, body: UpdateCampaignBody, response: { 200: One, ...errors } },
    },
    async (request) => ({ data: await campaigns.update(request.auth!.accountId, request.params.id, request.body) }),
  );
  app.delete(
    '/campaigns/:id',
    {
      config: { scope: 'campaigns.delete' },
      schema: {
        tags,
        summary: 'Delete a campaign',
        description: 'Deletes a draft, scheduled or canceled campaign; stops a sending one (it stays, canceled, with its stats); a sent campaign answers 422.',
        params: IdParams,
        response: { 204: Type.Null(), ...errors },
      },
    },
    async (request, reply) => {
      await campaigns.remove(request.auth!.accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/campaigns/:id/preview',
    {
      config: { scope: 'campaigns.view' },
      schema: {
        tags,
        summary: 'Dry run a campaign',
        description: 'Audience size, recipients, contacts skipped by reason, segments and credits, and the message rendered for the first recipient. Sends and charges nothing.',
        params: IdParams,
        response: { 200: Type.Object({ data: PreviewSchema }), ...errors },
      },
    },
    async (request) => ({ data: await campaigns.preview(request.auth!.accountId, request.params.id) }),
  );
};
