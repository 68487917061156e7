import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import {
  CreateWebhookBody,
  UpdateWebhookBody,
  WebhookDeliveryDetailSchema,
  WebhookDeliverySchema,
  WebhookEndpointSchema,
  WebhookEndpointWithSecretSchema,
  deliveryListSpec,
  webhookListSpec,
} from './webhooks.schema.js';

const DeliveryParams = Type.Object({
  id: Type.String({ format: 'uuid' }),
  deliveryId: Type.String({ format: 'uuid' }),
});
const withValidation = { ...standardErrors, 409: ErrorSchema, 422: ErrorSchema };
const tags = ['Webhooks'];
const scope = 'webhooks.manage' as const;

/** /v1/webhooks: endpoints, their secrets, their delivery log and redelivery (scope webhooks.manage). */
export const webhooksRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { webhooks } = app.services;
  const accountOf = (request: { auth: { accountId: string } | null }) => request.auth!.accountId;

  app.get(
    '/webhooks',
    {
      config: { scope },
      schema: { tags, summary: 'List webhook endpoints', querystring: listQuerySchema(webhookListSpec), response: { 200: pageSchema(WebhookEndpointSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, webhookListSpec);
      const { data, total } = await webhooks.list(accountOf(request), query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.post(
    '/webhooks',
    {
      config: { scope },
      schema: {
        tags,
        summary: 'Create a webhook endpoint',
        description: 'The response carries the signing secret (whsec_...) this once.',
        body: CreateWebhookBody,
        response: { 201: Type.Object({ data: WebhookEndpointWithSecretSchema }), ...withValidation },
      },
    },
    async (request, reply) => reply.code(201).send({ data: await webhooks.create(accountOf(request), request.body) }),
  );

  app.get(
    '/webhooks/:id',
    { config: { scope }, schema: { tags, summary: 'Retrieve a webhook endpoint', params: IdParams, response: { 200: Type.Object({ data: WebhookEndpointSchema }), ...standardErrors } } },
    async (request) => ({ data: await webhooks.get(accountOf(request), request.params.id) }),
  );

  for (const method of ['put', 'patch'] as const) {
    app[method](
      '/webhooks/:id',
      {
        config: { scope },
        schema: {
          tags,
          summary: 'Update a webhook endpoint',
          description: 'Any of url, events, enabled. Enabling a disabled endpoint clears its disabled reason and failure streak.',
          params: IdParams,
          body: UpdateWebhookBody,
          response: { 200: Type.Object({ data: WebhookEndpointSchema }), ...withValidation },
        },
      },
      async (request) => ({ data: await webhooks.update(accountOf(request), request.params.id, request.body) }),
    );
  }

  app.delete(
    '/webhooks/:id',
    { config: { scope }, schema: { tags, summary: 'Delete a webhook endpoint', params: IdParams, response: { 204: Type.Null(), ...standardErrors } } },
    async (request, reply) => {
      await webhooks.remove(accountOf(request), request.params.id);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/webhooks/:id/rotate-secret',
    {
      config: { scope },
      schema: {
        tags,
        summary: 'Rotate the signing secret',
        description: 'Returns the new secret this once. For 24 hours both the previous and the new secret sign every delivery (two v1 signatures).',
        params: IdParams,
        response: { 200: Type.Object({ data: WebhookEndpointWithSecretSchema }), ...standardErrors },
      },
    },
    async (request) => ({ data: await webhooks.rotateSecret(accountOf(request), request.params.id) }),
  );

  app.get(
    '/webhooks/:id/deliveries',
    {
      config: { scope },
      schema: {
        tags,
        summary: 'List the deliveries of an endpoint',
        description: 'Newest first: status, last response code and latency, next retry.',
        params: IdParams,
        querystring: listQuerySchema(deliveryListSpec),
        response: { 200: pageSchema(WebhookDeliverySchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, deliveryListSpec);
      const { data, total } = await webhooks.listDeliveries(accountOf(request), request.params.id, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/webhooks/:id/deliveries/:deliveryId',
    {
      config: { scope },
      schema: {
        tags,
        summary: 'Retrieve a delivery with its body and every attempt',
        params: DeliveryParams,
        response: { 200: Type.Object({ data: WebhookDeliveryDetailSchema }), ...standardErrors },
      },
    },
    async (request) => ({ data: await webhooks.getDelivery(accountOf(request), request.params.id, request.params.deliveryId) }),
  );

  app.post(
    '/webhooks/:id/deliveries/:deliveryId/redeliver',
    {
      config: { scope },
      schema: {
        tags,
        summary: 'Redeliver',
        description: 'Queues the delivery again now with the same webhook-id and a new retry schedule. 409 while an attempt is in flight or the endpoint is disabled.',
        params: DeliveryParams,
        response: { 202: Type.Object({ data: WebhookDeliverySchema }), ...withValidation },
      },
    },
    async (request, reply) => reply.code(202).send({ data: await webhooks.redeliver(accountOf(request), request.params.id, request.params.deliveryId) }),
  );
};
