/**
 * The load test's invariants at a size the main suite can afford on any machine: 24 concurrent
 * activations from 6 roles (4 people each), then the expiry of all. Every grant ends with its full,
 * intact chain, no policy is left, and every alert is published exactly once. The 200-grant run is
 * `npm run test:load`.
 */
import { beforeAll, describe, inject, it } from 'vitest';
import { type LoadWorld, runLoad, setUpLoad } from '../../support/load-scenario.js';

const SHAPE = { roles: 6, perRole: 4 };
let load: LoadWorld;

beforeAll(async () => {
  load = await setUpLoad(inject('motoEndpoint'), SHAPE, 'Conc');
});

describe('concurrent activations against the emulator', () => {
  it('grants 24 concurrent activations from 6 roles, expires all, and leaves full chains, no policy and one alert each', async () => {
    await runLoad(load, SHAPE);
  });
});
