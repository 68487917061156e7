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
import { dashboardRoutes } from './dashboard/dashboard.routes.js';
import { registerBrowserContext } from './dashboard/web.js';
import { campaignTemplatesRoutes } from './modules/campaigns/campaign-templates.js';
import { campaignsRoutes } from './modules/campaigns/campaigns.routes.js';
import { couponsRoutes } from './modules/coupons/coupons.routes.js';
import { publicPagesRoutes } from './modules/coupons/public-pages.routes.js';
import { accountRoutes } from './modules/accounts/accounts.routes.js';
import { carriersRoutes } from './modules/carriers/carriers.routes.js';
import { authorizeRoutes, oauthEndpoints } from './modules/oauth/oauth.routes.js';
import { webhooksRoutes } from './modules/webhooks/webhooks.routes.js';
import { contactsRoutes } from './modules/contacts/contacts.routes.js';
import { fieldsRoutes } from './modules/fields/fields.routes.js';
import { groupsRoutes } from './modules/groups/groups.routes.js';
import { importsRoutes } from './modules/imports/imports.routes.js';
import { optInsRoutes } from './modules/optins/optins.routes.js';
import { phoneNumbersRoutes } from './modules/phone-numbers/phone-numbers.routes.js';
import { messagesRoutes } from './modules/messages/messages.routes.js';
import { scheduledMessagesRoutes } from './modules/messages/scheduled.routes.js';
import { simulatorRoutes } from './transports/simulator/simulator.routes.js';

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
  /** Where the default logger writes (stdout unless given; tests capture it). */
  logStream?: { write(line: string): void } | undefined;
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
      ...(options.logStream ? { stream: options.logStream } : {}),
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
  await app.register(publicPagesRoutes);

  await app.register(
    async (v1) => {
      requireJsonAcceptable(v1);
      registerBearerAuth(v1, v1.services.tokens);
      await registerRateLimit(v1, { max: config.rateLimit.max, windowMs: config.rateLimit.windowMs, redis: options.redis });
      await v1.register(accountRoutes);
      await v1.register(carriersRoutes);
      await v1.register(webhooksRoutes);
      await v1.register(optInsRoutes);
      await v1.register(phoneNumbersRoutes);
      await v1.register(fieldsRoutes);
      await v1.register(groupsRoutes);
      await v1.register(contactsRoutes);
      await v1.register(campaignTemplatesRoutes);
      await v1.register(campaignsRoutes);
      await v1.register(couponsRoutes);
      await v1.register(messagesRoutes);
      await v1.register(scheduledMessagesRoutes);
      await v1.register(importsRoutes);
    },
    { prefix: '/v1' },
  );

  // Browser-facing pages (dashboard, OAuth consent): cookies, sessions, forms, CSRF, HTML.
  await app.register(async (browser) => {
    await registerBrowserContext(browser);
    await browser.register(dashboardRoutes, { prefix: '/dashboard' });
    await browser.register(authorizeRoutes);
  });
  // OAuth endpoints called by applications: forms or JSON in, RFC 6749 JSON out.
  await app.register(oauthEndpoints);
  // The simulated carrier's controls exist only while it is the transport (DECISIONS.md).
  if (config.messaging.transport === 'simulator') {
    await app.register(
      async (sim) => {
        requireJsonAcceptable(sim);
        registerBearerAuth(sim, sim.services.tokens);
        await sim.register(simulatorRoutes);
      },
      { prefix: '/simulator' },
    );
  }

  return app;
}
