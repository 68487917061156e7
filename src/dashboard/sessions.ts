import { createHash } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';
import { createAuthFailures } from '../modules/auth-failures/auth-failures.js';
import { newId } from '../lib/ids.js';
import { constantTimeEqual, hashToken, randomToken } from '../lib/secrets.js';

/** A signed-in session ends after 12 hours without activity, and 7 days after sign-in at most. */
export const SESSION_IDLE_MS = 12 * 60 * 60 * 1000;
export const SESSION_ABSOLUTE_MS = 7 * 24 * 60 * 60 * 1000;
/** An anonymous session (it only carries the CSRF token of the sign-in and sign-up forms). */
export const ANONYMOUS_SESSION_MS = 60 * 60 * 1000;
/** Sign-in: at most 5 failures per email and 20 per client address in 15 minutes. */
export const LOGIN_WINDOW_MS = 15 * 60 * 1000;
export const LOGIN_MAX_FAILURES_PER_EMAIL = 5;
export const LOGIN_MAX_FAILURES_PER_IP = 20;

export interface Session {
  id: string;
  /** The cookie value (kept in memory for this request only; the database has its hash). */
  value: string;
  userId: string | null;
  accountId: string | null;
  csrfToken: string;
}

/**
 * The synchronizer token for a session: derived from the session's secret cookie value, which
 * only the browser holding the (HttpOnly) cookie and this request know. Nothing extra is stored.
 */
export const csrfTokenFor = (sessionValue: string): string => createHash('sha256').update(`csrf:${sessionValue}`, 'utf8').digest('base64url');

export type SessionsService = ReturnType<typeof createSessionsService>;

/**
 * Dashboard sessions and the sign-in rate limit, both in the database so that every process
 * sees the same sessions and counts the same failures.
 */
export function createSessionsService(deps: { db: Kysely<DB>; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());
  const failures = createAuthFailures({ db, now });

  async function create(user: { userId: string; accountId: string } | null): Promise<Session> {
    const value = randomToken(32);
    const at = now();
    const id = newId();
    await db
      .insertInto('dashboard_sessions')
      .values({
        id,
        session_hash: hashToken(value),
        user_id: user?.userId ?? null,
        account_id: user?.accountId ?? null,
        created_at: at,
        last_seen_at: at,
        expires_at: new Date(at.getTime() + (user ? SESSION_IDLE_MS : ANONYMOUS_SESSION_MS)),
      })
      .execute();
    return { id, value, userId: user?.userId ?? null, accountId: user?.accountId ?? null, csrfToken: csrfTokenFor(value) };
  }

  return {
    /** An anonymous session; expired sessions are cleared out on the way (an indexed delete). */
    async createAnonymous(): Promise<Session> {
      await db.deleteFrom('dashboard_sessions').where('expires_at', '<', now()).execute();
      return create(null);
    },

    /** A new session for a user who just signed in (a fresh id: no session fixation). */
    async createForUser(userId: string, accountId: string): Promise<Session> {
      await db.deleteFrom('dashboard_sessions').where('expires_at', '<', now()).execute();
      return create({ userId, accountId });
    },

    /** The live session behind a cookie value, sliding its idle expiry (at most once a minute). */
    async find(value: string): Promise<Session | null> {
      if (!value || value.length > 100) return null;
      const row = await db.selectFrom('dashboard_sessions').selectAll().where('session_hash', '=', hashToken(value)).executeTakeFirst();
      if (!row) return null;
      const at = now();
      if (row.expires_at <= at) {
        await db.deleteFrom('dashboard_sessions').where('id', '=', row.id).execute();
        return null;
      }
      if (row.user_id && at.getTime() - row.last_seen_at.getTime() > 60_000) {
        const idle = at.getTime() + SESSION_IDLE_MS;
        const absolute = row.created_at.getTime() + SESSION_ABSOLUTE_MS;
        await db
          .updateTable('dashboard_sessions')
          .set({ last_seen_at: at, expires_at: new Date(Math.min(idle, absolute)) })
          .where('id', '=', row.id)
          .execute();
      }
      return { id: row.id, value, userId: row.user_id, accountId: row.account_id, csrfToken: csrfTokenFor(value) };
    },

    async destroy(id: string): Promise<void> {
      await db.deleteFrom('dashboard_sessions').where('id', '=', id).execute();
    },

    /** Signs a user out everywhere except (optionally) one session: after a password change. */
    async destroyOthers(userId: string, keepId: string): Promise<void> {
      await db.deleteFrom('dashboard_sessions').where('user_id', '=', userId).where('id', '!=', keepId).execute();
    },

    verifyCsrf(session: Session | null, presented: unknown): boolean {
      if (!session || typeof presented !== 'string') return false;
      return constantTimeEqual(presented, session.csrfToken);
    },

    /** True when this email or this client address has failed to sign in too often lately. */
    signInBlocked: (email: string, ip: string) =>
      failures.blocked('sign-in', email, ip, { windowMs: LOGIN_WINDOW_MS, perSubject: LOGIN_MAX_FAILURES_PER_EMAIL, perIp: LOGIN_MAX_FAILURES_PER_IP }),
    recordSignInFailure: (email: string, ip: string) => failures.record('sign-in', email, ip),
    /** A successful sign-in clears that email's failures (not the address's). */
    clearSignInFailures: (email: string) => failures.clear('sign-in', email),
  };
}
