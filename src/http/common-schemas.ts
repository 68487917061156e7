import { Type } from '@sinclair/typebox';

/** Path parameter `{id}`: a UUID. Anything else is answered 404, like an id that does not exist. */
export const IdParams = Type.Object({ id: Type.String({ format: 'uuid', description: 'unique uuid' }) });

export const ErrorSchema = Type.Object(
  {
    status: Type.Integer(),
    message: Type.String(),
    errors: Type.Record(Type.String(), Type.Array(Type.String())),
  },
  { $id: 'Error', title: 'Error' },
);

/** The error responses every authenticated route can give, for the OpenAPI document. */
export const standardErrors = {
  400: ErrorSchema,
  401: ErrorSchema,
  403: ErrorSchema,
  404: ErrorSchema,
  429: ErrorSchema,
};
