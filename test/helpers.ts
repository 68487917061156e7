import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import type { FastifyInstance } from 'fastify';
import { sql, type Kysely } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../src/app.js';
import { loadConfig, type Config } from '../src/config.js';
import { openDatabase, type Database } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';
import type { DB } from '../src/db/tables.js';
import { EVENT_TYPES, type EventType } from '../src/modules/events/events.repo.js';
import { fileDatabasePrefix, withDatabase } from './global-setup.js';

export interface TestDatabase extends Database {
  /** Drops the per-file database (PostgreSQL) after closing it. */
  dispose(): Promise<void>;
}

let embeddedTemplate: Blob | undefined;

/** A fresh, migrated database for one test file: PGlite in memory, or a clone on PostgreSQL. */
export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.DATABASE_URL;
  if (!url) {
    // A copy of the snapshot the global setup migrated (the migrations still run: a no-op then).
    embeddedTemplate ??= new Blob([fs.readFileSync(inject('embeddedTemplate'))]);
    const database = await openDatabase({ dataDir: 'memory://', fromSnapshot: embeddedTemplate });
    await migrateToLatest(database.db);
    return { ...database, dispose: () => database.close() };
  }
  const name = `${fileDatabasePrefix(inject('templateDatabase'))}${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name} TEMPLATE ${inject('templateDatabase')}`);
  await admin.end();
  const database = await openDatabase({ databaseUrl: withDatabase(url, name), poolSize: 5 });
  return {
    ...database,
    dispose: async () => {
      await database.close();
      const cleanup = new pg.Client({ connectionString: url });
      await cleanup.connect();
      await cleanup.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await cleanup.end();
    },
  };
}

/** A fixed key for tests (never used outside them). */
export const TEST_SECRETS_KEY = '000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f';

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    NODE_ENV: 'test',
    RATE_LIMIT_MAX: '100000',
    PUBLIC_URL: 'http://shortcode.test',
    SECRETS_KEY: TEST_SECRETS_KEY,
    WEBHOOKS_ALLOW_PRIVATE_NETWORKS: 'true',
    ...env,
  });
}

export interface TestContext {
  app: FastifyInstance;
  database: TestDatabase;
  config: Config;
  close(): Promise<void>;
}

export async function createTestApp(env: Record<string, string> = {}, database?: TestDatabase): Promise<TestContext> {
  const config = testConfig(env);
  const db = database ?? (await createTestDatabase());
  const app = await buildApp({ config, database: db, logger: false });
  await app.ready();
  return {
    app,
    database: db,
    config,
    close: async () => {
      await app.close();
      if (!database) await db.dispose();
    },
  };
}

let counter = 0;
/** A new account with a user and a token (all scopes unless given). */
export async function createAccountWithToken(app: FastifyInstance, scopes?: string[]) {
  counter += 1;
  const suffix = `${Date.now().toString(36)}${counter}${randomBytes(2).toString('hex')}`;
  const { account, user } = await app.services.accounts.create({
    name: `Test account ${suffix}`,
    email: `owner-${suffix}@example.test`,
    password: 'correct horse battery staple',
  });
  const token = await app.services.tokens.issue({ accountId: account.id, userId: user.id, kind: 'personal', name: 'test', scopes });
  return { account, user, token: token.token, tokenId: token.id, auth: { authorization: `Bearer ${token.token}` } };
}

/**
 * Subscribes the account to `events` with an endpoint no worker delivers to in these tests, so
 * those events are recorded in the outbox (the product writes events only for subscribers).
 */
export async function subscribeToEvents(db: Kysely<DB>, accountId: string, events: readonly EventType[] = EVENT_TYPES): Promise<void> {
  await sql`INSERT INTO webhook_endpoints (id, account_id, url, events, secret_encrypted)
            VALUES (gen_random_uuid(), ${accountId}, 'https://receiver.example.test/hooks', ${sql.val([...events])}::text[], 'unused')`.execute(db);
}
