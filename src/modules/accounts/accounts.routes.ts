import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, standardErrors } from '../../http/common-schemas.js';
import { AccountSchema, UpdateAccountBody } from './accounts.schema.js';

/** /v1/account: the calling token's account and its messaging settings (beyond the reference). */
export const accountRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { accounts } = app.services;
  const tags = ['Account'];

  app.get(
    '/account',
    {
      config: { scope: 'account.view' },
      schema: { tags, summary: 'Retrieve your account and its settings', response: { 200: Type.Object({ data: AccountSchema }), ...standardErrors } },
    },
    async (request) => ({ data: await accounts.settings(request.auth!.accountId) }),
  );

  app.put(
    '/account',
    {
      config: { scope: 'account.update' },
      schema: {
        tags,
        summary: 'Change your account’s settings',
        description: 'Changes only the fields given: name, default country, time zone, the HELP answer and quiet hours.',
        body: UpdateAccountBody,
        response: { 200: Type.Object({ data: AccountSchema }), 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => ({ data: await accounts.updateSettings(request.auth!.accountId, request.body) }),
  );
};
