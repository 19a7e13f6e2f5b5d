#!/usr/bin/env node
// Installs Debian's chromium (/usr/bin/chromium) for the audit report page's browser test
// (test/unit/audit/html-browser.test.ts) when it is missing, this runs as root and apt-get is
// there. Runs before `npm test`. It never fails the run: without chromium the browser test is
// skipped, and its name says why. Playwright's own browser downloads are not used (playwright-core
// drives this system chromium).
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM = '/usr/bin/chromium';
const APT = '/usr/bin/apt-get';

if (existsSync(CHROMIUM)) process.exit(0);
const skip = (why) => {
  console.error(`[setup] ${CHROMIUM} is missing and ${why}: the audit report's browser test will be skipped.`);
  process.exit(0);
};
if (typeof process.getuid !== 'function' || process.getuid() !== 0)
  skip('this is not running as root (install it with: apt-get install chromium)');
if (!existsSync(APT)) skip(`there is no ${APT} to install it with`);

const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
const install = () => execFileSync(APT, ['install', '-y', '-q', 'chromium'], { stdio: 'inherit', env });
console.error('[setup] installing chromium with apt-get (once; a few minutes)');
try {
  install();
} catch {
  // Most often the package lists are missing or stale: read them once, then try again.
  try {
    execFileSync(APT, ['update', '-q'], { stdio: 'inherit', env });
    install();
  } catch (error) {
    skip(`apt-get could not install it (${error.message.split('\n')[0]})`);
  }
}
if (!existsSync(CHROMIUM)) skip('apt-get installed no chromium there');
console.error('[setup] chromium ready');
