import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newId } from '../../lib/ids.js';
import { hashToken } from '../../lib/secrets.js';

export type AuthFailureKind = 'sign-in' | 'client';

export interface FailureLimits {
  windowMs: number;
  /** Failures per subject (email, client) within the window; omit to count by address only. */
  perSubject?: number;
  /** Failures per client address within the window. */
  perIp: number;
}

export type AuthFailures = ReturnType<typeof createAuthFailures>;

const subjectHash = (kind: AuthFailureKind, subject: string) => hashToken(`${kind}:${subject.trim().toLowerCase()}`);

/**
 * Recent failed authentications, counted in the database so that every process enforces the
 * same brute-force limits without Redis. Rows older than a day are deleted as new ones arrive.
 */
export function createAuthFailures(deps: { db: Kysely<DB>; now?: () => Date }) {
  const { db } = deps;
  const now = deps.now ?? (() => new Date());

  async function count(kind: AuthFailureKind, column: 'subject_hash' | 'ip', value: string, since: Date): Promise<number> {
    const row = await db
      .selectFrom('auth_failures')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', kind)
      .where(column, '=', value)
      .where('created_at', '>', since)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  return {
    /** True when this subject or this address has failed too often within the window. */
    async blocked(kind: AuthFailureKind, subject: string, ip: string, limits: FailureLimits): Promise<boolean> {
      const since = new Date(now().getTime() - limits.windowMs);
      if ((await count(kind, 'ip', ip, since)) >= limits.perIp) return true;
      return limits.perSubject !== undefined && (await count(kind, 'subject_hash', subjectHash(kind, subject), since)) >= limits.perSubject;
    },

    async record(kind: AuthFailureKind, subject: string, ip: string): Promise<void> {
      const at = now();
      await db.insertInto('auth_failures').values({ id: newId(), kind, subject_hash: subjectHash(kind, subject), ip, created_at: at }).execute();
      await db
        .deleteFrom('auth_failures')
        .where('created_at', '<', new Date(at.getTime() - 24 * 60 * 60 * 1000))
        .execute();
    },

    /** Clears a subject's failures (not its address's), after it authenticated. */
    async clear(kind: AuthFailureKind, subject: string): Promise<void> {
      await db.deleteFrom('auth_failures').where('kind', '=', kind).where('subject_hash', '=', subjectHash(kind, subject)).execute();
    },
  };
}
