import accepts from '@fastify/accepts';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import type { Redis } from 'ioredis';
import qs from 'qs';
import type { Config } from './config.js';
import { createServices, type Services } from './container.js';
import type { Database } from './db/database.js';
import { AccessLogController } from './http/access-log.js';
import { registerBearerAuth } from './http/auth.js';
import { registerJsonBodies, requireJsonAcceptable } from './http/content-negotiation.js';
import { registerErrorHandling, sendError } from './http/error-handler.js';
import { registerHealthRoutes } from './http/health.js';
import { registerMetrics } from './http/metrics.js';
import { registerOpenApi } from './http/openapi.js';
import { registerRateLimit } from './http/rate-limit.js';
import { genRequestId, registerRequestId } from './http/request-id.js';
import { carriersRoutes } from './modules/carriers/carriers.routes.js';

declare module 'fastify' {
  interface FastifyInstance {
    config: Config;
    services: Services;
    database: Database;
  }
}

export interface AppOptions {
  config: Config;
  database: Database;
  redis?: Redis | undefined;
  /** Overrides the pino logger options (tests silence it; the server logs JSON). */
  logger?: FastifyServerOptions['logger'];
}

/**
 * Builds the HTTP application without listening, so tests drive it with `inject` and the server
 * entry point (src/server.ts) decides how to listen and shut down. Plugins load in order:
 * cross-cutting HTTP concerns, then the documentation, then the resources.
 */
export async function buildApp(options: AppOptions): Promise<FastifyInstance> {
  const { config, database } = options;
  const app = Fastify({
    logger: options.logger ?? {
      level: config.logLevel,
      redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.token', '*.client_secret'], censor: '[redacted]' },
    },
    logController: new AccessLogController(),
    genReqId: genRequestId,
    requestIdHeader: false,
    bodyLimit: config.bodyLimitBytes,
    trustProxy: config.trustProxy,
    // filter[field]=x and include[]=a need a parser that understands brackets.
    routerOptions: {
      querystringParser: (raw: string) => qs.parse(raw, { depth: 2, arrayLimit: 50, parameterLimit: 200, allowDots: false }),
      ignoreTrailingSlash: true,
    },
    // URLs the router cannot decode (invalid percent-encoding, lone surrogates) or with a path
    // segment over 100 characters cannot name a resource: 404 in the documented shape.
    frameworkErrors: (error, request, reply) => {
      reply.header('x-request-id', request.id);
      if (error.code === 'FST_ERR_BAD_URL' || error.code === 'FST_ERR_MAX_PARAM_LENGTH') return sendError(reply, 404, 'Resource not found.');
      request.log.error({ err: error }, 'router error');
      return sendError(reply, 500, 'An error occurred on our server. Quote the X-Request-Id header if you contact us.');
    },
    ajv: { customOptions: { allErrors: true, coerceTypes: 'array', removeAdditional: true, useDefaults: true } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorate('config', config);
  app.decorate('database', database);
  app.decorate('services', createServices(database.db, config));

  await app.register(accepts);
  registerErrorHandling(app);
  registerRequestId(app);
  registerJsonBodies(app);
  registerHealthRoutes(app, database.db);
  registerMetrics(app, database.db, { token: config.metricsToken });
  // A worker process (ROLE=worker) answers only health and metrics; the API is ROLE=api/all's.
  if (config.role === 'worker') return app;
  await registerOpenApi(app);

  await app.register(
    async (v1) => {
      requireJsonAcceptable(v1);
      registerBearerAuth(v1, v1.services.tokens);
      await registerRateLimit(v1, { max: config.rateLimit.max, windowMs: config.rateLimit.windowMs, redis: options.redis });
      await v1.register(carriersRoutes);
    },
    { prefix: '/v1' },
  );

  return app;
}
