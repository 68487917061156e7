import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../src/db/database.js';
import { deliveryCode } from '../src/transports/delivery-codes.js';
import { simulatedDeliveryCode } from '../src/transports/simulator/simulator-transport.js';
import { createGroup, insertManyContacts } from './audience-fixtures.js';
import { DEFAULT_SERVER_URL, newAccountToken, privateRedis, scratchDatabase, startApisAndWorkers, startServer, waitFor, type PrivateRedis, type ServerProcess } from './processes.js';

/**
 * A campaign with real processes: 2 API and 2 worker processes (`src/server.ts --role api|worker`)
 * on one PostgreSQL database and one Redis. The campaign is launched through one API process and
 * followed through the other; one worker is SIGKILLed mid-send and a replacement started later.
 * Every contact gets exactly one message (the simulated handsets — the simulator's send ledger,
 * keyed by message id — and the messages table agree), the credits charged are the messages sent, and the campaign ends `sent` with
 * stats that match. 100,000 contacts with SHORTCODE_LONG_TESTS=1 (the figure); 5,000 in
 * the default suite. Runs on the PostgreSQL server of DATABASE_URL, or the local test server when
 * the suite runs on the embedded database (several processes cannot share PGlite).
 */
const LONG = process.env.SHORTCODE_LONG_TESTS === '1';
const CONTACTS = LONG ? 100_000 : 5_000;
const SERVER_URL = process.env.DATABASE_URL || DEFAULT_SERVER_URL;
/** Simulated handsets: +1 2000000001 ... (insertManyContacts). */
const phoneOf = (g: number) => `+1${2_000_000_000 + g}`;

/**
 * What the simulated carrier will report: it fails the numbers whose last three digits name a
 * failure code, leaves those naming an in-progress code (136, 137) without a final report, and
 * delivers the rest.
 */
function expectedReports(contacts: number) {
  let delivered = 0;
  let failed = 0;
  for (let g = 1; g <= contacts; g++) {
    const code = simulatedDeliveryCode(phoneOf(g));
    if (code === 100) delivered++;
    else if (deliveryCode(code)?.final ?? true) failed++;
  }
  return { delivered, failed };
}

let redis: PrivateRedis;
let database: { url: string; drop(): Promise<void> };
let env: Record<string, string>;
let apis: ServerProcess[] = [];
let workers: ServerProcess[] = [];
let token: string;
let accountId: string;
let groupId: string;
let client: pg.Client;
const startingBalance = CONTACTS * 3;

beforeAll(async () => {
  redis = await privateRedis();
  database = await scratchDatabase(SERVER_URL, 'shortcode_mpc');
  env = {
    DATABASE_URL: database.url,
    DATABASE_POOL_SIZE: '5',
    REDIS_URL: redis.url,
    RATE_LIMIT_MAX: '1000000',
    // The simulated carrier is paced (per worker process) so the send lasts long enough for the
    // kill to land mid-run; a dead worker's campaign job is taken over within seconds.
    SENDER_RATE_PER_SECOND: LONG ? '2000' : '300',
    DISPATCH_BATCH_SIZE: '100',
    SIMULATOR_REPORT_DELAY_MS: '200',
    CAMPAIGN_FANOUT_BATCH_SIZE: LONG ? '5000' : '1000',
    JOB_LEASE_MS: '5000',
  };
  // The CLI migrates the database, as an operator would before starting servers.
  ({ accountId, token } = await newAccountToken(env, 'Campaign'));
  // Contacts by bulk SQL (one statement per 50,000), not one API call each.
  const seeding = await openDatabase({ databaseUrl: database.url, poolSize: 2 });
  try {
    groupId = await createGroup(seeding.db, accountId, 'Everyone');
    await insertManyContacts(seeding.db, accountId, CONTACTS, groupId);
  } finally {
    await seeding.close();
  }
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
  await client.query(`UPDATE accounts SET credit_balance = $2 WHERE id = $1`, [accountId, startingBalance]);
  await client.query('ANALYZE contacts; ANALYZE contact_groups');
  ({ apis, workers } = await startApisAndWorkers(env));
}, 300_000);

afterAll(async () => {
  await client?.end();
  await Promise.all([...apis, ...workers].map((p) => p.kill()));
  await redis?.kill();
  await database?.drop();
});

const count = async (query: string, params: unknown[] = []) => Number((await client.query(query, params)).rows[0].n);
const handedOver = () => count(`SELECT count(*)::int AS n FROM simulator_messages WHERE direction = 'MT' AND account_id = $1`, [accountId]);

interface CampaignBody {
  data: { id: string; status: string; stats: Record<string, number> & { skipped: Record<string, number> } };
}

async function campaignVia(api: ServerProcess, id: string): Promise<CampaignBody['data']> {
  const res = await fetch(`${api.base}/v1/campaigns/${id}`, { headers: { authorization: `Bearer ${token}` }, signal: AbortSignal.timeout(10_000) });
  expect(res.status).toBe(200);
  return ((await res.json()) as CampaignBody).data;
}

