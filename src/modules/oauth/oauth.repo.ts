import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

export type OAuthRepo = ReturnType<typeof createOAuthRepo>;

const CLIENT_COLUMNS = ['id', 'account_id', 'name', 'client_id', 'client_secret_hash', 'is_public', 'redirect_uris', 'created_at', 'secret_rotated_at'] as const;

export function createOAuthRepo(db: Kysely<DB>) {
  return {
    insertClient(client: { id: string; accountId: string; name: string; clientId: string; secretHash: string | null; isPublic: boolean; redirectUris: string[] }) {
      return db
        .insertInto('oauth_clients')
        .values({
          id: client.id,
          account_id: client.accountId,
          name: client.name,
          client_id: client.clientId,
          client_secret_hash: client.secretHash,
          is_public: client.isPublic,
          redirect_uris: JSON.stringify(client.redirectUris),
          secret_rotated_at: null,
          deleted_at: null,
        })
        .returning(CLIENT_COLUMNS)
        .executeTakeFirstOrThrow();
    },

    /** A live (not deleted) application by its public client_id. */
    findClientByClientId(clientId: string) {
      return db.selectFrom('oauth_clients').select(CLIENT_COLUMNS).where('client_id', '=', clientId).where('deleted_at', 'is', null).executeTakeFirst();
    },

    findClientForAccount(accountId: string, id: string) {
      return db
        .selectFrom('oauth_clients')
        .select(CLIENT_COLUMNS)
        .where('account_id', '=', accountId)
        .where('id', '=', id)
        .where('deleted_at', 'is', null)
        .executeTakeFirst();
    },

    listClients(accountId: string) {
      return db
        .selectFrom('oauth_clients')
        .select(CLIENT_COLUMNS)
        .where('account_id', '=', accountId)
        .where('deleted_at', 'is', null)
        .orderBy('created_at', 'desc')
        .limit(200)
        .execute();
    },

    async setSecret(id: string, secretHash: string, at: Date): Promise<void> {
      await db.updateTable('oauth_clients').set({ client_secret_hash: secretHash, secret_rotated_at: at, updated_at: at }).where('id', '=', id).execute();
    },

    async softDeleteClient(id: string, at: Date): Promise<void> {
      await db.updateTable('oauth_clients').set({ deleted_at: at, updated_at: at }).where('id', '=', id).execute();
      // Codes not yet exchanged die with the application.
      await db.updateTable('authorization_codes').set({ used_at: at }).where('client_id', '=', id).where('used_at', 'is', null).execute();
    },

    insertCode(code: {
      id: string;
      codeHash: string;
      clientId: string;
      accountId: string;
      userId: string;
      redirectUri: string;
      scopes: string;
      codeChallenge: string | null;
      expiresAt: Date;
    }) {
      return db
        .insertInto('authorization_codes')
        .values({
          id: code.id,
          code_hash: code.codeHash,
          client_id: code.clientId,
          account_id: code.accountId,
          user_id: code.userId,
          redirect_uri: code.redirectUri,
          scopes: code.scopes,
          code_challenge: code.codeChallenge,
          code_challenge_method: code.codeChallenge ? 'S256' : null,
          expires_at: code.expiresAt,
          used_at: null,
        })
        .execute();
    },

    /** Locks the code's row so two concurrent exchanges of one code cannot both succeed. */
    findCodeForUpdate(codeHash: string) {
      return db.selectFrom('authorization_codes').selectAll().where('code_hash', '=', codeHash).forUpdate().executeTakeFirst();
    },

    async markCodeUsed(id: string, at: Date): Promise<void> {
      await db.updateTable('authorization_codes').set({ used_at: at }).where('id', '=', id).execute();
    },

    /** Codes expire after 10 minutes; a day later their rows go (used ones keep replay detection that long). */
    async purgeOldCodes(before: Date): Promise<void> {
      await db.deleteFrom('authorization_codes').where('expires_at', '<', before).execute();
    },
  };
}
