import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * `T | null` written as a JSON-schema type array (`type: ['string', 'null']`) rather than an
 * `anyOf`: the response serialiser (fast-json-stringify) then writes the value directly instead
 * of validating each branch at run time, which matters on lists of 100 rows. Any `$id` of the
 * wrapped schema is dropped so the copy does not clash with the original.
 */
export function Nullable<T extends TSchema>(schema: T) {
  const { $id: _id, title: _title, ...rest } = schema as TSchema & { $id?: string; title?: string; type?: string };
  return Type.Unsafe<Static<T> | null>({ ...rest, type: [rest.type as string, 'null'] });
}
