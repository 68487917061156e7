import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../app.js';
import { createAccountWithToken, createTestApp, testConfig, type TestContext } from '../../test/helpers.js';
import { basic, form, getCode, signedInUser } from '../../test/oauth-helpers.js';
import { hashToken } from '../lib/secrets.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestApp();
});
afterAll(() => ctx.close());

type Res = Awaited<ReturnType<TestContext['app']['inject']>>;
const csrfOf = (page: string) => /name="_csrf" value="([^"]+)"/.exec(page)?.[1] ?? '';
const sessionCookie = (res: Res) => res.cookies.find((c) => c.name === 'shortcode_session' || c.name === '__Host-shortcode_session');

/** A browser session: GET a page (which sets the cookie) and keep its CSRF token. */
async function visit(url: string, cookie?: string) {
  const res = await ctx.app.inject({ method: 'GET', url, headers: cookie ? { cookie } : {} });
  const set = sessionCookie(res);
  return { res, cookie: set ? `${set.name}=${set.value}` : cookie, csrf: csrfOf(res.body) };
}
const post = (url: string, cookie: string | undefined, values: Record<string, string | undefined>) =>
  ctx.app.inject({ method: 'POST', url, headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) }, payload: form(values) });

let seq = 0;
const email = () => `person-${Date.now()}-${++seq}@example.test`;

async function signUp(address = email(), password = 'a long enough password') {
  const page = await visit('/dashboard/sign-up');
  const res = await post('/dashboard/sign-up', page.cookie, { _csrf: page.csrf, name: 'Acme', email: address, password });
  const set = sessionCookie(res)!;
  const cookie = `${set.name}=${set.value}`;
  const settings = await visit('/dashboard/settings/integrations', cookie);
  return { res, cookie, csrf: settings.csrf, email: address, password };
}

describe('sign up', () => {
  it('shows an accessible form and sets an HttpOnly, SameSite=Lax session cookie (not Secure on http)', async () => {
    const { res } = await visit('/dashboard/sign-up');
    expect(res.statusCode).toBe(200);
    expect(res.body).toContain('<label for="email">Email</label>');
    expect(res.body).toContain('<main id="main"');
    const cookie = sessionCookie(res)!;
    expect(cookie).toMatchObject({ name: 'shortcode_session', httpOnly: true, sameSite: 'Lax', path: '/' });
    expect(cookie.secure).toBeFalsy();
    expect(res.headers['x-frame-options']).toBe('DENY');
    expect(res.headers['content-security-policy']).toContain("default-src 'none'");
  });

  it('creates the account and user, then signs in with a new session id (no fixation)', async () => {
    const page = await visit('/dashboard/sign-up');
    const address = email();
    const res = await post('/dashboard/sign-up', page.cookie, { _csrf: page.csrf, name: 'Acme', email: address, password: 'a long enough password' });
    expect(res.statusCode).toBe(303);
    expect(res.headers.location).toBe('/dashboard/settings/integrations');
    const fresh = sessionCookie(res)!;
    expect(`${fresh.name}=${fresh.value}`).not.toBe(page.cookie);
    expect(fresh.maxAge).toBe(7 * 24 * 3600);
    const old = await ctx.app.inject({ method: 'GET', url: '/dashboard/settings/integrations', headers: { cookie: page.cookie! } });
    expect(old.statusCode).toBe(302);
    const settings = await ctx.app.inject({ method: 'GET', url: '/dashboard/settings/integrations', headers: { cookie: `${fresh.name}=${fresh.value}` } });
    expect(settings.statusCode).toBe(200);
    expect(settings.body).toContain(address);
    const user = await sql<{ n: number }>`SELECT count(*)::int AS n FROM users WHERE email = ${address}`.execute(ctx.database.db);
    expect(Number(user.rows[0]!.n)).toBe(1);
  });

  it('shows field errors (422) for an invalid or taken email and a short password', async () => {
    const taken = await signUp();
    const page = await visit('/dashboard/sign-up');
    const res = await post('/dashboard/sign-up', page.cookie, { _csrf: page.csrf, name: '', email: 'nope', password: 'short' });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('The email must be a valid email address.');
    expect(res.body).toContain('The password must be at least 8 characters.');
    expect(res.body).toContain('aria-invalid="true"');
    const again = await post('/dashboard/sign-up', page.cookie, { _csrf: page.csrf, name: 'X', email: taken.email, password: 'a long enough password' });
    expect(again.statusCode).toBe(422);
  });

  it('refuses a form without the CSRF token, or without a session', async () => {
    const page = await visit('/dashboard/sign-up');
    const noToken = await post('/dashboard/sign-up', page.cookie, { name: 'A', email: email(), password: 'a long enough password' });
    expect(noToken.statusCode).toBe(403);
    const noSession = await post('/dashboard/sign-up', undefined, { _csrf: page.csrf, name: 'A', email: email(), password: 'a long enough password' });
    expect(noSession.statusCode).toBe(403);
  });
});

