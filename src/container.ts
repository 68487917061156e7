import type { Kysely } from 'kysely';
import type { Config } from './config.js';
import type { DB } from './db/tables.js';
import { createSessionsService } from './dashboard/sessions.js';
import { createAccountsService } from './modules/accounts/accounts.service.js';
import { createCarriersRepo } from './modules/carriers/carriers.repo.js';
import { createCarriersService } from './modules/carriers/carriers.service.js';
import { createOAuthService } from './modules/oauth/oauth.service.js';
import { createTokensRepo } from './modules/tokens/tokens.repo.js';
import { createTokensService } from './modules/tokens/tokens.service.js';
import { createSecretBox, type SecretBox } from './lib/secret-box.js';
import { createWebhooksRepo } from './modules/webhooks/webhooks.repo.js';
import { createWebhooksService } from './modules/webhooks/webhooks.service.js';

/**
 * Wires repositories into services. Services are plain factory functions with explicit
 * dependencies, built once per process and shared by the HTTP layer, the workers and the CLI.
 */
export function createServices(db: Kysely<DB>, config: Config) {
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
  return { tokens, accounts, carriers, oauth, sessions, webhooks, secretBox };
}

export type Services = ReturnType<typeof createServices>;
