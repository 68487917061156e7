import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, standardErrors } from '../../http/common-schemas.js';
import { LookupBodySchema, LookupResultSchema } from './phone-numbers.schema.js';

export const phoneNumbersRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { phoneNumbers } = app.services;

  app.post(
    '/phone-numbers/lookup',
    {
      config: { scope: 'phone-numbers.lookup' },
      schema: {
        tags: ['Phone numbers'],
        summary: 'Lookup carrier',
        description: 'E.164 form, validity, country, number type, carrier (where known) and time zones of up to 10 numbers. Numbers without a + are read in the account\'s default country.',
        body: LookupBodySchema,
        response: { 200: Type.Object({ data: Type.Array(LookupResultSchema) }), 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request) => {
      const country = await phoneNumbers.defaultCountry(request.auth!.accountId);
      return { data: await phoneNumbers.lookup(request.body.phone_numbers, country) };
    },
  );
};
