#!/usr/bin/env node
// Lints every synthesized template (cdk.out/*.template.json) with cfn-lint from the project's
// venv (installed, pinned, by scripts/ensure-moto.mjs). Errors and warnings both fail: each
// warning is fixed, or suppressed with its reason in .cfnlintrc.yaml. Run `npm run synth` first.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

const outDir = process.argv[2] ?? 'cdk.out';
const cfnLint = join('.venv', 'bin', 'cfn-lint');
if (!existsSync(cfnLint)) {
  console.error(
    `cfn-lint: ${cfnLint} is missing; run \`node scripts/ensure-moto.mjs\` (it installs cfn-lint into .venv)`,
  );
  process.exit(2);
}
const templates = existsSync(outDir)
  ? readdirSync(outDir)
      .filter((f) => f.endsWith('.template.json'))
      .map((f) => join(outDir, f))
  : [];
if (!templates.length) {
  console.error(`cfn-lint: no templates in ${outDir}; run \`npm run synth\` first`);
  process.exit(2);
}
// Exit status is a bit mask: 2 errors, 4 warnings, 8 informational; anything but 0 fails.
const { status } = spawnSync(cfnLint, ['--', ...templates], { stdio: 'inherit' });
if (status !== 0) {
  console.error(
    `cfn-lint: findings in ${templates.join(', ')} (exit ${status}); fix them, or suppress with a reason in .cfnlintrc.yaml`,
  );
  process.exit(1);
}
console.log(`cfn-lint: ${templates.length} templates, no findings`);
