/**
 * Load against the emulator (`npm run test:load`, not part of `npm test`): 200 activations from
 * 50 roles (4 people each), all at once, then the expiry of every one. The same invariants run
 * at a small size in the main suite (`test/integration/handlers/concurrent-activations.test.ts`).
 * moto copies a table on every transaction, so this run's cost grows with the table and with
 * the machine's load: it has no time budget beyond a hang guard.
 */
import { beforeAll, describe, inject, it } from 'vitest';
import { type LoadWorld, runLoad, setUpLoad } from '../../support/load-scenario.js';

const SHAPE = { roles: 50, perRole: 4 };
let load: LoadWorld;

beforeAll(async () => {
  load = await setUpLoad(inject('motoEndpoint'), SHAPE, 'Load');
});

describe('load against the emulator', () => {
  it('grants 200 concurrent activations from 50 roles, expires all, and leaves full chains, no policy and one alert each', async () => {
    await runLoad(load, SHAPE);
  });
});
