import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import { createSessionsService } from './dashboard/sessions.js';
import type { DB } from './db/tables.js';
import { createSecretBox, type SecretBox } from './lib/secret-box.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createAudienceReader } from './modules/campaigns/audience.js';
import { createCampaignTemplatesRepo, createCampaignTemplatesService } from './modules/campaigns/campaign-templates.js';
import { createCampaignsService } from './modules/campaigns/campaigns.service.js';
import { createMessageChecker } from './modules/campaigns/message-check.js';
import { createShortLinksRepo } from './modules/campaigns/short-links.js';
import { createCarriersRepo } from './modules/carriers/carriers.repo.js';
import { createCarriersService } from './modules/carriers/carriers.service.js';
import { createContactsService } from './modules/contacts/contacts.service.js';
import { createCouponsRepo } from './modules/coupons/coupons.repo.js';
import { createCouponsService } from './modules/coupons/coupons.service.js';
import { createFieldsRepo } from './modules/fields/fields.repo.js';
import { createFieldsService } from './modules/fields/fields.service.js';
import { createGroupsRepo } from './modules/groups/groups.repo.js';
import { createGroupsService } from './modules/groups/groups.service.js';
import { createImportsService } from './modules/imports/imports.service.js';
import { createInboundService, createOptInRequester } from './modules/messages/inbound.js';
import { createMessagesService } from './modules/messages/messages.service.js';
import { createScheduledMessagesService } from './modules/messages/scheduled.service.js';
import { createOAuthService } from './modules/oauth/oauth.service.js';
import { createOptInsRepo } from './modules/optins/optins.repo.js';
import { createOptInsService } from './modules/optins/optins.service.js';
import { createOfflineCarrierLookup, type CarrierLookup } from './modules/phone-numbers/carrier-lookup.js';
import { createPhoneNumbersService } from './modules/phone-numbers/phone-numbers.service.js';
import { createTokensRepo } from './modules/tokens/tokens.repo.js';
import { createTokensService } from './modules/tokens/tokens.service.js';
import { createWebhooksRepo } from './modules/webhooks/webhooks.repo.js';
import { createWebhooksService } from './modules/webhooks/webhooks.service.js';

export interface ServiceOptions {
  /** Where phone-number carrier and time-zone data come from (libphonenumber's offline data by default). */
  carrierLookup?: CarrierLookup;
}

/**
 * Wires repositories into services. Services are plain factory functions with explicit
 * dependencies, built once per process and shared by the HTTP layer, the workers and the CLI.
 */
export function createServices(db: Kysely<DB>, config: Config, options: ServiceOptions = {}) {
  const tokens = createTokensService({ tokensRepo: createTokensRepo(db) });
  const accounts = createAccountsService({ db, newAccountCredits: config.newAccountCredits });
  const carriers = createCarriersService({ carriersRepo: createCarriersRepo(db) });
  let box: SecretBox | undefined;
  // Built on first use: a process that never touches stored secrets does not need the key.
  const secretBox = (): SecretBox => {
    if (!config.secretsKey) throw new Error('SECRETS_KEY is not configured (the server sets it from DATA_DIR/secrets.key when unset)');
    return (box ??= createSecretBox(config.secretsKey));
  };
  const webhooks = createWebhooksService({
    repo: createWebhooksRepo(db),
    secretBox,
    allowPrivateNetworks: config.webhooksAllowPrivateNetworks,
  });
  const oauth = createOAuthService({ db, tokens });
  const sessions = createSessionsService({ db });
  const optIns = createOptInsService({ optInsRepo: createOptInsRepo(db) });
  const phoneNumbers = createPhoneNumbersService({ db, carrierLookup: options.carrierLookup ?? createOfflineCarrierLookup() });
  const fields = createFieldsService({ fieldsRepo: createFieldsRepo(db) });
  const groups = createGroupsService({ groupsRepo: createGroupsRepo(db), optIns });
  const contacts = createContactsService({ db, groups, fields, optIns, phoneNumbers, prepareCreated: createOptInRequester(db) });
  const imports = createImportsService({ db, fields, groups, phoneNumbers, maxRows: config.imports.maxRows, maxBytes: config.imports.maxBytes });
  const messages = createMessagesService({ db });
  const scheduledMessages = createScheduledMessagesService({ db, messages });
  const inbound = createInboundService({ db });
  const audience = createAudienceReader(db);
  const checkMessage = createMessageChecker({ customFieldNames: async (accountId) => new Set((await audience.customFields(accountId)).keys()) });
  const campaignTemplates = createCampaignTemplatesService({ repo: createCampaignTemplatesRepo(db), checkMessage });
  const coupons = createCouponsService({ repo: createCouponsRepo(db), links: createShortLinksRepo(db), audience });
  const campaigns = createCampaignsService({
    db,
    templates: campaignTemplates,
    audience,
    checkMessage,
    couponExists: async (accountId, couponId) => Boolean(await coupons.find(accountId, couponId)),
    fanOutBatchSize: config.campaignFanOutBatchSize,
  });
  return {
    tokens,
    accounts,
    carriers,
    oauth,
    sessions,
    webhooks,
    secretBox,
    optIns,
    phoneNumbers,
    fields,
    groups,
    contacts,
    imports,
    messages,
    scheduledMessages,
    inbound,
    campaignTemplates,
    coupons,
    campaigns,
  };
}

export type Services = ReturnType<typeof createServices>;
