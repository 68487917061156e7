import http from 'node:http';
import { Webhook } from 'standardwebhooks';

/**
 * The receiver of the webhook benchmark: verifies the Standard Webhooks signature of every
 * POST with the `standardwebhooks` package and answers 204 when it verifies, 401 otherwise.
 * A POST to /hooks/<i> is verified with the i-th secret of WEBHOOK_SECRETS (comma separated),
 * as a real receiver knows which endpoint a request is for: one verification per request,
 * whichever client sends it. GET /stats returns the counts.
 */
const verifiers = (process.env.WEBHOOK_SECRETS ?? '').split(',').filter(Boolean).map((s) => new Webhook(s));
let verified = 0;
let rejected = 0;
const ids = new Set<string>();

const server = http.createServer((req, res) => {
  if (req.method === 'GET') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ verified, rejected, uniqueIds: ids.size }));
    return;
  }
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = {
      'webhook-id': String(req.headers['webhook-id'] ?? ''),
      'webhook-timestamp': String(req.headers['webhook-timestamp'] ?? ''),
      'webhook-signature': String(req.headers['webhook-signature'] ?? ''),
    };
    const match = /^\/hooks\/(\d+)$/.exec(req.url ?? '');
    const verifier = match ? verifiers[Number(match[1])] : undefined;
    let ok = false;
    try {
      if (verifier) {
        verifier.verify(body, headers);
        ok = true;
      }
    } catch {
      ok = false;
    }
    if (ok) {
      verified += 1;
      ids.add(headers['webhook-id']);
    } else rejected += 1;
    res.writeHead(ok ? 204 : 401);
    res.end();
  });
});
server.keepAliveTimeout = 5_000;
server.listen(Number(process.env.PORT ?? 0), '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`LISTENING ${typeof address === 'object' && address ? address.port : ''}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
