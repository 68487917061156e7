import type { DashboardTables } from '../dashboard/dashboard.tables.js';
import type { AccountTables } from '../modules/accounts/accounts.tables.js';
import type { AuthFailureTables } from '../modules/auth-failures/auth-failures.tables.js';
import type { CarrierTables } from '../modules/carriers/carriers.tables.js';
import type { OAuthTables } from '../modules/oauth/oauth.tables.js';
import type { TokenTables } from '../modules/tokens/tokens.tables.js';

/**
 * The database as Kysely sees it: each module declares its own tables beside its repository
 * and they are combined here.
 */
export interface DB extends AccountTables, TokenTables, CarrierTables, OAuthTables, DashboardTables, AuthFailureTables {}
