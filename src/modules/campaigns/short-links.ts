import { randomInt } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../../db/tables.js';
import { newId } from '../../lib/ids.js';

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** A random 7-character base62 code (62^7 ≈ 3.5e12), unguessable enough for public links. */
export function newLinkCode(length = 7): string {
  let code = '';
  for (let i = 0; i < length; i++) code += ALPHABET[randomInt(ALPHABET.length)];
  return code;
}

export const isLinkCode = (value: string): boolean => /^[0-9A-Za-z]{7}$/.test(value);

const isUniqueViolation = (error: unknown) => (error as { code?: string } | null)?.code === '23505';

export type ShortLinksRepo = ReturnType<typeof createShortLinksRepo>;

/**
 * Short links: `/l/{code}` for a tracked URL of a campaign, `/c/{code}` for a coupon's page
 * (its own link, or the link of a campaign that carries it). Getting a link is idempotent: the
 * same (campaign, URL) or (coupon, campaign) always has the same code.
 */
export function createShortLinksRepo(db: Kysely<DB>) {
  async function insertWithFreshCode(values: { account_id: string; kind: 'url' | 'coupon'; url: string | null; coupon_id: string | null; campaign_id: string | null }) {
    for (let attempt = 0; attempt < 5; attempt++) {
      try {
        return await db
          .insertInto('short_links')
          .values({ id: newId(), code: newLinkCode(), ...values })
          .onConflict((oc) => oc.doNothing())
          .returningAll()
          .executeTakeFirst();
      } catch (error) {
        if (!isUniqueViolation(error)) throw error;
      }
    }
    throw new Error('Could not allocate a free short link code');
  }

  return {
    async couponLink(accountId: string, couponId: string, campaignId: string | null) {
      const find = () => {
        let q = db.selectFrom('short_links').selectAll().where('kind', '=', 'coupon').where('coupon_id', '=', couponId);
        q = campaignId === null ? q.where('campaign_id', 'is', null) : q.where('campaign_id', '=', campaignId);
        return q.executeTakeFirst();
      };
      return (await find()) ?? (await insertWithFreshCode({ account_id: accountId, kind: 'coupon', url: null, coupon_id: couponId, campaign_id: campaignId })) ?? (await find())!;
    },
    async urlLink(accountId: string, campaignId: string, url: string) {
      const find = () =>
        db.selectFrom('short_links').selectAll().where('kind', '=', 'url').where('campaign_id', '=', campaignId).where('url', '=', url).executeTakeFirst();
      return (await find()) ?? (await insertWithFreshCode({ account_id: accountId, kind: 'url', url, coupon_id: null, campaign_id: campaignId })) ?? (await find())!;
    },
    findByCode: (code: string) => db.selectFrom('short_links').selectAll().where('code', '=', code).executeTakeFirst(),
    async recordClick(link: { id: string; account_id: string; campaign_id: string | null }, contactId: string | null) {
      await db
        .insertInto('link_clicks')
        .values({ id: newId(), account_id: link.account_id, link_id: link.id, campaign_id: link.campaign_id, contact_id: contactId })
        .execute();
    },
  };
}
