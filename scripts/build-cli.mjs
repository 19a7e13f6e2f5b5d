#!/usr/bin/env node
// Bundles the CLI (cli/breakglass.ts and its dependencies) into dist/breakglass.mjs for bin/breakglass.mjs.
import { build } from 'esbuild';

await build({
  entryPoints: ['cli/breakglass.ts'],
  outfile: 'dist/breakglass.mjs',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'esm',
  // Some AWS SDK dependencies are CommonJS and call require(); give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