describe(`a campaign to ${CONTACTS.toLocaleString('en-US')} contacts, 2 API + 2 worker processes, one worker killed mid-run${LONG ? ' (long mode)' : ''}`, () => {
  it('every contact gets exactly one message; credits and stats match', async () => {
    const started = Date.now();
    const res = await fetch(`${apis[0]!.base}/v1/campaigns`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'Spring sale', message: 'Hi {first_name|there}, the spring sale starts today!', groups: [groupId] }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    const created = ((await res.json()) as CampaignBody).data;
    expect(created.status).toBe('sending');
    // The other API process sees it at once: nothing is held in the process that took the POST.
    expect((await campaignVia(apis[1]!, created.id)).status).toBe('sending');

    // SIGKILL one worker once a tenth has gone out: no shutdown, no release of anything.
    await waitFor('the first hand-overs', async () => (await handedOver()) >= CONTACTS * 0.1, LONG ? 300_000 : 60_000, 25);
    await workers[0]!.kill();
    const atKill = await handedOver();
    expect(atKill, 'the campaign was over before the kill: the test cannot show a mid-run crash').toBeLessThan(CONTACTS * 0.9);
    // The surviving worker carries on alone for a while, then a replacement joins.
    await waitFor('progress without the killed worker', async () => (await handedOver()) >= atKill + CONTACTS * 0.1, LONG ? 300_000 : 60_000, 50);
    const atRestart = await handedOver();
    workers[0] = await startServer(env, ['--role', 'worker']);

    // Followed through the other API process, as a client polling would.
    const expected = expectedReports(CONTACTS);
    expect(expected.failed).toBeGreaterThan(0);
    let last: CampaignBody['data'] | undefined;
    const final = await waitFor(
      'the campaign to be sent and every final delivery report in',
      async () => {
        last = await campaignVia(apis[1]!, created.id);
        return last.status === 'sent' && last.stats.delivered! + last.stats.failed! === expected.delivered + expected.failed ? last : undefined;
      },
      LONG ? 900_000 : 120_000,
      250,
    ).catch((err: Error) => {
      throw new Error(`${err.message}; last seen: ${JSON.stringify(last)}`);
    });
    const seconds = (Date.now() - started) / 1000;
    // Let any duplicate that was going to happen happen.
    await new Promise((r) => setTimeout(r, LONG ? 3_000 : 1_500));

    // The handsets: one message each, to exactly the audience.
    expect(await handedOver()).toBe(CONTACTS);
    const twice = await client.query(
      `SELECT handset, count(*)::int AS n FROM simulator_messages WHERE direction = 'MT' AND account_id = $1 GROUP BY handset HAVING count(*) <> 1 LIMIT 5`,
      [accountId],
    );
    expect(twice.rows).toEqual([]);
    expect(
      await count(
        `SELECT count(*)::int AS n FROM simulator_messages s JOIN contacts c ON c.account_id = s.account_id AND c.phone_number = s.handset
         JOIN contact_groups g ON g.contact_id = c.id AND g.group_id = $2 WHERE s.direction = 'MT' AND s.account_id = $1`,
        [accountId, groupId],
      ),
    ).toBe(CONTACTS);
    // The messages table: one per contact, each handed over once, with the handset's copy.
    const messages = (
      await client.query(
        `SELECT count(*)::int AS total, count(DISTINCT contact_id)::int AS contacts, count(*) FILTER (WHERE sent_at IS NULL)::int AS unsent,
                (SELECT count(*)::int FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = $1) AS copies,
                (SELECT count(DISTINCT s.message_id)::int FROM simulator_messages s JOIN messages m ON m.id = s.message_id WHERE m.campaign_id = $1) AS copied
         FROM messages WHERE campaign_id = $1`,
        [created.id],
      )
    ).rows[0];
    expect(messages).toEqual({ total: CONTACTS, contacts: CONTACTS, unsent: 0, copies: CONTACTS, copied: CONTACTS });

    // Credits: charged less refunded is what was sent (one segment each), on the account too.
    const credits = (
      await client.query(
        `SELECT c.credits_reserved::int AS reserved, c.credits_refunded::int AS refunded, c.credits_used::int AS used, a.credit_balance::int AS balance
         FROM campaigns c JOIN accounts a ON a.id = c.account_id WHERE c.id = $1`,
        [created.id],
      )
    ).rows[0];
    expect(credits.reserved - credits.refunded).toBe(CONTACTS);
    expect(credits.used).toBe(CONTACTS);
    expect(startingBalance - credits.balance).toBe(CONTACTS);

    // The stats the API reports.
    expect(final.stats).toMatchObject({
      recipients: CONTACTS,
      queued: 0,
      sent: CONTACTS,
      delivered: expected.delivered,
      failed: expected.failed,
      canceled: 0,
      credits: CONTACTS,
      skipped: { unsubscribed: 0, pending: 0, bounced: 0, deactivated: 0 },
    });
    expect(await campaignVia(apis[0]!, created.id)).toMatchObject({ status: 'sent', stats: final.stats });
    console.info(
      `campaign to ${CONTACTS} contacts, 2 API + 2 workers: worker killed after ${atKill} hand-overs, replacement started after ${atRestart}; ` +
        `sent in ${seconds.toFixed(1)} s, each contact exactly once, ${CONTACTS} credits charged, ${expected.failed} failed by the simulated carrier`,
    );
  }, LONG ? 1_200_000 : 240_000);
});
