import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';

/**
 * On PostgreSQL (DATABASE_URL set) the schema is migrated once into a template database, and
 * every test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 * On PGlite each test file opens its own in-memory database.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (!url) return;
  // One id per run: this run's databases are shortcode_t_<run>_*, and its teardown drops only
  // those (other worktrees' suites share the server and run at the same time).
  const run = randomBytes(4).toString('hex');
  const template = `shortcode_tpl_${run}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const database = await openDatabase({ databaseUrl: withDatabase(url, template), poolSize: 1 });
  await migrateToLatest(database.db);
  await database.close();
  project.provide('templateDatabase', template);
  project.provide('testRunId', run);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    // Clean up databases left by this run's test files that crashed. (`_` is a LIKE wildcard:
    // unescaped, 'shortcode_t_%' also matched every other run's template and databases.)
    const left = await admin.query(`SELECT datname FROM pg_database WHERE starts_with(datname, $1)`, [`shortcode_t_${run}_`]);
    for (const row of left.rows as Array<{ datname: string }>) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await admin.end();
  };
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    testRunId: string;
  }
}
