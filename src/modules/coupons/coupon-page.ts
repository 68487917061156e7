import type { CouponDesign } from './coupon-templates.seed.js';
import type { CouponPageModel } from './coupons.service.js';

/**
 * The public coupon page: one small, self-contained HTML document (inline CSS, no scripts, no
 * external requests) laid out for phones, in the coupon template's design. Every value from the
 * customer is escaped.
 */
const escapeHtml = (value: string): string =>
  value.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const FONTS: Record<CouponDesign['font'], string> = {
  sans: "-apple-system, 'Segoe UI', Roboto, 'Helvetica Neue', Arial, sans-serif",
  serif: "Georgia, 'Times New Roman', serif",
  rounded: "'Nunito', 'Trebuchet MS', 'Segoe UI', sans-serif",
  mono: "'SFMono-Regular', Menlo, Consolas, 'DejaVu Sans Mono', monospace",
};

const COLOR_RE = /^#[0-9a-fA-F]{3,8}$/;
const color = (value: string, fallback: string) => (COLOR_RE.test(value) ? value : fallback);

function formatExpiry(date: Date): string {
  return new Intl.DateTimeFormat('en-US', { year: 'numeric', month: 'long', day: 'numeric', hour: 'numeric', minute: '2-digit', timeZone: 'UTC', timeZoneName: 'short' }).format(date);
}

function layoutCss(d: CouponDesign): string {
  switch (d.layout) {
    case 'ticket':
      return `.card{border:2px dashed ${d.accent};border-radius:14px}.card:before,.card:after{content:"";position:absolute;top:50%;width:28px;height:28px;margin-top:-14px;border-radius:50%;background:${d.background}}.card:before{left:-16px}.card:after{right:-16px}`;
    case 'banner':
      return `.card{border-radius:0 0 16px 16px;overflow:hidden}.hero{background:${d.accent};color:${d.background};margin:-24px -22px 18px;padding:28px 22px}.hero h1{color:#fff}`;
    case 'stamp':
      return `.card{border-radius:28px;border:3px solid ${d.accent}}.badge{display:inline-block;border:3px solid ${d.accent};color:${d.accent};border-radius:50%;width:74px;height:74px;line-height:74px;text-align:center;font-weight:800;transform:rotate(-12deg);margin-bottom:8px}`;
    default:
      return `.card{border-radius:12px;box-shadow:0 1px 3px rgba(0,0,0,.12)}`;
  }
}

export function renderCouponPage(model: CouponPageModel, options: { action: string; message?: string | null; preview?: boolean }): string {
  const design = model.template.design;
  const d: CouponDesign = {
    ...design,
    background: color(design.background, '#ffffff'),
    card: color(design.card, '#ffffff'),
    accent: color(design.accent, '#2563eb'),
    text: color(design.text, '#111111'),
    muted: color(design.muted, '#666666'),
  };
  const { coupon } = model;
  const expiry = coupon.expires_at ? `<p class="expiry" data-testid="expiry">Expires ${escapeHtml(formatExpiry(coupon.expires_at))}</p>` : '<p class="expiry" data-testid="expiry">No expiry date</p>';
  const starts = coupon.starts_at && coupon.starts_at > new Date() ? `<p class="expiry">Valid from ${escapeHtml(formatExpiry(coupon.starts_at))}</p>` : '';
  const codeBlock = model.code
    ? `<div class="code" data-testid="code"><span>Your code</span><strong>${escapeHtml(model.code)}</strong></div>`
    : model.codeProblem
      ? `<p class="notice" data-testid="code-problem">${escapeHtml(model.codeProblem)}</p>`
      : '';

  let action: string;
  if (model.redemption) {
    action = `<div class="done" data-testid="redeemed">Redeemed ${escapeHtml(formatExpiry(model.redemption.created_at))}</div>`;
  } else if (model.refusal) {
    action = `<div class="closed" data-testid="unavailable">${escapeHtml(model.refusal)}</div>`;
  } else if (options.preview) {
    action = `<button type="button" class="redeem" data-testid="redeem">Redeem now</button>`;
  } else if (coupon.unique_codes && !model.code) {
    action = '';
  } else {
    action =
      `<form method="post" action="${escapeHtml(options.action)}">` +
      `<input type="hidden" name="nonce" value="${escapeHtml(model.form.nonce)}">` +
      `<input type="hidden" name="signature" value="${escapeHtml(model.form.signature)}">` +
      `<button type="submit" class="redeem" data-testid="redeem">Redeem now</button>` +
      `<p class="hint">Tap at the counter, in front of staff. A coupon can be redeemed once.</p></form>`;
  }

  const showCodeFirst = d.show === 'code';
  const title = escapeHtml(coupon.title);
  const header =
    d.layout === 'banner'
      ? `<div class="hero"><h1 data-testid="title">${title}</h1></div>`
      : `${d.layout === 'stamp' ? '<div class="badge">DEAL</div>' : ''}<h1 data-testid="title">${title}</h1>`;

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>${title}</title>
<style>
*{box-sizing:border-box}
html,body{margin:0;padding:0}
body{background:${d.background};color:${d.text};font-family:${FONTS[d.font] ?? FONTS.sans};line-height:1.4;min-height:100vh;padding:28px 18px}
.card{position:relative;max-width:440px;margin:0 auto;background:${d.card};padding:24px 22px}
h1{font-size:30px;line-height:1.15;margin:0 0 12px;color:${d.accent}}
.description{font-size:17px;margin:0 0 14px}
.expiry{font-size:14px;color:${d.muted};margin:0 0 10px}
.code{margin:18px 0;padding:14px;border-radius:10px;background:${d.background};text-align:center}
.code span{display:block;font-size:12px;letter-spacing:.12em;text-transform:uppercase;color:${d.muted}}
.code strong{display:block;font-size:${showCodeFirst ? 36 : 28}px;letter-spacing:.08em;color:${d.text};font-family:${FONTS.mono}}
.redeem{display:block;width:100%;padding:16px;border:0;border-radius:10px;background:${d.accent};color:#fff;font-size:19px;font-weight:700;cursor:pointer}
.hint,.disclaimer{font-size:12px;color:${d.muted};margin:10px 0 0}
.done,.closed,.notice{padding:14px;border-radius:10px;text-align:center;font-weight:700}
.done{background:${d.accent};color:#fff}
.closed,.notice{border:2px solid ${d.muted};color:${d.muted}}
.message{margin:0 auto 12px;max-width:440px;text-align:center;font-weight:700}
${layoutCss(d)}
</style>
</head>
<body>
${options.message ? `<p class="message" data-testid="message">${escapeHtml(options.message)}</p>` : ''}<main class="card" data-layout="${d.layout}">
${header}
${coupon.description ? `<p class="description" data-testid="description">${escapeHtml(coupon.description)}</p>` : ''}
${starts}${expiry}
${codeBlock}
${action}
${coupon.disclaimer ? `<p class="disclaimer">${escapeHtml(coupon.disclaimer)}</p>` : ''}
</main>
</body>
</html>`;
}

/** Headers for the page: no caching (per-visitor state), no framing, nothing external. */
export const COUPON_PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  'cache-control': 'no-store',
  'x-frame-options': 'DENY',
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
};

export function renderNotFoundPage(): string {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Not found</title></head><body style="font-family:sans-serif;padding:32px;text-align:center"><h1>This link is not valid</h1><p>Check the link in your text message.</p></body></html>`;
}
