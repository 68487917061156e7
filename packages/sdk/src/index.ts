/**
 * @shortcode/sdk: a typed client for the Shortcode API v1, with no dependency beyond `fetch`.
 *
 * @example
 * import { Shortcode, NotFoundError } from '@shortcode/sdk';
 * const client = new Shortcode({ token: process.env.SHORTCODE_TOKEN, baseUrl: 'http://127.0.0.1:3000' });
 * for await (const contact of client.contacts.iterate({ filter: { reward_points: 10 } })) console.log(contact.phone_number);
 */
export { Shortcode } from './client.js';
export { ApiClient, DEFAULT_BASE_URL, SDK_VERSION, newIdempotencyKey, normaliseBaseUrl, serialiseQuery, type ApiRequest, type ClientOptions } from './core.js';
export {
  APIConnectionError,
  APIConnectionTimeoutError,
  APIError,
  BadRequestError,
  ConflictError,
  ForbiddenError,
  MethodNotAllowedError,
  NotFoundError,
  PayloadTooLargeError,
  PaymentRequiredError,
  RateLimitError,
  ServerError,
  ShortcodeError,
  UnauthorizedError,
  UnprocessableEntityError,
  UnsupportedMediaTypeError,
  WebhookVerificationError,
  errorClassFor,
  type FieldErrors,
} from './errors.js';
export { OAuth, codeChallengeFor, createCodeVerifier, type AccessToken, type AuthorizationUrl, type AuthorizationUrlParams, type ExchangeCodeParams } from './oauth.js';
export { signWebhook, verifyWebhook, type VerifiedWebhook, type VerifyWebhookParams, type WebhookHeaders } from './webhook-signature.js';
export type { ApiBody, ApiObject, FilterValue, ItemOf, ListParams, Page, Pagination, RequestBody, RequestOptions, ResponseBody, ResponseData } from './types.js';
export * from './resources/account.js';
export * from './resources/audience.js';
export * from './resources/campaigns.js';
export * from './resources/imports.js';
export * from './resources/messaging.js';
export * from './resources/webhooks.js';
export type { paths, components, operations } from './generated/openapi.js';
