import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config.js';
import { createServices } from '../src/container.js';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import { CARRIER_SEED } from '../src/modules/carriers/carriers.seed.js';
import { DEFAULT_BENCH_DATABASE_URL, dropDatabase, freePort, freshDatabase, load, medianBy, startProcess, stopProcess, type LoadResult } from './lib.js';

/**
 * Issue 2's benchmark: an authenticated GET /v1/carriers/{id} (bearer lookup, scope check,
 * rate limiting, request logging at the default level, one database read) against a bare
 * Fastify route on the same machine, each served by its own process and loaded by autocannon.
 */
export async function runHttpBench(opts: { databaseUrl?: string; durationSeconds?: number; rounds?: number } = {}) {
  const serverUrl = opts.databaseUrl ?? DEFAULT_BENCH_DATABASE_URL;
  const duration = opts.durationSeconds ?? 5;
  const rounds = opts.rounds ?? 3;
  const dbName = 'shortcode_bench_http';
  const databaseUrl = await freshDatabase(serverUrl, dbName);

  const database = await openDatabase({ databaseUrl, poolSize: 2 });
  await migrateToLatest(database.db);
  const services = createServices(database.db, loadConfig({ NODE_ENV: 'production' }));
  const { account, user } = await services.accounts.create({ name: 'Bench', email: 'bench@example.test', password: 'bench-password' });
  const { token } = await services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 'bench' });
  await database.close();

  const carrierId = CARRIER_SEED[0]!.id;
  const apiPort = await freePort();
  const api = await startProcess(
    process.execPath,
    ['--import', 'tsx', fileURLToPath(new URL('../src/server.ts', import.meta.url))],
    { DATABASE_URL: databaseUrl, PORT: String(apiPort), NODE_ENV: 'production', ROLE: 'api', SECRETS_KEY: process.env.SECRETS_KEY ?? Buffer.alloc(32, 7).toString('base64'), RATE_LIMIT_MAX: '1000000000', LOG_LEVEL: 'info' },
    /listening on/,
  );
  const barePort = await freePort();
  const bare = await startProcess(process.execPath, ['--import', 'tsx', fileURLToPath(new URL('./http-baseline.ts', import.meta.url))], { PORT: String(barePort) }, /LISTENING/);
  try {
    const authUrl = `http://127.0.0.1:${apiPort}/v1/carriers/${carrierId}`;
    const bareUrl = `http://127.0.0.1:${barePort}/bare`;
    const headers = { authorization: `Bearer ${token}` };
    // Warm up both (JIT, connection pools), then measure.
    await load(authUrl, headers, 2);
    await load(bareUrl, {}, 2);
    // Alternate short rounds and keep the median of each, so a burst of load from anything
    // else on the machine skews both sides alike instead of one.
    const authRounds: LoadResult[] = [];
    const bareRounds: LoadResult[] = [];
    for (let round = 0; round < rounds; round++) {
      authRounds.push(await load(authUrl, headers, duration));
      bareRounds.push(await load(bareUrl, {}, duration));
    }
    const authenticated = medianBy(authRounds, (r) => r.requestsPerSecond);
    const baseline = medianBy(bareRounds, (r) => r.requestsPerSecond);
    return {
      scenario: 'GET /v1/carriers/{id} (authenticated) vs bare Fastify route',
      rounds,
      secondsPerRound: duration,
      authenticated,
      baseline,
      throughputRatio: Number((authenticated.requestsPerSecond / baseline.requestsPerSecond).toFixed(3)),
      target: 'authenticated throughput >= 50% of the bare route',
    };
  } finally {
    await stopProcess(api);
    await stopProcess(bare);
    await dropDatabase(serverUrl, dbName);
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(await runHttpBench({ databaseUrl: process.env.DATABASE_URL }), null, 2));
}
