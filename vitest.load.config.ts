import { defineConfig } from 'vitest/config';
import base, { LOAD_TESTS } from './vitest.config.js';

/** Action logging's capture test, which `npm test` runs small (500 calls over 10 grants); here at full size. */
export const ACTIVITY_LOAD_TEST = 'test/integration/activity/capture.test.ts';

/**
 * `npm run test:load`: the 200-grant load test and action logging's 10,000 calls over 50 concurrent grants
 * (with redelivered copies), each with its own emulator (they saturate moto and both cores).
 */
export default defineConfig({
  test: {
    ...base.test,
    include: [LOAD_TESTS, ACTIVITY_LOAD_TEST],
    exclude: ['**/node_modules/**'],
    env: { ...base.test?.env, BREAKGLASS_ACTIVITY_CALLS: '10000', BREAKGLASS_ACTIVITY_GRANTS: '50' },
  },
});
