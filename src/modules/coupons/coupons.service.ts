import { createHmac, randomBytes } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { ListQuery } from '../../http/list-query.js';
import { NotFoundError, ValidationError, type FieldErrors } from '../../lib/errors.js';
import { newId } from '../../lib/ids.js';
import { constantTimeEqual } from '../../lib/secrets.js';
import { formatDate } from '../../lib/time.js';
import type { AudienceReader } from '../campaigns/audience.js';
import { contactIdFromToken } from '../campaigns/merge-tags.js';
import type { ShortLinksRepo } from '../campaigns/short-links.js';
import { DEFAULT_COUPON_TEMPLATE_ID } from './coupon-templates.seed.js';
import { RedemptionRefused, refusalReason, type CodeCounts, type CouponRow, type CouponsRepo } from './coupons.repo.js';
import type { Coupon, CouponTemplate, CreateCouponInput, RedeemInput, Redemption, UpdateCouponInput } from './coupons.schema.js';
import type { CouponTemplatesTable, CouponRedemptionsTable } from './coupons.tables.js';

export type CouponsService = ReturnType<typeof createCouponsService>;
type TemplateRow = Selectable<CouponTemplatesTable>;

export const toCouponTemplate = (row: TemplateRow, baseUrl: string): CouponTemplate => ({
  id: row.id,
  name: row.name,
  description: row.description,
  design: row.design,
  preview_url: `${baseUrl}/coupon-templates/${row.id}/preview`,
  created_at: formatDate(row.created_at),
  updated_at: formatDate(row.updated_at),
});

export const toRedemption = (row: Selectable<CouponRedemptionsTable>): Redemption => ({
  id: row.id,
  coupon_id: row.coupon_id,
  campaign_id: row.campaign_id,
  contact_id: row.contact_id,
  code: row.code,
  source: row.source,
  created_at: formatDate(row.created_at),
});

const parseDate = (value: string | null | undefined): Date | null | undefined => (value === undefined ? undefined : value === null ? null : new Date(value));

/** The state of a coupon page for one visitor, ready to render. */
export interface CouponPageModel {
  coupon: CouponRow;
  template: TemplateRow;
  linkCode: string;
  campaignId: string | null;
  contactId: string | null;
  token: string | null;
  /** The code to show: the coupon's own, or this contact's unique code. */
  code: string | null;
  /** Why no unique code can be shown (generic link, pool exhausted). */
  codeProblem: string | null;
  redemption: Selectable<CouponRedemptionsTable> | null;
  /** Why redeeming is not possible now (not started, expired, limit reached). */
  refusal: string | null;
  /** Hidden form fields of the redeem button (CSRF token bound to this page). */
  form: { nonce: string; signature: string };
}

