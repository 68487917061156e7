import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { createAccountWithToken } from './helpers.js';

export const pkcePair = () => {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
};

/** A signed-in dashboard session made directly through the service (the browser test covers the forms). */
export async function signedInUser(app: FastifyInstance) {
  const owner = await createAccountWithToken(app);
  const session = await app.services.sessions.createForUser(owner.user.id, owner.account.id);
  return { ...owner, cookie: `shortcode_session=${session.value}`, csrf: session.csrfToken };
}

export async function registerClient(app: FastifyInstance, redirectUris: string[], options: { isPublic?: boolean; accountId?: string } = {}) {
  const accountId = options.accountId ?? (await createAccountWithToken(app)).account.id;
  const { client, clientSecret } = await app.services.oauth.createClient({ accountId, name: 'Test App', redirectUris, isPublic: options.isPublic ?? false });
  return { id: client.id, clientId: client.client_id, clientSecret };
}

export const form = (values: Record<string, string | undefined>) => {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(values)) if (v !== undefined) params.append(k, v);
  return params.toString();
};

/** Consents as the user and returns the redirect the browser would follow. */
export async function consent(
  app: FastifyInstance,
  user: { cookie: string; csrf: string },
  params: Record<string, string | undefined>,
  decision: 'allow' | 'deny' = 'allow',
) {
  const res = await app.inject({
    method: 'POST',
    url: '/oauth/authorize',
    headers: { cookie: user.cookie, 'content-type': 'application/x-www-form-urlencoded' },
    payload: form({ ...params, _csrf: user.csrf, decision }),
  });
  return res;
}

/** Runs the authorization step and returns the code from the redirect. */
export async function getCode(app: FastifyInstance, user: { cookie: string; csrf: string }, params: Record<string, string | undefined>) {
  const res = await consent(app, user, { response_type: 'code', scope: 'carriers.view', ...params });
  if (res.statusCode !== 303) throw new Error(`consent answered ${res.statusCode}: ${res.body}`);
  const location = new URL(res.headers.location as string);
  const code = location.searchParams.get('code');
  if (!code) throw new Error(`no code in ${location.href}`);
  return code;
}

export async function tokenRequest(app: FastifyInstance, values: Record<string, string | undefined>, headers: Record<string, string> = {}) {
  return app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    payload: form(values),
  });
}

export const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;
