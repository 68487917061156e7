import { isCalendarDate } from '../../lib/validate.js';
import type { FieldType } from './fields.tables.js';

export const MAX_TEXT_VALUE_LENGTH = 1000;

export type FieldValue = string | number | boolean;

/**
 * Custom-field values are stored as canonical text per type. `encode` checks a value from JSON
 * (or a CSV cell, always a string) against the field's type; `decode` gives the JSON value back.
 */
export function encodeFieldValue(type: FieldType, value: unknown): { ok: true; value: string } | { ok: false; reason: string } {
  switch (type) {
    case 'text':
      if (typeof value !== 'string') return { ok: false, reason: 'Must be a string.' };
      if (value.length > MAX_TEXT_VALUE_LENGTH) return { ok: false, reason: `May not be longer than ${MAX_TEXT_VALUE_LENGTH} characters.` };
      return { ok: true, value };
    case 'number': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && /^\s*-?\d+(\.\d+)?([eE][-+]?\d+)?\s*$/.test(value) ? Number(value) : NaN;
      if (!Number.isFinite(n) || Math.abs(n) > 1e15) return { ok: false, reason: 'Must be a number.' };
      return { ok: true, value: String(n) };
    }
    case 'date':
      if (typeof value !== 'string' || !isCalendarDate(value.trim())) return { ok: false, reason: 'Must be a date (YYYY-MM-DD).' };
      return { ok: true, value: value.trim() };
    case 'boolean':
      if (typeof value === 'boolean') return { ok: true, value: String(value) };
      if (typeof value === 'string' && /^(true|false)$/i.test(value.trim())) return { ok: true, value: value.trim().toLowerCase() };
      return { ok: false, reason: 'Must be true or false.' };
  }
}

export function decodeFieldValue(type: FieldType, value: string): FieldValue {
  if (type === 'number') return Number(value);
  if (type === 'boolean') return value === 'true';
  return value;
}
