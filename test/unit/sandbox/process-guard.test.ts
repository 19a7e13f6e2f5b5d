/**
 * The guard that keeps `npm start` up, in a real Node process: without it an unhandled rejection
 * ends the process (Node's default since v15); with it, once ready, the process logs it and goes
 * on; before ready, the same escape is a failed start.
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const TSX = join('node_modules', 'tsx', 'dist', 'cli.mjs');

/** Runs a script in a fresh Node process (with tsx, so it can import the TypeScript guard). */
function run(script: string) {
  const result = spawnSync(process.execPath, [TSX, '--eval', script], { encoding: 'utf8', timeout: 120_000 });
  return { code: result.status, out: `${result.stdout}${result.stderr}` };
}

const escapes = `
  Promise.reject(new Error('schedule vanished'));           // nobody awaits this
  setTimeout(() => { throw new Error('thrown in a timer'); }, 10);
  setTimeout(() => { console.log('still alive'); process.exit(0); }, 300);
`;

describe('sandbox process guard', () => {
  it('without the guard, an unhandled rejection ends the process (what ended npm start)', { timeout: 130_000 }, () => {
    const { code, out } = run(escapes);
    expect(code).not.toBe(0);
    expect(out).not.toContain('still alive');
  });

  it('once ready, logs every escape and keeps running', { timeout: 130_000 }, () => {
    const { code, out } = run(`
      import { installProcessGuard } from './sandbox/process-guard.ts';
      installProcessGuard({ isReady: () => true, onFatal: () => process.exit(1), log: (l) => console.error(l) });
      ${escapes}
    `);
    expect(out).toContain('still alive');
    expect(code).toBe(0);
    expect(out).toMatch(/\[sandbox\] unhandled rejection \(the sandbox keeps running\): Error: schedule vanished/);
    expect(out).toMatch(/\[sandbox\] uncaught exception \(the sandbox keeps running\): Error: thrown in a timer/);
  });

  it('while starting, an escape is a failed start (non-zero exit)', { timeout: 130_000 }, () => {
    const { code, out } = run(`
      import { installProcessGuard } from './sandbox/process-guard.ts';
      installProcessGuard({ isReady: () => false, onFatal: () => process.exit(1), log: (l) => console.error(l) });
      ${escapes}
    `);
    expect(code).toBe(1);
    expect(out).toContain('[sandbox] unhandled rejection while starting: Error: schedule vanished');
    expect(out).not.toContain('still alive');
  });
});
