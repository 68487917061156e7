import type { FastifyRequest } from 'fastify';

/** The product's absolute base URL: PUBLIC_URL when set, else the request's own origin. */
export function baseUrl(request: FastifyRequest, publicUrl: string | undefined): string {
  return publicUrl ?? `${request.protocol}://${request.host}`;
}
