import { Type } from '@sinclair/typebox';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { baseUrl } from '../../http/base-url.js';
import { IdParams, standardErrors } from '../../http/common-schemas.js';
import { listQuerySchema, pageSchema, paginate, parseListQuery } from '../../http/list-query.js';
import {
  CouponSchema,
  CouponTemplateSchema,
  CreateCouponBody,
  RedeemBody,
  RedemptionSchema,
  UpdateCouponBody,
  couponListSpec,
  couponTemplateListSpec,
} from './coupons.schema.js';

export const couponsRoutes: FastifyPluginAsyncTypebox = async (app) => {
  const { coupons, campaigns } = app.services;
  const tags = ['Coupons'];
  const One = Type.Object({ data: CouponSchema });
  const base = (request: Parameters<typeof baseUrl>[0]) => baseUrl(request, app.config.publicUrl);

  app.get(
    '/coupons',
    { config: { scope: 'coupons.view' }, schema: { tags, summary: 'List all coupons', querystring: listQuerySchema(couponListSpec), response: { 200: pageSchema(CouponSchema), ...standardErrors } } },
    async (request) => {
      const query = parseListQuery(request.query, couponListSpec);
      const { data, total } = await coupons.list(request.auth!.accountId, query, base(request));
      return paginate(request, app.config.publicUrl, query, data, total);
    },
  );
  app.post(
    '/coupons',
    { config: { scope: 'coupons.create' }, schema: { tags, summary: 'Create a coupon', body: CreateCouponBody, response: { 201: One, ...standardErrors } } },
    async (request, reply) => reply.code(201).send({ data: await coupons.create(request.auth!.accountId, request.body, base(request)) }),
  );
  app.get(
    '/coupons/:id',
    { config: { scope: 'coupons.view' }, schema: { tags, summary: 'Retrieve a coupon', params: IdParams, response: { 200: One, ...standardErrors } } },
    async (request) => ({ data: await coupons.get(request.auth!.accountId, request.params.id, base(request)) }),
  );
  app.put(
    '/coupons/:id',
    { config: { scope: 'coupons.update' }, schema: { tags, summary: 'Update a coupon', params: IdParams, body: UpdateCouponBody, response: { 200: One, ...standardErrors } } },
    async (request) => ({ data: await coupons.update(request.auth!.accountId, request.params.id, request.body, base(request)) }),
  );
  app.delete(
    '/coupons/:id',
    { config: { scope: 'coupons.delete' }, schema: { tags, summary: 'Delete a coupon', params: IdParams, response: { 204: Type.Null(), ...standardErrors } } },
    async (request, reply) => {
      await coupons.remove(request.auth!.accountId, request.params.id);
      return reply.code(204).send(null);
    },
  );
  app.post(
    '/coupons/:id/redemptions',
    {
      config: { scope: 'coupons.update' },
      schema: {
        tags,
        summary: 'Redeem a coupon',
        description:
          'Counts one redemption, within the coupon’s dates and redemption limit. The same unique code, contact or reference is never counted twice: repeating the call answers 200 with the first redemption.',
        params: IdParams,
        body: RedeemBody,
        response: { 200: Type.Object({ data: RedemptionSchema }), 201: Type.Object({ data: RedemptionSchema }), ...standardErrors },
      },
    },
    async (request, reply) => {
      const accountId = request.auth!.accountId;
      const result = await coupons.redeem(accountId, request.params.id, request.body, (campaignId) => campaigns.exists(accountId, campaignId));
      return reply.code(result.created ? 201 : 200).send({ data: result.redemption });
    },
  );

  app.get(
    '/coupon_templates',
    {
      config: { scope: 'coupons.view' },
      schema: { tags: ['Coupon templates'], summary: 'List all coupon templates', querystring: listQuerySchema(couponTemplateListSpec), response: { 200: pageSchema(CouponTemplateSchema), ...standardErrors } },
    },
    async (request) => {
      const query = parseListQuery(request.query, couponTemplateListSpec);
      let all = await coupons.listTemplates(base(request));
      for (const f of query.filters) all = all.filter((t) => t.name.toLowerCase().includes(String(f.value).toLowerCase()));
      for (const s of [...query.sort].reverse()) {
        const key = s.field as 'name' | 'created_at';
        all.sort((a, b) => (s.desc ? -1 : 1) * (a[key] < b[key] ? -1 : a[key] > b[key] ? 1 : 0));
      }
      return paginate(request, app.config.publicUrl, query, all.slice(query.offset, query.offset + query.limit), all.length);
    },
  );
  app.get(
    '/coupon_templates/:id',
    {
      config: { scope: 'coupons.view' },
      schema: { tags: ['Coupon templates'], summary: 'Retrieve a coupon template', params: IdParams, response: { 200: Type.Object({ data: CouponTemplateSchema }), ...standardErrors } },
    },
    async (request) => ({ data: await coupons.getTemplate(request.params.id, base(request)) }),
  );
};
