/** The API's one date format: UTC ISO 8601 with milliseconds, e.g. 2016-07-01T15:11:09.553Z. */
export function formatDate(value: Date): string;
export function formatDate(value: Date | null | undefined): string | null;
export function formatDate(value: Date | null | undefined): string | null {
  return value ? value.toISOString() : null;
}
