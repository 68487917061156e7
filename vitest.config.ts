import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Each test file gets its own database (in-memory PGlite, or a clone of a migrated template
    // on the PostgreSQL server when DATABASE_URL is set), so files run in parallel safely.
    fileParallelism: true,
  },
});
