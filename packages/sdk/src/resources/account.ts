import type { RequestOptions, RequestBody, ResponseData } from '../types.js';
import { Resource } from './base.js';

/** The token's account: its short code, credit balance and messaging settings. */
export type Account = ResponseData<'/v1/account', 'get'>;
/** What `account.update` may change. */
export type AccountUpdate = RequestBody<'/v1/account', 'put'>;

/** `/v1/account` (beyond the reference): the calling token's own account. */
export class AccountResource extends Resource {
  /** The account, its credit balance, help text and quiet hours (scope `account.view`). */
  retrieve(options?: RequestOptions): Promise<Account> {
    return this.data({ method: 'GET', path: '/v1/account' }, options);
  }

  /**
   * Changes only the given settings: `name`, `default_country`, `timezone`, `help_text`
   * (`null` restores the default), `quiet_hours` `{enabled, start, end}` as `HH:MM` (scope `account.update`).
   * @throws {UnprocessableEntityError} with the invalid fields; nothing is changed.
   */
  update(changes: AccountUpdate, options?: RequestOptions): Promise<Account> {
    return this.data({ method: 'PUT', path: '/v1/account', body: changes as Record<string, unknown> }, options);
  }
}
