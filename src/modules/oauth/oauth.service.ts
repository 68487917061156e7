import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { constantTimeEqual, hashToken, randomToken } from '../../lib/secrets.js';
import { createAuthFailures } from '../auth-failures/auth-failures.js';
import { isScope, type Scope } from '../tokens/scopes.js';
import { createTokensRepo } from '../tokens/tokens.repo.js';
import { ACCESS_TOKEN_LIFETIME_SECONDS, createTokensService, type TokensService } from '../tokens/tokens.service.js';
import { createOAuthRepo } from './oauth.repo.js';

/** Authorization codes: 27 characters (160 random bits, base64url), valid 10 minutes, single use. */
export const AUTHORIZATION_CODE_LIFETIME_MS = 10 * 60 * 1000;
export const generateAuthorizationCode = (): string => randomBytes(20).toString('base64url');

/** Failed client authentications allowed per client address (token and revocation endpoints). */
export const CLIENT_AUTH_LIMITS = { windowMs: 15 * 60 * 1000, perIp: 20 };

/** An error of RFC 6749 §5.2 (token endpoint) or RFC 7009 (revocation). */
export class OAuthError extends Error {
  constructor(
    readonly error: string,
    readonly description: string,
    readonly status = 400,
    readonly headers: Record<string, string> = {},
  ) {
    super(description);
  }
}

export type OAuthClient = NonNullable<Awaited<ReturnType<ReturnType<typeof createOAuthRepo>['findClientByClientId']>>>;

