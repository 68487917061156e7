import { newId } from '../../lib/ids.js';
import { ValidationError } from '../../lib/errors.js';
import { generateAccessToken, hashToken } from '../../lib/secrets.js';
import { isScope, SCOPES, type Scope } from './scopes.js';
import type { TokensRepo } from './tokens.repo.js';

/** Access tokens live 10 years (the reference's `expires_in: 315359999`). */
export const ACCESS_TOKEN_LIFETIME_SECONDS = 315_359_999;

export interface AuthenticatedToken {
  tokenId: string;
  accountId: string;
  userId: string | null;
  kind: 'personal' | 'oauth';
  scopes: ReadonlySet<string>;
}

export type TokensService = ReturnType<typeof createTokensService>;

export function createTokensService(deps: { tokensRepo: TokensRepo; now?: () => Date }) {
  const now = deps.now ?? (() => new Date());
  const { tokensRepo } = deps;

  return {
    /** Issues a token; the plain value is returned once and only its hash is kept. */
    async issue(input: {
      accountId: string;
      userId: string | null;
      kind: 'personal' | 'oauth';
      name: string;
      scopes?: readonly string[] | undefined;
      /** OAuth tokens: the oauth_clients row and the authorization code they came from. */
      clientId?: string | null;
      authorizationCodeId?: string | null;
    }) {
      const requested = input.scopes ?? SCOPES;
      const unknown = requested.filter((s) => !isScope(s));
      if (unknown.length > 0) throw ValidationError.field('scopes', `Unknown scope(s): ${unknown.join(', ')}`);
      if (requested.length === 0) throw ValidationError.field('scopes', 'At least one scope is required.');
      const name = input.name.trim();
      if (!name || name.length > 200) throw ValidationError.field('name', 'The name must be 1 to 200 characters.');
      const scopes = [...new Set(requested)] as Scope[];
      const token = generateAccessToken();
      const issuedAt = now();
      const row = await tokensRepo.insert({
        id: newId(),
        accountId: input.accountId,
        userId: input.userId,
        kind: input.kind,
        name,
        tokenHash: hashToken(token),
        scopes: scopes.join(' '),
        expiresAt: new Date(issuedAt.getTime() + ACCESS_TOKEN_LIFETIME_SECONDS * 1000),
        clientId: input.clientId ?? null,
        authorizationCodeId: input.authorizationCodeId ?? null,
      });
      return { id: row.id, token, scopes, expiresAt: row.expires_at, createdAt: row.created_at };
    },

    /** Resolves a presented bearer token, or null when it is unknown, revoked or expired. */
    async authenticate(presented: string): Promise<AuthenticatedToken | null> {
      const row = await tokensRepo.findActiveByHash(hashToken(presented));
      if (!row) return null;
      const at = now();
      if (row.expires_at && row.expires_at <= at) return null;
      // last_used_at is kept to the minute, so a busy token costs one write a minute, not one a request.
      if (!row.last_used_at || at.getTime() - row.last_used_at.getTime() > 60_000) {
        await tokensRepo.touch(row.id, at);
      }
      return {
        tokenId: row.id,
        accountId: row.account_id,
        userId: row.user_id,
        kind: row.kind,
        scopes: new Set(row.scopes.split(' ')),
      };
    },

    listPersonal: (accountId: string) => tokensRepo.listPersonal(accountId),
    revoke: (accountId: string, id: string) => tokensRepo.revoke(accountId, id, now()),
    findByValue: (presented: string) => tokensRepo.findByHash(hashToken(presented)),
    revokeById: (id: string) => tokensRepo.revokeById(id, now()),
    revokeByAuthorizationCode: (codeId: string) => tokensRepo.revokeByAuthorizationCode(codeId, now()),
    revokeByClient: (clientId: string, accountId?: string) => tokensRepo.revokeByClient(clientId, now(), accountId),
    listConnectedClients: (accountId: string) => tokensRepo.listConnectedClients(accountId),
  };
}
