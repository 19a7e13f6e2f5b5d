/**
 * The bundles as the stacks build them (the constructs' own bundling options, `infra/constructs/bundling.ts`):
 * which SDK clients each function loads at cold start. `sideEffects: false` (package.json) and the side-effect
 * free `once` of wiring.ts let esbuild drop the adapters a function never uses, with the `require` of their
 * SDK client; losing either brings every client back into every function's initialisation.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { build } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { type DeployedFunction, deployedFunctions, STAND_IN_ENV } from '../../bench/bundles.js';
import { esbuildOptions } from '../../infra/constructs/bundling.js';

let functions: DeployedFunction[];
beforeAll(() => {
  functions = deployedFunctions();
});

/** The SDK packages a function's bundle has loaded once its module initialisation is done (a fresh process). */
async function sdkLoaded(name: string): Promise<string[]> {
  const f = functions.find((x) => x.name === name);
  if (!f) throw new Error(`no deployed function ${name}`);
  const file = join(mkdtempSync(join(tmpdir(), 'bundle-test-')), `${name}.cjs`);
  await build(esbuildOptions(f.entry, file, f.fn.bundling));
  const script = `require(${JSON.stringify(file)});process.stdout.write(JSON.stringify(Object.keys(require.cache)))`;
  // Asynchronous: a synchronous child would block this worker's event loop (vitest's RPC times out on a busy machine).
  const { stdout } = await promisify(execFile)(process.execPath, ['-e', script], {
    env: {
      ...STAND_IN_ENV,
      NODE_NO_WARNINGS: '1',
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(process.cwd(), 'node_modules'),
    },
  });
  const loaded = JSON.parse(stdout) as string[];
  const packages = loaded.map((path) => /node_modules\/(@aws-sdk\/(?:client|lib)-[\w-]+)\//.exec(path)?.[1]);
  return [...new Set(packages.filter((p): p is string => p !== undefined))].sort();
}

describe('deployed functions', () => {
  it('are every handler the stacks deploy, one bundle each', () => {
    // Prepare / Act: the app as `npm run synth` builds it.
    const names = functions.map((f) => f.name);
    // Assess: the API functions, the background ones, action logging's and the drills'.
    expect(names).toEqual(
      expect.arrayContaining([
        'create-grant',
        'sweep',
        'expire-grant',
        'capture-activity',
        'run-drill',
        'get-activity',
      ]),
    );
    expect(new Set(names).size).toBe(names.length);
    expect(names.length).toBe(20);
  });
});

describe('SDK clients loaded at cold start', () => {
  it('loads only DynamoDB and SNS in the review function', async () => {
    expect(await sdkLoaded('review-grant')).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-sns',
      '@aws-sdk/lib-dynamodb',
    ]);
  });

  it('loads only DynamoDB in the read functions', async () => {
    expect(await sdkLoaded('get-grant')).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);
  });

  it('does not load STS in the activation at cold start (only when a spoke is reached)', async () => {
    const loaded = await sdkLoaded('create-grant');
    expect(loaded).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-iam',
      '@aws-sdk/client-scheduler',
      '@aws-sdk/client-sns',
      '@aws-sdk/lib-dynamodb',
    ]);
  });
});
