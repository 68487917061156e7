import { Type, type Static } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import type { Kysely, Selectable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import { IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery, type ListQuery, type ListSpec } from '../../http/list-query.js';
import { NotFoundError, ValidationError } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { formatDate } from '../../lib/time.js';
import type { CampaignTemplatesTable } from './campaigns.tables.js';
import type { MessageChecker } from './message-check.js';

/** Campaign templates: saved messages to start campaigns from (scopes: campaigns.*). */
export const CampaignTemplateSchema = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    message: Type.String(),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'CampaignTemplate', title: 'Campaign template' },
);
export type CampaignTemplate = Static<typeof CampaignTemplateSchema>;

const Name = Type.String({ minLength: 1, maxLength: 100 });
const Message = Type.String({ minLength: 1, maxLength: 1600, description: 'Text with merge tags such as {first_name|there}' });
export const CreateCampaignTemplateBody = Type.Object({ name: Name, message: Message }, { additionalProperties: false });
export const UpdateCampaignTemplateBody = Type.Object({ name: Type.Optional(Name), message: Type.Optional(Message) }, { additionalProperties: false });

export const campaignTemplateListSpec: ListSpec = {
  filters: { name: 'partial', created_at_min: 'date_min', created_at_max: 'date_max' },
  sorts: ['name', 'created_at', 'updated_at'],
  defaultSort: 'created_at',
  includes: [],
};
const COLUMNS: ColumnMap = { name: 'name', created_at: 'created_at', updated_at: 'updated_at', created_at_min: 'created_at', created_at_max: 'created_at' };

type Row = Selectable<CampaignTemplatesTable>;
const toTemplate = (row: Row): CampaignTemplate => ({
  id: row.id,
  name: row.name,
  message: row.message,
  created_at: formatDate(row.created_at),
  updated_at: formatDate(row.updated_at),
});

export function createCampaignTemplatesRepo(db: Kysely<DB>) {
  return {
    async list(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('campaign_templates').where('account_id', '=', accountId), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },
    find: (accountId: string, id: string) =>
      db.selectFrom('campaign_templates').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    insert: (row: { id: string; account_id: string; name: string; message: string }) =>
      db.insertInto('campaign_templates').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (accountId: string, id: string, patch: { name?: string; message?: string }) =>
      db
        .updateTable('campaign_templates')
        .set({ ...patch, updated_at: new Date() })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .returningAll()
        .executeTakeFirst(),
    async remove(accountId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('campaign_templates').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
  };
}
export type CampaignTemplatesRepo = ReturnType<typeof createCampaignTemplatesRepo>;

export function createCampaignTemplatesService(deps: { repo: CampaignTemplatesRepo; checkMessage: MessageChecker }) {
  const { repo } = deps;
  async function validate(accountId: string, input: { name?: string | undefined; message?: string | undefined }) {
    const errors: Record<string, string[]> = {};
    if (input.name !== undefined && !input.name.trim()) errors.name = ['The name must not be blank.'];
    if (input.message !== undefined) {
      const problems = await deps.checkMessage(accountId, input.message, { allowCoupon: true });
      if (problems.length) errors.message = problems;
    }
    if (Object.keys(errors).length) throw new ValidationError(errors);
  }
  return {
    async list(accountId: string, query: ListQuery) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: rows.map(toTemplate), total };
    },
    async get(accountId: string, id: string) {
      const row = await repo.find(accountId, id);
      if (!row) throw new NotFoundError('Campaign template not found.');
      return toTemplate(row);
    },
    /** The raw row, for creating a campaign from a template. */
    find: (accountId: string, id: string) => repo.find(accountId, id),
    async create(accountId: string, input: Static<typeof CreateCampaignTemplateBody>) {
      await validate(accountId, input);
      return toTemplate(await repo.insert({ id: newId(), account_id: accountId, name: input.name.trim(), message: input.message }));
    },
    async update(accountId: string, id: string, input: Static<typeof UpdateCampaignTemplateBody>) {
      if (!(await repo.find(accountId, id))) throw new NotFoundError('Campaign template not found.');
      await validate(accountId, input);
      const patch: { name?: string; message?: string } = {};
      if (input.name !== undefined) patch.name = input.name.trim();
      if (input.message !== undefined) patch.message = input.message;
      const row = await repo.update(accountId, id, patch);
      if (!row) throw new NotFoundError('Campaign template not found.');
      return toTemplate(row);
    },
    async remove(accountId: string, id: string) {
      if (!(await repo.remove(accountId, id))) throw new NotFoundError('Campaign template not found.');
    },
  };
}
export type CampaignTemplatesService = ReturnType<typeof createCampaignTemplatesService>;

export const campaignTemplatesRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const service = app.services.campaignTemplates;
  const tags = ['Campaign templates'];
  const One = Type.Object({ data: CampaignTemplateSchema });

  app.get(
    '/campaigns/templates',
    {
      config: { scope: 'campaigns.view' },
      schema: { tags, summary: 'List all campaign templates', querystring: listQuerySchema(campaignTemplateListSpec), response: { 200: pageSchema(CampaignTemplateSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, campaignTemplateListSpec);
      const { data, total } = await service.list(request.auth!.accountId, query);
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );
  app.post(
    '/campaigns/templates',
    { config: { scope: 'campaigns.create' }, schema: { tags, summary: 'Create a campaign template', body: CreateCampaignTemplateBody, response: { 201: One, ...standardErrors } } },
    async (request, reply) => reply.code(201).send({ data: await service.create(request.auth!.accountId, request.body) }),
  );
  app.get(
    '/campaigns/templates/:id',
    { config: { scope: 'campaigns.view' }, schema: { tags, summary: 'Retrieve a campaign template', params: IdParams, response: { 200: One, ...standardErrors } } },
    async (request) => ({ data: await service.get(request.auth!.accountId, request.params.id) }),
  );
  app.put(
    '/campaigns/templates/:id',
    {
      config: { scope: 'campaigns.update' },
      schema: { tags, summary: 'Update a campaign template', params: IdParams, body: UpdateCampaignTemplateBody, response: { 200: One, ...standardErrors } },
    },
    async (request) => ({ data: await service.update(request.auth!.accountId, request.params.id, request.body) }),
  );
  app.delete(
    '/campaigns/templates/:id',
    { config: { scope: 'campaigns.delete' }, schema: { tags, summary: 'Delete a campaign template', params: IdParams, response: { 204: Type.Null(), ...standardErrors } } },
    async (request, reply) => {
      await service.remove(request.auth!.accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );
};
