#!/usr/bin/env node
// The test command's last stage: the main suite, then the load test on its own (it saturates the
// emulator), then one closing line over both. Both always run, so a failure in one still reports the other.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';

rmSync('.vitest', { recursive: true, force: true });
const vitest = (args) => spawnSync('npx', ['vitest', 'run', '--reporter=default', '--reporter=json', ...args], { stdio: 'inherit' }).status;
const main = vitest(['--outputFile.json=.vitest/results.json']);
const load = vitest(['--config', 'vitest.load.config.ts', '--outputFile.json=.vitest/load.json']);
const summary = spawnSync(process.execPath, ['scripts/test-summary.mjs', '.vitest/results.json', '.vitest/load.json'], { stdio: 'inherit' }).status;
process.exit(main === 0 && load === 0 && summary === 0 ? 0 : 1);
