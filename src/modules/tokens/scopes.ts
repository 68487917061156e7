/** The reference's scopes, plus `webhooks.manage` for the webhook API and `account.*` for /v1/account. */
export const SCOPES = [
  'campaigns.create',
  'campaigns.delete',
  'campaigns.update',
  'campaigns.view',
  'contacts.create',
  'contacts.delete',
  'contacts.update',
  'contacts.view',
  'coupons.create',
  'coupons.delete',
  'coupons.update',
  'coupons.view',
  'groups.create',
  'groups.delete',
  'groups.update',
  'groups.view',
  'messages.create',
  'messages.unread.view',
  'messages.update',
  'messages.view',
  'message.schedule.view',
  'message.schedule.create',
  'message.schedule.update',
  'message.schedule.delete',
  'optins.view',
  'phone-numbers.lookup',
  'carriers.view',
  'webhooks.manage',
  'account.view',
  'account.update',
] as const;

export type Scope = (typeof SCOPES)[number];

const SCOPE_SET: ReadonlySet<string> = new Set(SCOPES);
export const isScope = (value: string): value is Scope => SCOPE_SET.has(value);

/** Plain-language descriptions, shown on the OAuth consent page and the token form. */
export const SCOPE_DESCRIPTIONS: Record<Scope, string> = {
  'campaigns.create': 'Create campaigns',
  'campaigns.delete': 'Delete campaigns',
  'campaigns.update': 'Change campaigns',
  'campaigns.view': 'See your campaigns and their results',
  'contacts.create': 'Add contacts',
  'contacts.delete': 'Delete contacts',
  'contacts.update': 'Change contacts and unsubscribe them',
  'contacts.view': 'See your contacts',
  'coupons.create': 'Create coupons',
  'coupons.delete': 'Delete coupons',
  'coupons.update': 'Change coupons',
  'coupons.view': 'See your coupons',
  'groups.create': 'Create groups',
  'groups.delete': 'Delete groups',
  'groups.update': 'Change groups',
  'groups.view': 'See your groups',
  'messages.create': 'Send text messages on your behalf (uses credits)',
  'messages.unread.view': 'See your unread inbox',
  'messages.update': 'Mark messages read or unread',
  'messages.view': 'See messages you sent and received',
  'message.schedule.view': 'See scheduled messages',
  'message.schedule.create': 'Schedule messages (uses credits)',
  'message.schedule.update': 'Change scheduled messages',
  'message.schedule.delete': 'Cancel scheduled messages',
  'optins.view': 'See your opt-ins',
  'phone-numbers.lookup': 'Look up phone numbers',
  'carriers.view': 'See mobile carriers',
  'webhooks.manage': 'Manage your webhook endpoints',
  'account.view': 'See your account, its credit balance and settings',
  'account.update': 'Change your account’s settings (help text, quiet hours, time zone)',
};

export function parseScopes(raw: string): Scope[] {
  const parts = raw.split(/\s+/).filter(Boolean);
  return [...new Set(parts)].filter(isScope);
}
