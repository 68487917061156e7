/**
 * OAuth 2.0 authorization code flow with PKCE (S256), for applications acting on behalf of a
 * Shortcode account: build the authorization URL, then exchange the code for an access token.
 */
import type { ApiClient } from './core.js';
import type { RequestOptions } from './types.js';

export interface AuthorizationUrlParams {
  /** The application's client id. */
  clientId: string;
  /** Exactly one of the application's registered redirect URIs. */
  redirectUri: string;
  /** Scopes to ask for (`contacts.view`, `messages.create`, ...). */
  scopes: readonly string[];
  /** An opaque value echoed back on the redirect; a random one is made when omitted. Check it on return. */
  state?: string;
  /** A PKCE code verifier of your own (43-128 characters); a random one is made when omitted. */
  codeVerifier?: string;
}

export interface AuthorizationUrl {
  /** Send the user's browser here. */
  url: string;
  /** Keep it (server-side, with the user's session) for {@link OAuth.exchangeCode}. */
  codeVerifier: string;
  /** Compare it with the `state` of the redirect. */
  state: string;
}

export interface ExchangeCodeParams {
  clientId: string;
  /** The application's secret; omit it for a public client (PKCE only). */
  clientSecret?: string;
  /** The `code` query parameter of the redirect. */
  code: string;
  /** The redirect URI used in the authorization request, exactly. */
  redirectUri: string;
  /** The verifier returned by {@link OAuth.buildAuthorizationUrl}. */
  codeVerifier?: string;
}

/** The token endpoint's answer. */
export interface AccessToken {
  /** Use it as `new Shortcode({ token })`. */
  access_token: string;
  token_type: 'Bearer';
  /** Seconds (tokens last 10 years: 315359999). */
  expires_in: number;
  /** The scopes granted, space-separated. */
  scope?: string;
}

function base64Url(bytes: Uint8Array): string {
  let binary = '';
  for (const byte of bytes) binary += String.fromCharCode(byte);
  return btoa(binary).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A random PKCE code verifier (43 characters of base64url, 256 bits). */
export function createCodeVerifier(): string {
  return base64Url(globalThis.crypto.getRandomValues(new Uint8Array(32)));
}

/** The S256 code challenge of a verifier: base64url(SHA-256(verifier)). */
export async function codeChallengeFor(codeVerifier: string): Promise<string> {
  const digest = await globalThis.crypto.subtle.digest('SHA-256', new TextEncoder().encode(codeVerifier));
  return base64Url(new Uint8Array(digest));
}

/** The OAuth endpoints of the server the client points at (`/oauth/authorize`, `/oauth/token`, `/oauth/revoke`). */
export class OAuth {
  /** Used through `client.oauth`; the client's base URL is the authorization server. */
  constructor(private readonly client: ApiClient) {}

  /**
   * Builds the URL that asks the user to authorize the application, with a PKCE (S256) challenge.
   * @example
   * const { url, codeVerifier, state } = await client.oauth.buildAuthorizationUrl({ clientId, redirectUri, scopes: ['contacts.view'] });
   */
  async buildAuthorizationUrl(params: AuthorizationUrlParams): Promise<AuthorizationUrl> {
    const codeVerifier = params.codeVerifier ?? createCodeVerifier();
    if (!/^[A-Za-z0-9\-._~]{43,128}$/.test(codeVerifier)) throw new RangeError('A PKCE code verifier is 43-128 characters of A-Z, a-z, 0-9, "-", ".", "_", "~".');
    const state = params.state ?? createCodeVerifier();
    const query = new URLSearchParams({
      response_type: 'code',
      client_id: params.clientId,
      redirect_uri: params.redirectUri,
      scope: params.scopes.join(' '),
      state,
      code_challenge: await codeChallengeFor(codeVerifier),
      code_challenge_method: 'S256',
    });
    return { url: `${this.client.baseUrl}/oauth/authorize?${query.toString()}`, codeVerifier, state };
  }

  /**
   * Exchanges an authorization code for an access token (form-encoded, as RFC 6749 asks).
   * @throws {BadRequestError} for an invalid, expired or reused code (`errors.error` holds the OAuth error code).
   * @throws {UnauthorizedError} for a wrong client secret.
   */
  exchangeCode(params: ExchangeCodeParams, options?: RequestOptions): Promise<AccessToken> {
    const form: Record<string, string> = {
      grant_type: 'authorization_code',
      client_id: params.clientId,
      code: params.code,
      redirect_uri: params.redirectUri,
    };
    if (params.clientSecret !== undefined) form.client_secret = params.clientSecret;
    if (params.codeVerifier !== undefined) form.code_verifier = params.codeVerifier;
    // Codes are single use: a repeated POST would fail, so network errors are not retried.
    return this.client.request<AccessToken>({ method: 'POST', path: '/oauth/token', form, authenticate: false }, options);
  }

  /** Revokes an access token (RFC 7009); revoking an unknown token succeeds too. */
  async revoke(params: { clientId: string; clientSecret?: string; token: string }, options?: RequestOptions): Promise<void> {
    const form: Record<string, string> = { client_id: params.clientId, token: params.token };
    if (params.clientSecret !== undefined) form.client_secret = params.clientSecret;
    await this.client.request({ method: 'POST', path: '/oauth/revoke', form, authenticate: false }, options);
  }

  /** The authorization server metadata (RFC 8414): endpoints, scopes, PKCE methods. */
  metadata(options?: RequestOptions): Promise<Record<string, unknown>> {
    return this.client.request<Record<string, unknown>>({ method: 'GET', path: '/.well-known/oauth-authorization-server', authenticate: false }, options);
  }
}
