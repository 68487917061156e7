import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { requireCsrf, requireUser } from '../../dashboard/guards.js';
import { html, layout } from '../../dashboard/html.js';
import { sendHtml } from '../../dashboard/web.js';
import { AppError } from '../../lib/errors.js';
import { SCOPE_DESCRIPTIONS, SCOPES } from '../tokens/scopes.js';
import { OAuthError, type AuthorizationRequest, type OAuthClient } from './oauth.service.js';

const hide = { hide: true } as const;

/** The issuer (RFC 8414 / RFC 9207): PUBLIC_URL, or the origin the request was made to. */
export function issuerFor(request: FastifyRequest): string {
  return request.server.config.publicUrl ?? `${request.protocol}://${request.host}`;
}

/** Appends parameters to a redirect URI, keeping its own query (RFC 6749 §3.1.2). */
function withParams(redirectUri: string, params: Record<string, string | undefined>): string {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined) query.append(key, value);
  return `${redirectUri}${redirectUri.includes('?') ? '&' : '?'}${query.toString()}`;
}

function errorPage(reply: FastifyReply, message: string) {
  return sendHtml(
    reply,
    400,
    layout({
      title: 'Authorization error',
      body: html`<div class="card narrow" role="alert"><h1>This authorization request is invalid</h1>
        <p>${message}</p>
        <p>You were not sent back to the application, because Shortcode cannot verify where it asked to be sent. Contact the application's developer.</p></div>`,
    }),
  );
}

const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'scope', 'state', 'code_challenge', 'code_challenge_method'] as const;

function consentPage(request: AuthorizationRequest, params: Record<string, unknown>, user: { email: string }, csrfToken: string) {
  const client = request.client;
  const hidden = AUTHORIZE_PARAMS.filter((name) => typeof params[name] === 'string').map(
    (name) => html`<input type="hidden" name="${name}" value="${params[name] as string}">`,
  );
  let host = request.redirectUri;
  try {
    host = new URL(request.redirectUri).host || request.redirectUri;
  } catch {
    // shown as registered
  }
  return layout({
    title: `Authorize ${client.name}`,
    user,
    csrfToken,
    body: html`<div class="card narrow">
      <h1><strong>${client.name}</strong> wants to access your Shortcode account</h1>
      <p>Signed in as <strong>${user.email}</strong>. If you allow it, ${client.name} will be able to:</p>
      <ul class="scope-list" aria-label="Requested permissions">${request.scopes.map((s) => html`<li>${SCOPE_DESCRIPTIONS[s]} <span class="muted">(<code>${s}</code>)</span></li>`)}</ul>
      <p class="hint">You will be sent back to <code>${host}</code>. You can revoke access at any time in Settings, Connected applications.</p>
      <form method="post" action="/oauth/authorize">
        <input type="hidden" name="_csrf" value="${csrfToken}">
        ${hidden}
        <div class="actions">
          <button type="submit" name="decision" value="allow">Allow</button>
          <button type="submit" name="decision" value="deny" class="secondary">Deny</button>
        </div>
      </form>
    </div>`,
  });
}

/**
 * GET /oauth/authorize (RFC 6749 §4.1.1) and the consent form it shows (POST /oauth/authorize).
 * Registered in the browser context: it needs the dashboard session and CSRF protection.
 */
