import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAccountWithToken, createTestApp, type TestContext } from '../../../test/helpers.js';
import { basic, consent, form, getCode, pkcePair, registerClient, signedInUser, tokenRequest } from '../../../test/oauth-helpers.js';

let ctx: TestContext;
let user: Awaited<ReturnType<typeof signedInUser>>;
let client: Awaited<ReturnType<typeof registerClient>>;
const REDIRECT = 'https://client.example/cb';
const REDIRECT_2 = 'https://client.example:8443/callback?tenant=1';

beforeAll(async () => {
  ctx = await createTestApp();
  user = await signedInUser(ctx.app);
  client = await registerClient(ctx.app, [REDIRECT, REDIRECT_2]);
});
afterAll(() => ctx.close());

const authorizeUrl = (params: Record<string, string | undefined>) => `/oauth/authorize?${form(params)}`;
const baseParams = () => ({ response_type: 'code', client_id: client.clientId, redirect_uri: REDIRECT, scope: 'carriers.view', state: 'st-123' });
const getAuthorize = (params: Record<string, string | undefined>, cookie = user.cookie) =>
  ctx.app.inject({ method: 'GET', url: authorizeUrl(params), headers: { cookie } });
const redirectParams = (location: string) => Object.fromEntries(new URL(location).searchParams);

async function exchange(code: string, extra: Record<string, string | undefined> = {}, headers?: Record<string, string>) {
  return tokenRequest(
    ctx.app,
    { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, ...extra },
    headers ?? { authorization: basic(client.clientId, client.clientSecret!) },
  );
}

const carriers = (token: string) => ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: { authorization: `Bearer ${token}` } });

