/**
 * The audit report shows which grants ran under acknowledged escalation risks: a per-grant
 * column (from the profiles file given with `--profiles`) and one LOW `RISK_ACKNOWLEDGED`
 * finding per grant that gave access. The profiles file passes the same risk check as synth.
 */

import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeExportFixture } from '../../support/export-fixture.js';
import { audit, ofCode, tempDir } from './support.js';

const AS_OF = '2026-11-05T00:00:00Z';
const WHY = 'failover of the primary needs the hotfix Lambda redeployed';
const config = JSON.parse(readFileSync('config/profiles.json', 'utf8')) as {
  version: number;
  profiles: Array<Record<string, unknown> & { name: string; statements: unknown[] }>;
};

/** config/profiles.json with prod-db-admin also allowed to deploy a function, acknowledged or not. */
function profilesFile(acknowledged: boolean): string {
  const file = join(tempDir(), 'profiles.json');
  const profiles = config.profiles.map((p) =>
    p.name !== 'prod-db-admin'
      ? p
      : {
          ...p,
          statements: [
            ...p.statements,
            {
              sid: 'Hotfix',
              effect: 'Allow',
              actions: ['lambda:UpdateFunctionCode'],
              resources: ['arn:aws:lambda:us-east-1:123456789012:function:orders-hotfix'],
            },
          ],
          ...(acknowledged ? { acknowledgedRisks: { 'code-execution': WHY } } : {}),
        },
  );
  writeFileSync(file, JSON.stringify({ ...config, profiles }));
  return file;
}

describe('audit report: acknowledged risks', () => {
  it("gives every grant its profile's acknowledged classes and one LOW finding per grant of such a profile that gave access", async () => {
    // Prepare
    // Grant 7 is a DENIED one (report.test.ts): of prod-db-admin too, it must raise no finding.
    const f = await writeExportFixture({
      dir: tempDir(),
      grants: 60,
      eventsPerGrant: 5,
      files: 2,
      plan: (i, p) => (i === 7 ? { ...p, profile: 'prod-db-admin', ticket: undefined } : p),
    });
    // Act
    const { json, out } = await audit(['report', f.prefixDir, '--as-of', AS_OF, '--profiles', profilesFile(true)]);
    // Assess: the column
    for (const g of f.grants) {
      const row = json!.grants.find((r) => r.id === g.plan.id)!;
      expect(row.risks).toBe(g.plan.profile === 'prod-db-admin' ? 'code-execution' : '');
    }
    // Assess: the findings, exactly the activated grants of prod-db-admin
    const expected = f.grants
      .filter((g) => g.plan.profile === 'prod-db-admin' && !['DENIED', 'FAILED'].includes(g.status))
      .map((g) => g.plan.id)
      .sort();
    expect(expected.length).toBeGreaterThan(0);
    expect(f.grants.some((g) => g.plan.profile === 'prod-db-admin' && g.status === 'DENIED')).toBe(true);
    const found = ofCode(json!, 'RISK_ACKNOWLEDGED');
    expect(found.map((x) => x.grantId).sort()).toEqual(expected);
    expect(found.every((x) => x.severity === 'LOW' && x.message.includes('(code-execution)'))).toBe(true);
    expect(json!.summary.findings.byCode.RISK_ACKNOWLEDGED).toBe(expected.length);
    // Assess: the CSV and Markdown carry the column
    const csv = readFileSync(join(out, 'report.csv'), 'utf8').split('\r\n');
    const column = csv[0]!.split(',').indexOf('acknowledged_risks');
    expect(csv.find((line) => line.startsWith(expected[0]!))!.split(',')[column]).toBe('code-execution');
    const md = readFileSync(join(out, 'report.md'), 'utf8');
    expect(md).toContain('| acknowledged risks |');
    expect(md).toContain('Activations of profiles with acknowledged escalation risks');
  });

  it('exits 2, naming the class, when the profiles file allows a risk it does not acknowledge', async () => {
    const f = await writeExportFixture({ dir: tempDir(), grants: 5, eventsPerGrant: 3, files: 1 });
    const file = profilesFile(false);
    const { code, stderr, json } = await audit(['report', f.prefixDir, '--as-of', AS_OF, '--profiles', file]);
    expect(code).toBe(2);
    expect(stderr).toMatch(new RegExp(`^audit: ${file} is not a valid profiles file: .*prod-db-admin.*code-execution`));
    expect(json).toBeUndefined();
  });
});
