/** One moto server for the whole run; each test file seeds its own uniquely named resources. */
import type { TestProject } from 'vitest/node';
import { type Moto, startMoto } from '../../sandbox/moto.js';

declare module 'vitest' {
  export interface ProvidedContext {
    motoEndpoint: string;
  }
}

let moto: Moto | undefined;

export async function setup(project: TestProject): Promise<void> {
  moto = await startMoto();
  project.provide('motoEndpoint', moto.endpoint);
}

export async function teardown(): Promise<void> {
  await moto?.stop();
}
