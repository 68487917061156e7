/** Small input checks shared by the audience modules. */

// Building an Intl.DateTimeFormat costs tens of microseconds; bulk imports check the same few
// zones again and again. The cache only ever holds names that exist (a bounded set).
const knownZones = new Set<string>();

export function isTimeZone(zone: string): boolean {
  if (!zone || zone.length > 64) return false;
  if (knownZones.has(zone)) return true;
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
    knownZones.add(zone);
    return true;
  } catch {
    return false;
  }
}

/** A calendar date written YYYY-MM-DD that exists (no 2021-02-30). */
export function isCalendarDate(value: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d && y >= 1000;
}

// C0/C1 control characters (tab, newline and the like) have no place in a name or a city.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
export const hasControlCharacters = (value: string): boolean => CONTROL.test(value);

export const EMAIL_RE = /^[^\s@]+@[^\s@]+\.[^\s@]+$/;
