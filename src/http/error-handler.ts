import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import findMyWay, { type HTTPVersion, type Instance } from 'find-my-way';
import { AppError, type FieldErrors } from '../lib/errors.js';

/**
 * The one place errors become HTTP responses. Every error, whatever threw it, leaves as
 * `{status, message, errors}`; a 5xx never carries internals (they go to the log with the
 * request id instead).
 */
export function sendError(reply: FastifyReply, status: number, message: string, errors: FieldErrors = {}, headers: Record<string, string> = {}) {
  for (const [name, value] of Object.entries(headers)) reply.header(name, value);
  return reply.code(status).type('application/json; charset=utf-8').send({ status, message, errors });
}

const GENERIC_400 = 'An error has occurred with your request and is unable to be processed.';
const GENERIC_500 = 'An error occurred on our server. Quote the X-Request-Id header if you contact us.';

interface AjvError {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Turns AJV errors into `errors` keyed by field (nested fields dotted: messages.0.phone_number). */
export function fieldErrorsFromValidation(validation: AjvError[]): FieldErrors {
  const errors: FieldErrors = {};
  for (const e of validation) {
    let field = (e.instancePath ?? '').replace(/^\//, '').replace(/\//g, '.');
    let message = e.message ?? 'is invalid';
    if (e.keyword === 'required' && typeof e.params?.missingProperty === 'string') {
      field = field ? `${field}.${e.params.missingProperty}` : e.params.missingProperty;
      message = 'This field is required.';
    } else if (e.keyword === 'additionalProperties' && typeof e.params?.additionalProperty === 'string') {
      field = field ? `${field}.${e.params.additionalProperty}` : e.params.additionalProperty;
      message = 'This field is not allowed.';
    } else if (e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      message = 'Has an invalid type or value.';
    } else {
      message = `Must ${message.replace(/^must /, '')}.`;
    }
    const key = field || 'body';
    const list = (errors[key] ??= []);
    if (!list.includes(message)) list.push(message);
  }
  return errors;
}

const CONNECTION_ERROR_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'ENOTFOUND', 'EAI_AGAIN', '57P01', '57P02', '57P03', '53300']);

/** Errors meaning "the database is out of reach right now": answered 503 so clients retry. */
export function isDatabaseUnavailable(error: unknown): boolean {
  const e = error as { code?: unknown; message?: unknown } | null;
  if (!e) return false;
  if (typeof e.code === 'string' && (CONNECTION_ERROR_CODES.has(e.code) || e.code.startsWith('08'))) return true;
  const message = typeof e.message === 'string' ? e.message : '';
  return /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|embedded database is closed|PGlite is closed|driver has already been destroyed|Cannot use a pool after calling end/i.test(message);
}

/** The disk under the database (or a file the server writes) is full. */
export function isStorageFull(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '53100' || code === 'ENOSPC';
}

export function registerErrorHandling(app: FastifyInstance): void {
  // A shadow router of every registered route, to tell "no such path" (404) from "path exists,
  // not with this method" (405, with Allow), which Fastify's router does not distinguish.
  const shadow: Instance<HTTPVersion.V1> = findMyWay({ ignoreTrailingSlash: false });
  const methods = new Set<string>();
  app.addHook('onRoute', (route) => {
    for (const method of [route.method].flat()) {
      methods.add(method);
      try {
        shadow.on(method as never, route.url, () => undefined);
      } catch {
        // duplicate shapes are fine: we only ask whether one exists
      }
    }
  });

  app.setNotFoundHandler((request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?', 1)[0]!;
    const allowed = [...methods].filter((m) => m !== request.method && shadow.find(m as never, path));
    if (allowed.length > 0 && !shadow.find(request.method as never, path)) {
      return sendError(reply, 405, `The ${request.method} method is not supported for this route.`, {}, { allow: allowed.sort().join(', ') });
    }
    return sendError(reply, 404, 'Resource not found.');
  });

  app.setErrorHandler((error: FastifyError & { validationContext?: string }, request, reply) => {
    if (error instanceof AppError) {
      if (error.status >= 500) request.log.error({ err: error }, 'request failed');
      return sendError(reply, error.status, error.message, error.errors, error.headers);
    }
    if (error.validation) {
      const errors = fieldErrorsFromValidation(error.validation as AjvError[]);
      switch (error.validationContext) {
        case 'params':
          return sendError(reply, 404, 'Resource not found.');
        case 'querystring':
          return sendError(reply, 400, 'The query string is invalid.', prefixKeys(errors));
        case 'headers':
          return sendError(reply, 400, 'A request header is invalid.', errors);
        default:
          return sendError(reply, 422, 'A validation error occurred', errors);
      }
    }
    switch (error.code) {
      case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
        return sendError(reply, 415, 'Unsupported media type: send JSON (Content-Type: application/json).');
      case 'FST_ERR_CTP_BODY_TOO_LARGE':
        return sendError(reply, 413, 'The request body is too large.');
      case 'FST_ERR_CTP_INVALID_JSON_BODY':
      case 'FST_ERR_CTP_EMPTY_JSON_BODY':
        return sendError(reply, 400, 'The request body is not valid JSON.');
      case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
        return sendError(reply, 400, 'The Content-Length header does not match the body.');
    }
    // SQLSTATE class 22 (data exception: a NUL character, a number out of range, an impossible
    // date) means a value from the request could not be stored or compared: the request is bad.
    const sqlState = (error as { code?: unknown }).code;
    if (typeof sqlState === 'string' && /^22[0-9A-Z]{3}$/.test(sqlState)) {
      request.log.info({ err: error }, 'request value refused by the database');
      return sendError(reply, 400, 'A value in the request cannot be stored or compared (for example a NUL character or an out-of-range number).');
    }
    if (isStorageFull(error)) {
      // PostgreSQL's disk_full (53100), from the server or the embedded database, or a file the
      // server writes itself: the statement failed whole and its transaction rolled back.
      request.log.error({ err: error }, 'storage full: the database cannot grow; free disk space');
      return sendError(reply, 507, 'The server has run out of storage space: nothing was saved. Try again once space has been freed.');
    }
    if (isDatabaseUnavailable(error)) {
      request.log.error({ err: error }, 'database unavailable');
      return sendError(reply, 503, 'The service is temporarily unavailable. Please try again later.', {}, { 'retry-after': '5' });
    }
    const status = typeof error.statusCode === 'number' ? error.statusCode : 500;
    if (status >= 400 && status < 500) return sendError(reply, status, GENERIC_400);
    request.log.error({ err: error }, 'unhandled error');
    return sendError(reply, 500, GENERIC_500);
  });
}

function prefixKeys(errors: FieldErrors): FieldErrors {
  // AJV reports querystring fields by their parsed shape (filter.x); show them as sent (filter[x]).
  const out: FieldErrors = {};
  for (const [key, value] of Object.entries(errors)) {
    const [head, ...rest] = key.split('.');
    out[rest.length ? `${head}[${rest.join('][')}]` : key] = value;
  }
  return out;
}
