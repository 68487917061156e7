import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseIncludes, parseListQuery } from '../../http/list-query.js';
import {
  BatchBody,
  BatchResponse,
  IncludeQuery,
  MessageSchema,
  messageListSpec,
  PreviewBody,
  PreviewSchema,
  SendToContactBody,
  SendToNumberBody,
  UpdateMessageBody,
} from './messages.schema.js';
import { checkIdempotencyKey, type IdempotencyInput, type SendResult } from './messages.service.js';

const sendErrors = { ...standardErrors, 402: ErrorSchema, 422: ErrorSchema };
const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ description: 'Retrying a POST with the same key returns the first answer and sends nothing new' })),
});

export function idempotency(request: FastifyRequest, route: string): IdempotencyInput | undefined {
  const raw = request.headers['idempotency-key'];
  const key = checkIdempotencyKey(Array.isArray(raw) ? raw[0] : raw);
  return key === undefined ? undefined : { key, route, body: request.body };
}

export function answer(reply: FastifyReply, result: SendResult) {
  if (result.replayed) reply.header('idempotency-replayed', 'true');
  return reply.code(result.status).send(result.body);
}

export const messagesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { messages } = app.services;

  app.post(
    '/message',
    {
      config: { scope: 'messages.create' },
      schema: {
        tags: ['Messages'],
        summary: 'Send an individual message',
        description: 'Send 1 message to 1 phone number. Charged one credit per segment; 402 and nothing sent when the balance cannot cover it.',
        headers: IdempotencyHeaders,
        body: SendToNumberBody,
        response: { 201: Type.Object({ data: MessageSchema }), ...sendErrors },
      },
    },
    async (request, reply) => answer(reply, await messages.sendToNumber(request.auth!.accountId, request.body, idempotency(request, 'POST /message'))),
  );

  app.post(
    '/message/batch',
    {
      config: { scope: 'messages.create' },
      schema: {
        tags: ['Messages'],
        summary: 'Send a batch of messages',
        description:
          'Personalised messages, up to 1,000 per request. Invalid input refuses the whole batch (422). Numbers of contacts who may not be texted are rejected (meta.rejected) and the rest are sent.',
        headers: IdempotencyHeaders,
        body: BatchBody,
        response: { 201: BatchResponse, ...sendErrors },
      },
    },
    async (request, reply) => answer(reply, await messages.sendBatch(request.auth!.accountId, request.body.messages, idempotency(request, 'POST /message/batch'))),
  );

  app.post(
    '/message/preview',
    {
      config: { scope: 'messages.create' },
      schema: {
        tags: ['Messages'],
        summary: 'Preview the cost of a message',
        description: 'Encoding, segments, credits and the characters that force UCS-2. Sends nothing.',
        body: PreviewBody,
        response: { 200: Type.Object({ data: PreviewSchema }), ...standardErrors, 422: ErrorSchema },
      },
    },
    async (request) => ({ data: messages.preview(request.body.message) }),
  );

  app.post(
    '/messages',
    {
      config: { scope: 'messages.create' },
      schema: {
        tags: ['Messages'],
        summary: 'Send an individual message to a contact',
        headers: IdempotencyHeaders,
        body: SendToContactBody,
        response: { 201: Type.Object({ data: MessageSchema }), ...sendErrors },
      },
    },
    async (request, reply) => answer(reply, await messages.sendToContact(request.auth!.accountId, request.body, idempotency(request, 'POST /messages'))),
  );

  app.get(
    '/messages',
    {
      config: { scope: 'messages.view' },
      schema: {
        tags: ['Messages'],
        summary: 'List all messages',
        querystring: listQuerySchema(messageListSpec),
        response: { 200: pageSchema(MessageSchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, messageListSpec);
      const { data, total } = await messages.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/messages/unread',
    {
      config: { scope: 'messages.unread.view' },
      schema: {
        tags: ['Messages'],
        summary: 'List unread incoming messages',
        querystring: listQuerySchema(messageListSpec),
        response: { 200: pageSchema(MessageSchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, messageListSpec);
      const { data, total } = await messages.list(request.auth!.accountId, query, { unreadOnly: true });
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/messages/:id',
    {
      config: { scope: 'messages.view' },
      schema: {
        tags: ['Messages'],
        summary: 'Retrieve a message',
        params: IdParams,
        querystring: IncludeQuery,
        response: { 200: Type.Object({ data: MessageSchema }), ...standardErrors },
      },
    },
    async (request) => ({
      data: await messages.get(request.auth!.accountId, request.params.id, parseIncludes(request.query.include, ['receipt', 'contact.carrier', 'type'])),
    }),
  );

  app.put(
    '/messages/:id',
    {
      config: { scope: 'messages.update' },
      schema: {
        tags: ['Messages'],
        summary: 'Update a message (mark it read or unread)',
        params: IdParams,
        body: UpdateMessageBody,
        response: { 200: Type.Object({ data: MessageSchema }), ...standardErrors, 422: ErrorSchema },
      },
    },
    async (request) => ({ data: await messages.update(request.auth!.accountId, request.params.id, request.body as Record<string, unknown>) }),
  );
};
