#!/usr/bin/env node
// The test command's last stage: the whole suite (unit, integration against the emulator, infra,
// end-to-end), then one closing line CI reads. The 200-grant load test is `npm run test:load`; a
// small variant of it with the same invariants runs here.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('.vitest', { recursive: true, force: true });
const main = spawnSync(
  'npx',
  ['vitest', 'run', '--reporter=default', '--reporter=json', '--outputFile.json=.vitest/results.json'],
  { stdio: 'inherit' },
).status;
const summary = spawnSync(process.execPath, ['scripts/test-summary.mjs', '.vitest/results.json'], {
  stdio: 'inherit',
}).status;
process.exit(main === 0 && summary === 0 ? 0 : 1);
