import type { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { ErrorSchema, IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import { AppError } from '../../lib/errors.js';
import { ImportQuery, ImportRowSchema, ImportSchema, importListSpec, importRowListSpec } from './imports.schema.js';

const CSV_TYPES = ['text/csv', 'application/csv'];
const NDJSON_TYPES = ['application/x-ndjson', 'application/jsonl', 'application/json-lines'];

/**
 * Bulk import of contacts (beyond the reference). The upload's body is handed to the service
 * as a stream: the CSV / JSON-lines parsers are registered in this plugin's context only, so
 * every other route still accepts JSON alone.
 */
export const importsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { imports } = app.services;
  const tags = ['Contact imports'];

  app.addContentTypeParser([...CSV_TYPES, ...NDJSON_TYPES], (request, payload, done) => {
    const charset = /charset\s*=\s*"?([^";\s]+)/i.exec(request.headers['content-type'] ?? '')?.[1];
    if (charset && !/^utf-?8$/i.test(charset)) {
      done(new AppError(415, `Only UTF-8 files are accepted (the Content-Type says charset=${charset}).`), undefined);
      return;
    }
    done(null, payload);
  });

  app.post(
    '/contacts/import',
    {
      config: { scope: 'contacts.create' },
      schema: {
        tags,
        summary: 'Import contacts from CSV or JSON lines',
        description:
          'Send `Content-Type: text/csv` (a header row naming the columns: phone_number and any of first_name, last_name, email, gender, birth_date, address, city, state, zip, reward_points, timezone, or a custom field name) or `application/x-ndjson` (one contact object per line, as in POST /v1/contacts). Up to 1,000,000 rows. Answers 202 with the import; rows are processed in the background and reported by GET /v1/contacts/imports/{id}/rows.',
        querystring: ImportQuery,
        response: { 202: Type.Object({ data: ImportSchema }), 413: ErrorSchema, 415: ErrorSchema, 422: ErrorSchema, ...standardErrors },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';', 1)[0]!.trim().toLowerCase();
      const body = request.body as unknown;
      if (!CSV_TYPES.includes(type) && !NDJSON_TYPES.includes(type)) {
        throw new AppError(415, 'Send the file as text/csv or application/x-ndjson.');
      }
      const groupIds = request.query.group_id === undefined ? [] : [request.query.group_id].flat();
      try {
        const data = await imports.receive(request.auth!.accountId, body as Readable, {
          format: CSV_TYPES.includes(type) ? 'csv' : 'ndjson',
          validateOnly: request.query.validate_only ?? false,
          updateExisting: request.query.update_existing ?? false,
          groupIds,
        });
        return reply.code(202).send({ data });
      } catch (error) {
        // An upload refused part-way (too large, not UTF-8, ...) leaves the rest of its body
        // unread: the connection cannot carry another request, so it closes after the answer.
        if (!request.raw.complete) void reply.header('connection', 'close');
        throw error;
      }
    },
  );

  app.get(
    '/contacts/imports',
    {
      config: { scope: 'contacts.view' },
      schema: { tags, summary: 'List contact imports', querystring: listQuerySchema(importListSpec), response: { 200: pageSchema(ImportSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, importListSpec);
      const { data, total } = await imports.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );

  app.get(
    '/contacts/imports/:id',
    {
      config: { scope: 'contacts.view' },
      schema: { tags, summary: 'Retrieve a contact import and its counts', params: IdParams, response: { 200: Type.Object({ data: ImportSchema }), ...standardErrors } },
    },
    async (request) => ({ data: await imports.get(request.auth!.accountId, request.params.id) }),
  );

  app.get(
    '/contacts/imports/:id/rows',
    {
      config: { scope: 'contacts.view' },
      schema: {
        tags,
        summary: 'Per-row results of a contact import',
        description: 'filter[outcome]=created|updated|skipped_duplicate|invalid',
        params: IdParams,
        querystring: listQuerySchema(importRowListSpec),
        response: { 200: pageSchema(ImportRowSchema), ...standardErrors },
      },
    },
    async (request) => {
      const query = parseListQuery(request.query, importRowListSpec);
      const { data, total } = await imports.rows(request.auth!.accountId, request.params.id, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );
};
