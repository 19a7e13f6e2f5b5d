import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { writeExportFixture } from '../../support/export-fixture.js';
import { audit, tempDir } from './support.js';

const AS_OF = '2026-11-05T00:00:00Z';

describe('audit command line', () => {
  it('prints its usage with --help and exits 0', async () => {
    const { code, stdout } = await audit(['--help']);
    expect(code).toBe(0);
    expect(stdout).toContain('Usage: npm run audit -- report <export> [options]');
    expect(stdout).toContain('--late-seconds');
  });

  it.each([
    [['report'], /^audit: missing the export to report on/],
    [[], /^audit: missing command: report <export>/],
    [['summarise', 'x'], /^audit: unknown command "summarise"/],
    [['report', 'x', '--late', '5'], /^audit: .*--late/],
    [['report', 'x', '--late-seconds', 'soon'], /^audit: --late-seconds must be a number/],
    [['report', 'x', '--review-days', '-1'], /^audit: .*review-days/],
    [['report', 'x', '--as-of', 'yesterday'], /^audit: --as-of must be an ISO-8601 time/],
    [['report', 'x', 'y'], /^audit: unexpected argument "y"/],
    [
      ['report', 'x', '--profiles', '/nonexistent/profiles.json'],
      /^audit: cannot read the profiles file \/nonexistent\/profiles.json/,
    ],
  ])('exits 2 with a one-line message for bad usage: %j', async (args, message) => {
    const { code, stderr, json } = await audit(args);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr.split('\n')[0]).not.toMatch(/\n/);
    expect(stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(json).toBeUndefined();
  });

  it('exits 2 when the profiles file is invalid', async () => {
    const bad = join(tempDir(), 'profiles.json');
    writeFileSync(bad, JSON.stringify({ version: 1, profiles: [{ name: 'X' }] }));
    const { code, stderr } = await audit(['report', tempDir(), '--profiles', bad]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^audit: ${bad} is not a valid profiles file: Invalid break-glass profiles`));
    expect(stderr.trimEnd().split('\n')).toHaveLength(2); // the message and the hint
  });

  it('exits 2 when the source does not exist, or holds no export', async () => {
    const missing = await audit(['report', '/nonexistent/export']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('audit: cannot read /nonexistent/export: no such file or directory\n');

    const empty = tempDir();
    mkdirSync(join(empty, 'AWSDynamoDB', 'x'), { recursive: true });
    writeFileSync(join(empty, 'AWSDynamoDB', 'x', 'notes.txt'), 'nothing');
    const none = await audit(['report', empty]);
    expect(none.code).toBe(2);
    expect(none.stderr).toBe(
      `audit: no DynamoDB export under ${empty}: no manifest-summary.json and no data/*.gz files\n`,
    );
  });

  it('exits 2 when the manifest summary is not JSON', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 5 });
    writeFileSync(f.summaryPath!, '{ not json');
    const { code, stderr } = await audit(['report', f.prefixDir]);
    expect(code).toBe(2);
    expect(stderr).toMatch(/^audit: .*manifest-summary\.json is not a manifest summary/);
  });

  it('exits 1 with HIGH findings and 0 without, and says so on stdout', async () => {
    const clean = await writeExportFixture({
      dir: tempDir(),
      grants: 40,
      plan: (_, p) => ({ ...p, endOffsetSeconds: p.outcome === 'EXPIRED' ? 1 : p.endOffsetSeconds }),
    });
    const ok = await audit(['report', clean.prefixDir, '--as-of', AS_OF]);
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(
      /^Report on arn:aws:dynamodb:.*: 40 grants, \d+ events; \d+ findings \(0 HIGH, \d+ MEDIUM, \d+ LOW\)\.\nWrote .*report\.md, .*report\.csv, .*report\.json\n$/,
    );

    const tampered = await writeExportFixture({
      dir: tempDir(),
      grants: 40,
      plan: (_, p) => ({ ...p, endOffsetSeconds: p.outcome === 'EXPIRED' ? 1 : p.endOffsetSeconds }),
      tamper: [{ kind: 'event-reason', grant: 2, seq: 1 }],
    });
    const bad = await audit(['report', tampered.prefixDir, '--as-of', AS_OF]);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('(1 HIGH,');
  });

  it('prints its figures and peak memory with --stats', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 30, eventsPerGrant: 4 });
    const { stderr } = await audit(['report', f.prefixDir, '--as-of', AS_OF, '--stats']);
    expect(stderr).toMatch(
      new RegExp(
        `audit stats: items=${f.items} grants=30 events=${f.events} seconds=\\d+\\.\\d\\d peakRssMiB=\\d+\\.\\d buckets=1\\n`,
      ),
    );
  });

  it('runs as npm run audit does: a real process, exit statuses and messages as documented', async () => {
    const exec = promisify(execFile);
    const runCli = (args: string[]) =>
      exec(process.execPath, ['--import', 'tsx', 'audit/main.ts', ...args], {
        cwd: process.cwd(),
        env: { ...process.env, AUDIT_DEBUG: '' },
      }).then(
        (r) => ({ code: 0, ...r }),
        (e: { code: number; stdout: string; stderr: string }) => ({ code: e.code, stdout: e.stdout, stderr: e.stderr }),
      );
    const f = await writeExportFixture({ dir: tempDir(), grants: 20, tamper: [{ kind: 'delete-grant', grant: 4 }] });
    const out = join(tempDir(), 'out');

    const [bad, good] = await Promise.all([
      runCli(['report', 's3://']),
      runCli(['report', f.exportDir, '--out', out, '--as-of', AS_OF]),
    ]);

    expect(bad).toMatchObject({
      code: 2,
      stdout: '',
      stderr: 'audit: s3:// is not an S3 location; expected s3://<bucket>/<prefix>\n',
    });
    expect(good.code).toBe(1);
    expect(existsSync(join(out, 'report.md'))).toBe(true);
    expect(JSON.parse(readFileSync(join(out, 'report.json'), 'utf8')).summary.findings.byCode).toMatchObject({
      ORPHAN_EVENTS: 1,
      LEDGER_GAP: 1,
    });
  }, 60_000);
});
