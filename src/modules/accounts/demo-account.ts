import { randomToken } from '../../lib/secrets.js';
import type { Services } from '../../container.js';

export interface DemoAccount {
  accountId: string;
  shortCode: string;
  email: string;
  password: string;
  token: string;
}

export const DEMO_EMAIL = 'demo@shortcode.local';

/**
 * On the first start against an empty database, creates a demo account with a personal
 * access token holding every scope. The password and token are returned once, to be printed;
 * only their hashes are stored, so a later start cannot show them again.
 */
export async function ensureDemoAccount(services: Services): Promise<DemoAccount | null> {
  if ((await services.accounts.count()) > 0) return null;
  const password = randomToken(12);
  const { account, user } = await services.accounts.create({ name: 'Demo', email: DEMO_EMAIL, password });
  const token = await services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 'Demo token (all scopes)' });
  return { accountId: account.id, shortCode: account.short_code, email: DEMO_EMAIL, password, token: token.token };
}