describe('sign in', () => {
  it('signs in and goes back to a same-site page, never to another site', async () => {
    const account = await signUp();
    const page = await visit('/dashboard/sign-in?next=%2Fdashboard%2Fsettings%2Fpassword');
    expect(page.res.body).toContain('name="next" value="/dashboard/settings/password"');
    const ok = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email.toUpperCase(), password: account.password, next: '/dashboard/settings/password' });
    expect(ok.statusCode).toBe(303);
    expect(ok.headers.location).toBe('/dashboard/settings/password');
    for (const next of ['https://evil.example/', '//evil.example/', '/\\evil.example', 'javascript:alert(1)', '/oauth/token']) {
      const p = await visit(`/dashboard/sign-in?next=${encodeURIComponent(next)}`);
      expect(p.res.body).not.toContain('name="next"');
      const res = await post('/dashboard/sign-in', p.cookie, { _csrf: p.csrf, email: account.email, password: account.password, next });
      expect(res.headers.location).toBe('/dashboard/settings/integrations');
    }
  });

  it('answers a wrong password and an unknown email identically', async () => {
    const account = await signUp();
    const page = await visit('/dashboard/sign-in');
    const wrong = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email, password: 'not the password' });
    const unknownEmail = 'nobody-here@example.test';
    const unknown = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: unknownEmail, password: 'not the password' });
    expect(wrong.statusCode).toBe(401);
    expect(unknown.statusCode).toBe(401);
    expect(wrong.body.replaceAll(account.email, 'EMAIL')).toBe(unknown.body.replaceAll(unknownEmail, 'EMAIL'));
    expect(wrong.body).toContain('The email or password is incorrect.');
  });

  it('limits failures per email (5 in 15 minutes), even for an email without an account, in the database', async () => {
    const account = await signUp();
    const page = await visit('/dashboard/sign-in');
    for (const address of [account.email, 'ghost@example.test']) {
      for (let i = 0; i < 5; i++) {
        const res = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: address, password: `wrong ${i}` });
        expect(res.statusCode).toBe(401);
      }
    }
    const blocked = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email, password: account.password });
    expect(blocked.statusCode).toBe(429);
    expect(blocked.headers['retry-after']).toBe('900');
    expect(sessionCookie(blocked)).toBeUndefined();
    const ghost = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: 'ghost@example.test', password: 'x' });
    expect(ghost.statusCode).toBe(429);
    expect(ghost.body.replaceAll('ghost@example.test', 'E')).toBe(blocked.body.replaceAll(account.email, 'E'));
    // Only hashes of the emails are kept.
    const rows = await sql<{ subject_hash: string }>`SELECT subject_hash FROM auth_failures WHERE kind = 'sign-in'`.execute(ctx.database.db);
    expect(rows.rows.length).toBeGreaterThanOrEqual(10);
    expect(rows.rows.every((r) => /^[0-9a-f]{64}$/.test(r.subject_hash))).toBe(true);
    // After the window, the account can sign in again.
    await sql`UPDATE auth_failures SET created_at = created_at - interval '16 minutes'`.execute(ctx.database.db);
    const later = await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email, password: account.password });
    expect(later.statusCode).toBe(303);
  });

  it('limits failures per client address (20 in 15 minutes)', async () => {
    const own = await createTestApp();
    try {
      const account = await signUp();
      // A separate app on its own database, so this address's counter starts at zero.
      const page = await own.app.inject({ method: 'GET', url: '/dashboard/sign-in' });
      const cookie = `shortcode_session=${sessionCookie(page)!.value}`;
      const csrf = csrfOf(page.body);
      const send = (address: string, password: string) =>
        own.app.inject({ method: 'POST', url: '/dashboard/sign-in', headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' }, payload: form({ _csrf: csrf, email: address, password }) });
      const { user } = await own.app.services.accounts.create({ name: 'Own', email: account.email, password: account.password });
      expect(user.id).toBeDefined();
      for (let i = 0; i < 20; i++) expect((await send(`spray-${i}@example.test`, 'guess')).statusCode).toBe(401);
      expect((await send(account.email, account.password)).statusCode).toBe(429);
    } finally {
      await own.close();
    }
  });
});

