import { defineConfig } from 'vitest/config';

/** The load test runs on its own afterwards (`vitest.load.config.ts`): it saturates the emulator and both cores. */
export const LOAD_TESTS = 'test/integration/load/**/*.test.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['**/node_modules/**', LOAD_TESTS],
    globalSetup: ['test/support/global-setup.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    // Two cores: the long e2e file runs beside the rest instead of after them.
    // Handlers log one JSON line per event; keep the test report readable.
    onConsoleLog: (log) => process.env.SHOW_LOGS === "1" || !log.startsWith('{"level"'),
    pool: 'forks',
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
