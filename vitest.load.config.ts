import { defineConfig } from 'vitest/config';
import base, { LOAD_TESTS } from './vitest.config.js';

/** `npm test` runs this after the main suite: the load test alone, with its own emulator. */
export default defineConfig({ test: { ...base.test, include: [LOAD_TESTS], exclude: ['**/node_modules/**'], testTimeout: 300_000 } });
