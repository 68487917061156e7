/* eslint-disable @typescript-eslint/no-explicit-any */
import { Migrator, type Kysely } from 'kysely';
import { migrations } from './migrations/index.js';

export class SchemaTooNewError extends Error {}

function migrator(db: Kysely<any>): Migrator {
  // Unordered: migrations are developed on parallel branches; each is independent of later-numbered ones.
  return new Migrator({ db, provider: { getMigrations: async () => migrations }, allowUnorderedMigrations: true });
}

/**
 * Applies pending migrations. Concurrent starts are safe: Kysely serialises them with a lock
 * row. A database migrated by a newer release (a migration this build does not know) is
 * refused instead of being run against.
 */
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  await assertSchemaNotNewer(db);
  const { error, results } = await migrator(db).migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(String(error));
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export async function pendingMigrations(db: Kysely<any>): Promise<string[]> {
  const all = await migrator(db).getMigrations();
  return all.filter((m) => !m.executedAt).map((m) => m.name);
}

async function assertSchemaNotNewer(db: Kysely<any>): Promise<void> {
  const known = new Set(Object.keys(migrations));
  let applied: string[] = [];
  try {
    const result = await db.selectFrom('kysely_migration' as never).select('name' as never).execute();
    applied = (result as Array<{ name: string }>).map((r) => r.name);
  } catch {
    return; // a fresh database has no migration table yet
  }
  const unknown = applied.filter((name) => !known.has(name));
  if (unknown.length > 0) {
    throw new SchemaTooNewError(
      `The database schema is newer than this build (unknown migrations: ${unknown.join(', ')}). Upgrade Shortcode before starting it against this database.`,
    );
  }
}
