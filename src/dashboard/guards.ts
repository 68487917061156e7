import type { FastifyReply, FastifyRequest } from 'fastify';
import { html, layout } from './html.js';
import type { Session } from './sessions.js';
import { formField, sendHtml } from './web.js';

export interface SignedIn {
  session: Session & { userId: string; accountId: string };
  user: { id: string; email: string; account_id: string };
}

/** Only same-origin paths of the dashboard or the authorize endpoint may be returned to after sign-in. */
export function safeNext(next: unknown): string | undefined {
  if (typeof next !== 'string' || next.length > 4000) return undefined;
  if (/[\\\s]/.test(next) || [...next].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f)) return undefined;
  if (next === '/dashboard' || next.startsWith('/dashboard/') || next.startsWith('/oauth/authorize?')) return next;
  return undefined;
}

/**
 * The signed-in user, or null after answering: GET requests are sent to sign in (and brought
 * back afterwards); other methods get a 401 page.
 */
export async function requireUser(request: FastifyRequest, reply: FastifyReply): Promise<SignedIn | null> {
  const session = request.session;
  if (session?.userId && session.accountId) {
    const user = await request.server.services.accounts.getUser(session.userId).catch(() => null);
    if (user) return { session: session as SignedIn['session'], user };
  }
  if (request.method === 'GET') {
    const next = safeNext(request.url);
    await reply.redirect(next ? `/dashboard/sign-in?next=${encodeURIComponent(next)}` : '/dashboard/sign-in', 302);
    return null;
  }
  await sendHtml(reply, 401, layout({ title: 'Signed out', body: html`<div class="card narrow"><h1>You are signed out</h1><p>Your session has ended. <a href="/dashboard/sign-in">Sign in</a> and try again.</p></div>` }));
  return null;
}

/** Every form carries the session's synchronizer token; a missing or wrong one is a 403. */
export async function requireCsrf(request: FastifyRequest, reply: FastifyReply): Promise<boolean> {
  if (request.server.services.sessions.verifyCsrf(request.session, formField(request.body, '_csrf'))) return true;
  await sendHtml(
    reply,
    403,
    layout({
      title: 'Form expired',
      body: html`<div class="card narrow"><h1>This form has expired</h1><p>For your security the form could not be accepted (its security token is missing or out of date). Go back, reload the page and try again.</p></div>`,
    }),
  );
  return false;
}