describe('GET /oauth/authorize (happy)', () => {
  it('sends a signed-out user to sign in, coming back to the same request', async () => {
    const url = authorizeUrl(baseParams());
    const res = await ctx.app.inject({ method: 'GET', url });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe(`/dashboard/sign-in?next=${encodeURIComponent(url)}`);
  });

  it('shows a signed-in user a consent page listing the scopes in words, unframeable and uncached', async () => {
    const { challenge } = pkcePair();
    const res = await getAuthorize({ ...baseParams(), scope: 'carriers.view contacts.view messages.create', code_challenge: challenge, code_challenge_method: 'S256' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/text\/html/);
    expect(res.body).toContain('Test App');
    expect(res.body).toContain('See mobile carriers');
    expect(res.body).toContain('See your contacts');
    expect(res.body).toContain('Send text messages on your behalf (uses credits)');
    expect(res.body).toContain(`name="code_challenge" value="${challenge}"`);
    expect(res.body).toContain(`name="_csrf" value="${user.csrf}"`);
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("frame-ancestors 'none'");
    expect(res.headers['cache-control']).toBe('no-store');
  });

  it('redirects with a 27-character code, the state and the issuer after consent (303)', async () => {
    const res = await consent(ctx.app, user, baseParams());
    expect(res.statusCode).toBe(303);
    const location = res.headers.location as string;
    expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
    const p = redirectParams(location);
    expect(p.code).toMatch(/^[A-Za-z0-9_-]{27}$/);
    expect(p.state).toBe('st-123');
    expect(p.iss).toBe('http://shortcode.test');
    // Only the hash is stored.
    const rows = await sql<{ code_hash: string }>`SELECT code_hash FROM authorization_codes`.execute(ctx.database.db);
    expect(rows.rows.some((r) => r.code_hash.includes(p.code!))).toBe(false);
  });

  it('keeps the redirect URI\'s own query and echoes a state with special characters exactly', async () => {
    const state = 'a b&c=d/é?#%';
    const res = await consent(ctx.app, user, { ...baseParams(), redirect_uri: REDIRECT_2, state });
    const location = new URL(res.headers.location as string);
    expect(`${location.origin}${location.pathname}`).toBe('https://client.example:8443/callback');
    expect(location.searchParams.get('tenant')).toBe('1');
    expect(location.searchParams.get('state')).toBe(state);
  });

  it('adds no state when the client sent none, or an empty one (missing state is never invented)', async () => {
    for (const state of [undefined, '']) {
      const res = await consent(ctx.app, user, { ...baseParams(), state });
      const p = redirectParams(res.headers.location as string);
      expect(p.code).toBeDefined();
      expect('state' in p).toBe(false);
    }
  });

  it('echoes the state on every error redirect too', async () => {
    const res = await getAuthorize({ ...baseParams(), scope: 'nope', state: 'keep-me' });
    expect(redirectParams(res.headers.location as string)).toMatchObject({ error: 'invalid_scope', state: 'keep-me' });
  });

  it('answers access_denied (with the state) when the user denies', async () => {
    const res = await consent(ctx.app, user, baseParams(), 'deny');
    expect(res.statusCode).toBe(303);
    const p = redirectParams(res.headers.location as string);
    expect(p).toMatchObject({ error: 'access_denied', state: 'st-123' });
    expect(p.code).toBeUndefined();
  });
});

describe('GET /oauth/authorize (errors shown on a page, never redirected)', () => {
  it('refuses an unknown or missing client_id', async () => {
    for (const clientId of ['00000000-0000-4000-8000-000000000000', undefined, 'x'.repeat(500)]) {
      const res = await getAuthorize({ ...baseParams(), client_id: clientId });
      expect(res.statusCode).toBe(400);
      expect(res.headers.location).toBeUndefined();
      expect(res.headers['content-type']).toMatch(/text\/html/);
    }
  });

  it.each([
    ['a trailing slash', 'https://client.example/cb/'],
    ['a different case in the host', 'https://Client.example/cb'],
    ['a different case in the path', 'https://client.example/CB'],
    ['an extra query', 'https://client.example/cb?x=1'],
    ['an extra query on a URI that has one', 'https://client.example:8443/callback?tenant=1&x=2'],
    ['a missing query', 'https://client.example:8443/callback'],
    ['another port', 'https://client.example:8443/cb'],
    ['another port (registered with one)', 'https://client.example:9443/callback?tenant=1'],
    ['the default port written out', 'https://client.example:443/cb'],
    ['http instead of https', 'http://client.example/cb'],
    ['a fragment', 'https://client.example/cb#x'],
    ['a path suffix', 'https://client.example/cb/evil'],
    ['another host', 'https://evil.example/cb'],
    ['a userinfo trick', 'https://client.example@evil.example/cb'],
    ['percent-encoding', 'https://client.example/%63b'],
  ])('refuses a redirect_uri with %s', async (_label, redirectUri) => {
    const res = await getAuthorize({ ...baseParams(), redirect_uri: redirectUri });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
    expect(res.body).toContain('does not exactly match');
    // The consent form cannot be used to get around it either.
    const posted = await consent(ctx.app, user, { ...baseParams(), redirect_uri: redirectUri });
    expect(posted.statusCode).toBe(400);
    expect(posted.headers.location).toBeUndefined();
  });

  it('refuses a missing or repeated redirect_uri', async () => {
    const missing = await getAuthorize({ ...baseParams(), redirect_uri: undefined });
    expect(missing.statusCode).toBe(400);
    const repeated = await ctx.app.inject({
      method: 'GET',
      url: `${authorizeUrl(baseParams())}&redirect_uri=${encodeURIComponent('https://evil.example/cb')}`,
      headers: { cookie: user.cookie },
    });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.headers.location).toBeUndefined();
  });

  it('does not redirect to the URI of a deleted application', async () => {
    const doomed = await registerClient(ctx.app, [REDIRECT]);
    const owner = await ctx.app.services.oauth.findClient(doomed.clientId);
    await ctx.app.services.oauth.deleteClient(owner!.account_id, doomed.id);
    const res = await getAuthorize({ ...baseParams(), client_id: doomed.clientId });
    expect(res.statusCode).toBe(400);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('GET /oauth/authorize (errors redirected per RFC 6749 §4.1.2.1)', () => {
  it.each([
    ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
    ['no response_type', { response_type: undefined }, 'invalid_request'],
    ['an unknown scope', { scope: 'carriers.view admin' }, 'invalid_scope'],
    ['no scope', { scope: undefined }, 'invalid_scope'],
    ['PKCE plain', { code_challenge: 'a'.repeat(43), code_challenge_method: 'plain' }, 'invalid_request'],
    ['a challenge without a method (plain by default)', { code_challenge: pkcePair().challenge }, 'invalid_request'],
    ['a method without a challenge', { code_challenge_method: 'S256' }, 'invalid_request'],
    ['a malformed challenge', { code_challenge: 'short', code_challenge_method: 'S256' }, 'invalid_request'],
  ])('%s', async (_label, override, error) => {
    const res = await getAuthorize({ ...baseParams(), ...override });
    expect(res.statusCode).toBe(302);
    const location = res.headers.location as string;
    expect(location.startsWith(`${REDIRECT}?`)).toBe(true);
    const p = redirectParams(location);
    expect(p.error).toBe(error);
    expect(p.error_description).toEqual(expect.any(String));
    expect(p.state).toBe('st-123');
    expect(p.iss).toBe('http://shortcode.test');
    expect(p.code).toBeUndefined();
  });

  it('refuses a repeated parameter', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: `${authorizeUrl(baseParams())}&scope=contacts.view`, headers: { cookie: user.cookie } });
    expect(res.statusCode).toBe(302);
    expect(redirectParams(res.headers.location as string).error).toBe('invalid_request');
  });

  it('requires PKCE from a public client', async () => {
    const pub = await registerClient(ctx.app, [REDIRECT], { isPublic: true });
    const res = await getAuthorize({ ...baseParams(), client_id: pub.clientId });
    expect(res.statusCode).toBe(302);
    expect(redirectParams(res.headers.location as string)).toMatchObject({ error: 'invalid_request', state: 'st-123' });
  });
});

describe('POST /oauth/authorize (consent form security)', () => {
  it('refuses a consent without the CSRF token, or with another session\'s', async () => {
    const other = await signedInUser(ctx.app);
    for (const csrf of [undefined, other.csrf, '']) {
      const res = await ctx.app.inject({
        method: 'POST',
        url: '/oauth/authorize',
        headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
        payload: form({ ...baseParams(), decision: 'allow', _csrf: csrf }),
      });
      expect(res.statusCode).toBe(403);
      expect(res.headers.location).toBeUndefined();
    }
  });

  it('refuses a consent without a session', async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/oauth/authorize',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: form({ ...baseParams(), decision: 'allow', _csrf: user.csrf }),
    });
    expect(res.statusCode).toBe(401);
    expect(res.headers.location).toBeUndefined();
  });
});

