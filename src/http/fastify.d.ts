import 'fastify';
import type { Scope } from '../modules/tokens/scopes.js';

export interface RequestAuth {
  accountId: string;
  tokenId: string;
  userId: string | null;
  scopes: ReadonlySet<string>;
  kind: 'personal' | 'oauth';
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The scope a token must hold to call this route (every authenticated route names one). */
    scope?: Scope;
    /** Routes open without a token (health, docs, OpenAPI). */
    public?: boolean;
  }
  interface FastifyRequest {
    auth: RequestAuth | null;
  }
}
