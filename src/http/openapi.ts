import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';

/**
 * The OpenAPI 3.1 document is generated from the route schemas (GET /v1/openapi.json) and
 * rendered as an interactive reference (GET /v1/docs). Register before the routes it describes.
 */
export async function registerOpenApi(app: FastifyInstance): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Shortcode API',
        version: '1.0.0',
        description:
          'SMS marketing API, compatible with the Mobiniti API v1. Authenticate with `Authorization: Bearer <token>` (a personal access token or an OAuth 2.0 access token). Errors are `{status, message, errors}`.',
      },
      servers: [{ url: '/' }],
      components: { securitySchemes: { bearerAuth: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearerAuth: [] }],
    },
    transform: ({ schema, url, route }) => {
      const config = route.config as { public?: boolean; scope?: string } | undefined;
      const out = { ...(schema as Record<string, unknown>) } as Record<string, unknown>;
      if (config?.public) out.security = [];
      if (config?.scope) out.description = `${(out.description as string | undefined) ?? ''}\n\nRequired scope: \`${config.scope}\``.trim();
      return { schema: out as never, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: '/v1/docs', uiConfig: { docExpansion: 'list', deepLinking: true } });
  app.get('/v1/openapi.json', { config: { public: true }, schema: { hide: true } }, async () => app.swagger());
}
