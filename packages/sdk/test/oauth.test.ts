import { BadRequestError, Shortcode, UnauthorizedError } from '@shortcode/sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken } from '../../../test/helpers.js';
import { startServer, type TestServer } from './server.js';

let server: TestServer;
let anonymous: Shortcode;
let app: { clientId: string; clientSecret: string };
let user: { cookie: string; csrf: string };
const redirectUri = 'https://app.example.test/callback?from=sdk';

beforeAll(async () => {
  server = await startServer();
  anonymous = server.client();
  const owner = await createAccountWithToken(server.app);
  const registered = await server.app.services.oauth.createClient({ accountId: owner.account.id, name: 'SDK test app', redirectUris: [redirectUri], isPublic: false });
  app = { clientId: registered.client.client_id, clientSecret: registered.clientSecret! };
  const session = await server.app.services.sessions.createForUser(owner.user.id, owner.account.id);
  user = { cookie: `shortcode_session=${session.value}`, csrf: session.csrfToken };
});
afterAll(() => server.close());

/** What the user's browser does with the authorization URL: sees the consent page, allows, is redirected. */
async function authorizeInBrowser(url: string): Promise<URL> {
  const page = await fetch(url, { headers: { cookie: user.cookie }, redirect: 'manual' });
  expect(page.status, await page.clone().text()).toBe(200);
  expect(await page.text()).toContain('SDK test app');
  const params = new URL(url).searchParams;
  const form = new URLSearchParams(params);
  form.set('_csrf', user.csrf);
  form.set('decision', 'allow');
  const consent = await fetch(`${server.baseUrl}/oauth/authorize`, {
    method: 'POST',
    headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    body: form.toString(),
    redirect: 'manual',
  });
  expect(consent.status).toBe(303);
  return new URL(consent.headers.get('location')!);
}

describe('OAuth authorization code flow with PKCE', () => {
  it('builds an authorization URL the server accepts, exchanges the code, and the token works until revoked', async () => {
    const { url, codeVerifier, state } = await anonymous.oauth.buildAuthorizationUrl({ clientId: app.clientId, redirectUri, scopes: ['carriers.view', 'contacts.view'] });
    const redirect = await authorizeInBrowser(url);
    expect(redirect.origin + redirect.pathname).toBe('https://app.example.test/callback');
    expect(redirect.searchParams.get('state')).toBe(state);
    const code = redirect.searchParams.get('code')!;
    expect(code).toHaveLength(27);

    const token = await anonymous.oauth.exchangeCode({ clientId: app.clientId, clientSecret: app.clientSecret, code, redirectUri, codeVerifier });
    expect(token).toMatchObject({ token_type: 'Bearer', expires_in: 315359999 });
    expect(token.scope?.split(' ').sort()).toEqual(['carriers.view', 'contacts.view']);

    const client = server.client({ token: token.access_token });
    expect((await client.carriers.list({ limit: 1 })).data).toHaveLength(1);

    const reused = (await anonymous.oauth.exchangeCode({ clientId: app.clientId, clientSecret: app.clientSecret, code, redirectUri, codeVerifier }).catch((e: unknown) => e)) as BadRequestError;
    expect(reused).toBeInstanceOf(BadRequestError);
    expect(reused.errors.error).toEqual(['invalid_grant']);

    await anonymous.oauth.revoke({ clientId: app.clientId, clientSecret: app.clientSecret, token: token.access_token });
    await expect(client.carriers.list()).rejects.toBeInstanceOf(UnauthorizedError);
  });

  it('a wrong code verifier or client secret is refused', async () => {
    const { url, codeVerifier } = await anonymous.oauth.buildAuthorizationUrl({ clientId: app.clientId, redirectUri, scopes: ['carriers.view'] });
    const code = (await authorizeInBrowser(url)).searchParams.get('code')!;
    const wrongSecret = await anonymous.oauth.exchangeCode({ clientId: app.clientId, clientSecret: 'wrong', code, redirectUri, codeVerifier }).catch((e: unknown) => e);
    expect(wrongSecret).toBeInstanceOf(UnauthorizedError);
    const wrongVerifier = (await anonymous.oauth
      .exchangeCode({ clientId: app.clientId, clientSecret: app.clientSecret, code, redirectUri, codeVerifier: `${codeVerifier.slice(0, -1)}x` })
      .catch((e: unknown) => e)) as BadRequestError;
    expect(wrongVerifier).toBeInstanceOf(BadRequestError);
    expect(wrongVerifier.errors.error).toEqual(['invalid_grant']);
  });

  it('reads the authorization server metadata', async () => {
    const metadata = await anonymous.oauth.metadata();
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);
    expect(metadata.token_endpoint).toMatch(/\/oauth\/token$/);
  });
});