export function createCouponsService(deps: { repo: CouponsRepo; links: ShortLinksRepo; audience: AudienceReader }) {
  const { repo, links } = deps;

  async function present(rows: CouponRow[], baseUrl: string): Promise<Coupon[]> {
    const counts = await repo.codeCounts(rows.filter((r) => r.unique_codes).map((r) => r.id));
    const out: Coupon[] = [];
    for (const row of rows) {
      const link = await links.couponLink(row.account_id, row.id, null);
      out.push(toCoupon(row, counts.get(row.id), `${baseUrl}/c/${link.code}`));
    }
    return out;
  }

  function toCoupon(row: CouponRow, counts: CodeCounts | undefined, url: string): Coupon {
    const c = counts ?? { total: 0, assigned: 0, redeemed: 0 };
    return {
      id: row.id,
      name: row.name,
      coupon_template_id: row.coupon_template_id,
      title: row.title,
      description: row.description,
      disclaimer: row.disclaimer,
      code: row.code,
      unique_codes: row.unique_codes,
      codes: { total: c.total, assigned: c.assigned, redeemed: c.redeemed, available: c.total - c.assigned },
      starts_at: formatDate(row.starts_at),
      expires_at: formatDate(row.expires_at),
      redemption_limit: row.redemption_limit,
      redemptions: row.redemptions,
      url,
      created_at: formatDate(row.created_at),
      updated_at: formatDate(row.updated_at),
    };
  }

  async function validate(input: UpdateCouponInput, current: CouponRow | null): Promise<FieldErrors> {
    const errors: FieldErrors = {};
    const add = (field: string, message: string) => (errors[field] ??= []).push(message);
    if (input.name !== undefined && !input.name.trim()) add('name', 'The name must not be blank.');
    if (input.title !== undefined && !input.title.trim()) add('title', 'The title must not be blank.');
    if (input.coupon_template_id !== undefined && !(await repo.findTemplate(input.coupon_template_id))) add('coupon_template_id', 'The selected coupon template does not exist.');
    const startsAt = input.starts_at !== undefined ? parseDate(input.starts_at) : (current?.starts_at ?? null);
    const expiresAt = input.expires_at !== undefined ? parseDate(input.expires_at) : (current?.expires_at ?? null);
    if (startsAt && expiresAt && expiresAt <= startsAt) add('expires_at', 'The coupon must expire after it starts (expires_at after starts_at).');
    if (input.expires_at && expiresAt && expiresAt <= new Date()) add('expires_at', 'The expiry must be in the future.');
    const unique = input.unique_codes ?? current?.unique_codes ?? false;
    const code = input.code !== undefined ? input.code : (current?.code ?? null);
    if (unique && code) add('code', 'A coupon with unique codes has no shared code: leave code empty.');
    if (!unique && (input.codes?.length || input.generate_codes)) add(input.codes?.length ? 'codes' : 'generate_codes', 'Codes can only be added to a coupon with unique_codes.');
    if (current && current.unique_codes !== unique && (await repo.codeCounts([current.id])).get(current.id)?.assigned) {
      add('unique_codes', 'Codes of this coupon have already been given to contacts; unique_codes cannot change.');
    }
    if (input.redemption_limit !== undefined && input.redemption_limit !== null && current && input.redemption_limit < current.redemptions) {
      add('redemption_limit', `The coupon has already been redeemed ${current.redemptions} times.`);
    }
    return errors;
  }

  function sign(coupon: CouponRow, linkCode: string, token: string | null, nonce: string): string {
    return createHmac('sha256', coupon.page_secret).update(`${linkCode}|${token ?? ''}|${nonce}`).digest('base64url');
  }

  /** Resolves /c/{code}[/{token}]: null when the link, coupon or contact does not exist. */
  async function resolvePage(linkCode: string, token: string | null) {
    const link = await links.findByCode(linkCode);
    if (!link || link.kind !== 'coupon' || !link.coupon_id) return null;
    const coupon = await repo.findById(link.coupon_id);
    if (!coupon) return null;
    let contactId: string | null = null;
    if (token !== null) {
      contactId = contactIdFromToken(token);
      if (!contactId || !(await deps.audience.contactExists(coupon.account_id, contactId))) return null;
    }
    const template = (await repo.findTemplate(coupon.coupon_template_id)) ?? (await repo.findTemplate(DEFAULT_COUPON_TEMPLATE_ID))!;
    return { link, coupon, template, contactId };
  }

  function redemptionKey(coupon: CouponRow, contactId: string | null, code: string | null, nonce: string): string {
    if (coupon.unique_codes && code) return `code:${code}`;
    if (contactId) return `contact:${contactId}`;
    return `page:${nonce}`;
  }

  async function pageModel(resolved: NonNullable<Awaited<ReturnType<typeof resolvePage>>>, token: string | null, nonce?: string): Promise<CouponPageModel> {
    const { coupon, contactId } = resolved;
    let code = coupon.code;
    let codeProblem: string | null = null;
    if (coupon.unique_codes) {
      code = null;
      if (!contactId) codeProblem = 'Open the link from your text message to get your personal code.';
      else {
        code = await repo.assignCode(coupon.id, contactId);
        if (!code) codeProblem = 'Sorry, all codes for this offer have been claimed.';
      }
    }
    const formNonce = nonce ?? randomBytes(16).toString('base64url');
    const key = coupon.unique_codes ? (code ? `code:${code}` : null) : contactId ? `contact:${contactId}` : null;
    const redemption = key ? ((await repo.findRedemption(coupon.id, key)) ?? null) : null;
    const now = new Date();
    const live = !(coupon.starts_at && coupon.starts_at > now) && !(coupon.expires_at && coupon.expires_at <= now) && !(coupon.redemption_limit !== null && coupon.redemptions >= coupon.redemption_limit);
    return {
      coupon,
      template: resolved.template,
      linkCode: resolved.link.code,
      campaignId: resolved.link.campaign_id,
      contactId,
      token,
      code,
      codeProblem,
      redemption,
      refusal: live ? null : refusalReason(coupon, now),
      form: { nonce: formNonce, signature: sign(coupon, resolved.link.code, token, formNonce) },
    };
  }

  return {
    async listTemplates(baseUrl: string) {
      return (await repo.listTemplates()).map((t) => toCouponTemplate(t, baseUrl));
    },
    async getTemplate(id: string, baseUrl: string) {
      const row = await repo.findTemplate(id);
      if (!row) throw new NotFoundError('Coupon template not found.');
      return toCouponTemplate(row, baseUrl);
    },
    findTemplate: (id: string) => repo.findTemplate(id),

    async list(accountId: string, query: ListQuery, baseUrl: string) {
      const { rows, total } = await repo.list(accountId, query);
      return { data: await present(rows, baseUrl), total };
    },
    async get(accountId: string, id: string, baseUrl: string) {
      const row = await repo.find(accountId, id);
      if (!row) throw new NotFoundError('Coupon not found.');
      return (await present([row], baseUrl))[0]!;
    },
    find: (accountId: string, id: string) => repo.find(accountId, id),

    async create(accountId: string, input: CreateCouponInput, baseUrl: string) {
      const errors = await validate(input, null);
      if (Object.keys(errors).length) throw new ValidationError(errors);
      const unique = input.unique_codes ?? Boolean(input.codes?.length || input.generate_codes);
      const row = await repo.insert({
        id: newId(),
        account_id: accountId,
        name: input.name.trim(),
        coupon_template_id: input.coupon_template_id ?? DEFAULT_COUPON_TEMPLATE_ID,
        title: input.title.trim(),
        description: input.description ?? null,
        disclaimer: input.disclaimer ?? null,
        code: unique ? null : (input.code ?? null),
        unique_codes: unique,
        starts_at: parseDate(input.starts_at) ?? null,
        expires_at: parseDate(input.expires_at) ?? null,
        redemption_limit: input.redemption_limit ?? null,
        page_secret: randomBytes(32).toString('base64url'),
      });
      if (input.codes?.length) await repo.addCodes(accountId, row.id, input.codes);
      if (input.generate_codes) await repo.generateCodes(accountId, row.id, input.generate_codes);
      return (await present([row], baseUrl))[0]!;
    },

    async update(accountId: string, id: string, input: UpdateCouponInput, baseUrl: string) {
      const current = await repo.find(accountId, id);
      if (!current) throw new NotFoundError('Coupon not found.');
      const errors = await validate(input, current);
      if (Object.keys(errors).length) throw new ValidationError(errors);
      const patch: Parameters<CouponsRepo['update']>[2] = {};
      if (input.name !== undefined) patch.name = input.name.trim();
      if (input.title !== undefined) patch.title = input.title.trim();
      if (input.coupon_template_id !== undefined) patch.coupon_template_id = input.coupon_template_id;
      if (input.description !== undefined) patch.description = input.description;
      if (input.disclaimer !== undefined) patch.disclaimer = input.disclaimer;
      if (input.code !== undefined) patch.code = input.code;
      if (input.unique_codes !== undefined) {
        patch.unique_codes = input.unique_codes;
        if (input.unique_codes) patch.code = null;
      }
      if (input.starts_at !== undefined) patch.starts_at = parseDate(input.starts_at) ?? null;
      if (input.expires_at !== undefined) patch.expires_at = parseDate(input.expires_at) ?? null;
      if (input.redemption_limit !== undefined) patch.redemption_limit = input.redemption_limit;
      const row = await repo.update(accountId, id, patch);
      if (!row) throw new NotFoundError('Coupon not found.');
      if (input.codes?.length) await repo.addCodes(accountId, id, input.codes);
      if (input.generate_codes) await repo.generateCodes(accountId, id, input.generate_codes);
      return (await present([row], baseUrl))[0]!;
    },

    async remove(accountId: string, id: string) {
      if (!(await repo.find(accountId, id))) throw new NotFoundError('Coupon not found.');
      const campaigns = await repo.activeCampaignsWith(accountId, id);
      if (campaigns.length) {
        throw ValidationError.field('coupon', `The coupon is carried by campaigns not yet sent (${campaigns.map((c) => c.name).join(', ')}); remove it from them first.`);
      }
      if (!(await repo.remove(accountId, id))) throw new NotFoundError('Coupon not found.');
    },

    /** Redemption through the API (staff at a till, a POS integration). */
    async redeem(accountId: string, id: string, input: RedeemInput, campaignExists: (campaignId: string) => Promise<boolean>) {
      const coupon = await repo.find(accountId, id);
      if (!coupon) throw new NotFoundError('Coupon not found.');
      const errors: FieldErrors = {};
      let contactId = input.contact_id ?? null;
      let code: string | null = null;
      if (coupon.unique_codes) {
        if (!input.code) errors.code = ['This coupon has unique codes: give the code being redeemed.'];
        else {
          const pooled = await repo.findCode(coupon.id, input.code);
          if (!pooled) errors.code = ['The code is not one of this coupon’s codes.'];
          else {
            code = pooled.code;
            if (pooled.contact_id && contactId && pooled.contact_id !== contactId) errors.contact_id = ['The code belongs to another contact.'];
            contactId = pooled.contact_id ?? contactId;
          }
        }
      } else if (input.code !== undefined && input.code !== coupon.code) {
        errors.code = ['The code does not match this coupon.'];
      }
      if (input.contact_id && !(await deps.audience.contactExists(accountId, input.contact_id))) errors.contact_id = ['The contact does not exist.'];
      if (input.campaign_id && !(await campaignExists(input.campaign_id))) errors.campaign_id = ['The campaign does not exist.'];
      if (Object.keys(errors).length) throw new ValidationError(errors);
      const key = code ? `code:${code}` : input.reference ? `ref:${input.reference}` : contactId ? `contact:${contactId}` : `api:${newId()}`;
      try {
        const result = await repo.redeem({ accountId, couponId: coupon.id, key, campaignId: input.campaign_id ?? null, contactId, code, source: 'api' });
        return { redemption: toRedemption(result.redemption), created: result.created };
      } catch (error) {
        if (error instanceof RedemptionRefused) throw ValidationError.field('coupon', error.message);
        throw error;
      }
    },

    /** GET /c/{code}[/{token}]: counts the visit as a click of the link, then the page model. */
    async openPage(linkCode: string, token: string | null): Promise<CouponPageModel | null> {
      const resolved = await resolvePage(linkCode, token);
      if (!resolved) return null;
      await links.recordClick(resolved.link, resolved.contactId);
      return pageModel(resolved, token);
    },

    /** A sample page (template previews): nothing is stored. */
    previewModel(template: TemplateRow): CouponPageModel {
      const now = Date.now();
      const coupon: CouponRow = {
        id: '00000000-0000-4000-8000-000000000000',
        account_id: '00000000-0000-4000-8000-000000000000',
        name: 'Preview',
        coupon_template_id: template.id,
        title: '20% off your next visit',
        description: 'Show this coupon at the counter. Valid on all full-price items.',
        disclaimer: 'One per customer. Cannot be combined with other offers.',
        code: 'SAVE20',
        unique_codes: false,
        starts_at: null,
        expires_at: new Date(now + 30 * 86_400_000),
        redemption_limit: null,
        redemptions: 0,
        page_secret: 'preview',
        created_at: new Date(now),
        updated_at: new Date(now),
      };
      return {
        coupon,
        template,
        linkCode: 'preview',
        campaignId: null,
        contactId: null,
        token: null,
        code: 'SAVE20',
        codeProblem: null,
        redemption: null,
        refusal: null,
        form: { nonce: '', signature: '' },
      };
    },

    /**
     * POST /c/{code}[/{token}]: the redeem button. The form carries a nonce signed with the
     * coupon's secret (a page must have been served to redeem); redeeming again (a double click,
     * a reload) finds the first redemption instead of counting another.
     */
    async redeemFromPage(linkCode: string, token: string | null, form: { nonce?: unknown; signature?: unknown }) {
      const resolved = await resolvePage(linkCode, token);
      if (!resolved) return { status: 404 as const };
      const nonce = typeof form.nonce === 'string' && /^[A-Za-z0-9_-]{16,64}$/.test(form.nonce) ? form.nonce : null;
      const signature = typeof form.signature === 'string' ? form.signature : '';
      if (!nonce || !constantTimeEqual(signature, sign(resolved.coupon, resolved.link.code, token, nonce))) return { status: 403 as const };
      const before = await pageModel(resolved, token, nonce);
      if (resolved.coupon.unique_codes && !before.code) return { status: 409 as const, model: before };
      const key = redemptionKey(resolved.coupon, resolved.contactId, before.code, nonce);
      try {
        await repo.redeem({
          accountId: resolved.coupon.account_id,
          couponId: resolved.coupon.id,
          key,
          campaignId: resolved.link.campaign_id,
          contactId: resolved.contactId,
          code: resolved.coupon.unique_codes ? before.code : null,
          source: 'page',
        });
      } catch (error) {
        if (!(error instanceof RedemptionRefused)) throw error;
        const coupon = (await repo.findById(resolved.coupon.id)) ?? resolved.coupon;
        return { status: 422 as const, model: { ...before, coupon, refusal: error.message } };
      }
      const coupon = (await repo.findById(resolved.coupon.id)) ?? resolved.coupon;
      const redemption = (await repo.findRedemption(coupon.id, key)) ?? null;
      return { status: 200 as const, model: { ...before, coupon, redemption, refusal: null } };
    },
  };
}
