import { verifyWebhook, type VerifiedWebhook, type VerifyWebhookParams } from '../webhook-signature.js';
import type { ItemOf, ListParams, Page, RequestBody, RequestOptions, ResponseData } from '../types.js';
import { CollectionResource } from './base.js';

export type WebhookEndpoint = ItemOf<'/v1/webhooks'>;
export type WebhookEndpointWithSecret = ResponseData<'/v1/webhooks', 'post'>;
export type WebhookCreateParams = RequestBody<'/v1/webhooks', 'post'>;
export type WebhookUpdateParams = RequestBody<'/v1/webhooks/{id}', 'put'>;
export type WebhookDelivery = ItemOf<'/v1/webhooks/{id}/deliveries'>;
export type WebhookDeliveryDetail = ResponseData<'/v1/webhooks/{id}/deliveries/{deliveryId}', 'get'>;

/**
 * Webhook endpoints (`/v1/webhooks`, scope `webhooks.manage`): where events are delivered, their
 * signing secrets and delivery log; and {@link Webhooks.verify} for receivers.
 */
export class Webhooks extends CollectionResource<WebhookEndpoint> {
  protected readonly collectionPath = '/v1/webhooks';

  /** Retrieves a webhook endpoint. */
  retrieve(id: string, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.data({ method: 'GET', path: '/v1/webhooks/{id}', params: { id } }, options);
  }

  /** Creates an endpoint (`{ url, events }`); the answer carries the signing secret this once. */
  create(body: WebhookCreateParams, options?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    return this.data({ method: 'POST', path: '/v1/webhooks', body }, options);
  }

  /** Updates `url`, `events` or `enabled`. */
  update(id: string, body: WebhookUpdateParams, options?: RequestOptions): Promise<WebhookEndpoint> {
    return this.data({ method: 'PUT', path: '/v1/webhooks/{id}', params: { id }, body }, options);
  }

  /** Deletes an endpoint. */
  async delete(id: string, options?: RequestOptions): Promise<void> {
    await this.client.request({ method: 'DELETE', path: '/v1/webhooks/{id}', params: { id } }, options);
  }

  /** Replaces the signing secret (returned this once); for 24 hours the old one signs too. */
  rotateSecret(id: string, options?: RequestOptions): Promise<WebhookEndpointWithSecret> {
    return this.data({ method: 'POST', path: '/v1/webhooks/{id}/rotate-secret', params: { id } }, options);
  }

  /** One page of an endpoint's deliveries, newest first. */
  deliveries(id: string, params?: ListParams, options?: RequestOptions): Promise<Page<WebhookDelivery>> {
    return this.page<WebhookDelivery>('/v1/webhooks/{id}/deliveries', { id }, params, options);
  }

  /** Every delivery of an endpoint, page after page. */
  iterateDeliveries(id: string, params?: ListParams, options?: RequestOptions): AsyncGenerator<WebhookDelivery, void, undefined> {
    return this.walk<WebhookDelivery>('/v1/webhooks/{id}/deliveries', { id }, params, options);
  }

  /** One delivery with its body and every attempt. */
  retrieveDelivery(id: string, deliveryId: string, options?: RequestOptions): Promise<WebhookDeliveryDetail> {
    return this.data({ method: 'GET', path: '/v1/webhooks/{id}/deliveries/{deliveryId}', params: { id, deliveryId } }, options);
  }

  /**
   * Queues a delivery again now (same `webhook-id`, new retry schedule).
   * @throws {ConflictError} while an attempt is in flight or the endpoint is disabled.
   */
  redeliver(id: string, deliveryId: string, options?: RequestOptions): Promise<WebhookDelivery> {
    return this.data({ method: 'POST', path: '/v1/webhooks/{id}/deliveries/{deliveryId}/redeliver', params: { id, deliveryId } }, options);
  }

  /**
   * Verifies a delivery received by your endpoint (Standard Webhooks signature and timestamp)
   * and returns its parsed payload. Same as the exported {@link verifyWebhook}.
   * @throws {WebhookVerificationError} when it does not verify.
   */
  verify<T = unknown>(params: VerifyWebhookParams): Promise<VerifiedWebhook<T>> {
    return verifyWebhook<T>(params);
  }
}
