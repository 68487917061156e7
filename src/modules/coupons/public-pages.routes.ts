import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isUuid } from '../../lib/ids.js';
import { contactIdFromToken } from '../campaigns/merge-tags.js';
import { isLinkCode } from '../campaigns/short-links.js';
import { COUPON_PAGE_HEADERS, renderCouponPage, renderNotFoundPage } from './coupon-page.js';

type Params = { code: string; token?: string };

/**
 * The product's public pages (no token): coupon pages `/c/{code}` (and `/c/{code}/{contact}` as
 * sent in a campaign), tracked links `/l/{code}[/{contact}]`, and coupon template previews.
 */
export async function publicPagesRoutes(app: FastifyInstance): Promise<void> {
  await app.register(formbody, { bodyLimit: 4096 });
  const { coupons, campaigns } = app.services;

  const notFound = (reply: FastifyReply) => reply.code(404).headers(COUPON_PAGE_HEADERS).send(renderNotFoundPage());
  const validToken = (token: string | undefined) => token === undefined || contactIdFromToken(token) !== null;
  const pagePath = (p: Params) => `/c/${p.code}${p.token ? `/${p.token}` : ''}`;

  async function showCoupon(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
    const { code, token } = request.params;
    if (!isLinkCode(code) || !validToken(token)) return notFound(reply);
    const model = await coupons.openPage(code, token ?? null);
    if (!model) return notFound(reply);
    return reply.headers(COUPON_PAGE_HEADERS).send(renderCouponPage(model, { action: pagePath(request.params) }));
  }

  async function redeem(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
    const { code, token } = request.params;
    if (!isLinkCode(code) || !validToken(token)) return notFound(reply);
    // A form posted from another site is refused (browsers send Origin / Sec-Fetch-Site on POST).
    const site = request.headers['sec-fetch-site'];
    const origin = request.headers.origin;
    if (site === 'cross-site' || (origin && origin !== 'null' && safeHost(origin) !== safeHost(`${request.protocol}://${request.host}`))) {
      return reply.code(403).headers(COUPON_PAGE_HEADERS).send('<!doctype html><title>Refused</title><p>This form can only be sent from the coupon page.</p>');
    }
    const body = (request.body ?? {}) as { nonce?: unknown; signature?: unknown };
    const result = await coupons.redeemFromPage(code, token ?? null, body);
    if (result.status === 404) return notFound(reply);
    if (result.status === 403) {
      return reply.code(403).headers(COUPON_PAGE_HEADERS).send('<!doctype html><title>Refused</title><p>This form has expired. Open the coupon link again.</p>');
    }
    const message = result.status === 200 ? 'Coupon redeemed' : result.model.refusal;
    return reply
      .code(result.status)
      .headers(COUPON_PAGE_HEADERS)
      .send(renderCouponPage(result.model, { action: pagePath(request.params), message }));
  }

  // Pages for people, not API operations: left out of the OpenAPI document.
  const page = { schema: { hide: true } };
  app.get<{ Params: Params }>('/c/:code', page, showCoupon);
  app.get<{ Params: Params }>('/c/:code/:token', page, showCoupon);
  app.post<{ Params: Params }>('/c/:code', page, redeem);
  app.post<{ Params: Params }>('/c/:code/:token', page, redeem);

  async function follow(request: FastifyRequest<{ Params: Params }>, reply: FastifyReply) {
    const { code, token } = request.params;
    if (!isLinkCode(code)) return notFound(reply);
    const target = await campaigns.followLink(code, token ?? null);
    if (!target) return notFound(reply);
    return reply.code(302).header('cache-control', 'no-store').header('referrer-policy', 'no-referrer').redirect(target, 302);
  }
  app.get<{ Params: Params }>('/l/:code', page, follow);
  app.get<{ Params: Params }>('/l/:code/:token', page, follow);

  app.get<{ Params: { id: string } }>('/coupon-templates/:id/preview', page, async (request, reply) => {
    if (!isUuid(request.params.id)) return notFound(reply);
    const template = await coupons.findTemplate(request.params.id);
    if (!template) return notFound(reply);
    return reply.headers(COUPON_PAGE_HEADERS).send(renderCouponPage(coupons.previewModel(template), { action: '#', preview: true }));
  });
}

function safeHost(origin: string): string | null {
  try {
    return new URL(origin).host;
  } catch {
    return null;
  }
}