describe('sessions', () => {
  it('live in the database: a second process sees them; sign-out ends them everywhere', async () => {
    const account = await signUp();
    const second = await buildApp({ config: testConfig(), database: ctx.database, logger: false });
    await second.ready();
    try {
      const there = await second.inject({ method: 'GET', url: '/dashboard/settings/integrations', headers: { cookie: account.cookie } });
      expect(there.statusCode).toBe(200);
      const value = account.cookie.split('=')[1]!;
      const stored = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dashboard_sessions WHERE session_hash = ${hashToken(value)}`.execute(ctx.database.db);
      expect(Number(stored.rows[0]!.n)).toBe(1);
      const raw = await sql<{ n: number }>`SELECT count(*)::int AS n FROM dashboard_sessions WHERE session_hash = ${value}`.execute(ctx.database.db);
      expect(Number(raw.rows[0]!.n)).toBe(0);

      const out = await post('/dashboard/sign-out', account.cookie, { _csrf: account.csrf });
      expect(out.statusCode).toBe(303);
      const cleared = sessionCookie(out)!;
      expect(cleared.value).toBe('');
      const after = await second.inject({ method: 'GET', url: '/dashboard/settings/integrations', headers: { cookie: account.cookie } });
      expect(after.statusCode).toBe(302);
      expect(after.headers.location).toBe('/dashboard/sign-in?next=%2Fdashboard%2Fsettings%2Fintegrations');
    } finally {
      await second.close();
    }
  });

  it('sign-out needs the CSRF token', async () => {
    const account = await signUp();
    expect((await post('/dashboard/sign-out', account.cookie, {})).statusCode).toBe(403);
    expect((await visit('/dashboard/settings/integrations', account.cookie)).res.statusCode).toBe(200);
  });

  it('expire after 12 idle hours', async () => {
    const account = await signUp();
    await sql`UPDATE dashboard_sessions SET expires_at = now() - interval '1 second'`.execute(ctx.database.db);
    expect((await visit('/dashboard/settings/integrations', account.cookie)).res.statusCode).toBe(302);
  });

  it('are Secure with the __Host- prefix when the product is served over https', async () => {
    const secure = await createTestApp({ PUBLIC_URL: 'https://sms.example.com' }, ctx.database);
    try {
      const res = await secure.app.inject({ method: 'GET', url: '/dashboard/sign-in' });
      expect(sessionCookie(res)).toMatchObject({ name: '__Host-shortcode_session', secure: true, httpOnly: true, sameSite: 'Lax', path: '/' });
    } finally {
      await secure.close();
    }
  });
});

describe('password change', () => {
  it('checks the current password and the confirmation, then signs out other sessions', async () => {
    const account = await signUp();
    const otherPage = await visit('/dashboard/sign-in');
    const other = await post('/dashboard/sign-in', otherPage.cookie, { _csrf: otherPage.csrf, email: account.email, password: account.password });
    const otherCookie = `shortcode_session=${sessionCookie(other)!.value}`;

    const wrong = await post('/dashboard/settings/password', account.cookie, { _csrf: account.csrf, current_password: 'nope', new_password: 'a new password!', confirm_password: 'a new password!' });
    expect(wrong.statusCode).toBe(422);
    expect(wrong.body).toContain('The current password is incorrect.');
    const mismatch = await post('/dashboard/settings/password', account.cookie, { _csrf: account.csrf, current_password: account.password, new_password: 'a new password!', confirm_password: 'different' });
    expect(mismatch.statusCode).toBe(422);
    const short = await post('/dashboard/settings/password', account.cookie, { _csrf: account.csrf, current_password: account.password, new_password: 'short', confirm_password: 'short' });
    expect(short.statusCode).toBe(422);
    const noCsrf = await post('/dashboard/settings/password', account.cookie, { current_password: account.password, new_password: 'a new password!', confirm_password: 'a new password!' });
    expect(noCsrf.statusCode).toBe(403);

    const ok = await post('/dashboard/settings/password', account.cookie, { _csrf: account.csrf, current_password: account.password, new_password: 'a new password!', confirm_password: 'a new password!' });
    expect(ok.statusCode).toBe(200);
    expect(ok.body).toContain('Your password was changed.');
    expect((await visit('/dashboard/settings/integrations', account.cookie)).res.statusCode).toBe(200);
    expect((await visit('/dashboard/settings/integrations', otherCookie)).res.statusCode).toBe(302);
    const page = await visit('/dashboard/sign-in');
    expect((await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email, password: account.password })).statusCode).toBe(401);
    expect((await post('/dashboard/sign-in', page.cookie, { _csrf: page.csrf, email: account.email, password: 'a new password!' })).statusCode).toBe(303);
  });

  it('needs a signed-in session', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/dashboard/settings/password' });
    expect(res.statusCode).toBe(302);
    const posted = await post('/dashboard/settings/password', undefined, {});
    expect(posted.statusCode).toBe(401);
  });
});

describe('applications', () => {
  const create = (account: { cookie: string; csrf: string }, values: Record<string, string>) =>
    post('/dashboard/settings/integrations/applications', account.cookie, { _csrf: account.csrf, ...values });
  const secretOf = (body: string) => /data-testid="client-secret">([^<]+)</.exec(body)?.[1];
  const idOf = (body: string) => /data-testid="client-id">([^<]+)</.exec(body)?.[1];

  it('creates an application showing the secret once, lists it without the secret, rotates and deletes it', async () => {
    const account = await signUp();
    const created = await create(account, { name: 'My <App>', redirect_uris: 'https://my.example/cb\r\nhttp://localhost:3000/cb', type: 'confidential' });
    expect(created.statusCode).toBe(201);
    expect(created.headers['cache-control']).toBe('no-store');
    const secret = secretOf(created.body)!;
    const clientId = idOf(created.body)!;
    expect(secret).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(created.body).toContain('My &lt;App&gt;');

    const list = await visit('/dashboard/settings/integrations', account.cookie);
    expect(list.res.body).toContain(clientId);
    expect(list.res.body).toContain('https://my.example/cb');
    expect(list.res.body).not.toContain(secret);

    const row = await sql<{ id: string; client_secret_hash: string }>`SELECT id, client_secret_hash FROM oauth_clients WHERE client_id = ${clientId}`.execute(ctx.database.db);
    const pk = row.rows[0]!.id;
    expect(row.rows[0]!.client_secret_hash).toBe(hashToken(secret));

    // Rotating replaces the secret at once.
    const rotated = await post(`/dashboard/settings/integrations/applications/${pk}/rotate`, account.cookie, { _csrf: account.csrf });
    expect(rotated.statusCode).toBe(200);
    const newSecret = secretOf(rotated.body)!;
    expect(newSecret).not.toBe(secret);
    const user = await signedInUser(ctx.app);
    const tokenWith = async (s: string) => {
      const code = await getCode(ctx.app, user, { client_id: clientId, redirect_uri: 'https://my.example/cb' });
      return ctx.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, s) },
        payload: form({ grant_type: 'authorization_code', code, redirect_uri: 'https://my.example/cb' }),
      });
    };
    expect((await tokenWith(secret)).statusCode).toBe(401);
    const issued = await tokenWith(newSecret);
    expect(issued.statusCode).toBe(200);

    // Deleting revokes the tokens it issued.
    const deleted = await post(`/dashboard/settings/integrations/applications/${pk}/delete`, account.cookie, { _csrf: account.csrf });
    expect(deleted.statusCode).toBe(303);
    const api = await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: { authorization: `Bearer ${issued.json().access_token}` } });
    expect(api.statusCode).toBe(401);
    expect((await visit('/dashboard/settings/integrations', account.cookie)).res.body).not.toContain(clientId);
  });

  it('creates a public client without a secret', async () => {
    const account = await signUp();
    const created = await create(account, { name: 'Mobile', redirect_uris: 'com.example.app:/oauth', type: 'public' });
    expect(created.statusCode).toBe(201);
    expect(secretOf(created.body)).toBeUndefined();
    expect(created.body).toContain('public client');
  });

  it('refuses invalid names and redirect URLs with field errors', async () => {
    const account = await signUp();
    const res = await create(account, { name: '', redirect_uris: 'http://insecure.example/cb\nhttps://x.example/cb#frag\nnot a url\njavascript:alert(1)', type: 'confidential' });
    expect(res.statusCode).toBe(422);
    expect(res.body).toContain('The name must be 1 to 200 characters.');
    expect(res.body).toContain('must use https');
    expect(res.body).toContain('must not contain a fragment');
    expect(res.body).toContain('cannot use the javascript: scheme');
    const none = await create(account, { name: 'X', redirect_uris: '  ' });
    expect(none.statusCode).toBe(422);
    expect(none.body).toContain('Enter at least one redirect URL.');
  });

  it('keeps each account\'s applications to itself (another account gets 404) and needs CSRF', async () => {
    const owner = await signUp();
    const created = await create(owner, { name: 'Mine', redirect_uris: 'https://mine.example/cb' });
    const pk = (await sql<{ id: string }>`SELECT id FROM oauth_clients WHERE client_id = ${idOf(created.body)!}`.execute(ctx.database.db)).rows[0]!.id;
    const intruder = await signUp();
    expect((await post(`/dashboard/settings/integrations/applications/${pk}/rotate`, intruder.cookie, { _csrf: intruder.csrf })).statusCode).toBe(404);
    expect((await post(`/dashboard/settings/integrations/applications/${pk}/delete`, intruder.cookie, { _csrf: intruder.csrf })).statusCode).toBe(404);
    expect((await post(`/dashboard/settings/integrations/applications/${pk}/delete`, owner.cookie, { _csrf: intruder.csrf })).statusCode).toBe(403);
    expect((await post(`/dashboard/settings/integrations/applications/not-a-uuid/delete`, owner.cookie, { _csrf: owner.csrf })).statusCode).toBe(404);
    expect((await visit('/dashboard/settings/integrations', intruder.cookie)).res.body).not.toContain('Mine');
    expect((await visit('/dashboard/settings/integrations', owner.cookie)).res.body).toContain('Mine');
  });
});

describe('personal access tokens', () => {
  it('creates a token with chosen scopes, shows it once in a dialog, lists its last use and revokes it', async () => {
    const account = await signUp();
    const res = await post('/dashboard/settings/integrations/tokens', account.cookie, { _csrf: account.csrf, name: 'Zapier', scopes: 'carriers.view' });
    expect(res.statusCode).toBe(201);
    expect(res.body).toContain('<dialog open');
    const token = /data-testid="new-token">([^<]+)</.exec(res.body)![1]!;
    expect(token).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    const call = () => ctx.app.inject({ method: 'GET', url: '/v1/carriers?limit=1', headers: { authorization: `Bearer ${token}` } });
    expect((await call()).statusCode).toBe(200);

    const list = await visit('/dashboard/settings/integrations', account.cookie);
    expect(list.res.body).toContain('Zapier');
    expect(list.res.body).not.toContain(token);
    expect(list.res.body).toMatch(/<td data-label="Last used">\d{4}-\d{2}-\d{2} \d{2}:\d{2} UTC<\/td>/);

    const id = (await sql<{ id: string }>`SELECT id FROM access_tokens WHERE token_hash = ${hashToken(token)}`.execute(ctx.database.db)).rows[0]!.id;
    const intruder = await signUp();
    expect((await post(`/dashboard/settings/integrations/tokens/${id}/revoke`, intruder.cookie, { _csrf: intruder.csrf })).statusCode).toBe(404);
    expect((await call()).statusCode).toBe(200);
    const revoked = await post(`/dashboard/settings/integrations/tokens/${id}/revoke`, account.cookie, { _csrf: account.csrf });
    expect(revoked.statusCode).toBe(303);
    expect((await call()).statusCode).toBe(401);
  });

  it('limits the token to the chosen scopes, and needs one', async () => {
    const account = await signUp();
    const res = await post('/dashboard/settings/integrations/tokens', account.cookie, { _csrf: account.csrf, name: 'Narrow', scopes: 'contacts.view' });
    const token = /data-testid="new-token">([^<]+)</.exec(res.body)![1]!;
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(403);
    const none = await post('/dashboard/settings/integrations/tokens', account.cookie, { _csrf: account.csrf, name: 'None' });
    expect(none.statusCode).toBe(422);
    expect(none.body).toContain('Choose at least one scope.');
    const unknown = await post('/dashboard/settings/integrations/tokens', account.cookie, { _csrf: account.csrf, name: 'Bad', scopes: 'root' });
    expect(unknown.statusCode).toBe(422);
    const noName = await post('/dashboard/settings/integrations/tokens', account.cookie, { _csrf: account.csrf, name: ' ', scopes: 'carriers.view' });
    expect(noName.statusCode).toBe(422);
    const noCsrf = await post('/dashboard/settings/integrations/tokens', account.cookie, { name: 'X', scopes: 'carriers.view' });
    expect(noCsrf.statusCode).toBe(403);
  });
});

describe('connected applications', () => {
  it('lists the applications holding tokens for the account and revokes them', async () => {
    const developer = await createAccountWithToken(ctx.app);
    const { client, clientSecret } = await ctx.app.services.oauth.createClient({ accountId: developer.account.id, name: 'Connected CRM', redirectUris: ['https://crm.example/cb'] });
    const account = await signUp();
    const session = await ctx.app.services.sessions.createForUser(
      (await sql<{ id: string }>`SELECT id FROM users WHERE email = ${account.email}`.execute(ctx.database.db)).rows[0]!.id,
      (await sql<{ account_id: string }>`SELECT account_id FROM users WHERE email = ${account.email}`.execute(ctx.database.db)).rows[0]!.account_id,
    );
    const user = { cookie: `shortcode_session=${session.value}`, csrf: session.csrfToken };
    const code = await getCode(ctx.app, user, { client_id: client.client_id, redirect_uri: 'https://crm.example/cb', scope: 'contacts.view carriers.view' });
    const token = (
      await ctx.app.inject({
        method: 'POST',
        url: '/oauth/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(client.client_id, clientSecret!) },
        payload: form({ grant_type: 'authorization_code', code, redirect_uri: 'https://crm.example/cb' }),
      })
    ).json().access_token as string;

    const page = await visit('/dashboard/settings/connected-apps', account.cookie);
    expect(page.res.statusCode).toBe(200);
    expect(page.res.body).toContain('Connected CRM');
    expect(page.res.body).toContain('See your contacts');
    // The developer's own connected page does not show it (it is not connected to their account).
    const intruder = await signUp();
    expect((await visit('/dashboard/settings/connected-apps', intruder.cookie)).res.body).not.toContain('Connected CRM');
    expect((await post(`/dashboard/settings/connected-apps/${client.id}/revoke`, intruder.cookie, { _csrf: intruder.csrf })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(200);

    const revoked = await post(`/dashboard/settings/connected-apps/${client.id}/revoke`, account.cookie, { _csrf: account.csrf });
    expect(revoked.statusCode).toBe(303);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/carriers', headers: { authorization: `Bearer ${token}` } })).statusCode).toBe(401);
    expect((await visit('/dashboard/settings/connected-apps', account.cookie)).res.body).toContain('No applications are connected.');
  });
});

describe('settings navigation and pages', () => {
  it('lists the tabs with the current one marked, and redirects signed-out visitors', async () => {
    const account = await signUp();
    const page = await visit('/dashboard/settings/connected-apps', account.cookie);
    expect(page.res.body).toContain('<a href="/dashboard/settings/connected-apps" aria-current="page">Connected applications</a>');
    expect(page.res.body).toContain('<a href="/dashboard/settings/integrations">Integrations</a>');
    for (const url of ['/dashboard/settings/integrations', '/dashboard/settings/connected-apps', '/dashboard/settings/integrations/tokens/new', '/dashboard/settings/integrations/applications/new']) {
      const res = await ctx.app.inject({ method: 'GET', url });
      expect(res.statusCode).toBe(302);
      expect(res.headers.location).toMatch(/^\/dashboard\/sign-in\?next=/);
    }
  });

  it('sends /dashboard to sign in, or to Settings once signed in', async () => {
    expect((await ctx.app.inject({ method: 'GET', url: '/dashboard' })).headers.location).toBe('/dashboard/sign-in');
    const account = await signUp();
    const res = await ctx.app.inject({ method: 'GET', url: '/dashboard', headers: { cookie: account.cookie } });
    expect(res.statusCode).toBe(302);
    expect(res.headers.location).toBe('/dashboard/settings/integrations');
  });

  it('serves the stylesheet and an HTML 404', async () => {
    const css = await ctx.app.inject({ method: 'GET', url: '/dashboard/assets/app.css' });
    expect(css.statusCode).toBe(200);
    expect(css.headers['content-type']).toMatch(/text\/css/);
    const missing = await ctx.app.inject({ method: 'GET', url: '/dashboard/nowhere' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/text\/html/);
  });
});

describe('the form parser stays out of the API', () => {
  it('answers 415 to a form sent to a route outside the browser and OAuth contexts', async () => {
    const config = testConfig();
    const app = await buildApp({ config, database: ctx.database, logger: false });
    app.post('/probe', { config: { public: true } }, async (request) => ({ got: request.body }));
    await app.ready();
    try {
      const res = await app.inject({ method: 'POST', url: '/probe', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: 'a=1' });
      expect(res.statusCode).toBe(415);
      const json = await app.inject({ method: 'POST', url: '/probe', headers: { 'content-type': 'application/json' }, payload: '{"a":1}' });
      expect(json.json()).toEqual({ got: { a: 1 } });
    } finally {
      await app.close();
    }
  });
});
