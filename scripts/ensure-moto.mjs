#!/usr/bin/env node
// Installs the AWS emulator (moto server, pinned) and the CloudFormation linter (cfn-lint, pinned;
// `npm test` lints the synthesized templates) into ./.venv when missing or of another version.
// Runs before `npm start` and `npm test`, so a fresh clone needs nothing else.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MOTO_VERSION = '5.2.5';
export const CFN_LINT_VERSION = '1.58.0';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const marker = join(venv, '.moto-version');
const server = join(venv, 'bin', 'moto_server');
const lintMarker = join(venv, '.cfn-lint-version');
const lint = join(venv, 'bin', 'cfn-lint');
const installed = (file, m, version) => existsSync(file) && existsSync(m) && readFileSync(m, 'utf8').trim() === version;

const wanted = [
  ...(installed(server, marker, MOTO_VERSION)
    ? []
    : [{ spec: `moto[server]==${MOTO_VERSION}`, marker, version: MOTO_VERSION }]),
  ...(installed(lint, lintMarker, CFN_LINT_VERSION)
    ? []
    : [{ spec: `cfn-lint==${CFN_LINT_VERSION}`, marker: lintMarker, version: CFN_LINT_VERSION }]),
];
if (!wanted.length) process.exit(0);

const python = process.env.PYTHON ?? 'python3';
console.error(`[setup] installing ${wanted.map((w) => w.spec).join(', ')} into ${venv} (once)`);
try {
  if (!existsSync(join(venv, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(
    join(venv, 'bin', 'pip'),
    ['install', '--quiet', '--disable-pip-version-check', ...wanted.map((w) => w.spec)],
    { stdio: 'inherit' },
  );
} catch (error) {
  console.error(
    `[setup] could not install ${wanted.map((w) => w.spec).join(', ')}: ${error.message}\n[setup] needs ${python} (3.9+) with the venv module and access to PyPI.`,
  );
  process.exit(1);
}
for (const w of wanted) writeFileSync(w.marker, `${w.version}\n`);
console.error('[setup] emulator and linter ready');
