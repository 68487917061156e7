import http from 'node:http';
import { TestSmsc } from '../src/transports/smpp/test-smsc.js';

/**
 * The SMSC of the SMPP benchmark, in its own process as a carrier's would be (in the benchmark's
 * process it would take CPU from the client it measures). Accepts binds as test/secret, sends no
 * receipts. Serves GET on 127.0.0.1:STATS_PORT: `{ port, submits }` (its SMPP port and the
 * submit_sm PDUs received so far); prints LISTENING when ready.
 */
const smsc = await TestSmsc.start({ receipts: false });
const stats = http.createServer((_req, res) => {
  res.writeHead(200, { 'content-type': 'application/json' });
  res.end(JSON.stringify({ port: smsc.port, submits: smsc.submits.length }));
});
stats.listen(Number(process.env.STATS_PORT ?? 0), '127.0.0.1', () => process.stdout.write('LISTENING\n'));
process.on('SIGTERM', () => {
  stats.close();
  void smsc.close().then(() => process.exit(0));
});
