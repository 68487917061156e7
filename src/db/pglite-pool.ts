import type { PGlite } from '@electric-sql/pglite';
import type { PostgresPool, PostgresPoolClient, PostgresQueryResult } from 'kysely';

/**
 * Presents one embedded PGlite instance as a `pg`-style pool so Kysely's PostgreSQL dialect
 * works unchanged. PGlite has a single connection, so the pool hands out one client at a
 * time: a second `connect()` waits until the first is released. That is what keeps a query
 * from running inside another caller's open transaction.
 */
export class PGlitePool implements PostgresPool {
  private tail: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly pg: PGlite) {}

  async connect(): Promise<PostgresPoolClient> {
    if (this.closed) throw new Error('The embedded database is closed');
    let release!: () => void;
    const previous = this.tail;
    this.tail = new Promise<void>((resolve) => {
      release = resolve;
    });
    await previous;
    const pg = this.pg;
    let released = false;
    const client = {
      async query<R>(sql: string, parameters: ReadonlyArray<unknown>): Promise<PostgresQueryResult<R>> {
        // Statements without parameters go through the simple protocol, which also accepts
        // several statements at once (migrations rely on that, as they do on `pg`).
        const result =
          parameters.length === 0
            ? (await pg.exec(sql)).at(-1)
            : await pg.query<R>(sql, parameters as unknown[]);
        const rows = (result?.rows ?? []) as R[];
        const command = (result as { command?: string } | undefined)?.command ?? 'SELECT';
        const rowCount = (result as { rowCount?: number } | undefined)?.rowCount ?? result?.affectedRows ?? rows.length;
        return { command: command as PostgresQueryResult<R>['command'], rowCount, rows };
      },
      release() {
        if (released) return;
        released = true;
        release();
      },
    };
    return client as PostgresPoolClient;
  }

  async end(): Promise<void> {
    this.closed = true;
    await this.tail;
    await this.pg.close();
  }
}
