#!/usr/bin/env node
// Installs the AWS emulator (moto server, pinned) into ./.venv when it is missing or of
// another version. Runs before `npm start` and `npm test`, so a fresh clone needs nothing else.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const MOTO_VERSION = '5.2.5';
const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const venv = join(root, '.venv');
const marker = join(venv, '.moto-version');
const server = join(venv, 'bin', 'moto_server');

if (existsSync(server) && existsSync(marker) && readFileSync(marker, 'utf8').trim() === MOTO_VERSION) process.exit(0);

const python = process.env.PYTHON ?? 'python3';
console.error(`[setup] installing moto[server]==${MOTO_VERSION} into ${venv} (once)`);
try {
  if (!existsSync(join(venv, 'bin', 'pip'))) execFileSync(python, ['-m', 'venv', venv], { stdio: 'inherit' });
  execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', `moto[server]==${MOTO_VERSION}`], { stdio: 'inherit' });
} catch (error) {
  console.error(`[setup] could not install the emulator: ${error.message}\n[setup] needs ${python} (3.9+) with the venv module and access to PyPI.`);
  process.exit(1);
}
writeFileSync(marker, `${MOTO_VERSION}\n`);
console.error('[setup] emulator ready');
