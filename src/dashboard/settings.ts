import { html, layout, type SafeHtml } from './html.js';

export interface SettingsTab {
  id: string;
  label: string;
  href: string;
}

/**
 * The Settings tabs, in order. A feature adds its tab here (one entry) and its page under
 * /dashboard/settings/<id>: a plugin registered from `dashboardRoutes` (so it shares the
 * dashboard's HTML error pages), built with `settingsPage`, `requireUser` and `requireCsrf`
 * (guards.ts), and `sendHtml`/`formField` (web.ts).
 */
export const SETTINGS_TABS: SettingsTab[] = [
  { id: 'integrations', label: 'Integrations', href: '/dashboard/settings/integrations' },
  { id: 'connected-apps', label: 'Connected applications', href: '/dashboard/settings/connected-apps' },
  { id: 'notifications', label: 'Notifications', href: '/dashboard/settings/notifications' },
  { id: 'password', label: 'Password', href: '/dashboard/settings/password' },
];

export function settingsPage(options: { active: string; title: string; body: SafeHtml; user: { email: string }; csrfToken: string }): string {
  const tabs = html`<nav aria-label="Settings"><ul class="tabs">${SETTINGS_TABS.map(
    (tab) => html`<li><a href="${tab.href}"${tab.id === options.active ? html` aria-current="page"` : html``}>${tab.label}</a></li>`,
  )}</ul></nav>`;
  return layout({
    title: options.title,
    user: options.user,
    csrfToken: options.csrfToken,
    body: html`<h1>Settings</h1>${tabs}${options.body}`,
  });
}
