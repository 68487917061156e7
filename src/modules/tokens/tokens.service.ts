import { LRUCache } from 'lru-cache';
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

/**
 * How long a process may keep answering from its cache after another process revoked a token.
 * Revocation through this service takes effect at once in the revoking process.
 */
export const TOKEN_CACHE_TTL_MS = 5_000;

interface CachedToken extends AuthenticatedToken {
  expiresAt: Date | null;
  lastUsedAt: Date | null;
}

export function createTokensService(deps: { tokensRepo: TokensRepo; now?: () => Date; cacheTtlMs?: number }) {
  const now = deps.now ?? (() => new Date());
  const { tokensRepo } = deps;
  // Every request authenticates; a short-lived cache keyed by the token's hash turns that into
  // one database read per token every few seconds instead of one per request.
  const cache = new LRUCache<string, CachedToken>({ max: 10_000, ttl: deps.cacheTtlMs ?? TOKEN_CACHE_TTL_MS });
  const evictToken = (tokenId: string) => {
    for (const [hash, entry] of cache.entries()) if (entry.tokenId === tokenId) cache.delete(hash);
  };

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
      const hash = hashToken(presented);
      let entry = cache.get(hash);
      if (!entry) {
        const row = await tokensRepo.findActiveByHash(hash);
        if (!row) return null;
        entry = {
          tokenId: row.id,
          accountId: row.account_id,
          userId: row.user_id,
          kind: row.kind,
          scopes: new Set(row.scopes.split(' ')),
          expiresAt: row.expires_at,
          lastUsedAt: row.last_used_at,
        };
        cache.set(hash, entry);
      }
      const at = now();
      if (entry.expiresAt && entry.expiresAt <= at) return null;
      // last_used_at is kept to the minute, so a busy token costs one write a minute, not one a request.
      if (!entry.lastUsedAt || at.getTime() - entry.lastUsedAt.getTime() > 60_000) {
        entry.lastUsedAt = at;
        await tokensRepo.touch(entry.tokenId, at);
      }
      const { tokenId, accountId, userId, kind, scopes } = entry;
      return { tokenId, accountId, userId, kind, scopes };
    },

    listPersonal: (accountId: string) => tokensRepo.listPersonal(accountId),
    async revoke(accountId: string, id: string): Promise<boolean> {
      const revoked = await tokensRepo.revoke(accountId, id, now());
      evictToken(id);
      return revoked;
    },

    /** Forgets cached tokens (after revocations made outside this service, e.g. in bulk). */
    evict(tokenIds: readonly string[]): void {
      for (const id of tokenIds) evictToken(id);
    },

    /** Forgets every cached token: after revocations made in another service's transaction. */
    forgetCached(): void {
      cache.clear();
    },

    findByValue: (presented: string) => tokensRepo.findByHash(hashToken(presented)),
    // Bulk revocations are rare (a replayed code, a deleted application): they drop this
    // process's whole cache rather than work out which entries they touched.
    async revokeById(id: string) {
      const result = await tokensRepo.revokeById(id, now());
      evictToken(id);
      return result;
    },
    async revokeByAuthorizationCode(codeId: string) {
      const result = await tokensRepo.revokeByAuthorizationCode(codeId, now());
      cache.clear();
      return result;
    },
    async revokeByClient(clientId: string, accountId?: string) {
      const result = await tokensRepo.revokeByClient(clientId, now(), accountId);
      cache.clear();
      return result;
    },
    listConnectedClients: (accountId: string) => tokensRepo.listConnectedClients(accountId),
  };
}
