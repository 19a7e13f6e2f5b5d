/** Runs `npm start`'s entry point as a child process on free ports, for end-to-end tests. */
import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { freePort } from '../../sandbox/moto.js';

export interface SandboxProcess {
  readonly api: string;
  readonly moto: string;
  /** The stand-in for CloudTrail: AWS calls through it with vended credentials are recorded. */
  readonly cloudtrail: string;
  readonly output: () => string;
  /** The process's exit code, or null while it runs. */
  readonly exitCode: () => number | null;
  stop(): Promise<void>;
}

export async function startSandbox(env: Record<string, string> = {}): Promise<SandboxProcess> {
  const [motoPort, apiPort, trailPort] = [await freePort(), await freePort(), await freePort()];
  const child: ChildProcess = spawn(
    process.execPath,
    [join('node_modules', 'tsx', 'dist', 'cli.mjs'), 'sandbox/main.ts'],
    {
      env: {
        ...process.env,
        MOTO_PORT: String(motoPort),
        PORT: String(apiPort),
        CLOUDTRAIL_STANDIN_PORT: String(trailPort),
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout!.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (output += c.toString()));
  // 'close' comes after the last output of a process that exited: wait for it before quoting the output.
  const closed = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // A hang guard: a starved machine may take minutes to boot moto and the handlers.
  const deadline = Date.now() + 10 * 60_000;
  while (!output.includes('sandbox ready')) {
    if (child.exitCode !== null) {
      await closed;
      throw new Error(`sandbox exited (${child.exitCode}):\n${output}`);
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`sandbox not ready in 10 minutes:\n${output}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    api: `http://127.0.0.1:${apiPort}`,
    moto: `http://127.0.0.1:${motoPort}`,
    cloudtrail: `http://127.0.0.1:${trailPort}`,
    output: () => output,
    exitCode: () => child.exitCode ?? (child.signalCode ? -1 : null),
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 5000).unref();
      }),
  };
}
