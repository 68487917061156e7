import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { answer, idempotency } from './messages.routes.js';
import { ScheduleBody, ScheduledMessageSchema, scheduledListSpec, ScheduleUpdateBody } from './messages.schema.js';

/** Scheduled messages at /message/schedule, and the same resource at /messages/schedule (DECISIONS). */
export const scheduledMessagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { scheduledMessages } = app.services;
  for (const base of ['/message/schedule', '/messages/schedule']) {
    const alias = base === '/messages/schedule';
    const tags = ['Scheduled Messages'];
    const hide = alias; // documented once

    app.get(
      base,
      {
        config: { scope: 'message.schedule.view' },
        schema: { tags, hide, summary: 'List all scheduled messages', querystring: listQuerySchema(scheduledListSpec), response: { 200: pageSchema(ScheduledMessageSchema), ...standardErrors } },
      },
      async (request) => {
        const query = parseListQuery(request.query, scheduledListSpec);
        const { data, total } = await scheduledMessages.list(request.auth!.accountId, query);
        return paginate(request, app.config.publicUrl, query, data, total);
      },
    );

    app.post(
      base,
      {
        config: { scope: 'message.schedule.create' },
        schema: {
          tags,
          hide,
          summary: 'Create a scheduled message',
          description: 'Charged when created (one credit per segment), refunded if deleted before it is sent.',
          body: ScheduleBody,
          response: { 201: Type.Object({ data: ScheduledMessageSchema }), ...standardErrors, 402: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request, reply) =>
        answer(reply, await scheduledMessages.create(request.auth!.accountId, request.body as Record<string, unknown>, idempotency(request, 'POST /message/schedule'))),
    );

    app.get(
      `${base}/:id`,
      {
        config: { scope: 'message.schedule.view' },
        schema: { tags, hide, summary: 'Retrieve a scheduled message', params: IdParams, response: { 200: Type.Object({ data: ScheduledMessageSchema }), ...standardErrors } },
      },
      async (request) => ({ data: await scheduledMessages.get(request.auth!.accountId, request.params.id) }),
    );

    app.put(
      `${base}/:id`,
      {
        config: { scope: 'message.schedule.update' },
        schema: {
          tags,
          hide,
          summary: 'Update a scheduled message',
          params: IdParams,
          body: ScheduleUpdateBody,
          response: { 200: Type.Object({ data: ScheduledMessageSchema }), ...standardErrors, 402: ErrorSchema, 422: ErrorSchema },
        },
      },
      async (request) => ({ data: await scheduledMessages.update(request.auth!.accountId, request.params.id, request.body as Record<string, unknown>) }),
    );

    app.delete(
      `${base}/:id`,
      {
        config: { scope: 'message.schedule.delete' },
        schema: { tags, hide, summary: 'Delete (cancel) a scheduled message', params: IdParams, response: { 204: Type.Null(), ...standardErrors, 422: ErrorSchema } },
      },
      async (request, reply) => {
        await scheduledMessages.cancel(request.auth!.accountId, request.params.id);
        return reply.code(204).send(null);
      },
    );
  }
};
