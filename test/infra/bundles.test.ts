/**
 * The bundles as the stacks build them (the constructs' own bundling options, `infra/constructs/bundling.ts`):
 * which SDK clients each function carries and loads at cold start. `sideEffects: false` (package.json) and the
 * side-effect free `once` of wiring.ts let esbuild drop the adapters a function never uses, with their SDK client;
 * losing either brings every client back into every function. The SDK is bundled (`BUNDLE_EXTERNALS`: only what
 * no function loads at cold start is left to the runtime's copy), so a cold start resolves no SDK package at all.
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

/**
 * The SDK clients in a function's bundle (esbuild's metafile), and the SDK packages its module initialisation
 * resolves outside the bundle (a fresh process).
 */
async function sdkOf(name: string): Promise<{ bundled: string[]; resolved: string[] }> {
  const f = functions.find((x) => x.name === name);
  if (!f) throw new Error(`no deployed function ${name}`);
  const file = join(mkdtempSync(join(tmpdir(), 'bundle-test-')), `${name}.cjs`);
  const { metafile } = await build({ ...esbuildOptions(f.entry, file, f.fn.bundling), metafile: true });
  const clients = (paths: string[]) =>
    [
      ...new Set(
        paths
          .map((path) => /node_modules\/(@aws-sdk\/(?:client|lib)-[\w-]+)\//.exec(path)?.[1])
          .filter((p): p is string => p !== undefined),
      ),
    ].sort();
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
  const resolved = (JSON.parse(stdout) as string[]).filter((path) => path.includes('node_modules'));
  // The inputs that kept code in the output (a module esbuild shook out entirely is listed with 0 bytes).
  const inOutput = Object.values(metafile!.outputs).flatMap((o) =>
    Object.entries(o.inputs)
      .filter(([, i]) => i.bytesInOutput > 0)
      .map(([path]) => path),
  );
  return { bundled: clients(inOutput), resolved: [...new Set(resolved)] };
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

describe('SDK clients in each bundle, and loaded at cold start', () => {
  it('carries only DynamoDB and SNS in the review function, and resolves no SDK package outside its bundle', async () => {
    const { bundled, resolved } = await sdkOf('review-grant');
    expect(bundled).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/client-sns', '@aws-sdk/lib-dynamodb']);
    expect(resolved).toEqual([]);
  });

  it('carries only DynamoDB in the read functions', async () => {
    expect((await sdkOf('get-grant')).bundled).toEqual(['@aws-sdk/client-dynamodb', '@aws-sdk/lib-dynamodb']);
  });

  it("does not carry or load STS in the activation (the runtime's copy, only when a spoke is reached)", async () => {
    const { bundled, resolved } = await sdkOf('create-grant');
    expect(bundled).toEqual([
      '@aws-sdk/client-dynamodb',
      '@aws-sdk/client-iam',
      '@aws-sdk/client-scheduler',
      '@aws-sdk/client-sns',
      '@aws-sdk/lib-dynamodb',
    ]);
    expect(resolved).toEqual([]);
  });

  it('carries STS only in the function that calls it on every request, and loads it there on the first request', async () => {
    const { bundled, resolved } = await sdkOf('issue-credentials');
    expect(bundled).toContain('@aws-sdk/client-sts');
    expect(resolved).toEqual([]);
    expect((await sdkOf('sweep')).bundled).not.toContain('@aws-sdk/client-sts');
  });
});