export async function authorizeRoutes(app: FastifyInstance): Promise<void> {
  const { oauth } = app.services;

  app.get('/oauth/authorize', { schema: hide }, async (request, reply) => {
    const params = (request.query ?? {}) as Record<string, unknown>;
    const check = await oauth.checkAuthorizationRequest(params);
    if (check.kind === 'page') return errorPage(reply, check.message);
    if (check.kind === 'redirect') {
      return reply.redirect(
        withParams(check.redirectUri, { error: check.error, error_description: check.description, state: check.state, iss: issuerFor(request) }),
        302,
      );
    }
    if (!request.session?.userId) {
      return reply.redirect(`/dashboard/sign-in?next=${encodeURIComponent(request.url)}`, 302);
    }
    const me = await requireUser(request, reply);
    if (!me) return reply;
    // form-action is left open on this page: the form's answer redirects to the application.
    return sendHtml(reply, 200, consentPage(check.request, params, me.user, me.session.csrfToken), { formAction: false });
  });

  app.post('/oauth/authorize', { schema: hide }, async (request, reply) => {
    const me = await requireUser(request, reply);
    if (!me) return reply;
    if (!(await requireCsrf(request, reply))) return reply;
    const body = (request.body ?? {}) as Record<string, unknown>;
    const params: Record<string, unknown> = {};
    for (const name of AUTHORIZE_PARAMS) if (body[name] !== undefined) params[name] = body[name];
    const check = await oauth.checkAuthorizationRequest(params);
    if (check.kind === 'page') return errorPage(reply, check.message);
    const iss = issuerFor(request);
    // 303 after a POST, so the browser does not resend the form to the client (RFC 9700 §4.12).
    if (check.kind === 'redirect') {
      return reply.redirect(withParams(check.redirectUri, { error: check.error, error_description: check.description, state: check.state, iss }), 303);
    }
    const { request: authz } = check;
    if (body.decision !== 'allow') {
      return reply.redirect(withParams(authz.redirectUri, { error: 'access_denied', error_description: 'The user denied the request.', state: authz.state, iss }), 303);
    }
    const code = await oauth.issueCode(authz, { accountId: me.session.accountId, userId: me.user.id });
    return reply.redirect(withParams(authz.redirectUri, { code, state: authz.state, iss }), 303);
  });
}

type Body = Record<string, string>;

/** The request's parameters: an object of single string values (RFC 6749 §3.2: none repeated). */
function params(request: FastifyRequest): Body {
  const body = request.body;
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw new OAuthError('invalid_request', 'The body must be form parameters or a JSON object.');
  const out: Body = {};
  for (const [key, value] of Object.entries(body as Record<string, unknown>)) {
    if (value === '') continue; // sent without a value: treated as omitted (RFC 6749 §3.1)
    if (typeof value === 'string') out[key] = value;
    else if (Array.isArray(value)) throw new OAuthError('invalid_request', `The ${key} parameter is repeated.`);
    else if (typeof value === 'number' || typeof value === 'boolean') out[key] = String(value);
    else if (value !== null) throw new OAuthError('invalid_request', `The ${key} parameter must be a string.`);
  }
  return out;
}

/** application/x-www-form-urlencoded decoding of a Basic credential part (RFC 6749 §2.3.1). */
function formDecode(value: string): string {
  try {
    return decodeURIComponent(value.replace(/\+/g, ' '));
  } catch {
    throw new OAuthError('invalid_client', 'The Basic credentials are not form-urlencoded.', 401, { 'www-authenticate': 'Basic realm="shortcode", charset="UTF-8"' });
  }
}

/**
 * Client authentication: HTTP Basic (client_secret_basic), body parameters (client_secret_post)
 * or, for public clients, client_id alone (none). Using two methods at once is refused (§2.3).
 */
async function authenticateClient(request: FastifyRequest, body: Body): Promise<OAuthClient> {
  const header = request.headers.authorization;
  if (header !== undefined && /^basic\s/i.test(header)) {
    const decoded = Buffer.from(header.replace(/^basic\s+/i, '').trim(), 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) {
      throw new OAuthError('invalid_client', 'The Basic credentials are malformed.', 401, { 'www-authenticate': 'Basic realm="shortcode", charset="UTF-8"' });
    }
    if (body.client_secret !== undefined) throw new OAuthError('invalid_request', 'Use one client authentication method: HTTP Basic or client_secret in the body, not both.');
    const id = formDecode(decoded.slice(0, colon));
    const secret = formDecode(decoded.slice(colon + 1));
    if (body.client_id !== undefined && body.client_id !== id) throw new OAuthError('invalid_request', 'client_id in the body differs from the Basic credentials.');
    return request.server.services.oauth.authenticateClient(id, secret, true, request.ip);
  }
  if (header !== undefined) throw new OAuthError('invalid_client', 'Unsupported Authorization scheme: use HTTP Basic or client_secret_post.', 401, { 'www-authenticate': 'Basic realm="shortcode", charset="UTF-8"' });
  if (!body.client_id) throw new OAuthError('invalid_client', 'Client authentication is required (HTTP Basic, or client_id and client_secret).', 401);
  return request.server.services.oauth.authenticateClient(body.client_id, body.client_secret, false, request.ip);
}

