import cookie from '@fastify/cookie';
import formbody from '@fastify/formbody';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SESSION_ABSOLUTE_MS, ANONYMOUS_SESSION_MS, type Session } from './sessions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** The dashboard session behind the request's cookie, if any (browser contexts only). */
    session: Session | null;
  }
}

/**
 * Cookies are Secure whenever the product is reached over https (PUBLIC_URL is https, or the
 * request came over TLS, directly or through a trusted proxy). Plain http is only meant for a
 * developer's machine (http://localhost), where a Secure cookie would never be sent back.
 * The __Host- prefix (Secure, Path=/, no Domain) pins the cookie to this exact origin.
 */
export function cookieIsSecure(request: FastifyRequest): boolean {
  const publicUrl = request.server.config.publicUrl;
  if (publicUrl) return publicUrl.startsWith('https:');
  return request.protocol === 'https';
}

export const sessionCookieName = (secure: boolean): string => (secure ? '__Host-shortcode_session' : 'shortcode_session');

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, session: Session): void {
  const secure = cookieIsSecure(request);
  reply.setCookie(sessionCookieName(secure), session.value, {
    path: '/',
    httpOnly: true,
    sameSite: 'lax',
    secure,
    maxAge: Math.floor((session.userId ? SESSION_ABSOLUTE_MS : ANONYMOUS_SESSION_MS) / 1000),
  });
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  const secure = cookieIsSecure(request);
  reply.clearCookie(sessionCookieName(secure), { path: '/', httpOnly: true, sameSite: 'lax', secure });
}

/** The request's session, creating an anonymous one (for a form's CSRF token) when there is none. */
export async function ensureSession(request: FastifyRequest, reply: FastifyReply): Promise<Session> {
  if (request.session) return request.session;
  const session = await request.server.services.sessions.createAnonymous();
  setSessionCookie(request, reply, session);
  request.session = session;
  return session;
}

/** Headers for every HTML page: no framing (clickjacking on consent), no caching, no referrer. */
export function htmlHeaders(reply: FastifyReply, options: { formAction?: boolean } = {}): FastifyReply {
  const formAction = options.formAction === false ? '' : " form-action 'self';";
  return reply
    .header('content-type', 'text/html; charset=utf-8')
    .header('cache-control', 'no-store')
    .header('x-frame-options', 'DENY')
    .header('x-content-type-options', 'nosniff')
    .header('referrer-policy', 'no-referrer')
    .header('content-security-policy', `default-src 'none'; style-src 'self'; img-src 'self'; base-uri 'none'; frame-ancestors 'none';${formAction}`);
}

export function sendHtml(reply: FastifyReply, status: number, page: string, options: { formAction?: boolean } = {}) {
  return htmlHeaders(reply, options).code(status).send(page);
}

/**
 * Registers what browser-facing routes need, in the calling (encapsulated) context only: cookies,
 * the form parser (the /v1 API keeps answering 415 to forms) and the session lookup.
 */
export async function registerBrowserContext(app: FastifyInstance): Promise<void> {
  await app.register(cookie);
  await app.register(formbody, { bodyLimit: 64 * 1024 });
  app.decorateRequest('session', null);
  app.addHook('onRequest', async (request) => {
    const value = request.cookies[sessionCookieName(cookieIsSecure(request))];
    request.session = value ? await request.server.services.sessions.find(value) : null;
  });
}

/** A form field given once as text ('' when missing or repeated). */
export function formField(body: unknown, name: string): string {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  return typeof value === 'string' ? value : '';
}

/** A field that may repeat (checkboxes). */
export function formList(body: unknown, name: string): string[] {
  const value = (body as Record<string, unknown> | null | undefined)?.[name];
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}
