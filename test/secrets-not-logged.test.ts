import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../src/app.js';
import { createTestDatabase, testConfig, type TestDatabase } from './helpers.js';
import { basic, form, pkcePair } from './oauth-helpers.js';

/**
 * Passwords, client secrets, codes, session ids, CSRF tokens and access tokens never reach the
 * log, even at trace level, through a whole dashboard + OAuth session.
 */
const lines: string[] = [];
let database: TestDatabase;
let app: FastifyInstance;

beforeAll(async () => {
  database = await createTestDatabase();
  app = await buildApp({ config: testConfig({ LOG_LEVEL: 'trace' }), database, logStream: { write: (line: string) => void lines.push(line) } });
  await app.ready();
});
afterAll(async () => {
  await app.close();
  await database.dispose();
});

type Res = Awaited<ReturnType<FastifyInstance['inject']>>;
const csrfOf = (res: Res) => /name="_csrf" value="([^"]+)"/.exec(res.body)![1]!;
const cookieOf = (res: Res) => res.cookies.find((c) => c.name === 'shortcode_session')!.value;
const post = (url: string, cookie: string, values: Record<string, string>) =>
  app.inject({ method: 'POST', url, headers: { cookie: `shortcode_session=${cookie}`, 'content-type': 'application/x-www-form-urlencoded' }, payload: form(values) });

describe('logging', () => {
  it('keeps every secret out of the log', async () => {
    const secrets: string[] = [];
    const password = 'correct horse battery staple 42';
    secrets.push(password);

    const signUpPage = await app.inject({ method: 'GET', url: '/dashboard/sign-up' });
    const anon = cookieOf(signUpPage);
    secrets.push(anon, csrfOf(signUpPage));
    const signedUp = await post('/dashboard/sign-up', anon, { _csrf: csrfOf(signUpPage), name: 'Log Co', email: 'log@example.test', password });
    const session = cookieOf(signedUp);
    const settings = await app.inject({ method: 'GET', url: '/dashboard/settings/integrations', headers: { cookie: `shortcode_session=${session}` } });
    const csrf = csrfOf(settings);
    secrets.push(session, csrf);

    const failed = await post('/dashboard/sign-in', anon, { _csrf: csrfOf(signUpPage), email: 'log@example.test', password: 'wrong password 99' });
    expect(failed.statusCode).toBe(403); // the anonymous session was replaced at sign-up
    secrets.push('wrong password 99');

    const created = await post('/dashboard/settings/integrations/applications', session, { _csrf: csrf, name: 'Logger', redirect_uris: 'https://log.example/cb' });
    const clientId = /data-testid="client-id">([^<]+)</.exec(created.body)![1]!;
    const clientSecret = /data-testid="client-secret">([^<]+)</.exec(created.body)![1]!;
    secrets.push(clientSecret, basic(clientId, clientSecret).slice(6));

    const pat = await post('/dashboard/settings/integrations/tokens', session, { _csrf: csrf, name: 'Log token', scopes: 'carriers.view' });
    const patValue = /data-testid="new-token">([^<]+)</.exec(pat.body)![1]!;
    secrets.push(patValue);

    const { verifier, challenge } = pkcePair();
    secrets.push(verifier);
    const consent = await post('/oauth/authorize', session, {
      _csrf: csrf,
      response_type: 'code',
      client_id: clientId,
      redirect_uri: 'https://log.example/cb',
      scope: 'carriers.view',
      code_challenge: challenge,
      code_challenge_method: 'S256',
      decision: 'allow',
    });
    const code = new URL(consent.headers.location as string).searchParams.get('code')!;
    secrets.push(code);
    const token = await app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, clientSecret) },
      payload: form({ grant_type: 'authorization_code', code, redirect_uri: 'https://log.example/cb', code_verifier: verifier }),
    });
    const accessToken = token.json().access_token as string;
    secrets.push(accessToken);
    for (const bearer of [accessToken, patValue]) {
      expect((await app.inject({ method: 'GET', url: '/v1/carriers', headers: { authorization: `Bearer ${bearer}` } })).statusCode).toBe(200);
    }
    // A replay with a JSON body (client_secret_post): refused, and logged without its secrets.
    await app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/json' }, payload: JSON.stringify({ grant_type: 'authorization_code', code, redirect_uri: 'https://log.example/cb', client_id: clientId, client_secret: clientSecret }) });
    await app.inject({ method: 'POST', url: '/oauth/revoke', headers: { 'content-type': 'application/x-www-form-urlencoded', authorization: basic(clientId, clientSecret) }, payload: form({ token: accessToken }) });

    const log = lines.join('');
    expect(log).toContain('"msg":"request"'); // the one access-log line per request
    expect(log).toContain('/oauth/token');
    for (const secret of secrets) expect(log.includes(secret), `a secret (${secret.slice(0, 4)}…) was logged`).toBe(false);
  });
});
