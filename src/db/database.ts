import fs from 'node:fs';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { dataDirectoryError } from './embedded-lock.js';
import { PGlitePool } from './pglite-pool.js';
import type { DB } from './tables.js';

export type DatabaseKind = 'pglite' | 'postgres';

export interface Database {
  db: Kysely<DB>;
  kind: DatabaseKind;
  /** Where the data lives: a redacted server URL or the embedded data directory. */
  location: string;
  close(): Promise<void>;
  /** The embedded database's whole data directory as a tarball (PGlite only). */
  snapshot?(): Promise<Blob>;
}

export interface DatabaseOptions {
  /** A PostgreSQL server; when absent the embedded PGlite database is used. */
  databaseUrl?: string | undefined;
  /** Directory of the embedded database; `memory://` keeps it in memory (tests). */
  dataDir?: string;
  /** Connections to the server (ignored for PGlite, which has one). */
  poolSize?: number;
  /**
   * An in-memory embedded database starts as a copy of this snapshot (from `Database.snapshot`)
   * instead of an empty cluster: the test suite migrates once and starts every file from it.
   */
  fromSnapshot?: Blob;
}

// bigint columns (counts, credits) come back as numbers and DATE columns as plain
// YYYY-MM-DD strings on both drivers, so the rest of the code sees the same values.
const INT8 = 20;
const DATE = 1082;
const parseInt8 = (value: string) => Number(value);
const parseDate = (value: string) => value;

/**
 * Planner settings of every session. PostgreSQL's default random_page_cost (4) models spinning
 * disks: with it, a batch statement joining 1,000 ids to the messages table (mark sent, apply
 * delivery reports) is planned as a scan of the whole table, so each batch costs more as the
 * table grows. The hot data of this product is in memory or on SSD, where an index probe costs
 * about as much as a sequential read; 1.1 is the usual SSD value.
 */
const RANDOM_PAGE_COST = '1.1';
const PLANNER_OPTIONS = `-c random_page_cost=${RANDOM_PAGE_COST}`;

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.databaseUrl) {
    const pool = new pg.Pool({
      connectionString: options.databaseUrl,
      max: options.poolSize ?? 10,
      connectionTimeoutMillis: 5_000,
      options: PLANNER_OPTIONS,
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') => {
          if (oid === INT8) return parseInt8;
          if (oid === DATE) return parseDate;
          return pg.types.getTypeParser(oid, format);
        }) as typeof pg.types.getTypeParser,
      },
    });
    // An idle client that loses its server must not crash the process; the next query fails
    // with a connection error that the HTTP layer answers with a 503.
    pool.on('error', () => undefined);
    // The pool listens for errors only on idle clients. A checked-out client between two queries
    // (inside a transaction, say) that loses its server (PostgreSQL restarted: FATAL 57P01) emits
    // 'error' with nobody listening, which would kill the process. Its next query fails instead
    // ("Client has encountered a connection error": a 503) and the pool discards it on release.
    pool.on('connect', (client) => client.on('error', () => undefined));
    const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool }) });
    return {
      db,
      kind: 'postgres',
      location: redactUrl(options.databaseUrl),
      close: () => db.destroy(),
    };
  }

  const dataDir = options.dataDir ?? 'memory://';
  if (!dataDir.startsWith('memory://')) fs.mkdirSync(path.resolve(dataDir), { recursive: true });
  const inMemory = dataDir.startsWith('memory://');
  const pglite = new PGlite({
    ...(inMemory ? {} : { dataDir }),
    parsers: { [INT8]: parseInt8, [DATE]: parseDate },
    ...(inMemory && options.fromSnapshot ? { loadDataDir: options.fromSnapshot } : {}),
  });
  try {
    await pglite.waitReady;
  } catch (err) {
    // The embedded Postgres aborts (a bare "RuntimeError: Aborted()") when it cannot write what
    // start-up needs, its crash recovery above all: on a (nearly) full disk, say so plainly.
    if (!inMemory && freeBytes(dataDir) < 16 * 1024 * 1024) throw dataDirectoryError(path.resolve(dataDir), 'ENOSPC')!;
    throw err;
  }
  await pglite.exec(`SET random_page_cost = ${RANDOM_PAGE_COST}`);
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: new PGlitePool(pglite) }) });
  return { db, kind: 'pglite', location: dataDir, close: () => db.destroy(), snapshot: () => pglite.dumpDataDir('none') };
}

function freeBytes(dir: string): number {
  try {
    const stats = fs.statfsSync(dir);
    return stats.bavail * stats.bsize;
  } catch {
    return Number.POSITIVE_INFINITY;
  }
}

function redactUrl(raw: string): string {
  const parsed = new URL(raw);
  if (parsed.password) parsed.password = '***';
  return parsed.toString();
}
