import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

export type TokensRepo = ReturnType<typeof createTokensRepo>;

export function createTokensRepo(db: Kysely<DB>) {
  return {
    insert(token: {
      id: string;
      accountId: string;
      userId: string | null;
      kind: 'personal' | 'oauth';
      name: string;
      tokenHash: string;
      scopes: string;
      expiresAt: Date | null;
    }) {
      return db
        .insertInto('access_tokens')
        .values({
          id: token.id,
          account_id: token.accountId,
          user_id: token.userId,
          kind: token.kind,
          name: token.name,
          token_hash: token.tokenHash,
          scopes: token.scopes,
          expires_at: token.expiresAt,
          last_used_at: null,
          revoked_at: null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    /** The lookup behind every authenticated request: one indexed read by hash. */
    findActiveByHash(tokenHash: string) {
      return db
        .selectFrom('access_tokens')
        .select(['id', 'account_id', 'user_id', 'kind', 'scopes', 'expires_at', 'last_used_at'])
        .where('token_hash', '=', tokenHash)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
    },

    async touch(id: string, at: Date): Promise<void> {
      await db.updateTable('access_tokens').set({ last_used_at: at }).where('id', '=', id).execute();
    },

    listPersonal(accountId: string) {
      return db
        .selectFrom('access_tokens')
        .selectAll()
        .where('account_id', '=', accountId)
        .where('kind', '=', 'personal')
        .where('revoked_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(500)
        .execute();
    },

    async revoke(accountId: string, id: string, at: Date): Promise<boolean> {
      const result = await db
        .updateTable('access_tokens')
        .set({ revoked_at: at })
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },
  };
}
