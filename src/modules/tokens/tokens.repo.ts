import { sql, type Kysely } from 'kysely';
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
      clientId?: string | null;
      authorizationCodeId?: string | null;
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
          client_id: token.clientId ?? null,
          authorization_code_id: token.authorizationCodeId ?? null,
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

    /** A token by its hash, revoked or not (OAuth revocation checks which client owns it). */
    findByHash(tokenHash: string) {
      return db
        .selectFrom('access_tokens')
        .select(['id', 'account_id', 'kind', 'client_id', 'revoked_at'])
        .where('token_hash', '=', tokenHash)
        .executeTakeFirst();
    },

    async revokeById(id: string, at: Date): Promise<boolean> {
      const result = await db.updateTable('access_tokens').set({ revoked_at: at }).where('id', '=', id).where('revoked_at', 'is', null).executeTakeFirst();
      return Number(result.numUpdatedRows) > 0;
    },

    /** Revokes every token issued from one authorization code (the code was replayed). */
    async revokeByAuthorizationCode(codeId: string, at: Date): Promise<number> {
      const result = await db
        .updateTable('access_tokens')
        .set({ revoked_at: at })
        .where('authorization_code_id', '=', codeId)
        .where('revoked_at', 'is', null)
        .executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** Revokes every token of one client, in one account or (deleting the client) everywhere. */
    async revokeByClient(clientId: string, at: Date, accountId?: string): Promise<number> {
      let query = db.updateTable('access_tokens').set({ revoked_at: at }).where('client_id', '=', clientId).where('revoked_at', 'is', null);
      if (accountId) query = query.where('account_id', '=', accountId);
      const result = await query.executeTakeFirst();
      return Number(result.numUpdatedRows);
    },

    /** The applications holding live tokens for an account, with what they may do. */
    listConnectedClients(accountId: string) {
      return db
        .selectFrom('access_tokens')
        .innerJoin('oauth_clients', 'oauth_clients.id', 'access_tokens.client_id')
        .select((eb) => [
          'oauth_clients.id as client_pk',
          'oauth_clients.name as client_name',
          eb.fn.min('access_tokens.created_at').as('connected_at'),
          eb.fn.max('access_tokens.last_used_at').as('last_used_at'),
          eb.fn.count<number>('access_tokens.id').as('token_count'),
          sql<string>`string_agg(access_tokens.scopes, ' ')`.as('scopes'),
        ])
        .where('access_tokens.account_id', '=', accountId)
        .where('access_tokens.kind', '=', 'oauth')
        .where('access_tokens.revoked_at', 'is', null)
        .where('oauth_clients.deleted_at', 'is', null)
        .groupBy(['oauth_clients.id', 'oauth_clients.name'])
        .orderBy('oauth_clients.name')
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
