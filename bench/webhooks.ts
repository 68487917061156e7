import http from 'node:http';
import { fileURLToPath } from 'node:url';
import pino from 'pino';
import { sql } from 'kysely';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { createEventsRepo } from '../src/modules/events/events.repo.js';
import { buildRejectedMessagePayload, serializeWebhookPayload } from '../src/modules/webhooks/webhook-payloads.js';
import { generateWebhookMessageId, signPayload } from '../src/modules/webhooks/webhook-signing.js';
import { createWebhookWorker } from '../src/modules/webhooks/webhook-worker.js';
import { cpuMeter, DEFAULT_BENCH_DATABASE_URL, dropDatabase, freePort, freshDatabase, medianBy, startProcess, stopProcess } from './lib.js';

/**
 * Issue 6's benchmark: signed webhook deliveries per second from the outbox to a local
 * receiver (its own process) that verifies every signature with the `standardwebhooks`
 * package, against the same receiver hit by a bare HTTP client loop sending the same signed
 * body with the same concurrency: once with a fresh connection per request (how the delivery
 * core sends without a pool) and once over keep-alive connections (how the workers send, with
 * their pool of connections per checked address), the fairer baseline.
 *
 * The delivery figure is end to end: fan-out of the events into deliveries, claims with the
 * per-endpoint limit, signing, the POST, and recording every attempt in the database. The
 * worker runs with WEBHOOKS_CONCURRENCY=256 and WEBHOOKS_MAX_IN_FLIGHT_PER_ENDPOINT=64 (4
 * endpoints) unless told otherwise. After a warm-up run of the bare loop, ours and both bare loops
 * take turns for three rounds; each figure is the median of its rounds.
 */
