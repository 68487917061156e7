import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DB } from './db/tables.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createCarriersRepo } from './modules/carriers/carriers.repo.js';
import { createCarriersService } from './modules/carriers/carriers.service.js';
import { createInboundService } from './modules/messages/inbound.js';
import { createMessagesService } from './modules/messages/messages.service.js';
import { createScheduledMessagesService } from './modules/messages/scheduled.service.js';
import { createTokensRepo } from './modules/tokens/tokens.repo.js';
import { createTokensService } from './modules/tokens/tokens.service.js';

/**
 * Wires repositories into services. Services are plain factory functions with explicit
 * dependencies, built once per process and shared by the HTTP layer, the workers and the CLI.
 */
export function createServices(db: Kysely<DB>, config: Config) {
  const tokens = createTokensService({ tokensRepo: createTokensRepo(db) });
  const accounts = createAccountsService({ db, newAccountCredits: config.newAccountCredits });
  const carriers = createCarriersService({ carriersRepo: createCarriersRepo(db) });
  const messages = createMessagesService({ db });
  const scheduledMessages = createScheduledMessagesService({ db, messages });
  const inbound = createInboundService({ db });
  return { tokens, accounts, carriers, messages, scheduledMessages, inbound };
}

export type Services = ReturnType<typeof createServices>;
