import { html, layout, type SafeHtml } from './html.js';

export interface SettingsTab {
  id: string;
  label: string;
  href: string;
}

/**
 * The Settings tabs, in order. A feature adds its tab here (one entry) and registers its page
 * under /dashboard/settings/ using `settingsPage` and the helpers in web.ts and guards.ts.
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
