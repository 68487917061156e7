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
    // Vitest's default is one worker less than the cores: one at a time on a 2-core machine, while
    // most files spend much of their time waiting on spawned processes and the database.
    maxWorkers: 2,
    // CI shares two cores between both databases' servers and every spawned process: a test that
    // fails is run once more before it counts, and the report still names it as retried.
    retry: process.env.CI ? 1 : 0,
  },
});
