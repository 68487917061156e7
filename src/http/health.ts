/* eslint-disable @typescript-eslint/no-explicit-any */
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import { pendingMigrations } from '../db/migrator.js';

/** Liveness (the process answers) and readiness (the database answers and is fully migrated). */
export function registerHealthRoutes(app: FastifyInstance, db: Kysely<any>): void {
  app.get('/healthz', { config: { public: true }, schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { config: { public: true }, schema: { hide: true } }, async (_request, reply) => {
    try {
      await withTimeout(sql`SELECT 1`.execute(db), 2_000);
      const pending = await withTimeout(pendingMigrations(db), 2_000);
      if (pending.length > 0) {
        return reply.code(503).send({ status: 503, message: `Migrations pending: ${pending.join(', ')}`, errors: {} });
      }
      return { status: 'ready' };
    } catch {
      return reply.code(503).send({ status: 503, message: 'The database is unreachable.', errors: {} });
    }
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error('timed out')), ms);
    }),
  ]);
}
