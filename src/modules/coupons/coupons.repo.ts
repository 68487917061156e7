import { randomInt } from 'node:crypto';
import { sql, type Kysely, type Selectable } from 'kysely';
import type { DB } from '../../db/tables.js';
import { applyFilters, applySortAndPage, countRows, type ColumnMap } from '../../db/list.js';
import type { ListQuery } from '../../http/list-query.js';
import { newId } from '../../lib/ids.js';
import type { CouponsTable } from './coupons.tables.js';

export type CouponRow = Selectable<CouponsTable>;

const COLUMNS: ColumnMap = {
  name: 'name',
  title: 'title',
  coupon_template_id: 'coupon_template_id',
  created_at: 'created_at',
  updated_at: 'updated_at',
  expires_at: 'expires_at',
  redemptions: 'redemptions',
  created_at_min: 'created_at',
  created_at_max: 'created_at',
};

// No 0/O or 1/I/L: codes are read aloud and typed at tills.
const CODE_ALPHABET = '23456789ABCDEFGHJKMNPQRSTUVWXYZ';
export function randomCouponCode(length = 8): string {
  let code = '';
  for (let i = 0; i < length; i++) code += CODE_ALPHABET[randomInt(CODE_ALPHABET.length)];
  return code;
}

export interface CodeCounts {
  total: number;
  assigned: number;
  redeemed: number;
}

export type CouponsRepo = ReturnType<typeof createCouponsRepo>;

