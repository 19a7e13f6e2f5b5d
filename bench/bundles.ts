/**
 * Each function's bundle size and module initialisation time, for every function the stacks deploy.
 *
 * - Which functions: the app is built as `npm run synth` builds it (cdk.json's context, without bundling) and
 *   every `BreakGlassFunction` in it is taken, with its entry and bundling options, so no list is kept here.
 * - How bundled: with esbuild and the options CDK derives from the construct's (`infra/constructs/bundling.ts`):
 *   minified, source map, the SDK bundled except what no cold start loads (`BUNDLE_EXTERNALS`), the profile file inlined.
 * - Init: a fresh `node` process, with the function's base environment (`NODE_OPTIONS=--enable-source-maps`,
 *   `POWERTOOLS_LOG_LEVEL`) and stand-in configuration, times `require(bundle)`: the module initialisation Lambda
 *   bills as Init, without the runtime's own start. Runs go round the functions in turn (a burst of load on this
 *   shared machine falls on all of them alike), and each function's median is reported.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { build } from 'esbuild';
import { ENV } from '../functions/config/env.js';
import { buildApp } from '../infra/app.js';
import { BreakGlassFunction } from '../infra/constructs/breakglass-function.js';
import { esbuildOptions } from '../infra/constructs/bundling.js';

export interface DeployedFunction {
  /** The handler module's name, e.g. `create-grant`. */
  readonly name: string;
  readonly entry: string;
  readonly fn: BreakGlassFunction;
}

/** Every function of the app as `npm run synth` builds it, one per handler module. */
export function deployedFunctions(): DeployedFunction[] {
  const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
  const { app } = buildApp(
    new App({
      context: {
        ...cdkJson.context,
        'aws:cdk:bundling-stacks': [],
        securityPrincipals: 'arn:aws:iam::123456789012:role/Security',
      },
    }),
  );
  const byEntry = new Map<string, DeployedFunction>();
  for (const c of app.node.findAll())
    if (c instanceof BreakGlassFunction && !byEntry.has(c.entry))
      byEntry.set(c.entry, { name: basename(c.entry, '.ts'), entry: c.entry, fn: c });
  return [...byEntry.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/**
 * Configuration a function reads at cold start, with stand-in values: initialisation makes no AWS call, and the
 * values only have to pass the configuration's checks.
 */
export const STAND_IN_ENV: Readonly<Record<string, string>> = {
  AWS_REGION: 'eu-west-1',
  AWS_ACCESS_KEY_ID: 'testing',
  AWS_SECRET_ACCESS_KEY: 'testing',
  [ENV.tableName]: 'breakglass-grants',
  [ENV.tableArn]: 'arn:aws:dynamodb:eu-west-1:123456789012:table/breakglass-grants',
  [ENV.topicArn]: 'arn:aws:sns:eu-west-1:123456789012:breakglass-alerts',
  [ENV.scheduleGroup]: 'breakglass',
  [ENV.expiryFunctionArn]: 'arn:aws:lambda:eu-west-1:123456789012:function:breakglass-expire-grant',
  [ENV.schedulerRoleArn]: 'arn:aws:iam::123456789012:role/breakglass/scheduler',
  [ENV.securityPrincipals]: 'arn:aws:iam::123456789012:role/Security',
  [ENV.reviewerPrincipals]: 'arn:aws:iam::123456789012:role/Security',
  [ENV.protectedResources]: 'arn:aws:dynamodb:eu-west-1:123456789012:table/breakglass-*',
  [ENV.auditBucket]: 'breakglass-audit',
  [ENV.accountId]: '123456789012',
  [ENV.drillQueueUrl]: 'https://sqs.eu-west-1.amazonaws.com/123456789012/breakglass-drills',
  [ENV.drillFunctionName]: 'breakglass-run-drill',
};

/** One initialisation: wall time, and CPU time (user + system, every thread of the process), in ms. */
export interface InitTime {
  readonly wallMs: number;
  readonly cpuMs: number;
}

export interface BundleFigure {
  readonly name: string;
  readonly bytes: number;
  /** Module initialisation, each run. */
  readonly init: InitTime[];
}

/** Bundles one function into `outDir` as the stacks do; returns the bundle's path. */
export async function bundleFunction(f: Pick<DeployedFunction, 'name' | 'entry' | 'fn'>, outDir: string) {
  const file = join(outDir, `${f.name}.cjs`);
  await build(esbuildOptions(f.entry, file, f.fn.bundling));
  return file;
}

/**
 * Module initialisation of one bundle in a fresh process. CPU time is reported beside wall time: on a shared
 * machine the wall time grows with the other processes' load, the CPU time much less.
 */
export function initOnce(file: string, env: Record<string, string>): InitTime {
  const script = [
    'const c=process.cpuUsage(),t=performance.now();',
    `require(${JSON.stringify(file)});`,
    'const w=performance.now()-t,u=process.cpuUsage(c);',
    'process.stdout.write(JSON.stringify({wallMs:w,cpuMs:(u.user+u.system)/1000}))',
  ].join('');
  const out = execFileSync(process.execPath, ['-e', script], {
    // The SDK (external, in the Lambda runtime) resolves from this repository's node_modules.
    env: {
      PATH: process.env.PATH ?? '',
      NODE_PATH: join(process.cwd(), 'node_modules'),
      NODE_NO_WARNINGS: '1',
      ...env,
    },
  }).toString();
  return JSON.parse(out) as InitTime;
}

export const median = (values: readonly number[]) => {
  const s = [...values].sort((a, b) => a - b);
  const m = Math.floor(s.length / 2);
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** Bundles every deployed function and times its initialisation `runs` times (`BENCH_INIT_RUNS`, default 7). */
export async function runBundleBench(runs = Number(process.env.BENCH_INIT_RUNS ?? 7)): Promise<BundleFigure[]> {
  const functions = deployedFunctions();
  const out = mkdtempSync(join(tmpdir(), 'bench-bundles-'));
  const files = new Map<string, string>();
  for (const f of functions) files.set(f.name, await bundleFunction(f, out));
  const init = new Map<string, InitTime[]>(functions.map((f) => [f.name, []]));
  for (let run = 0; run < runs; run++)
    for (const f of functions)
      init.get(f.name)!.push(initOnce(files.get(f.name)!, { ...STAND_IN_ENV, ...f.fn.baseEnvironment }));
  return functions.map((f) => ({ name: f.name, bytes: statSync(files.get(f.name)!).size, init: init.get(f.name)! }));
}

export function formatBundleBench(figures: readonly BundleFigure[]): Array<[string, string]> {
  const runs = figures[0]?.init.length ?? 0;
  return figures.map((f) => {
    const wall = f.init.map((i) => i.wallMs);
    const cpu = f.init.map((i) => i.cpuMs);
    return [
      `bundle ${f.name}`,
      `${(f.bytes / 1024).toFixed(0)} KiB, init median ${median(wall).toFixed(1)} ms wall (${Math.min(...wall).toFixed(1)}–${Math.max(...wall).toFixed(1)}), ${median(cpu).toFixed(1)} ms CPU, ${runs} runs`,
    ];
  });
}
