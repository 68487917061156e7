import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';

export type AccountsRepo = ReturnType<typeof createAccountsRepo>;

export function createAccountsRepo(db: Kysely<DB>) {
  return {
    insertAccount(account: { id: string; name: string; shortCode: string; credits: number; defaultCountry: string; timezone: string }) {
      return db
        .insertInto('accounts')
        .values({
          id: account.id,
          name: account.name,
          short_code: account.shortCode,
          credit_balance: account.credits,
          default_country: account.defaultCountry,
          timezone: account.timezone,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    insertUser(user: { id: string; accountId: string; email: string; name: string | null; passwordHash: string }) {
      return db
        .insertInto('users')
        .values({ id: user.id, account_id: user.accountId, email: user.email, name: user.name, password_hash: user.passwordHash })
        .returningAll()
        .executeTakeFirstOrThrow();
    },

    findById(id: string) {
      return db.selectFrom('accounts').selectAll().where('id', '=', id).executeTakeFirst();
    },

    shortCodeTaken(shortCode: string) {
      return db.selectFrom('accounts').select('id').where('short_code', '=', shortCode).executeTakeFirst();
    },

    findUserByEmail(email: string) {
      return db.selectFrom('users').selectAll().where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase())).executeTakeFirst();
    },

    findUserById(id: string) {
      return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    },

    async updatePassword(userId: string, passwordHash: string): Promise<void> {
      await db.updateTable('users').set({ password_hash: passwordHash, updated_at: new Date() }).where('id', '=', userId).execute();
    },

    async count(): Promise<number> {
      const row = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
      return Number(row.n);
    },

    updateSettings(
      id: string,
      changes: Partial<{ name: string; default_country: string; timezone: string; help_text: string | null; quiet_hours_enabled: boolean; quiet_hours_start: number; quiet_hours_end: number }>,
    ) {
      return db.updateTable('accounts').set({ ...changes, updated_at: new Date() }).where('id', '=', id).returningAll().executeTakeFirst();
    },

    addCredits(id: string, amount: number) {
      return db
        .updateTable('accounts')
        .set((eb) => ({ credit_balance: eb('credit_balance', '+', amount), updated_at: new Date() }))
        .where('id', '=', id)
        .returning(['id', 'credit_balance'])
        .executeTakeFirst();
    },
  };
}
