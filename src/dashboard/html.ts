/**
 * A tiny, safe HTML templating helper for the server-rendered dashboard: every interpolated value
 * is escaped unless it is itself the output of `html` (or `raw`), so markup cannot be injected
 * through names, URLs or error messages.
 */
export class SafeHtml {
  constructor(readonly value: string) {}
  toString(): string {
    return this.value;
  }
}

const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;', '`': '&#96;' };

export const escapeHtml = (value: string): string => value.replace(/[&<>"'`]/g, (c) => ESCAPES[c]!);

export const raw = (value: string): SafeHtml => new SafeHtml(value);

function render(value: unknown): string {
  if (value instanceof SafeHtml) return value.value;
  if (Array.isArray(value)) return value.map(render).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: unknown[]): SafeHtml {
  let out = strings[0]!;
  for (let i = 0; i < values.length; i++) out += render(values[i]) + strings[i + 1]!;
  return new SafeHtml(out);
}

export interface LayoutOptions {
  title: string;
  body: SafeHtml;
  /** The signed-in user's email, shown in the header with a sign-out button. */
  user?: { email: string } | null;
  csrfToken?: string | undefined;
}

/** The page frame: header, main landmark, stylesheet. */
export function layout(options: LayoutOptions): string {
  const account = options.user
    ? html`<nav class="top-nav" aria-label="Account">
        <a href="/dashboard/settings/integrations">Settings</a>
        <span class="who">${options.user.email}</span>
        <form method="post" action="/dashboard/sign-out" class="inline">
          <input type="hidden" name="_csrf" value="${options.csrfToken ?? ''}">
          <button type="submit" class="link">Sign out</button>
        </form>
      </nav>`
    : html`<nav class="top-nav" aria-label="Account"><a href="/dashboard/sign-in">Sign in</a><a href="/dashboard/sign-up">Sign up</a></nav>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${escapeHtml(options.title)} · Shortcode</title>
<link rel="stylesheet" href="/dashboard/assets/app.css">
</head>
<body>
<a class="skip" href="#main">Skip to content</a>
<header class="site-header"><a class="brand" href="/dashboard">Shortcode</a>${account.value}</header>
<main id="main" tabindex="-1">
${options.body.value}
</main>
</body>
</html>
`;
}

/** Field error messages, tied to their input with aria-describedby. */
export function fieldErrors(errors: Record<string, string[]> | undefined, field: string): SafeHtml {
  const list = errors?.[field];
  if (!list || list.length === 0) return html``;
  return html`<p class="field-error" id="${field}-error">${list.join(' ')}</p>`;
}

export function describedBy(errors: Record<string, string[]> | undefined, field: string): SafeHtml {
  return errors?.[field]?.length ? html` aria-invalid="true" aria-describedby="${field}-error"` : html``;
}

/** A status or error banner, announced to screen readers. */
export function notice(kind: 'error' | 'success' | 'info', message: string | undefined): SafeHtml {
  if (!message) return html``;
  return html`<div class="notice notice-${kind}" role="${kind === 'error' ? 'alert' : 'status'}">${message}</div>`;
}

export function formatDateTime(value: Date | null | undefined): string {
  if (!value) return 'Never';
  return `${value.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}