function noStore(reply: FastifyReply): FastifyReply {
  return reply.header('cache-control', 'no-store').header('pragma', 'no-cache');
}

/**
 * POST /oauth/token (RFC 6749 §4.1.3), POST /oauth/revoke (RFC 7009) and the server metadata
 * (RFC 8414). They take forms (and JSON, which existing clients send) and answer RFC 6749 errors.
 */
export async function oauthEndpoints(app: FastifyInstance): Promise<void> {
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  const { oauth } = app.services;

  app.setErrorHandler((error: Error & { statusCode?: number; code?: string }, request, reply) => {
    noStore(reply).type('application/json; charset=utf-8');
    if (error instanceof OAuthError) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return reply.code(error.status).send({ error: error.error, error_description: error.description });
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return reply.code(415).send({ error: 'invalid_request', error_description: 'Send the parameters as application/x-www-form-urlencoded (or JSON).' });
    }
    const status = error instanceof AppError ? error.status : (error.statusCode ?? 500);
    if (status >= 500) {
      request.log.error({ err: error }, 'oauth endpoint failed');
      return reply.code(500).send({ error: 'server_error', error_description: 'An error occurred on our server.' });
    }
    return reply.code(400).send({ error: 'invalid_request', error_description: 'The request could not be parsed.' });
  });

  app.post('/oauth/token', { schema: hide }, async (request, reply) => {
    const body = params(request);
    const client = await authenticateClient(request, body);
    if (!body.grant_type) throw new OAuthError('invalid_request', 'grant_type is required.');
    if (body.grant_type !== 'authorization_code') throw new OAuthError('unsupported_grant_type', 'Only grant_type=authorization_code is supported.');
    if (!body.code) throw new OAuthError('invalid_request', 'code is required.');
    if (!body.redirect_uri) throw new OAuthError('invalid_request', 'redirect_uri is required.');
    const result = await oauth.exchangeCode(client, { code: body.code, redirectUri: body.redirect_uri, codeVerifier: body.code_verifier, scope: body.scope });
    return noStore(reply).code(200).type('application/json; charset=utf-8').send(result);
  });

  app.post('/oauth/revoke', { schema: hide }, async (request, reply) => {
    const body = params(request);
    const client = await authenticateClient(request, body);
    if (!body.token) throw new OAuthError('invalid_request', 'token is required.');
    // token_type_hint is optional and only a hint (§2.1): access tokens are the only kind here.
    await oauth.revokeToken(client, body.token);
    return noStore(reply).code(200).send();
  });

  app.get('/.well-known/oauth-authorization-server', { schema: hide }, async (request, reply) => {
    const issuer = issuerFor(request);
    return reply.header('cache-control', 'public, max-age=3600').send({
      issuer,
      authorization_endpoint: `${issuer}/oauth/authorize`,
      token_endpoint: `${issuer}/oauth/token`,
      revocation_endpoint: `${issuer}/oauth/revoke`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      token_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      revocation_endpoint_auth_methods_supported: ['client_secret_basic', 'client_secret_post', 'none'],
      code_challenge_methods_supported: ['S256'],
      scopes_supported: [...SCOPES],
      authorization_response_iss_parameter_supported: true,
      service_documentation: `${issuer}/v1/docs`,
    });
  });
}
