import { defineConfig } from 'vitest/config';
import base, { LOAD_TESTS } from './vitest.config.js';

/** `npm run test:load`: the 200-grant load test alone, with its own emulator (it saturates moto and both cores). */
export default defineConfig({ test: { ...base.test, include: [LOAD_TESTS], exclude: ['**/node_modules/**'] } });