describe('POST /oauth/token (happy)', () => {
  it('exchanges a code with PKCE and HTTP Basic for a 10-year bearer token that calls /v1', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await exchange(code, { code_verifier: verifier });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers.pragma).toBe('no-cache');
    expect(res.headers['content-type']).toMatch(/application\/json/);
    const body = res.json();
    expect(body).toEqual({ access_token: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/), token_type: 'Bearer', expires_in: 315359999, scope: 'carriers.view' });
    const api = await carriers(body.access_token);
    expect(api.statusCode).toBe(200);
    // The token belongs to the account that granted it, not to the developer's.
    const auth = await ctx.app.services.tokens.authenticate(body.access_token);
    expect(auth).toMatchObject({ accountId: user.account.id, userId: user.user.id, kind: 'oauth' });
  });

  it('accepts client_secret_post and JSON bodies (existing clients send JSON)', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const res = await ctx.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: client.clientId, client_secret: client.clientSecret }),
    });
    expect(res.statusCode).toBe(200);
    expect(res.json().token_type).toBe('Bearer');
  });

  it('form-decodes HTTP Basic credentials (RFC 6749 §2.3.1)', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const pct = (s: string) => [...s].map((c) => `%${c.charCodeAt(0).toString(16).padStart(2, '0').toUpperCase()}`).join('');
    const header = `Basic ${Buffer.from(`${pct(client.clientId)}:${pct(client.clientSecret!)}`).toString('base64')}`;
    const res = await exchange(code, {}, { authorization: header });
    expect(res.statusCode).toBe(200);
  });

  it('issues a token limited to its scopes: another scope is a 403 on /v1', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, scope: 'contacts.view' });
    const token = (await exchange(code)).json().access_token as string;
    const res = await carriers(token);
    expect(res.statusCode).toBe(403);
  });

  it('lets the token request narrow the granted scopes', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, scope: 'carriers.view contacts.view' });
    const res = await exchange(code, { scope: 'contacts.view' });
    expect(res.statusCode).toBe(200);
    expect(res.json().scope).toBe('contacts.view');
  });

  it('serves a public client with PKCE and client_id only, including a loopback redirect on any port', async () => {
    const pub = await registerClient(ctx.app, ['http://127.0.0.1/callback'], { isPublic: true });
    const { verifier, challenge } = pkcePair();
    const redirect = 'http://127.0.0.1:53127/callback';
    const code = await getCode(ctx.app, user, { client_id: pub.clientId, redirect_uri: redirect, code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await tokenRequest(ctx.app, { grant_type: 'authorization_code', code, redirect_uri: redirect, client_id: pub.clientId, code_verifier: verifier });
    expect(res.statusCode).toBe(200);
    // ...but not another path on the loopback host.
    const other = await getAuthorize({ ...baseParams(), client_id: pub.clientId, redirect_uri: 'http://127.0.0.1:53127/other', code_challenge: challenge, code_challenge_method: 'S256' });
    expect(other.statusCode).toBe(400);
  });
});

