import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, standardErrors } from '../../http/common-schemas.js';
import { NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import { MessageSchema } from '../../modules/messages/messages.schema.js';
import { normalizePhone } from '../../modules/messages/phone.js';

const HandsetMessage = Type.Object({
  id: Type.String({ format: 'uuid' }),
  direction: Type.Union([Type.Literal('received'), Type.Literal('sent')], { description: 'received: texted to the handset; sent: texted by it' }),
  from: Type.String(),
  to: Type.String(),
  message: Type.String(),
  message_id: Type.Union([Type.String(), Type.Null()]),
  delivery_code: Type.Union([Type.String(), Type.Null()]),
  reported_at: Type.Union([Type.String(), Type.Null()]),
  created_at: Type.String({ format: 'date-time' }),
});

/**
 * The simulated carrier's controls (DECISIONS.md), present only while the simulator is the
 * transport. They act on the token's account: a handset texts the account's short code, and
 * lists what it received from that account.
 */
export const simulatorRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { db } = app.database;

  async function account(accountId: string) {
    const row = await db.selectFrom('accounts').select(['id', 'short_code', 'default_country']).where('id', '=', accountId).executeTakeFirst();
    if (!row) throw new NotFoundError('Account not found.');
    return row;
  }

  app.post(
    '/inbound',
    {
      config: { scope: 'messages.create' },
      schema: {
        tags: ['Simulator'],
        summary: 'A simulated handset texts the account',
        body: Type.Object({ from: Type.Unknown(), to: Type.Optional(Type.Unknown()), message: Type.Unknown() }, { additionalProperties: true }),
        response: { 201: Type.Object({ data: MessageSchema }), ...standardErrors, 422: ErrorSchema },
      },
    },
    async (request, reply) => {
      const acct = await account(request.auth!.accountId);
      const body = request.body;
      const errors: FieldErrors = {};
      const from = normalizePhone(body.from, acct.default_country);
      if (!from.ok) errors.from = [from.reason];
      const to = body.to === undefined || body.to === null || body.to === '' ? acct.short_code : String(body.to).replace(/^\+/, '').trim();
      if (to !== acct.short_code) errors.to = [`The account's short code is ${acct.short_code}.`];
      if (typeof body.message !== 'string' || body.message.length === 0) errors.message = ['The message is required.'];
      else if (body.message.length > 1600) errors.message = ['The message may not be longer than 1600 characters.'];
      else if (/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/.test(body.message)) errors.message = ['The message contains an unpaired surrogate.'];
      if (!from.ok || Object.keys(errors).length > 0) throw new ValidationError(errors);
      const text = body.message as string;
      const receivedAt = new Date();
      await db
        .insertInto('simulator_messages')
        .values({ id: newId(), account_id: acct.id, direction: 'MO', handset: from.e164, short_code: to, message: text, message_id: null, report_code: null, report_due_at: null, report_lease_until: null, reported_at: null })
        .execute();
      const result = await app.services.inbound.receive({ from: from.e164, to, text, receivedAt });
      if (!result) throw new NotFoundError('No account owns this short code.');
      const data = await app.services.messages.getAny(acct.id, result.messageId);
      return reply.code(201).send({ data });
    },
  );

  app.get(
    '/handsets/:phone_number/messages',
    {
      config: { scope: 'messages.view' },
      schema: {
        tags: ['Simulator'],
        summary: 'What a simulated handset received from (and sent to) the account',
        params: Type.Object({ phone_number: Type.String({ maxLength: 40 }) }),
        querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, default: 100 })) }),
        response: { 200: Type.Object({ data: Type.Array(HandsetMessage) }), ...standardErrors },
      },
    },
    async (request) => {
      const acct = await account(request.auth!.accountId);
      const phone = normalizePhone(request.params.phone_number, acct.default_country);
      if (!phone.ok) throw new NotFoundError('No such handset.');
      const rows = await db
        .selectFrom('simulator_messages')
        .selectAll()
        .where('handset', '=', phone.e164)
        .where('account_id', '=', acct.id)
        .orderBy('created_at', 'desc')
        .orderBy('id')
        .limit(Math.min(request.query.limit ?? 100, 100))
        .execute();
      return {
        data: rows.map((r) => ({
          id: r.id,
          direction: r.direction === 'MT' ? ('received' as const) : ('sent' as const),
          from: r.direction === 'MT' ? r.short_code : r.handset,
          to: r.direction === 'MT' ? r.handset : r.short_code,
          message: r.message,
          message_id: r.message_id,
          delivery_code: r.report_code === null ? null : String(r.report_code),
          reported_at: formatDate(r.reported_at),
          created_at: formatDate(r.created_at),
        })),
      };
    },
  );

  app.post(
    '/carrier-events',
    {
      config: { scope: 'contacts.update' },
      schema: {
        tags: ['Simulator'],
        summary: 'The carrier reports a change of a number (suspended, deactivated, resumed, transferred)',
        body: Type.Object(
          {
            phone_number: Type.Unknown(),
            status: Type.Union([Type.Literal('suspended'), Type.Literal('deactivated'), Type.Literal('resumed'), Type.Literal('transferred')]),
            previous_phone_number: Type.Optional(Type.Unknown()),
          },
          { additionalProperties: true },
        ),
        response: { 202: Type.Object({ data: Type.Object({ contact_id: Type.Union([Type.String(), Type.Null()]), status: Type.String() }) }), ...standardErrors, 422: ErrorSchema },
      },
    },
    async (request, reply) => {
      const acct = await account(request.auth!.accountId);
      const phone = normalizePhone(request.body.phone_number, acct.default_country);
      const previous = request.body.previous_phone_number === undefined ? undefined : normalizePhone(request.body.previous_phone_number, acct.default_country);
      const errors: FieldErrors = {};
      if (!phone.ok) errors.phone_number = [phone.reason];
      if (request.body.status === 'transferred' && !previous) errors.previous_phone_number = ['Required for a transfer.'];
      if (previous && !previous.ok) errors.previous_phone_number = [previous.reason];
      if (!phone.ok || Object.keys(errors).length > 0) throw new ValidationError(errors);
      const contact = await app.services.inbound.carrierEvent(acct.id, {
        phoneNumber: phone.e164,
        status: request.body.status,
        previousPhoneNumber: previous?.ok ? previous.e164 : undefined,
      });
      return reply.code(202).send({ data: { contact_id: contact?.id ?? null, status: request.body.status } });
    },
  );
};
