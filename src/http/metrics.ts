import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import client from 'prom-client';
import type { DB } from '../db/tables.js';
import { createJobsRepo } from '../jobs/jobs.repo.js';
import { addObserver } from '../lib/observe.js';
import { constantTimeEqual } from '../lib/secrets.js';

declare module 'fastify' {
  interface FastifyInstance {
    metrics: client.Registry;
  }
}

/**
 * Prometheus metrics at GET /metrics. Each app has its own registry (tests build several apps
 * in one process); modules add their own metrics to `app.metrics`. Queue figures are read from
 * PostgreSQL at scrape time, so every process reports the same shared queue.
 */
export function registerMetrics(app: FastifyInstance, db: Kysely<DB>, options: { token?: string | undefined }): void {
  const registry = new client.Registry();
  client.collectDefaultMetrics({ register: registry });
  app.decorate('metrics', registry);

  const requestDuration = new client.Histogram({
    name: 'shortcode_http_request_duration_seconds',
    help: 'HTTP request latency by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  app.addHook('onResponse', async (request, reply) => {
    // Unknown paths share one label so a scanner cannot blow up the series count.
    const route = request.routeOptions.url ?? 'unmatched';
    requestDuration.observe({ method: request.method, route, status: String(reply.statusCode) }, reply.elapsedTime / 1000);
  });

  const jobs = createJobsRepo(db);
  new client.Gauge({
    name: 'shortcode_jobs',
    help: 'Background jobs in the queue by kind and status',
    labelNames: ['kind', 'status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await jobs.depthByKind()) this.set({ kind: row.kind, status: row.status }, row.count);
    },
  });
  new client.Gauge({
    name: 'shortcode_jobs_oldest_age_seconds',
    help: 'Age of the oldest due job by kind (how far behind the workers are)',
    labelNames: ['kind'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      const now = Date.now();
      for (const row of await jobs.depthByKind()) {
        if (row.status === 'queued' && row.oldest) this.set({ kind: row.kind }, Math.max(0, (now - row.oldest.getTime()) / 1000));
      }
    },
  });

  // Messages by status and delivery code, and the credits they carry, read from PostgreSQL at
  // scrape time (every process reports the same totals; at most one query per 10 s each).
  let messageStats: { at: number; rows: Array<{ status: string; code: number | null; count: number; credits: number }> } | undefined;
  const loadMessageStats = async () => {
    if (messageStats && Date.now() - messageStats.at < 10_000) return messageStats.rows;
    const exists = (await sql<{ t: string | null }>`SELECT to_regclass('messages')::text AS t`.execute(db)).rows[0]?.t;
    const rows = exists
      ? (
          await sql<{ status: string; code: number | null; count: number; credits: number }>`
            SELECT status, receipt_code AS code, count(*)::int AS count, coalesce(sum(credits), 0)::int AS credits
            FROM messages GROUP BY status, receipt_code`.execute(db)
        ).rows
      : [];
    messageStats = { at: Date.now(), rows };
    return rows;
  };
  new client.Gauge({
    name: 'shortcode_messages',
    help: 'Messages in the database by status and delivery code (empty when none yet)',
    labelNames: ['status', 'code'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await loadMessageStats()) this.inc({ status: row.status, code: row.code === null ? '' : String(row.code) }, row.count);
    },
  });
  new client.Gauge({
    name: 'shortcode_message_credits',
    help: 'Credits charged for the messages in the database, by message status',
    labelNames: ['status'] as const,
    registers: [registry],
    async collect() {
      this.reset();
      for (const row of await loadMessageStats()) this.inc({ status: row.status }, row.credits);
    },
  });

  // What the services report through src/lib/observe.ts (webhook attempts, SMPP window).
  const webhookAttempts = new client.Counter({
    name: 'shortcode_webhook_attempts_total',
    help: 'Webhook delivery attempts by outcome',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });
  const smppInFlight = new client.Gauge({ name: 'shortcode_smpp_window_in_flight', help: 'SMPP submits awaiting a response, per bind', labelNames: ['bind'] as const, registers: [registry] });
  const smppWindowSize = new client.Gauge({ name: 'shortcode_smpp_window_size', help: 'SMPP window size, per bind', labelNames: ['bind'] as const, registers: [registry] });
  const removeObserver = addObserver({
    webhookAttempt: (outcome) => webhookAttempts.inc({ outcome }),
    smppWindow: (bind, inFlight, size) => {
      smppInFlight.set({ bind }, inFlight);
      smppWindowSize.set({ bind }, size);
    },
  });
  app.addHook('onClose', async () => {
    removeObserver();
  });

  app.get('/metrics', { config: { public: true }, schema: { hide: true } }, async (request, reply) => {
    if (options.token) {
      const presented = /^Bearer (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
      if (!constantTimeEqual(presented, options.token)) {
        return reply.code(401).send({ status: 401, message: 'A metrics token is required.', errors: {} });
      }
    }
    reply.type(registry.contentType);
    return registry.metrics();
  });
}
