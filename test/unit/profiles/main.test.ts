import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), 'profiles-check-'));

/** Runs `npm run profiles -- <args>` as teams' CI does (same entry point), returning status and output. */
async function profiles(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await exec(process.execPath, ['--import', 'tsx', 'profiles/main.ts', ...args], {
      cwd: process.cwd(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

const write = (name: string, content: unknown) => {
  const path = join(dir, name);
  writeFileSync(path, typeof content === 'string' ? content : JSON.stringify(content));
  return path;
};

const profile = (statements: unknown[], acknowledgedRisks?: Record<string, string>) => ({
  name: 'ops',
  description: 'd',
  owner: 'team@example.com',
  maxDurationMinutes: 60,
  eligible: ['arn:aws:iam::123456789012:role/Responder'],
  statements,
  ...(acknowledgedRisks ? { acknowledgedRisks } : {}),
});

describe('npm run profiles -- check', () => {
  it('exits 0 for the shipped sample and names each profile', async () => {
    const result = await profiles('check', 'config/profiles.json');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/config\/profiles\.json: 4 profiles valid/);
    expect(result.stdout).toMatch(/demo: no escalation risk/);
    expect(result.stdout).toMatch(/drill: no escalation risk/);
  });

  it('exits 0 for an acknowledged risk and shows the acknowledgement', async () => {
    const file = write('acked.json', {
      version: 1,
      profiles: [
        profile([{ actions: ['ssm:SendCommand'], resources: ['*'] }], {
          'code-execution': 'runs the restart runbook on the fleet',
        }),
      ],
    });
    const result = await profiles('check', file);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('ops: acknowledges code-execution ("runs the restart runbook on the fleet")');
  });

  it('exits 1 listing every problem: each unacknowledged class with its actions, stale acknowledgements, unknown actions', async () => {
    // Prepare
    const file = write('bad.json', {
      version: 1,
      profiles: [
        profile([{ actions: ['iam:PassRole', 'lambda:CreateFunction', 'cloudtrail:Stop*'], resources: ['*'] }], {
          'organization-identity': 'we never touch the organization, stale',
        }),
        { ...profile([{ actions: ['s3:GetObjekt'], resources: ['arn:aws:s3:::b/*'] }]), name: 'other' },
      ],
    });
    // Act
    const result = await profiles('check', file);
    // Assess
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/risk class "role-passing" is not acknowledged.*iam:PassRole/);
    expect(result.stderr).toMatch(/risk class "code-execution" is not acknowledged.*lambda:CreateFunction/);
    expect(result.stderr).toMatch(
      /risk class "audit-tampering" is not acknowledged.*"cloudtrail:Stop\*" allows cloudtrail:StopEventDataStoreIngestion, cloudtrail:StopLogging/,
    );
    expect(result.stderr).toMatch(
      /acknowledgedRisks names "organization-identity", but no Allow statement reaches that class/,
    );
    expect(result.stderr).toMatch(/profile "other" statement 0: no known IAM action matches "s3:GetObjekt"/);
    expect(result.stderr).not.toMatch(/\bat .*\.ts:\d+/); // no stack trace
  });

  it('exits 1 for a schema error, still listing the risks of the well-formed profiles', async () => {
    const result = await profiles(
      'check',
      write('schema.json', {
        version: 1,
        profiles: [
          { ...profile([{ actions: ['s3:GetObject'], resources: ['*'] }]), maxDurationMinutes: 0 },
          { ...profile([{ actions: ['ssm:StartSession'], resources: ['*'] }]), name: 'shell' },
        ],
      }),
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/profile "ops"\.maxDurationMinutes/);
    expect(result.stderr).toMatch(/profile "shell": risk class "code-execution" is not acknowledged.*ssm:StartSession/);
  });

  it('exits 2 for a file that is not JSON', async () => {
    const result = await profiles('check', write('broken.json', '{"version": 1,'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/broken\.json: cannot read it as JSON/);
  });

  it('exits 2 for a file that does not exist', async () => {
    const result = await profiles('check', join(dir, 'missing.json'));
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/missing\.json: cannot read it as JSON: ENOENT/);
  });

  it('exits 2 with the usage for a missing or unknown command', async () => {
    for (const args of [[], ['lint', 'x.json'], ['check']]) {
      const result = await profiles(...args);
      expect(result.code, args.join(' ')).toBe(2);
      expect(result.stderr).toContain('Usage: npm run profiles -- check <file>');
    }
  });
});
