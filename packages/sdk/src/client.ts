import { ApiClient, type ClientOptions } from './core.js';
import { OAuth } from './oauth.js';
import { AccountResource } from './resources/account.js';
import { Carriers, Contacts, Fields, Groups, OptIns, PhoneNumbers } from './resources/audience.js';
import { CampaignTemplates, Campaigns, Coupons, CouponTemplates } from './resources/campaigns.js';
import { MessageResource, Messages, Simulator } from './resources/messaging.js';
import { Webhooks } from './resources/webhooks.js';

/**
 * The Shortcode API client: one property per section of the API reference.
 *
 * @example
 * import { Shortcode } from '@shortcode/sdk';
 * const client = new Shortcode({ token: process.env.SHORTCODE_TOKEN, baseUrl: 'http://127.0.0.1:3000' });
 * const contact = await client.contacts.create({ phone_number: '+12025550123', first_name: 'Ada' });
 * await client.message.send({ phone_number: contact.phone_number, message: 'Hello!' });
 */
export class Shortcode extends ApiClient {
  /** Contacts: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `delete`, `unsubscribe`, `addGroup`, `removeGroup`, `createMany`, and bulk `imports.{create,retrieve,list,rows,iterateRows,waitFor}`. */
  readonly contacts: Contacts;
  /** Groups: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `contacts`, `iterateContacts`. */
  readonly groups: Groups;
  /** Opt-ins (read-only): `list`, `iterate`, `listAll`, `retrieve`. */
  readonly optIns: OptIns;
  /** Carriers (read-only): `list`, `iterate`, `listAll`, `retrieve`. */
  readonly carriers: Carriers;
  /** Custom contact fields: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `delete`. */
  readonly fields: Fields;
  /** Campaigns: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `delete`, `preview`. */
  readonly campaigns: Campaigns;
  /** Campaign templates: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `delete`. */
  readonly campaignTemplates: CampaignTemplates;
  /** Coupons: `list`, `iterate`, `listAll`, `retrieve`, `create`, `update`, `delete`, `redeem`. */
  readonly coupons: Coupons;
  /** Coupon templates (read-only): `list`, `iterate`, `listAll`, `retrieve`. */
  readonly couponTemplates: CouponTemplates;
  /** Messages sent and received: `list`, `iterate`, `listAll`, `retrieve`, `create` (to a contact), `update`, `markRead`, `unread`, `iterateUnread`. */
  readonly messages: Messages;
  /** Sending to numbers: `send`, `batch`, `preview`, and `schedule.{list,retrieve,create,update,delete}`. */
  readonly message: MessageResource;
  /** Phone numbers: `lookup`. */
  readonly phoneNumbers: PhoneNumbers;
  /** Webhook endpoints: CRUD, `rotateSecret`, `deliveries`, `retrieveDelivery`, `redeliver`, and `verify` for receivers. */
  readonly webhooks: Webhooks;
  /** The built-in simulated carrier (when the server uses it): `inbound`, `handsetMessages`, `carrierEvent`. */
  readonly simulator: Simulator;
  /** The token's own account (beyond the reference): `retrieve`, `update` (help text, quiet hours, time zone). */
  readonly account: AccountResource;
  /** OAuth 2.0 with PKCE: `buildAuthorizationUrl`, `exchangeCode`, `revoke`, `metadata`. */
  readonly oauth: OAuth;

  /**
   * @param options - `token` (personal or OAuth access token), `baseUrl` (default
   *   `http://127.0.0.1:3000`), `fetch`, `maxRetries` (default 2), `timeoutMs`, `maxRetryDelayMs`, `headers`.
   */
  constructor(options: ClientOptions = {}) {
    super(options);
    this.contacts = new Contacts(this);
    this.groups = new Groups(this);
    this.optIns = new OptIns(this);
    this.carriers = new Carriers(this);
    this.fields = new Fields(this);
    this.campaigns = new Campaigns(this);
    this.campaignTemplates = new CampaignTemplates(this);
    this.coupons = new Coupons(this);
    this.couponTemplates = new CouponTemplates(this);
    this.messages = new Messages(this);
    this.message = new MessageResource(this);
    this.phoneNumbers = new PhoneNumbers(this);
    this.webhooks = new Webhooks(this);
    this.simulator = new Simulator(this);
    this.account = new AccountResource(this);
    this.oauth = new OAuth(this);
  }
}
