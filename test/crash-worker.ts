/**
 * A dispatcher process for the crash tests: dispatches queued messages to the simulator (and
 * sends its delivery reports) until killed. Prints "ready" once running. Configured by env:
 * DATABASE_URL or DATA_DIR, DISPATCH_BATCH_SIZE, DISPATCH_LEASE_MS.
 */
import { openDatabase } from '../src/db/database.js';
import { applyDeliveryReports } from '../src/modules/messages/delivery-reports.js';
import { createDispatcher } from '../src/modules/messages/dispatcher.js';
import { SimulatorTransport } from '../src/transports/simulator/simulator-transport.js';

const database = await openDatabase({ databaseUrl: process.env.DATABASE_URL, dataDir: process.env.DATA_DIR, poolSize: 6 });
const transport = new SimulatorTransport({ db: database.db, reportDelayMs: 0, applyReports: applyDeliveryReports, pollIntervalMs: 20 });
// PRINT_PROGRESS=1: print "handed N" as batches are handed over (N counts this process's, so far;
// a batch whose transaction then fails is counted too, which only makes the test kill earlier).
if (process.env.PRINT_PROGRESS === '1') {
  let handed = 0;
  const handOver = transport.handOver.bind(transport);
  transport.handOver = async (trx, batch) => {
    const results = await handOver(trx, batch);
    handed += batch.length;
    process.stdout.write(`handed ${handed}\n`);
    return results;
  };
}
const dispatcher = createDispatcher({
  db: database.db,
  transport,
  batchSize: Number(process.env.DISPATCH_BATCH_SIZE ?? 500),
  concurrency: Number(process.env.DISPATCH_CONCURRENCY ?? 2),
  leaseMs: Number(process.env.DISPATCH_LEASE_MS ?? 1500),
  pollIntervalMs: 20,
  log: { info: () => undefined, warn: (o, m) => console.error(m, o), error: (o, m) => console.error(m, o) },
});
await transport.start();
dispatcher.start();
process.stdout.write('ready\n');

// EXIT_WHEN_IDLE=1: stop (gracefully) once nothing is left to send or to report.
if (process.env.EXIT_WHEN_IDLE === '1') {
  const timer = setInterval(() => {
    void (async () => {
      const left = await database.db
        .selectFrom('messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('status', 'in', ['queued', 'scheduled', 'sending'])
        .executeTakeFirstOrThrow();
      const reports = await database.db
        .selectFrom('simulator_messages')
        .select((eb) => eb.fn.countAll<number>().as('n'))
        .where('reported_at', 'is', null)
        .where('direction', '=', 'MT')
        .executeTakeFirstOrThrow();
      if (Number(left.n) === 0 && Number(reports.n) === 0) {
        clearInterval(timer);
        await dispatcher.stop();
        await transport.stop();
        await database.close();
        process.exit(0);
      }
    })();
  }, 250);
}
process.on('SIGTERM', () => {
  void dispatcher
    .stop()
    .then(() => transport.stop())
    .then(() => database.close())
    .then(() => process.exit(0));
});
