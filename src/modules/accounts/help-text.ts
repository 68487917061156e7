/** The answer to an inbound HELP/INFO while the account has set none of its own. */
export function defaultHelpText(accountName: string): string {
  return `${accountName}: Reply STOP to unsubscribe. Msg&data rates may apply.`;
}
