import type { FastifyInstance } from 'fastify';
import secureJsonParse from 'secure-json-parse';
import { AppError } from '../lib/errors.js';

/**
 * JSON in, JSON out. Existing clients send `Content-Type: application/json` on every request,
 * GET and DELETE included, often with an empty body or `[]`: both mean "no fields" here.
 * Bodies of other types are refused with 415 by Fastify (no parser is registered for them,
 * except on the routes that take forms, which register their own).
 */
export function registerJsonBodies(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  // Fastify parses text/plain by default; a text body is not JSON, so it is a 415 like any other.
  app.removeContentTypeParser('text/plain');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '' || text === '[]') {
      done(null, {});
      return;
    }
    if (nestedDeeperThan(text, MAX_JSON_DEPTH)) {
      done(new AppError(400, `The request body is nested more than ${MAX_JSON_DEPTH} levels deep.`), undefined);
      return;
    }
    try {
      done(null, secureJsonParse.parse(text, undefined, { protoAction: 'error', constructorAction: 'error' }));
    } catch {
      done(new AppError(400, 'The request body is not valid JSON.'), undefined);
    }
  });

  // A POST/PUT/PATCH with no body at all is the same as `{}`.
  app.addHook('preValidation', async (request) => {
    if (request.body === undefined && (request.method === 'POST' || request.method === 'PUT' || request.method === 'PATCH')) {
      request.body = {};
    }
  });
}

/** No request of this API nests deeper than a few levels; a deeper body is refused before parsing. */
const MAX_JSON_DEPTH = 32;

/** Whether JSON text opens more than `max` objects/arrays at once (strings skipped); O(length). */
export function nestedDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

/** 406 when the client's Accept header rules out JSON (a missing header accepts anything). */
export function requireJsonAcceptable(app: FastifyInstance): void {
  app.addHook('onRequest', async (request) => {
    const accept = request.headers.accept;
    // Fast path for what nearly every client sends; full negotiation only for anything else.
    if (!accept || accept === '*/*' || accept === 'application/json') return;
    if (request.accepts().type(['application/json']) === false) {
      throw new AppError(406, 'This API only produces application/json; the Accept header excludes it.');
    }
  });
}