export async function runWebhooksBench(opts: { databaseUrl?: string; events?: number; endpoints?: number; concurrency?: number; maxInFlightPerEndpoint?: number; rounds?: number } = {}): Promise<Record<string, unknown>> {
  const serverUrl = opts.databaseUrl ?? DEFAULT_BENCH_DATABASE_URL;
  const rounds = opts.rounds ?? 3;
  const events = opts.events ?? 5_000;
  const endpointCount = opts.endpoints ?? 4;
  const dbName = 'shortcode_bench_webhooks';
  const databaseUrl = await freshDatabase(serverUrl, dbName);
  const config = loadConfig({
    NODE_ENV: 'production',
    DATABASE_URL: databaseUrl,
    SECRETS_KEY: Buffer.alloc(32, 7).toString('base64'),
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    WEBHOOKS_CONCURRENCY: String(opts.concurrency ?? 256),
    WEBHOOKS_MAX_IN_FLIGHT_PER_ENDPOINT: String(opts.maxInFlightPerEndpoint ?? 64),
    LOG_LEVEL: 'silent',
  });
  const database = await openDatabase({ databaseUrl, poolSize: 10 });
  const port = await freePort();
  let receiver: Awaited<ReturnType<typeof startProcess>> | undefined;
  try {
    await migrateToLatest(database.db);
    const services = createServices(database.db, config);
    const { account } = await services.accounts.create({ name: 'Bench', email: 'bench@example.test', password: 'bench-password' });
    const secrets: string[] = [];
    for (let i = 0; i < endpointCount; i++) {
      const endpoint = await services.webhooks.create(account.id, { url: `http://127.0.0.1:${port}/hooks/${i}`, events: ['rejected_message'] });
      secrets.push(endpoint.secret);
    }
    receiver = await startProcess(
      process.execPath,
      ['--import', 'tsx', fileURLToPath(new URL('./webhook-receiver.ts', import.meta.url))],
      { PORT: String(port), WEBHOOK_SECRETS: secrets.join(',') },
      /LISTENING/,
    );
    const stats = async () => JSON.parse(await get(`http://127.0.0.1:${port}/stats`)) as { verified: number; rejected: number; uniqueIds: number };

    const payload = buildRejectedMessagePayload({ code: null, message: 'Flash sale: 20% off today only. Reply STOP to opt out.', description: 'Unsubscribed' });
    const expected = events * endpointCount;
    const body = serializeWebhookPayload('rejected_message', payload);
    const concurrency = Math.min(config.webhooks.concurrency, config.webhooks.maxInFlightPerEndpoint * endpointCount);

    /** One round of ours: `events` new events fanned out to every endpoint, delivered, every attempt recorded. */
    const deliverRound = async (round: number) => {
      await database.db.transaction().execute(async (trx) => {
        const repo = createEventsRepo(trx);
        for (let i = 0; i < events; i++) await repo.record(account.id, 'rejected_message', payload);
      });
      const idsBefore = (await stats()).uniqueIds;
      const worker = createWebhookWorker({
        db: database.db,
        secretBox: services.secretBox,
        log: pino({ level: 'silent' }),
        config: config.webhooks,
        allowPrivateNetworks: true,
        pollIntervalMs: 20,
      });
      const cpu = cpuMeter({ receiver: receiver?.pid });
      const started = performance.now();
      worker.start();
      // Polls the receiver (not the database, which would compete with the workers), then waits
      // until every attempt is recorded.
      for (;;) {
        const delivered = (await stats()).uniqueIds - idsBefore;
        if (delivered >= expected) break;
        if (performance.now() - started > 300_000) throw new Error(`only ${delivered} of ${expected} delivered in 5 minutes`);
        await new Promise((r) => setTimeout(r, 25));
      }
      for (;;) {
        const row = await sql<{ n: number }>`SELECT count(*)::int AS n FROM webhook_deliveries WHERE status = 'delivered'`.execute(database.db);
        if (row.rows[0]!.n >= expected * (round + 1)) break;
        await new Promise((r) => setTimeout(r, 10));
      }
      const seconds = (performance.now() - started) / 1000;
      cpuRounds.ours.push(cpu());
      await worker.stop();
      return seconds;
    };

    // A warm-up run of the bare loop (a cold receiver answers slower, which would favour
    // whichever runs second), then ours and the two bare loops take turns; medians of the rounds.
    await bareLoop(port, body, secrets, concurrency, expected, true);
    const ourSeconds: number[] = [];
    const cpuRounds: Record<'ours' | 'bare' | 'keepAlive', Array<Record<string, number>>> = { ours: [], bare: [], keepAlive: [] };
    const measured = async (into: Array<Record<string, number>>, run: () => Promise<number>) => {
      const cpu = cpuMeter({ receiver: receiver?.pid });
      const result = await run();
      into.push(cpu());
      return result;
    };
    const bareRounds: number[] = [];
    const keepAliveRounds: number[] = [];
    for (let round = 0; round < rounds; round++) {
      ourSeconds.push(await deliverRound(round));
      // The bare loop: the same signed body, the same concurrency, no database, no claims.
      bareRounds.push(await measured(cpuRounds.bare, () => bareLoop(port, body, secrets, concurrency, expected, false)));
      keepAliveRounds.push(await measured(cpuRounds.keepAlive, () => bareLoop(port, body, secrets, concurrency, expected, true)));
    }
    const final = await stats();
    const seconds = medianBy(ourSeconds, (x) => x);
    const bare = medianBy(bareRounds, (x) => x);
    const bareKeepAlive = medianBy(keepAliveRounds, (x) => x);

    const deliveriesPerSecond = Math.round(expected / seconds);
    return {
      scenario: `${events} rejected_message events × ${endpointCount} endpoints → signed deliveries, verified by the receiver`,
      database: 'postgres',
      deliveries: expected,
      deliveriesPerSecond,
      rounds: { deliveriesPerSecond: ourSeconds.map((x) => Math.round(expected / x)), bareLoopPerSecond: bareRounds, bareKeepAlivePerSecond: keepAliveRounds },
      deliverySeconds: Number(seconds.toFixed(2)),
      // % of one core used in each round by this process (ours: the worker; bare: the client
      // loop), the receiver and the PostgreSQL server: where the machine's two cores went.
      cpuPercent: cpuRounds,
      // Over every round, ours and the bare loops' (each bare request signed with its own id).
      receiverVerified: final.verified,
      receiverRejected: final.rejected,
      uniqueWebhookIds: final.uniqueIds,
      concurrency,
      bareLoopPerSecond: bare,
      bareKeepAlivePerSecond: bareKeepAlive,
      ratioToBareLoop: Number((deliveriesPerSecond / bare).toFixed(3)),
      ratioToBareKeepAlive: Number((deliveriesPerSecond / bareKeepAlive).toFixed(3)),
      target: '>= 2000 signed deliveries/s and >= 50% of the bare loop',
    };
  } finally {
    if (receiver) await stopProcess(receiver);
    await database.close();
    await dropDatabase(serverUrl, dbName);
  }
}

function get(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    http.get(url, (res) => {
      let text = '';
      res.on('data', (c: Buffer) => (text += c.toString()));
      res.on('end', () => resolve(text));
    }).on('error', reject);
  });
}

/**
 * `total` POSTs of one signed body from `concurrency` loops, spread over the endpoints' paths
 * (each signed with that endpoint's secret, as the deliveries are); returns requests per second.
 */
async function bareLoop(port: number, body: string, secrets: readonly string[], concurrency: number, total: number, keepAlive: boolean): Promise<number> {
  const agent = keepAlive ? new http.Agent({ keepAlive: true, maxSockets: concurrency }) : false;
  let sent = 0;
  const one = (n: number) =>
    new Promise<void>((resolve, reject) => {
      const endpoint = n % secrets.length;
      const headers = signPayload({ msgId: generateWebhookMessageId(), timestamp: new Date(), body, secrets: [secrets[endpoint]!] });
      const req = http.request(
        {
          host: '127.0.0.1',
          port,
          path: `/hooks/${endpoint}`,
          method: 'POST',
          agent,
          headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)), ...(keepAlive ? {} : { connection: 'close' }) },
        },
        (res) => {
          res.resume();
          res.on('end', () => resolve());
        },
      );
      req.on('error', reject);
      req.end(body);
    });
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (sent < total) {
        sent += 1;
        await one(sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  if (agent) agent.destroy();
  return Math.round(total / seconds);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runWebhooksBench({ databaseUrl: process.env.DATABASE_URL }), null, 2));
}