/** RFC 7636: 43 to 128 characters of [A-Z a-z 0-9 - . _ ~]; an S256 challenge is exactly 43. */
const VERIFIER_RE = /^[A-Za-z0-9\-._~]{43,128}$/;
const S256_CHALLENGE_RE = /^[A-Za-z0-9_-]{43}$/;
const LOOPBACK_RE = /^http:\/\/(127\.0\.0\.1|\[::1\])(?::(\d{1,5}))?(\/[^?#]*)?(\?[^#]*)?$/;

export const s256 = (verifier: string): string => createHash('sha256').update(verifier, 'ascii').digest('base64url');

/**
 * Which redirect URIs an application may register (RFC 9700 §4.1, RFC 8252): https; http only on
 * a loopback host (a developer's machine or a native app); or a native app's private-use scheme
 * (reverse domain name, so it contains a dot). Never a fragment, never credentials.
 */
export function redirectUriProblem(uri: string): string | null {
  if (uri.length > 2000) return 'is longer than 2000 characters';
  if (/\s/.test(uri)) return 'contains whitespace';
  let parsed: URL;
  try {
    parsed = new URL(uri);
  } catch {
    return 'is not an absolute URL';
  }
  if (uri.includes('#')) return 'must not contain a fragment (#)';
  if (parsed.username || parsed.password) return 'must not contain credentials';
  const scheme = parsed.protocol.slice(0, -1);
  if (scheme === 'https') return parsed.hostname ? null : 'has no host';
  if (scheme === 'http') {
    return ['localhost', '127.0.0.1', '[::1]'].includes(parsed.hostname) ? null : 'must use https (http is allowed only for localhost, 127.0.0.1 and [::1])';
  }
  if (['javascript', 'data', 'file', 'vbscript', 'blob', 'about', 'ftp', 'ws', 'wss'].includes(scheme)) return `cannot use the ${scheme}: scheme`;
  if (!scheme.includes('.')) return 'must use https, or a private-use scheme in reverse domain form (com.example.app:/callback)';
  return null;
}

/**
 * Exact string matching (RFC 9700 §4.1.3): no normalisation, no prefix or pattern matching. The
 * one exception the RFCs require: a public (native) client's loopback IP redirect may use any
 * port (RFC 8252 §7.3), since the app picks a free port at run time.
 */
export function redirectUriMatches(client: Pick<OAuthClient, 'redirect_uris' | 'is_public'>, presented: string): boolean {
  if (client.redirect_uris.some((registered) => registered === presented)) return true;
  if (!client.is_public) return false;
  const p = LOOPBACK_RE.exec(presented);
  if (!p) return false;
  return client.redirect_uris.some((registered) => {
    const r = LOOPBACK_RE.exec(registered);
    return !!r && r[1] === p[1] && (r[3] ?? '') === (p[3] ?? '') && (r[4] ?? '') === (p[4] ?? '');
  });
}

/** The validated parameters of an authorization request (RFC 6749 §4.1.1, RFC 7636 §4.3). */
export interface AuthorizationRequest {
  client: OAuthClient;
  redirectUri: string;
  scopes: Scope[];
  state: string | undefined;
  codeChallenge: string | null;
}

export type AuthorizationCheck =
  /** Unknown client or unregistered redirect URI: shown to the user, never redirected (§4.1.2.1). */
  | { kind: 'page'; message: string }
  /** Any other problem: sent back to the (verified) redirect URI as error=... */
  | { kind: 'redirect'; redirectUri: string; error: string; description: string; state: string | undefined }
  | { kind: 'ok'; request: AuthorizationRequest };

type Params = Record<string, unknown>;

/**
 * A parameter given once as a string; `null` when repeated or not a string. An empty value is
 * treated as omitted (RFC 6749 §3.1: "parameters sent without a value MUST be treated as if they
 * were omitted").
 */
function single(params: Params, name: string): string | undefined | null {
  const value = params[name];
  if (value === undefined || value === '') return undefined;
  return typeof value === 'string' ? value : null;
}

export type OAuthService = ReturnType<typeof createOAuthService>;

export function createOAuthService(deps: { db: Kysely<DB>; tokens: TokensService; now?: () => Date }) {
  const { db, tokens } = deps;
  const now = deps.now ?? (() => new Date());
  const repo = createOAuthRepo(db);
  const failures = createAuthFailures({ db, now });
  // Compared against when a client_id is unknown, so the response time does not reveal it.
  const dummySecretHash = hashToken(randomToken(32));

  function validateClientInput(input: { name: string; redirectUris: string[] }): { name: string; uris: string[] } {
    const errors: FieldErrors = {};
    const name = input.name.trim();
    if (!name || name.length > 200) errors.name = ['The name must be 1 to 200 characters.'];
    const uris = [...new Set(input.redirectUris.map((u) => u.trim()).filter(Boolean))];
    if (uris.length === 0) errors.redirect_uris = ['Enter at least one redirect URL.'];
    else if (uris.length > 20) errors.redirect_uris = ['Enter at most 20 redirect URLs.'];
    else {
      const problems = uris.map((u) => [u, redirectUriProblem(u)] as const).filter(([, p]) => p !== null);
      if (problems.length > 0) errors.redirect_uris = problems.map(([u, p]) => `${u} ${p}.`);
    }
    if (Object.keys(errors).length > 0) throw new ValidationError(errors);
    return { name, uris };
  }

  return {
    /** Registers an application. The secret (confidential clients) is returned this once. */
    async createClient(input: { accountId: string; name: string; redirectUris: string[]; isPublic?: boolean }) {
      const { name, uris } = validateClientInput(input);
      const isPublic = input.isPublic ?? false;
      const clientSecret = isPublic ? null : randomToken(32);
      const client = await repo.insertClient({
        id: newId(),
        accountId: input.accountId,
        name,
        clientId: newId(),
        secretHash: clientSecret ? hashToken(clientSecret) : null,
        isPublic,
        redirectUris: uris,
      });
      return { client, clientSecret };
    },

    listClients: (accountId: string) => repo.listClients(accountId),

    async getClient(accountId: string, id: string) {
      const client = await repo.findClientForAccount(accountId, id);
      if (!client) throw new NotFoundError('Application not found.');
      return client;
    },

    /** A new secret replaces the old one at once; tokens already issued stay valid. */
    async rotateSecret(accountId: string, id: string) {
      const client = await repo.findClientForAccount(accountId, id);
      if (!client) throw new NotFoundError('Application not found.');
      if (client.is_public) throw ValidationError.field('client', 'A public client has no secret.');
      const clientSecret = randomToken(32);
      await repo.setSecret(client.id, hashToken(clientSecret), now());
      return { client, clientSecret };
    },

    /** Deletes an application and revokes every token and pending code it holds, in every account. */
    async deleteClient(accountId: string, id: string) {
      const client = await repo.findClientForAccount(accountId, id);
      if (!client) throw new NotFoundError('Application not found.');
      await db.transaction().execute(async (trx) => {
        await createOAuthRepo(trx).softDeleteClient(client.id, now());
        await createTokensRepo(trx).revokeByClient(client.id, now());
      });
      tokens.forgetCached();
    },

    findClient: (clientId: string) => repo.findClientByClientId(clientId),

    /**
     * Client authentication at the token and revocation endpoints (RFC 6749 §2.3): a confidential
     * client proves its secret (compared in constant time on the hashes); a public client only
     * names itself and must not send a secret.
     */
    async authenticateClient(clientId: string, secret: string | undefined, viaBasic: boolean, ip: string): Promise<OAuthClient> {
      // RFC 6749 §2.3.1: endpoints that take client passwords are protected against brute force.
      if (await failures.blocked('client', clientId, ip, CLIENT_AUTH_LIMITS)) {
        throw new OAuthError('invalid_client', 'Too many failed client authentications from this address. Retry in 15 minutes.', 429, { 'retry-after': '900' });
      }
      const client = clientId.length <= 200 ? await repo.findClientByClientId(clientId) : undefined;
      const ok = (() => {
        if (!client) {
          constantTimeEqual(hashToken(secret ?? ''), dummySecretHash);
          return false;
        }
        if (client.is_public) return secret === undefined;
        if (secret === undefined || !client.client_secret_hash) return false;
        return constantTimeEqual(hashToken(secret), client.client_secret_hash);
      })();
      if (!ok || !client) {
        await failures.record('client', clientId.slice(0, 200), ip);
        throw new OAuthError('invalid_client', 'Client authentication failed.', 401, viaBasic ? { 'www-authenticate': 'Basic realm="shortcode", charset="UTF-8"' } : {});
      }
      return client;
    },

    /** Checks an authorization request (GET /oauth/authorize, and again when consent is given). */
    async checkAuthorizationRequest(params: Params): Promise<AuthorizationCheck> {
      const clientId = single(params, 'client_id');
      if (clientId === null) return { kind: 'page', message: 'The client_id parameter is repeated or malformed.' };
      if (!clientId) return { kind: 'page', message: 'The request has no client_id.' };
      const client = clientId.length <= 200 ? await repo.findClientByClientId(clientId) : undefined;
      if (!client) return { kind: 'page', message: 'No application has this client_id.' };
      const redirectUri = single(params, 'redirect_uri');
      if (redirectUri === null) return { kind: 'page', message: 'The redirect_uri parameter is repeated or malformed.' };
      if (!redirectUri) return { kind: 'page', message: 'The request has no redirect_uri.' };
      if (!redirectUriMatches(client, redirectUri)) {
        return { kind: 'page', message: 'The redirect_uri does not exactly match a redirect URL registered for this application.' };
      }

      const rawState = single(params, 'state');
      const state = typeof rawState === 'string' ? rawState : undefined;
      const fail = (error: string, description: string): AuthorizationCheck => ({ kind: 'redirect', redirectUri, error, description, state });
      if (rawState === null) return fail('invalid_request', 'The state parameter is repeated.');
      for (const name of ['response_type', 'scope', 'code_challenge', 'code_challenge_method']) {
        if (single(params, name) === null) return fail('invalid_request', `The ${name} parameter is repeated.`);
      }

      const responseType = single(params, 'response_type');
      if (!responseType) return fail('invalid_request', 'response_type is required.');
      if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');

      const scopeParam = single(params, 'scope') ?? '';
      const requested = scopeParam.split(' ').filter(Boolean);
      if (requested.length === 0) return fail('invalid_scope', 'scope is required: a space-delimited list of scopes.');
      const unknown = requested.filter((s) => !isScope(s));
      if (unknown.length > 0) return fail('invalid_scope', `Unknown scope(s): ${unknown.join(' ')}`);
      const scopes = [...new Set(requested)] as Scope[];

      const challenge = single(params, 'code_challenge');
      const method = single(params, 'code_challenge_method');
      if (method !== undefined && method !== 'S256') {
        return fail('invalid_request', 'code_challenge_method must be S256 (plain is not supported).');
      }
      if (challenge === undefined && method !== undefined) return fail('invalid_request', 'code_challenge_method was sent without code_challenge.');
      if (challenge !== undefined) {
        if (method === undefined) return fail('invalid_request', 'code_challenge_method=S256 is required with code_challenge (plain is not supported).');
        if (!S256_CHALLENGE_RE.test(challenge!)) return fail('invalid_request', 'code_challenge must be the 43-character base64url SHA-256 of the code verifier.');
      } else if (client.is_public) {
        return fail('invalid_request', 'PKCE is required for this client: send code_challenge and code_challenge_method=S256.');
      }

      return { kind: 'ok', request: { client, redirectUri, scopes, state, codeChallenge: challenge ?? null } };
    },

    /** Issues an authorization code once the user has consented. Only its hash is stored. */
    async issueCode(request: AuthorizationRequest, user: { accountId: string; userId: string }): Promise<string> {
      const code = generateAuthorizationCode();
      const at = now();
      await repo.insertCode({
        id: newId(),
        codeHash: hashToken(code),
        clientId: request.client.id,
        accountId: user.accountId,
        userId: user.userId,
        redirectUri: request.redirectUri,
        scopes: request.scopes.join(' '),
        codeChallenge: request.codeChallenge,
        expiresAt: new Date(at.getTime() + AUTHORIZATION_CODE_LIFETIME_MS),
      });
      await repo.purgeOldCodes(new Date(at.getTime() - 24 * 60 * 60 * 1000));
      return code;
    },

    /**
     * The authorization_code grant (RFC 6749 §4.1.3, RFC 7636 §4.6, RFC 9700 §2.1.1, §4.2.4).
     * A code is single use: a second use fails and revokes every token issued from it. A code
     * that fails any check for its own client is spent, so the verifier cannot be guessed.
     */
    async exchangeCode(client: OAuthClient, input: { code: string; redirectUri: string | undefined; codeVerifier: string | undefined; scope: string | undefined }) {
      const at = now();
      type Outcome = { ok: true; token: string; scopes: Scope[] } | { ok: false; error: OAuthError };
      const invalidGrant = (description: string): Outcome => ({ ok: false, error: new OAuthError('invalid_grant', description) });

      const outcome = await db.transaction().execute(async (trx): Promise<Outcome> => {
        const txRepo = createOAuthRepo(trx);
        const txTokensRepo = createTokensRepo(trx);
        const row = input.code.length <= 100 ? await txRepo.findCodeForUpdate(hashToken(input.code)) : undefined;
        if (!row) return invalidGrant('The authorization code is invalid.');
        // Bound to the client it was issued to; another client learns nothing and spends nothing.
        if (row.client_id !== client.id) return invalidGrant('The authorization code is invalid.');
        if (row.used_at) {
          await txTokensRepo.revokeByAuthorizationCode(row.id, at);
          return invalidGrant('The authorization code has already been used; the tokens issued from it are revoked.');
        }
        await txRepo.markCodeUsed(row.id, at);
        if (row.expires_at <= at) return invalidGrant('The authorization code has expired.');
        if (input.redirectUri === undefined || input.redirectUri !== row.redirect_uri) {
          return invalidGrant('redirect_uri must be identical to the one sent in the authorization request.');
        }
        if (row.code_challenge) {
          if (input.codeVerifier === undefined) return invalidGrant('code_verifier is required: the authorization request used PKCE.');
          if (!VERIFIER_RE.test(input.codeVerifier) || !constantTimeEqual(s256(input.codeVerifier), row.code_challenge)) {
            return invalidGrant('The code_verifier does not match the code_challenge.');
          }
        } else if (input.codeVerifier !== undefined) {
          // PKCE downgrade (RFC 9700 §2.1.1): a verifier for a code issued without a challenge.
          return invalidGrant('code_verifier was sent but the authorization request had no code_challenge.');
        }
        const granted = row.scopes.split(' ').filter(Boolean) as Scope[];
        let scopes = granted;
        if (input.scope !== undefined) {
          const asked = input.scope.split(' ').filter(Boolean);
          const beyond = asked.filter((s) => !granted.includes(s as Scope));
          if (beyond.length > 0) {
            return { ok: false, error: new OAuthError('invalid_scope', `The scope exceeds what the user granted: ${beyond.join(' ')}`) };
          }
          if (asked.length > 0) scopes = [...new Set(asked)] as Scope[];
        }
        const issued = await createTokensService({ tokensRepo: txTokensRepo, now }).issue({
          accountId: row.account_id,
          userId: row.user_id,
          kind: 'oauth',
          name: client.name,
          scopes,
          clientId: client.id,
          authorizationCodeId: row.id,
        });
        return { ok: true, token: issued.token, scopes: issued.scopes };
      });
      if (!outcome.ok) {
        // A replayed code revoked tokens inside the transaction: drop them from this process's cache.
        tokens.forgetCached();
        throw outcome.error;
      }
      return { access_token: outcome.token, token_type: 'Bearer' as const, expires_in: ACCESS_TOKEN_LIFETIME_SECONDS, scope: outcome.scopes.join(' ') };
    },

    /**
     * RFC 7009: revokes an access token issued to this client. Unknown or already revoked tokens
     * are answered as success (§2.2); a token issued to another client (or a personal token) is
     * refused and left alone.
     */
    async revokeToken(client: OAuthClient, token: string): Promise<void> {
      const row = token.length <= 512 ? await tokens.findByValue(token) : undefined;
      if (!row) return;
      if (row.client_id !== client.id) throw new OAuthError('unauthorized_client', 'The token was not issued to this client.');
      if (!row.revoked_at) await tokens.revokeById(row.id);
    },

    /** The applications connected to an account, and disconnecting one (revokes its tokens there). */
    listConnected: (accountId: string) => tokens.listConnectedClients(accountId),
    async disconnect(accountId: string, clientPk: string): Promise<boolean> {
      return (await tokens.revokeByClient(clientPk, accountId)) > 0;
    },
  };
}
