import type { DashboardTables } from '../dashboard/dashboard.tables.js';
import type { AccountTables } from '../modules/accounts/accounts.tables.js';
import type { AuthFailureTables } from '../modules/auth-failures/auth-failures.tables.js';
import type { CarrierTables } from '../modules/carriers/carriers.tables.js';
import type { OAuthTables } from '../modules/oauth/oauth.tables.js';
import type { TokenTables } from '../modules/tokens/tokens.tables.js';
import type { JobTables } from '../jobs/jobs.tables.js';
import type { EventTables } from '../modules/events/events.tables.js';
import type { WebhookTables } from '../modules/webhooks/webhooks.tables.js';
import type { ContactTables } from '../modules/contacts/contacts.tables.js';
import type { FieldTables } from '../modules/fields/fields.tables.js';
import type { GroupTables } from '../modules/groups/groups.tables.js';
import type { ImportTables } from '../modules/imports/imports.tables.js';
import type { OptInTables } from '../modules/optins/optins.tables.js';
import type { CampaignTables } from '../modules/campaigns/campaigns.tables.js';
import type { CouponTables } from '../modules/coupons/coupons.tables.js';
import type { MessageTables } from '../modules/messages/messages.tables.js';

/**
 * The database as Kysely sees it: each module declares its own tables beside its repository
 * and they are combined here.
 */
export interface DB
  extends DashboardTables,
    AccountTables,
    AuthFailureTables,
    CarrierTables,
    OAuthTables,
    TokenTables,
    JobTables,
    EventTables,
    WebhookTables,
    ContactTables,
    FieldTables,
    GroupTables,
    ImportTables,
    OptInTables,
    ImportTables,
    CampaignTables,
    CouponTables,
    MessageTables {}
