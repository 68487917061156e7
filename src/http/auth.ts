import type { FastifyInstance } from 'fastify';
import { ForbiddenError, UnauthorizedError } from '../lib/errors.js';
import type { TokensService } from '../modules/tokens/tokens.service.js';

const BEARER = /^Bearer[ ]+([^\s]{1,512})\s*$/i;

/**
 * Bearer authentication and the per-route scope check for every route registered in the
 * calling context. Routes must name their scope; a route that forgot is closed (403), not open.
 */
export function registerBearerAuth(app: FastifyInstance, tokens: TokensService): void {
  app.decorateRequest('auth', null);
  app.addHook('onRequest', async (request) => {
    const config = request.routeOptions.config;
    if (config.public) return;
    const header = request.headers.authorization;
    if (!header) throw new UnauthorizedError('Unauthenticated: send an access token as "Authorization: Bearer <token>".');
    const match = BEARER.exec(header);
    if (!match) throw new UnauthorizedError('Unauthenticated: the Authorization header must be "Bearer <token>".');
    const token = await tokens.authenticate(match[1]!);
    if (!token) throw new UnauthorizedError('Unauthenticated: the access token is invalid, expired or revoked.');
    request.auth = token;
    if (!config.scope || !token.scopes.has(config.scope)) {
      throw new ForbiddenError(`This action is unauthorized: the token lacks the "${config.scope ?? 'required'}" scope.`);
    }
  });
}
