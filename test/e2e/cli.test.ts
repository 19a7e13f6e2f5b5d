/** The `breakglass` CLI as a process: against the local sandbox, and signing for a real endpoint. */
import { execFile } from 'node:child_process';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/Responder/alice';
const SECURITY = 'arn:aws:sts::123456789012:assumed-role/Security/sam';
let sandbox: SandboxProcess;

beforeAll(async () => {
  // Reviews wait ACTIVITY_SETTLE_MINUTES after a grant's end (default 15); this walk-through reviews at once.
  sandbox = await startSandbox({ ACTIVITY_SETTLE_MINUTES: '0' });
});
afterAll(async () => sandbox?.stop());

function cli(
  args: string[],
  env: Record<string, string> = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ['bin/breakglass.mjs', ...args],
      {
        env: {
          PATH: process.env.PATH,
          HOME: '/nonexistent',
          BREAKGLASS_ENDPOINT: sandbox?.api ?? '',
          BREAKGLASS_LOCAL_PRINCIPAL: ALICE,
          ...env,
        },
        timeout: 10 * 60_000 /* hang guard */,
      },
      (error, stdout, stderr) => {
        resolve({ code: error ? ((error as { code?: number }).code ?? 1) : 0, stdout, stderr });
      },
    );
  });
}

describe('breakglass CLI against the sandbox', () => {
  it('activates, shows status, extends, lists and revokes, with the next command to run', async () => {
    const profiles = await cli(['profiles']);
    expect(profiles.code).toBe(0);
    expect(profiles.stdout).toContain('demo  (max 120m');
    expect(profiles.stdout).toContain('Allow s3:GetObject, s3:ListBucket on arn:aws:s3:::demo-incident-logs');

    const activated = await cli([
      'activate',
      '--profile',
      'demo',
      '--reason',
      'CLI test: orders API down',
      '--minutes',
      '20',
      '--json',
    ]);
    expect(activated.code).toBe(0);
    const grant = JSON.parse(activated.stdout).grant;
    expect(grant.status).toBe('ACTIVE');

    const again = await cli(['activate', '--profile', 'demo', '--reason', 'CLI test: orders API down']);
    expect(again.code).toBe(0);
    expect(again.stdout).toContain('You already hold demo');

    const status = await cli(['status', grant.id]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(/status\s+ACTIVE, expires .* \(in 1\dm \d\ds\)/);
    expect(status.stdout).toContain('ACTIVATED');
    expect(status.stdout).toContain(`breakglass revoke ${grant.id} --reason "done"`);

    const extended = await cli(['extend', grant.id, '--minutes', '10', '--reason', 'failover still running']);
    expect(extended.code).toBe(0);
    expect(extended.stdout).toMatch(/Extended demo until/);

    const list = await cli(['list', '--active']);
    expect(list.stdout).toContain(grant.id);

    const revoked = await cli(['revoke', grant.id, '--reason', 'done, all good']);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toContain('Revoked demo; the policy is detached.');

    const watch = await cli(['status', grant.id, '--watch']);
    expect(watch.code).toBe(0);
    expect(watch.stdout).toMatch(/demo REVOKED at/);

    // The reviewer's and the auditor's side: alice cannot review her own grant; security can, once.
    const own = await cli(['review', grant.id, '--outcome', 'justified', '--notes', 'I reviewed myself, trust me']);
    expect(own.code).toBe(3);
    expect(own.stderr).toMatch(/Two-person rule|reviewer/);
    const reviewed = await cli(
      ['review', grant.id, '--outcome', 'justified', '--notes', 'matches the incident timeline'],
      { BREAKGLASS_LOCAL_PRINCIPAL: SECURITY },
    );
    expect(reviewed.code).toBe(0);
    expect(reviewed.stdout).toContain('justified. Recorded and announced.');
    expect(
      (
        await cli(['review', grant.id, '--outcome', 'fine', '--notes', 'matches the incident timeline'], {
          BREAKGLASS_LOCAL_PRINCIPAL: SECURITY,
        })
      ).code,
    ).toBe(2);
    const trail = await cli(['audit', '--requester', ALICE, '--type', 'REVIEWED'], {
      BREAKGLASS_LOCAL_PRINCIPAL: SECURITY,
    });
    expect(trail.code).toBe(0);
    expect(trail.stdout).toMatch(new RegExp(`REVIEWED\\s+demo\\s+alice\\s+${grant.id}  by ${SECURITY}`));
  });

  it('explains each refusal with a message, a hint and a meaningful exit code', async () => {
    const denied = await cli(['activate', '--profile', 'demo', '--reason', 'I would like to look around'], {
      BREAKGLASS_LOCAL_PRINCIPAL: 'arn:aws:sts::123456789012:assumed-role/Intern/eve',
    });
    expect(denied.code).toBe(3);
    expect(denied.stderr).toMatch(/not eligible for profile "demo".*NotEligible, HTTP 403/);
    expect(denied.stderr).toContain('breakglass profiles');

    const short = await cli(['activate', '--profile', 'demo', '--reason', 'help']);
    expect(short.code).toBe(6);
    expect(short.stderr).toMatch(/at least 10 characters/);

    const missing = await cli(['status', '0f8fad5b-d9cb-469f-a165-70867728950e']);
    expect(missing.code).toBe(4);

    const usage = await cli(['activate', '--reason', 'no profile given here']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--profile is required');

    const unknown = await cli(['activate', '--profile', 'demo', '--bogus']);
    expect(unknown.code).toBe(2);

    const unreachable = await cli(['profiles'], { BREAKGLASS_ENDPOINT: 'http://127.0.0.1:9' });
    expect(unreachable.code).toBe(8);
    expect(unreachable.stderr).toMatch(/Cannot reach http:\/\/127.0.0.1:9/);
  });

  it('has --help for every command', async () => {
    for (const command of [
      'activate',
      'status',
      'list',
      'extend',
      'revoke',
      'profiles',
      'freeze',
      'unfreeze',
      'revoke-all',
      'review',
      'audit',
    ]) {
      const help = await cli([command, '--help']);
      expect(help.code, command).toBe(0);
      expect(help.stdout).toMatch(new RegExp(`^Usage: breakglass ${command}`));
    }
  });

  it('lets security freeze, which refuses activations with exit 3, and unfreeze', async () => {
    expect(
      (
        await cli(['freeze', '--profile', 'demo', '--reason', 'suspected misuse'], {
          BREAKGLASS_LOCAL_PRINCIPAL: SECURITY,
        })
      ).code,
    ).toBe(0);
    const frozen = await cli(['activate', '--profile', 'demo', '--reason', 'CLI test: orders API down'], {
      BREAKGLASS_LOCAL_PRINCIPAL: 'arn:aws:sts::123456789012:assumed-role/Responder/bob',
    });
    expect(frozen.code).toBe(3);
    expect(frozen.stderr).toMatch(/frozen/);
    const unfrozen = await cli(['unfreeze', '--profile', 'demo', '--reason', 'review done'], {
      BREAKGLASS_LOCAL_PRINCIPAL: SECURITY,
    });
    expect(unfrozen.stdout).toContain('Now frozen: nothing');
  });
});

describe('breakglass CLI signing', () => {
  it('signs with SigV4 for execute-api from the standard credential chain, and never prints the secret', async () => {
    let seen: IncomingHttpHeaders | undefined;
    const server = createServer((req, res) => {
      seen = req.headers;
      res.writeHead(403, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ message: 'The security token included in the request is invalid.' }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY';
    const res = await cli(['profiles', '--sign', '--endpoint', `http://127.0.0.1:${port}/v1`], {
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: secret,
      AWS_SESSION_TOKEN: 'session-token-example',
      AWS_REGION: 'eu-west-1',
      BREAKGLASS_LOCAL_PRINCIPAL: '',
    });
    server.close();
    expect(seen?.authorization).toMatch(
      /^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/eu-west-1\/execute-api\/aws4_request, SignedHeaders=\S*host\S*, Signature=[0-9a-f]{64}$/,
    );
    expect(seen?.['x-amz-security-token']).toBe('session-token-example');
    expect(seen?.['x-local-principal']).toBeUndefined();
    expect(res.code).toBe(3);
    expect(res.stderr).toContain('The security token included in the request is invalid.');
    expect(res.stdout + res.stderr).not.toContain(secret);
  });
});
