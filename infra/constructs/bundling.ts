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
 * The SDK v3 is in the Node.js 22 runtime: not bundled. Named here rather than left to CDK's default
 * (which a feature flag widens to `@smithy/*`), so infra and the bench cannot differ.
 */
export const BUNDLE_EXTERNALS = ['@aws-sdk/*'] as const;

/** The bundling options of a function carrying `profiles` (the validated profile file). */
export function functionBundling(profiles: unknown): BundlingOptions {
  return {
    format: OutputFormat.CJS,
    minify: true,
    logLevel: LogLevel.ERROR,
    sourceMap: true,
    target: BUNDLE_TARGET,
    externalModules: [...BUNDLE_EXTERNALS],
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
  const known = new Set(['format', 'minify', 'logLevel', 'sourceMap', 'target', 'externalModules', 'define']);
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
    external: [...(bundling.externalModules ?? BUNDLE_EXTERNALS)],
    ...(bundling.define ? { define: { ...bundling.define } } : {}),
    logLevel: (bundling.logLevel ?? LogLevel.WARNING) as BuildOptions['logLevel'],
  };
}
