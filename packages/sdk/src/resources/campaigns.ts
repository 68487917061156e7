import type { ItemOf, RequestBody, RequestOptions, ResponseData } from '../types.js';
import { CollectionResource } from './base.js';

export type Campaign = ItemOf<'/v1/campaigns'>;
export type CampaignCreateParams = RequestBody<'/v1/campaigns', 'post'>;
export type CampaignUpdateParams = RequestBody<'/v1/campaigns/{id}', 'put'>;
export type CampaignPreview = ResponseData<'/v1/campaigns/{id}/preview', 'post'>;
export type CampaignTemplate = ItemOf<'/v1/campaigns/templates'>;
export type CampaignTemplateCreateParams = RequestBody<'/v1/campaigns/templates', 'post'>;
export type CampaignTemplateUpdateParams = RequestBody<'/v1/campaigns/templates/{id}', 'put'>;
export type Coupon = ItemOf<'/v1/coupons'>;
export type CouponCreateParams = RequestBody<'/v1/coupons', 'post'>;
export type CouponUpdateParams = RequestBody<'/v1/coupons/{id}', 'put'>;
export type CouponRedeemParams = RequestBody<'/v1/coupons/{id}/redemptions', 'post'>;
export type CouponRedemption = ResponseData<'/v1/coupons/{id}/redemptions', 'post'>;
export type CouponTemplate = ItemOf<'/v1/coupon_templates'>;

/** Campaigns: one message to groups (or every subscribed contact), now or later (`/v1/campaigns`). */
export class Campaigns extends CollectionResource<Campaign> {
  protected readonly collectionPath = '/v1/campaigns';

  /** Retrieves a campaign, with its `status` and live `stats`. */
  retrieve(id: string, options?: RequestOptions): Promise<Campaign> {
    return this.data({ method: 'GET', path: '/v1/campaigns/{id}', params: { id } }, options);
  }

  /**
   * Creates a campaign: sent now (no `send_at`), at `send_at`, or saved as a draft (`draft: true`).
   * @throws {PaymentRequiredError} when the credit balance cannot cover the send (nothing is created).
   */
  create(body: CampaignCreateParams, options?: RequestOptions): Promise<Campaign> {
    return this.data({ method: 'POST', path: '/v1/campaigns', body }, options);
  }

  /** Updates a draft or scheduled campaign (`draft: false` launches a draft). */
  update(id: string, body: CampaignUpdateParams, options?: RequestOptions): Promise<Campaign> {
    return this.data({ method: 'PUT', path: '/v1/campaigns/{id}', params: { id }, body }, options);
  }

  /**
   * Deletes a draft, scheduled or canceled campaign; stops one that is sending.
   * @throws {UnprocessableEntityError} for a campaign already sent.
   */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/campaigns/{id}', params: { id } }, options);
  }

  /** Dry run: audience, recipients, skipped contacts by reason, segments, credits, rendered text. Sends nothing. */
  preview(id: string, options?: RequestOptions): Promise<CampaignPreview> {
    return this.data({ method: 'POST', path: '/v1/campaigns/{id}/preview', params: { id } }, options);
  }
}

/** Campaign templates: saved messages to start campaigns from (`/v1/campaigns/templates`). */
export class CampaignTemplates extends CollectionResource<CampaignTemplate> {
  protected readonly collectionPath = '/v1/campaigns/templates';

  /** Retrieves a campaign template. */
  retrieve(id: string, options?: RequestOptions): Promise<CampaignTemplate> {
    return this.data({ method: 'GET', path: '/v1/campaigns/templates/{id}', params: { id } }, options);
  }

  /** Creates a campaign template. */
  create(body: CampaignTemplateCreateParams, options?: RequestOptions): Promise<CampaignTemplate> {
    return this.data({ method: 'POST', path: '/v1/campaigns/templates', body }, options);
  }

  /** Updates a campaign template. */
  update(id: string, body: CampaignTemplateUpdateParams, options?: RequestOptions): Promise<CampaignTemplate> {
    return this.data({ method: 'PUT', path: '/v1/campaigns/templates/{id}', params: { id }, body }, options);
  }

  /** Deletes a campaign template. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/campaigns/templates/{id}', params: { id } }, options);
  }
}

/** Coupons (`/v1/coupons`). */
export class Coupons extends CollectionResource<Coupon> {
  protected readonly collectionPath = '/v1/coupons';

  /** Retrieves a coupon. */
  retrieve(id: string, options?: RequestOptions): Promise<Coupon> {
    return this.data({ method: 'GET', path: '/v1/coupons/{id}', params: { id } }, options);
  }

  /** Creates a coupon. */
  create(body: CouponCreateParams, options?: RequestOptions): Promise<Coupon> {
    return this.data({ method: 'POST', path: '/v1/coupons', body }, options);
  }

  /** Updates a coupon. */
  update(id: string, body: CouponUpdateParams, options?: RequestOptions): Promise<Coupon> {
    return this.data({ method: 'PUT', path: '/v1/coupons/{id}', params: { id }, body }, options);
  }

  /** Deletes a coupon. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/coupons/{id}', params: { id } }, options);
  }

  /**
   * Counts one redemption within the coupon's dates and limit. Repeating it for the same code,
   * contact or reference answers the first redemption again (never counted twice).
   */
  redeem(id: string, body: CouponRedeemParams, options?: RequestOptions): Promise<CouponRedemption> {
    return this.data({ method: 'POST', path: '/v1/coupons/{id}/redemptions', params: { id }, body }, options);
  }
}

/** Coupon templates: the designs coupons use; read-only (`/v1/coupon_templates`). */
export class CouponTemplates extends CollectionResource<CouponTemplate> {
  protected readonly collectionPath = '/v1/coupon_templates';

  /** Retrieves a coupon template. */
  retrieve(id: string, options?: RequestOptions): Promise<CouponTemplate> {
    return this.data({ method: 'GET', path: '/v1/coupon_templates/{id}', params: { id } }, options);
  }
}
