/**
 * How every function is bundled, declared once: `BreakGlassFunction` hands these options to CDK's
 * `NodejsFunction`, and `npm run bench` (bench/bundles.ts) builds with {@link esbuildOptions}, the
 * same options as CDK passes them to esbuild, so the bench measures the bundles the stacks deploy.
 */
import type { BundlingOptions } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogLevel, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/** The esbuild target: the functions' runtime (Node.js 22). */
export const BUNDLE_TARGET = 'node22';

/**
 * The SDK v3 is bundled, minified and tree-shaken with the function: one file to read, no module resolution
 * through hundreds of files at cold start. "If you are sensitive to Lambda cold start times, we recommend
 * bundling your Lambda function, which uses barebones SDK clients with command objects and includes JS SDK v3"
 * (AWS Developer Tools Blog, "Reduce Lambda cold start times: migrate to AWS SDK for JavaScript v3"; the same
 * reason in aws-cdk issue 25492, by the SDK's maintainers). It also pins the SDK to this repository's lock file.
 * Measured here (docs/benchmark.md, "Module initialisation"): about a third less initialisation CPU per function.
 *
 * Left out (resolved from the runtime's copy of the SDK, which the Node.js runtime includes) are only packages no
 * function loads at cold start: the credential providers the default chain imports lazily, after the environment's
 * credentials (which Lambda always sets) — SSO, ini, process, web identity, HTTP, login, IMDS — with the nested
 * clients they use; event-stream serialisation, which the SDK's protocols import only for an operation with an
 * event stream; and STS, which the spoke access manager imports on its first call to a spoke and issue-credentials
 * uses per request; SQS, which the drill runner imports once its drill's grant is active.
 */
export const BUNDLE_EXTERNALS = [
  '@aws-sdk/client-sts',
  '@aws-sdk/credential-provider-sso',
  '@aws-sdk/credential-provider-ini',
  '@aws-sdk/credential-provider-process',
  '@aws-sdk/credential-provider-web-identity',
  '@aws-sdk/credential-provider-http',
  '@aws-sdk/credential-provider-login',
  '@aws-sdk/nested-clients',
  '@aws-sdk/nested-clients/*',
  '@smithy/credential-provider-imds',
  // The drill runner's SQS client, imported on first use (functions/adapters/sqs-client.ts), after its cold start.
  '@aws-sdk/client-sqs',
  // Imported by the SDK's protocols only for an operation with an event stream; no function calls one.
  '@smithy/core/event-streams',
] as const;

/** ES module builds first: the SDK's and Powertools' `module` entries tree-shake far better than their CommonJS ones. */
export const BUNDLE_MAIN_FIELDS = ['module', 'main'] as const;

/**
 * Handlers that call STS on every request (issue-credentials: one AssumeRole per credential request) carry STS in
 * their bundle instead of loading the runtime's copy on their first request; for the others STS is rare (a
 * spoke's manager session, once an hour) and stays out of their bundle.
 */
export const BUNDLES_STS: ReadonlySet<string> = new Set(['issue-credentials']);

/** The bundling options of a handler (`handlerFile`, e.g. `create-grant`) carrying `profiles` (the validated profile file). */
export function functionBundling(profiles: unknown, handlerFile?: string): BundlingOptions {
  return {
    format: OutputFormat.CJS,
    minify: true,
    logLevel: LogLevel.ERROR,
    sourceMap: true,
    // The map's mappings are what `--enable-source-maps` needs for a stack trace; without the sources' text in it the
    // map is a third of the size, and Node parses it at load: measured about 15 ms less initialisation per function.
    sourcesContent: false,
    target: BUNDLE_TARGET,
    externalModules: BUNDLE_EXTERNALS.filter(
      (m) => !(m === '@aws-sdk/client-sts' && handlerFile !== undefined && BUNDLES_STS.has(handlerFile)),
    ),
    mainFields: [...BUNDLE_MAIN_FIELDS],
    // The profiles cdk synth validated travel inside the bundle; the function validates them again at cold start.
    define: { __BREAKGLASS_PROFILES__: JSON.stringify(profiles) },
  };
}

/**
 * The esbuild options CDK derives from `bundling` (aws-lambda-nodejs `Bundling.buildEsbuildArgs`:
 * `--bundle <entry> --target --platform=node --format --outfile --minify --sourcemap --external:… --define:…
 * --log-level`, and `--main-fields` only when set). Throws on an option this mapping does not know, so a new
 * option in {@link functionBundling} cannot silently make the bench build something else.
 */
export function esbuildOptions(entry: string, outfile: string, bundling: BundlingOptions): BuildOptions {
  const known = new Set([
    'format',
    'minify',
    'logLevel',
    'sourceMap',
    'sourcesContent',
    'target',
    'externalModules',
    'mainFields',
    'define',
  ]);
  const unknown = Object.keys(bundling).filter((k) => !known.has(k));
  if (unknown.length) throw new Error(`esbuildOptions does not map bundling option(s) ${unknown.join(', ')}`);
  return {
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    ...(bundling.target ? { target: bundling.target } : {}),
    ...(bundling.format ? { format: bundling.format === OutputFormat.ESM ? 'esm' : 'cjs' } : {}),
    ...(bundling.minify ? { minify: true } : {}),
    ...(bundling.sourceMap ? { sourcemap: true } : {}),
    ...(bundling.sourcesContent === false ? { sourcesContent: false } : {}),
    external: [...(bundling.externalModules ?? BUNDLE_EXTERNALS)],
    ...(bundling.mainFields ? { mainFields: [...bundling.mainFields] } : {}),
    ...(bundling.define ? { define: { ...bundling.define } } : {}),
    logLevel: (bundling.logLevel ?? LogLevel.WARNING) as BuildOptions['logLevel'],
  };
}
