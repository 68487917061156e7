import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../src/db/database.js';
import { migrateToLatest } from '../src/db/migrator.js';

/**
 * On PostgreSQL (DATABASE_URL set) the schema is migrated once into a template database, and
 * every test file clones it (CREATE DATABASE ... TEMPLATE), which takes milliseconds.
 * On PGlite the schema is migrated once into an in-memory database whose snapshot (a tarball of
 * its data directory) every test file starts from: creating and migrating an embedded cluster
 * takes seconds, loading the snapshot about one.
 */
export default async function setup(project: TestProject) {
  const url = process.env.DATABASE_URL;
  if (!url) return embeddedTemplate(project);
  // Not shortcode_t…: older suites clean up with LIKE 'shortcode_t_%', which would match it.
  const template = `shortcode_ztpl_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${template}`);
  const database = await openDatabase({ databaseUrl: withDatabase(url, template), poolSize: 1 });
  await migrateToLatest(database.db);
  await database.close();
  project.provide('templateDatabase', template);

  return async () => {
    await admin.query(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`);
    // Clean up databases left by this run's test files that crashed (only this run's: several
    // worktrees may run their suites against the same server at the same time).
    const left = await admin.query(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${fileDatabasePrefix(template)}%`]);
    for (const row of left.rows as Array<{ datname: string }>) await admin.query(`DROP DATABASE IF EXISTS ${row.datname} WITH (FORCE)`);
    await admin.end();
  };
}

async function embeddedTemplate(project: TestProject) {
  const database = await openDatabase({ dataDir: 'memory://' });
  await migrateToLatest(database.db);
  const snapshot = await database.snapshot!();
  await database.close();
  const file = path.join(os.tmpdir(), `shortcode-template-${process.pid}-${randomBytes(4).toString('hex')}.tar`);
  fs.writeFileSync(file, Buffer.from(await snapshot.arrayBuffer()));
  project.provide('embeddedTemplate', file);
  return () => fs.rmSync(file, { force: true });
}

/** Per-file databases of one run are named after its template, so a run cleans up only its own. */
export function fileDatabasePrefix(template: string): string {
  return `shortcode_f${template.replace(/^shortcode_ztpl_/, '')}_`;
}

export function withDatabase(url: string, name: string): string {
  const parsed = new URL(url);
  parsed.pathname = `/${name}`;
  return parsed.toString();
}

declare module 'vitest' {
  export interface ProvidedContext {
    templateDatabase: string;
    /** A migrated embedded database's snapshot file (PGlite runs). */
    embeddedTemplate: string;
  }
}
