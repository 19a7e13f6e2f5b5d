/**
 * Starts and stops a moto server (the AWS API emulator) from ./.venv, for the sandbox and
 * the integration tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { createWriteStream, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
export const MOTO_SERVER = join(root, '.venv', 'bin', 'moto_server');
const PYTHON = join(root, '.venv', 'bin', 'python');
/** moto's server with DynamoDB's item operations serialized (see the file: stock moto loses writes under concurrent transactions). */
const LAUNCHER = join(root, 'sandbox', 'moto-server.py');

export interface Moto {
  readonly endpoint: string;
  readonly port: number;
  stop(): Promise<void>;
}

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() =>
        typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port')),
      );
    });
  });
}

async function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(true));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(false)));
  });
}

export async function startMoto(options: { port?: number; quiet?: boolean } = {}): Promise<Moto> {
  if (!existsSync(MOTO_SERVER))
    throw new Error(`moto is not installed at ${MOTO_SERVER}; run: node scripts/ensure-moto.mjs`);
  const port = options.port ?? (await freePort());
  if (await portInUse(port)) throw new Error(`Port ${port} on 127.0.0.1 is in use; set MOTO_PORT to another port`);
  const child: ChildProcess = spawn(PYTHON, [LAUNCHER, '-H', '127.0.0.1', '-p', String(port)], {
    stdio: ['ignore', options.quiet === false ? 'inherit' : 'ignore', 'pipe'],
    env: { ...process.env, MOTO_ALLOW_NONEXISTENT_REGION: 'false' },
  });
  let stderr = '';
  // MOTO_LOG=<file> keeps moto's request log and tracebacks, for debugging the emulator under load.
  const logFile = process.env.MOTO_LOG ? createWriteStream(process.env.MOTO_LOG, { flags: 'a' }) : undefined;
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
    logFile?.write(chunk);
  });
  const endpoint = `http://127.0.0.1:${port}`;
  // A hang guard, generous: a busy machine can take a long while to start Python and import moto.
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`moto exited with code ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${endpoint}/moto-api/data.json`);
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`moto did not start on ${endpoint} within 5 minutes: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  // Never outlive the process that started it (a killed test run or bench would leave it running).
  const orphanGuard = () => child.kill('SIGKILL');
  process.once('exit', orphanGuard);
  child.once('exit', () => process.removeListener('exit', orphanGuard));
  return {
    endpoint,
    port,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
        setTimeout(() => child.kill('SIGKILL'), 3000).unref();
      }),
  };
}
