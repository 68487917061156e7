import { parseTemplate, unknownTags } from './merge-tags.js';

/** Problems with a campaign message (unbalanced or unknown merge tags); empty when it is fine. */
export type MessageChecker = (accountId: string, message: string, options: { allowCoupon: boolean }) => Promise<string[]>;

export function createMessageChecker(deps: { customFieldNames(accountId: string): Promise<ReadonlySet<string>> }): MessageChecker {
  return async (accountId, message, options) => {
    if (!message.trim()) return ['The message must not be blank.'];
    const { nodes, errors } = parseTemplate(message);
    if (errors.length) return errors;
    const unknown = unknownTags(nodes, await deps.customFieldNames(accountId), options.allowCoupon);
    return unknown.map((name) =>
      name.toLowerCase() === 'coupon_url'
        ? 'The {coupon_url} merge tag needs a coupon (coupon_id).'
        : `Unknown merge tag {${name}}: use a contact attribute (first_name, last_name, email, ...) or a custom field name.`,
    );
  };
}