describe('POST /oauth/token (RFC 9700 negative cases)', () => {
  it('refuses a replayed code and revokes the token issued from it', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const first = await exchange(code);
    expect(first.statusCode).toBe(200);
    const token = first.json().access_token as string;
    expect((await carriers(token)).statusCode).toBe(200);
    const replay = await exchange(code);
    expect(replay.statusCode).toBe(400);
    expect(replay.json()).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/already been used/) });
    expect(replay.headers['cache-control']).toBe('no-store');
    expect((await carriers(token)).statusCode).toBe(401);
  });

  it('lets only one of two concurrent exchanges of a code succeed', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const results = await Promise.all([exchange(code), exchange(code)]);
    expect(results.map((r) => r.statusCode).sort()).toEqual([200, 400]);
    const token = results.find((r) => r.statusCode === 200)!.json().access_token as string;
    // The loser was a replay: the winner's token is revoked.
    expect((await carriers(token)).statusCode).toBe(401);
  });

  it('refuses an expired code (10 minutes)', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const row = await sql<{ ttl: number }>`SELECT extract(epoch FROM expires_at - created_at)::int AS ttl FROM authorization_codes ORDER BY created_at DESC LIMIT 1`.execute(ctx.database.db);
    expect(Number(row.rows[0]!.ttl)).toBe(600);
    await sql`UPDATE authorization_codes SET expires_at = now() - interval '1 second' WHERE used_at IS NULL`.execute(ctx.database.db);
    const res = await exchange(code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: 'The authorization code has expired.' });
  });

  it('refuses a code bound to another client (and leaves it usable by its own)', async () => {
    const other = await registerClient(ctx.app, [REDIRECT]);
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const stolen = await exchange(code, {}, { authorization: basic(other.clientId, other.clientSecret!) });
    expect(stolen.statusCode).toBe(400);
    expect(stolen.json().error).toBe('invalid_grant');
    expect((await exchange(code)).statusCode).toBe(200);
  });

  it('refuses a wrong PKCE verifier, and the code is spent', async () => {
    const { verifier, challenge } = pkcePair();
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
    const wrong = await exchange(code, { code_verifier: pkcePair().verifier });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ error: 'invalid_grant', error_description: 'The code_verifier does not match the code_challenge.' });
    expect((await exchange(code, { code_verifier: verifier })).json().error).toBe('invalid_grant');
  });

  it('refuses the challenge itself as verifier (plain downgrade)', async () => {
    const { challenge } = pkcePair();
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
    expect((await exchange(code, { code_verifier: challenge })).json().error).toBe('invalid_grant');
  });

  it('PKCE downgrade: a challenge was sent but the verifier is omitted', async () => {
    const { challenge } = pkcePair();
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, code_challenge: challenge, code_challenge_method: 'S256' });
    const res = await exchange(code);
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/code_verifier is required/) });
  });

  it('PKCE downgrade: no challenge at authorize, a verifier at the token endpoint', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const res = await exchange(code, { code_verifier: pkcePair().verifier });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toEqual({ error: 'invalid_grant', error_description: expect.stringMatching(/no code_challenge/) });
  });

  it('refuses scope escalation at the token endpoint', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT, scope: 'carriers.view' });
    const res = await exchange(code, { scope: 'carriers.view contacts.view' });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_scope');
  });

  it('refuses a redirect_uri that differs from the authorization request, or none', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT_2 });
    const res = await exchange(code, { redirect_uri: REDIRECT });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('invalid_grant');
    const code2 = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const none = await exchange(code2, { redirect_uri: undefined });
    expect(none.json().error).toBe('invalid_request');
  });

  it('refuses a wrong client secret with 401 invalid_client, and WWW-Authenticate for Basic', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const wrongBasic = await exchange(code, {}, { authorization: basic(client.clientId, `${client.clientSecret!.slice(0, -1)}x`) });
    expect(wrongBasic.statusCode).toBe(401);
    expect(wrongBasic.json()).toEqual({ error: 'invalid_client', error_description: 'Client authentication failed.' });
    expect(wrongBasic.headers['www-authenticate']).toMatch(/^Basic realm="shortcode"/);
    const wrongPost = await exchange(code, { client_id: client.clientId, client_secret: 'nope' }, {});
    expect(wrongPost.statusCode).toBe(401);
    expect(wrongPost.json().error).toBe('invalid_client');
    const unknown = await exchange(code, {}, { authorization: basic('00000000-0000-4000-8000-000000000000', client.clientSecret!) });
    expect(unknown.statusCode).toBe(401);
    const noSecret = await exchange(code, { client_id: client.clientId }, {});
    expect(noSecret.statusCode).toBe(401);
    const none = await exchange(code, {}, {});
    expect(none.statusCode).toBe(401);
    // The code survived all of that (client authentication comes first).
    expect((await exchange(code)).statusCode).toBe(200);
  });

  it('limits failed client authentications per address (20 in 15 minutes, RFC 6749 §2.3.1), in the database', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const from = (remoteAddress: string, secret: string) =>
      ctx.app.inject({
        method: 'POST',
        url: '/oauth/token',
        remoteAddress,
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.clientId, secret) },
        payload: form({ grant_type: 'authorization_code', code, redirect_uri: REDIRECT }),
      });
    for (let i = 0; i < 20; i++) expect((await from('203.0.113.7', `guess-${i}`)).statusCode).toBe(401);
    const blocked = await from('203.0.113.7', client.clientSecret!);
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['retry-after']).toBe('900');
    expect(blocked.json().error).toBe('invalid_client');
    const revoke = await ctx.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      remoteAddress: '203.0.113.7',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.clientId, client.clientSecret!) },
      payload: form({ token: 'x' }),
    });
    expect(revoke.statusCode).toBe(429);
    // Another address is not affected, and the code is still good.
    expect((await from('198.51.100.1', client.clientSecret!)).statusCode).toBe(200);
    const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM auth_failures WHERE kind = 'client' AND ip = '203.0.113.7'`.execute(ctx.database.db);
    expect(Number(stored.rows[0]!.n)).toBe(20);
  });

  it('keeps the client secret only as a hash', async () => {
    const rows = await sql<{ client_secret_hash: string }>`SELECT client_secret_hash FROM oauth_clients WHERE client_id = ${client.clientId}`.execute(ctx.database.db);
    expect(rows.rows[0]!.client_secret_hash).not.toContain(client.clientSecret!);
    expect(rows.rows[0]!.client_secret_hash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('refuses two authentication methods at once, and a public client that sends a secret', async () => {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    const both = await exchange(code, { client_secret: client.clientSecret! });
    expect(both.statusCode).toBe(400);
    expect(both.json().error).toBe('invalid_request');
    const pub = await registerClient(ctx.app, [REDIRECT], { isPublic: true });
    const res = await tokenRequest(ctx.app, { grant_type: 'authorization_code', code, redirect_uri: REDIRECT, client_id: pub.clientId, client_secret: 'anything' });
    expect(res.statusCode).toBe(401);
  });

  it('answers RFC 6749 errors for bad grant types, missing and repeated parameters, and other media types', async () => {
    const auth = { authorization: basic(client.clientId, client.clientSecret!) };
    const password = await tokenRequest(ctx.app, { grant_type: 'password', username: 'a', password: 'b' }, auth);
    expect(password.statusCode).toBe(400);
    expect(password.json().error).toBe('unsupported_grant_type');
    const noGrant = await tokenRequest(ctx.app, { code: 'x' }, auth);
    expect(noGrant.json().error).toBe('invalid_request');
    const noCode = await tokenRequest(ctx.app, { grant_type: 'authorization_code', redirect_uri: REDIRECT }, auth);
    expect(noCode.json().error).toBe('invalid_request');
    const unknownCode = await tokenRequest(ctx.app, { grant_type: 'authorization_code', code: 'x'.repeat(27), redirect_uri: REDIRECT }, auth);
    expect(unknownCode.json().error).toBe('invalid_grant');
    const repeated = await ctx.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...auth },
      payload: 'grant_type=authorization_code&code=a&code=b&redirect_uri=x',
    });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().error).toBe('invalid_request');
    const xml = await ctx.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/xml', ...auth }, payload: '<grant_type/>' });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().error).toBe('invalid_request');
    const text = await ctx.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'text/plain', ...auth }, payload: 'grant_type=authorization_code' });
    expect(text.statusCode).toBe(400);
    expect(text.json().error).toBe('invalid_request');
    const jsonArray = await ctx.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json', ...auth }, payload: '"x"' });
    expect(jsonArray.statusCode).toBe(400);
    expect(jsonArray.json().error).toBe('invalid_request');
    const get = await ctx.app.inject({ method: 'GET', url: '/oauth/token' });
    expect(get.statusCode).toBe(405);
  });
});

describe('POST /oauth/revoke (RFC 7009)', () => {
  async function freshToken() {
    const code = await getCode(ctx.app, user, { client_id: client.clientId, redirect_uri: REDIRECT });
    return (await exchange(code)).json().access_token as string;
  }
  const revoke = (values: Record<string, string | undefined>, headers: Record<string, string> = { authorization: basic(client.clientId, client.clientSecret!) }) =>
    ctx.app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: form(values) });

  it('revokes the client\'s own token (with or without a hint); the token stops working', async () => {
    const token = await freshToken();
    const res = await revoke({ token, token_type_hint: 'access_token' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    expect((await carriers(token)).statusCode).toBe(401);
    expect((await revoke({ token })).statusCode).toBe(200);
  });

  it('answers 200 for an unknown token', async () => {
    expect((await revoke({ token: '00000000-0000-4000-8000-000000000000', token_type_hint: 'refresh_token' })).statusCode).toBe(200);
  });

  it('refuses a token issued to another client, or a personal token, and leaves it working', async () => {
    const token = await freshToken();
    const other = await registerClient(ctx.app, [REDIRECT]);
    const res = await revoke({ token }, { authorization: basic(other.clientId, other.clientSecret!) });
    expect(res.statusCode).toBe(400);
    expect(res.json().error).toBe('unauthorized_client');
    expect((await carriers(token)).statusCode).toBe(200);
    const personal = await createAccountWithToken(ctx.app);
    expect((await revoke({ token: personal.token })).statusCode).toBe(400);
    expect((await carriers(personal.token)).statusCode).toBe(200);
  });

  it('requires client authentication and the token parameter', async () => {
    const token = await freshToken();
    const anonymous = await revoke({ token }, {});
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.json().error).toBe('invalid_client');
    const wrong = await revoke({ token }, { authorization: basic(client.clientId, 'wrong') });
    expect(wrong.statusCode).toBe(401);
    expect((await carriers(token)).statusCode).toBe(200);
    const missing = await revoke({});
    expect(missing.statusCode).toBe(400);
    expect(missing.json().error).toBe('invalid_request');
  });
});

describe('GET /.well-known/oauth-authorization-server (RFC 8414)', () => {
  it('describes the endpoints, PKCE S256 only, and the scopes', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/.well-known/oauth-authorization-server' });
    expect(res.statusCode).toBe(200);
    const body = res.json();
    expect(body).toMatchObject({
      issuer: 'http://shortcode.test',
      authorization_endpoint: 'http://shortcode.test/oauth/authorize',
      token_endpoint: 'http://shortcode.test/oauth/token',
      revocation_endpoint: 'http://shortcode.test/oauth/revoke',
      response_types_supported: ['code'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      authorization_response_iss_parameter_supported: true,
    });
    expect(body.scopes_supported).toContain('contacts.view');
    expect(body.token_endpoint_auth_methods_supported).toEqual(['client_secret_basic', 'client_secret_post', 'none']);
  });
});

describe('Deleting an application', () => {
  it('revokes its tokens and its pending codes', async () => {
    const doomed = await registerClient(ctx.app, [REDIRECT]);
    const code1 = await getCode(ctx.app, user, { client_id: doomed.clientId, redirect_uri: REDIRECT });
    const code2 = await getCode(ctx.app, user, { client_id: doomed.clientId, redirect_uri: REDIRECT });
    const auth = { authorization: basic(doomed.clientId, doomed.clientSecret!) };
    const token = (await exchange(code1, {}, auth)).json().access_token as string;
    const row = await ctx.app.services.oauth.findClient(doomed.clientId);
    await ctx.app.services.oauth.deleteClient(row!.account_id, doomed.id);
    expect((await carriers(token)).statusCode).toBe(401);
    expect((await exchange(code2, {}, auth)).statusCode).toBe(401);
  });
});
