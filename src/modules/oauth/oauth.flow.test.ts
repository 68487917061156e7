import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestContext } from '../../../test/helpers.js';

/**
 * The whole authorization-code flow with PKCE, driven by oauth4webapi (an off-the-shelf,
 * certified OAuth client library) against a server listening on a real port: the developer
 * signs up and registers the application in the dashboard, a customer signs in and consents,
 * the application exchanges the code, calls /v1 with the token and finally revokes it.
 */
let ctx: TestContext;
let base: string;

beforeAll(async () => {
  // No PUBLIC_URL: the issuer is the origin the server is reached at.
  ctx = await createTestApp({ PUBLIC_URL: '' });
  await ctx.app.listen({ port: 0, host: '127.0.0.1' });
  const address = ctx.app.server.address();
  if (!address || typeof address !== 'object') throw new Error('the server is not listening');
  base = `http://127.0.0.1:${address.port}`;
});
afterAll(() => ctx.close());

/** A minimal browser: a cookie jar and manual redirects, so each step can be checked. */
class Browser {
  private cookies = new Map<string, string>();
  async request(path: string, init: { method?: string; form?: Record<string, string> } = {}) {
    const headers: Record<string, string> = {};
    if (this.cookies.size > 0) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    let body: string | undefined;
    if (init.form) {
      headers['content-type'] = 'application/x-www-form-urlencoded';
      body = new URLSearchParams(init.form).toString();
    }
    const res = await fetch(new URL(path, base), { method: init.method ?? (body ? 'POST' : 'GET'), headers, body, redirect: 'manual' });
    for (const line of res.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const eq = pair!.indexOf('=');
      const name = pair!.slice(0, eq);
      const value = pair!.slice(eq + 1);
      if (value === '' || /max-age=0|expires=thu, 01 jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, location: res.headers.get('location'), text: await res.text(), headers: res.headers };
  }
}

const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const testId = (page: string, id: string) => new RegExp(`data-testid="${id}">([^<]+)<`).exec(page)?.[1] ?? '';

async function signUp(browser: Browser, email: string) {
  const form = await browser.request('/dashboard/sign-up');
  const res = await browser.request('/dashboard/sign-up', { form: { _csrf: csrfOf(form.text), name: 'Flow Co', email, password: 'a long enough password' } });
  expect(res.status).toBe(303);
}

describe('authorization code flow with PKCE through oauth4webapi', () => {
  it('registers in the dashboard, consents, exchanges the code, calls /v1 and revokes', async () => {
    const redirectUri = `${base}/callback`;

    // 1. A developer signs up and creates an application in Settings, Integrations.
    const developer = new Browser();
    await signUp(developer, `dev-${Date.now()}@example.test`);
    const newApp = await developer.request('/dashboard/settings/integrations/applications/new');
    expect(newApp.status).toBe(200);
    const created = await developer.request('/dashboard/settings/integrations/applications', {
      form: { _csrf: csrfOf(newApp.text), name: 'Flow Integration', redirect_uris: redirectUri, type: 'confidential' },
    });
    expect(created.status).toBe(201);
    const clientId = testId(created.text, 'client-id');
    const clientSecret = testId(created.text, 'client-secret');
    expect(clientId).toMatch(/^[0-9a-f-]{36}$/);
    expect(clientSecret.length).toBeGreaterThanOrEqual(43);

    // 2. The application discovers the server (RFC 8414).
    const issuer = new URL(base);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    const client: oauth.Client = { client_id: clientId };
    const clientAuth = oauth.ClientSecretBasic(clientSecret);

    // 3. It sends a customer to the authorization endpoint with PKCE (S256) and a state.
    const codeVerifier = oauth.generateRandomCodeVerifier();
    const codeChallenge = await oauth.calculatePKCECodeChallenge(codeVerifier);
    const state = oauth.generateRandomState();
    const authorizationUrl = new URL(as.authorization_endpoint!);
    authorizationUrl.search = new URLSearchParams({
      client_id: clientId,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'carriers.view contacts.view contacts.create',
      state,
      code_challenge: codeChallenge,
      code_challenge_method: 'S256',
    }).toString();

    // 4. The customer (another account) is asked to sign in, then consents.
    const customer = new Browser();
    const first = await customer.request(authorizationUrl.pathname + authorizationUrl.search);
    expect(first.status).toBe(302);
    expect(first.location).toMatch(/^\/dashboard\/sign-in\?next=/);
    const signInPage = await customer.request(first.location!);
    const next = /name="next" value="([^"]+)"/.exec(signInPage.text)![1]!.replace(/&amp;/g, '&');
    // The customer has no account yet: sign up, keeping the authorization request.
    const signUpForm = await customer.request(`/dashboard/sign-up?next=${encodeURIComponent(next)}`);
    const signedUp = await customer.request('/dashboard/sign-up', {
      form: { _csrf: csrfOf(signUpForm.text), name: 'Customer Co', email: `customer-${Date.now()}@example.test`, password: 'another long password', next },
    });
    expect(signedUp.status).toBe(303);
    expect(signedUp.location).toBe(authorizationUrl.pathname + authorizationUrl.search);
    const consentPage = await customer.request(signedUp.location!);
    expect(consentPage.status).toBe(200);
    expect(consentPage.text).toContain('Flow Integration');
    expect(consentPage.text).toContain('See mobile carriers');
    const hidden = Object.fromEntries([...consentPage.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
    const decided = await customer.request('/oauth/authorize', { form: { ...hidden, decision: 'allow' } });
    expect(decided.status).toBe(303);
    const callback = new URL(decided.location!);
    expect(`${callback.origin}${callback.pathname}`).toBe(redirectUri);

    // 5. The application validates the response (state, iss) and exchanges the code.
    const params = oauth.validateAuthResponse(as, client, callback, state);
    expect(() => oauth.validateAuthResponse(as, client, callback, oauth.generateRandomState())).toThrow();
    const tokenResponse = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, { [oauth.allowInsecureRequests]: true });
    const tokens = await oauth.processAuthorizationCodeResponse(as, client, tokenResponse);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(315359999);
    expect(tokens.scope).toBe('carriers.view contacts.view contacts.create');
    expect(tokens.access_token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

    // 6. The token calls the API, on behalf of the customer's account: it adds a contact and
    // lists the account's contacts.
    const createdContact = await fetch(`${base}/v1/contacts`, {
      method: 'POST',
      headers: { authorization: `Bearer ${tokens.access_token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ phone_number: '+12025550161', first_name: 'Grace' }),
    });
    expect(createdContact.status).toBe(201);
    const api = await oauth.protectedResourceRequest(tokens.access_token, 'GET', new URL(`${base}/v1/contacts?limit=2`), undefined, undefined, {
      [oauth.allowInsecureRequests]: true,
    });
    expect(api.status).toBe(200);
    const listed = (await api.json()) as { data: Array<{ phone_number: string; first_name: string }>; meta: { pagination: { total: number } } };
    expect(listed.data).toEqual([expect.objectContaining({ phone_number: '+12025550161', first_name: 'Grace' })]);
    expect(listed.meta.pagination.total).toBe(1);

    // 7. The same code cannot be used twice (and that revokes the token).
    const replay = await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, { [oauth.allowInsecureRequests]: true });
    await expect(oauth.processAuthorizationCodeResponse(as, client, replay)).rejects.toMatchObject({ error: 'invalid_grant' });
    const afterReplay = await fetch(`${base}/v1/carriers`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(afterReplay.status).toBe(401);
  });

  it('runs again with client_secret_post, then revokes the token (RFC 7009)', async () => {
    const redirectUri = `${base}/cb2`;
    const developer = new Browser();
    await signUp(developer, `dev2-${Date.now()}@example.test`);
    const newApp = await developer.request('/dashboard/settings/integrations/applications/new');
    const created = await developer.request('/dashboard/settings/integrations/applications', {
      form: { _csrf: csrfOf(newApp.text), name: 'Second', redirect_uris: redirectUri, type: 'confidential' },
    });
    const client: oauth.Client = { client_id: testId(created.text, 'client-id') };
    const clientAuth = oauth.ClientSecretPost(testId(created.text, 'client-secret'));
    const issuer = new URL(base);
    const as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', [oauth.allowInsecureRequests]: true }));

    const codeVerifier = oauth.generateRandomCodeVerifier();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectUri,
      response_type: 'code',
      scope: 'carriers.view',
      code_challenge: await oauth.calculatePKCECodeChallenge(codeVerifier),
      code_challenge_method: 'S256',
    }).toString();
    // The developer consents for their own account this time (already signed in).
    const consentPage = await developer.request(url.pathname + url.search);
    expect(consentPage.status).toBe(200);
    const hidden = Object.fromEntries([...consentPage.text.matchAll(/<input type="hidden" name="([^"]+)" value="([^"]*)">/g)].map((m) => [m[1]!, m[2]!.replace(/&amp;/g, '&')]));
    const decided = await developer.request('/oauth/authorize', { form: { ...hidden, decision: 'allow' } });
    const params = oauth.validateAuthResponse(as, client, new URL(decided.location!), oauth.expectNoState);
    const tokens = await oauth.processAuthorizationCodeResponse(
      as,
      client,
      await oauth.authorizationCodeGrantRequest(as, client, clientAuth, params, redirectUri, codeVerifier, { [oauth.allowInsecureRequests]: true }),
    );
    const call = () => fetch(`${base}/v1/carriers?limit=1`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect((await call()).status).toBe(200);

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, clientAuth, tokens.access_token, { [oauth.allowInsecureRequests]: true }));
    expect((await call()).status).toBe(401);
  });
});