export function createCouponsRepo(db: Kysely<DB>) {
  return {
    listTemplates: () => db.selectFrom('coupon_templates').selectAll().orderBy('name').orderBy('id').execute(),
    findTemplate: (id: string) => db.selectFrom('coupon_templates').selectAll().where('id', '=', id).executeTakeFirst(),

    async list(accountId: string, query: ListQuery) {
      const base = applyFilters(db.selectFrom('coupons').where('account_id', '=', accountId), query, COLUMNS);
      const rows = await applySortAndPage(base.selectAll(), query, COLUMNS, 'id').execute();
      return { rows, total: await countRows(base) };
    },
    find: (accountId: string, id: string) => db.selectFrom('coupons').selectAll().where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst(),
    findById: (id: string) => db.selectFrom('coupons').selectAll().where('id', '=', id).executeTakeFirst(),
    insert: (row: Omit<CouponRow, 'created_at' | 'updated_at' | 'redemptions'>) => db.insertInto('coupons').values(row).returningAll().executeTakeFirstOrThrow(),
    update: (accountId: string, id: string, patch: Partial<Omit<CouponRow, 'id' | 'account_id' | 'created_at'>>) =>
      db.updateTable('coupons').set({ ...patch, updated_at: new Date() }).where('account_id', '=', accountId).where('id', '=', id).returningAll().executeTakeFirst(),
    async remove(accountId: string, id: string): Promise<boolean> {
      const result = await db.deleteFrom('coupons').where('account_id', '=', accountId).where('id', '=', id).executeTakeFirst();
      return Number(result.numDeletedRows) > 0;
    },
    /** Campaigns not yet finished that carry the coupon. */
    activeCampaignsWith: (accountId: string, couponId: string) =>
      db
        .selectFrom('campaigns')
        .select(['id', 'name'])
        .where('account_id', '=', accountId)
        .where('coupon_id', '=', couponId)
        .where('status', 'in', ['draft', 'scheduled', 'sending'])
        .execute(),

    async codeCounts(couponIds: readonly string[]): Promise<Map<string, CodeCounts>> {
      const out = new Map<string, CodeCounts>();
      if (couponIds.length === 0) return out;
      const rows = await db
        .selectFrom('coupon_codes')
        .select((eb) => [
          'coupon_id',
          eb.fn.countAll<number>().as('total'),
          sql<number>`count(contact_id)`.as('assigned'),
          sql<number>`count(redeemed_at)`.as('redeemed'),
        ])
        .where('coupon_id', 'in', couponIds)
        .groupBy('coupon_id')
        .execute();
      for (const r of rows) out.set(r.coupon_id, { total: Number(r.total), assigned: Number(r.assigned), redeemed: Number(r.redeemed) });
      return out;
    },

    /** Adds codes to the pool; codes already in it are skipped. Returns how many were added. */
    async addCodes(accountId: string, couponId: string, codes: readonly string[]): Promise<number> {
      if (codes.length === 0) return 0;
      const result = await sql`
        INSERT INTO coupon_codes (coupon_id, code, account_id)
        SELECT ${couponId}::uuid, c, ${accountId}::uuid FROM unnest(${[...codes]}::text[]) AS c
        ON CONFLICT DO NOTHING`.execute(db);
      return Number(result.numAffectedRows ?? 0);
    },

    /** Generates `count` new random codes into the pool, in chunks (memory stays small). */
    async generateCodes(accountId: string, couponId: string, count: number): Promise<void> {
      let left = count;
      while (left > 0) {
        const chunk = Array.from({ length: Math.min(left, 5000) }, () => randomCouponCode());
        left -= await this.addCodes(accountId, couponId, chunk);
      }
    },

    findCode: (couponId: string, code: string) => db.selectFrom('coupon_codes').selectAll().where('coupon_id', '=', couponId).where('code', '=', code).executeTakeFirst(),
    findCodeOf: (couponId: string, contactId: string) =>
      db.selectFrom('coupon_codes').selectAll().where('coupon_id', '=', couponId).where('contact_id', '=', contactId).executeTakeFirst(),

    /** Gives the contact a free code from the pool (or the one it already has); null when none is left. */
    async assignCode(couponId: string, contactId: string): Promise<string | null> {
      for (let attempt = 0; attempt < 3; attempt++) {
        const existing = await this.findCodeOf(couponId, contactId);
        if (existing) return existing.code;
        try {
          const result = await sql<{ code: string }>`
            UPDATE coupon_codes SET contact_id = ${contactId}, assigned_at = now()
            WHERE coupon_id = ${couponId} AND code = (
              SELECT code FROM coupon_codes WHERE coupon_id = ${couponId} AND contact_id IS NULL
              ORDER BY created_at, code LIMIT 1 FOR UPDATE SKIP LOCKED)
            RETURNING code`.execute(db);
          const row = result.rows[0];
          if (row) return row.code;
          if (!(await this.findCodeOf(couponId, contactId))) return null;
        } catch (error) {
          // Two pages opened at once for one contact: the other one won; read its code.
          if ((error as { code?: string }).code !== '23505') throw error;
        }
      }
      return (await this.findCodeOf(couponId, contactId))?.code ?? null;
    },

    findRedemption: (couponId: string, key: string) =>
      db.selectFrom('coupon_redemptions').selectAll().where('coupon_id', '=', couponId).where('redemption_key', '=', key).executeTakeFirst(),

    /**
     * Records one redemption, atomically: the row is unique per (coupon, key), and the coupon's
     * counter only moves while the coupon is live and under its limit. Returns the redemption
     * and whether it is new, or the reason it was refused.
     */
    async redeem(input: {
      accountId: string;
      couponId: string;
      key: string;
      campaignId: string | null;
      contactId: string | null;
      code: string | null;
      source: 'page' | 'api';
    }) {
      return db.transaction().execute(async (trx) => {
        const inserted = await trx
          .insertInto('coupon_redemptions')
          .values({
            id: newId(),
            account_id: input.accountId,
            coupon_id: input.couponId,
            campaign_id: input.campaignId,
            contact_id: input.contactId,
            code: input.code,
            redemption_key: input.key,
            source: input.source,
          })
          .onConflict((oc) => oc.columns(['coupon_id', 'redemption_key']).doNothing())
          .returningAll()
          .executeTakeFirst();
        if (!inserted) {
          const existing = await trx
            .selectFrom('coupon_redemptions')
            .selectAll()
            .where('coupon_id', '=', input.couponId)
            .where('redemption_key', '=', input.key)
            .executeTakeFirstOrThrow();
          return { ok: true as const, redemption: existing, created: false };
        }
        const counted = await sql<{ id: string }>`
          UPDATE coupons SET redemptions = redemptions + 1, updated_at = now()
          WHERE id = ${input.couponId}
            AND (redemption_limit IS NULL OR redemptions < redemption_limit)
            AND (starts_at IS NULL OR starts_at <= now())
            AND (expires_at IS NULL OR expires_at > now())
          RETURNING id`.execute(trx);
        if (counted.rows.length === 0) {
          const coupon = await trx.selectFrom('coupons').selectAll().where('id', '=', input.couponId).executeTakeFirstOrThrow();
          throw new RedemptionRefused(refusalReason(coupon, new Date()));
        }
        if (input.code !== null) {
          await trx.updateTable('coupon_codes').set({ redeemed_at: new Date() }).where('coupon_id', '=', input.couponId).where('code', '=', input.code).execute();
        }
        return { ok: true as const, redemption: inserted, created: true };
      });
    },
  };
}

export class RedemptionRefused extends Error {}

/** Why a coupon cannot be redeemed now, or null when it can. */
export function refusalReason(coupon: Pick<CouponRow, 'starts_at' | 'expires_at' | 'redemption_limit' | 'redemptions'>, now: Date): string {
  if (coupon.starts_at && coupon.starts_at > now) return `This coupon is not valid before ${coupon.starts_at.toISOString()}.`;
  if (coupon.expires_at && coupon.expires_at <= now) return `This coupon expired at ${coupon.expires_at.toISOString()}.`;
  if (coupon.redemption_limit !== null && coupon.redemptions >= coupon.redemption_limit) return 'This coupon has reached its redemption limit.';
  return 'This coupon cannot be redeemed.';
}
