/**
 * scripts/least-privilege.mjs: the least-privilege table (docs/security.md) and the configuration table
 * (docs/operations.md) are generated from the synthesized templates, and `--check` fails when either drifts.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../infra/app.js';
import { SECURITY } from './templates.js';

let outDir: string;
const script = (...args: string[]) =>
  spawnSync(process.execPath, ['scripts/least-privilege.mjs', '--out', outDir, ...args], { encoding: 'utf8' });
const docWith = (text: string) => {
  const file = join(mkdtempSync(join(tmpdir(), 'bg-lp-')), 'doc.md');
  writeFileSync(file, text);
  return file;
};
const MARKERS =
  '# t\n<!-- least-privilege:start -->\n<!-- least-privilege:end -->\ntext between\n<!-- configuration:start -->\nstale\n<!-- configuration:end -->\n';

beforeAll(() => {
  // Synthesized as `npm run synth` does (environment-agnostic, the sample security principal), without bundling.
  outDir = mkdtempSync(join(tmpdir(), 'bg-lp-out-'));
  // The CDK CLI runs the app with CDK_DEFAULT_REGION set (us-east-1 without an AWS configuration) and cdk.json's
  // context; the profile role pools are sized from the policy's longest form, which depends on whether the region
  // is known, so this synth must see the same.
  const saved = { account: process.env.CDK_DEFAULT_ACCOUNT, region: process.env.CDK_DEFAULT_REGION };
  delete process.env.CDK_DEFAULT_ACCOUNT;
  process.env.CDK_DEFAULT_REGION = saved.region ?? 'us-east-1';
  const cdkJson = JSON.parse(readFileSync('cdk.json', 'utf8')) as { context: Record<string, unknown> };
  try {
    buildApp(
      new App({
        outdir: outDir,
        context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [], securityPrincipals: SECURITY },
      }),
    ).app.synth();
  } finally {
    if (saved.account !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved.account;
    if (saved.region === undefined) delete process.env.CDK_DEFAULT_REGION;
    else process.env.CDK_DEFAULT_REGION = saved.region;
  }
});

describe('least-privilege tables', () => {
  it("writes each role's actions and resources and each variable into the marked sections, and keeps the text around them", () => {
    // Prepare
    const doc = docWith(MARKERS);
    // Act
    const run = script('--doc', doc);
    // Assess
    expect(run.status, run.stderr).toBe(0);
    const text = readFileSync(doc, 'utf8');
    expect(text).toContain('text between');
    expect(text).not.toContain('stale');
    expect(text).toMatch(
      /\| \*\*ReviewGrant\*\* \| `dynamodb:GetItem`, `dynamodb:PutItem`, `dynamodb:UpdateItem` \| `\{table Grants\}` \|/,
    );
    expect(text).toMatch(/\| \*\*QueryAudit\*\* \| `dynamodb:Query` \| `\{table Grants\}\/index\/eventsByDay`/);
    expect(text).toMatch(
      /\| \*\*ExpireGrant\*\* [^\n]*\n(\| {2}\|[^\n]*\n)*\| {2}\| `sqs:GetQueueAttributes`, `sqs:GetQueueUrl`, `sqs:SendMessage` \| `\{queue ExpiryFailures\}` \|/,
    );
    expect(text).toMatch(
      /\| SchedulerRole \(role\) \| `lambda:InvokeFunction` \| `\{function ExpireGrantFunction\}` \|/,
    );
    expect(text).toContain('| `REVIEWER_PRINCIPALS` | GetActivity, ReviewGrant |');
    expect(text).toContain('`arn:aws:iam::<account>:role/Security`');
    expect(text).not.toMatch(/\d{12}/);
  });

  it('--check passes on what it wrote and fails, naming the fix, when a row was edited by hand', () => {
    // Prepare
    const doc = docWith(MARKERS);
    script('--doc', doc);
    // Act
    const clean = script('--doc', doc, '--check');
    writeFileSync(
      doc,
      readFileSync(doc, 'utf8').replace(
        '`dynamodb:Query` | `{table Grants}/index/byReviewDue`',
        '`dynamodb:Query`, `dynamodb:Scan` | `*`',
      ),
    );
    const edited = script('--doc', doc, '--check');
    // Assess
    expect(clean.status, clean.stderr).toBe(0);
    expect(edited.status).toBe(1);
    expect(edited.stderr).toMatch(
      /disagrees with the synthesized templates; run `npm run synth && node scripts\/least-privilege.mjs`/,
    );
  });

  it('fails when no file has a marked section', () => {
    const run = script('--doc', docWith('# no markers\n'), '--check');
    expect(run.status).toBe(1);
    expect(run.stderr).toMatch(/no <!-- least-privilege:start --> … <!-- least-privilege:end --> section in /);
  });

  it('writes each section into the file that holds its markers, and refuses a section marked in two files', () => {
    // Prepare
    const security = docWith('# s\n<!-- least-privilege:start -->\n<!-- least-privilege:end -->\n');
    const operations = docWith('# o\n<!-- configuration:start -->\n<!-- configuration:end -->\n');
    const twice = docWith('# again\n<!-- configuration:start -->\n<!-- configuration:end -->\n');
    // Act
    const run = script('--doc', security, '--doc', operations);
    const duplicate = script('--doc', security, '--doc', operations, '--doc', twice, '--check');
    // Assess
    expect(run.status, run.stderr).toBe(0);
    expect(readFileSync(security, 'utf8')).toContain('| **ReviewGrant** |');
    expect(readFileSync(security, 'utf8')).not.toContain('| `REVIEWER_PRINCIPALS` |');
    expect(readFileSync(operations, 'utf8')).toContain('| `REVIEWER_PRINCIPALS` | GetActivity, ReviewGrant |');
    expect(readFileSync(operations, 'utf8')).not.toContain('| **ReviewGrant** |');
    expect(duplicate.status).toBe(1);
    expect(duplicate.stderr).toMatch(/<!-- configuration:start --> appears in more than one file/);
  });

  it('agrees with the committed docs/security.md and docs/operations.md', () => {
    const run = script('--check');
    expect(run.status, run.stderr).toBe(0);
    expect(run.stdout).toContain('docs/security.md, docs/operations.md match the templates');
  });
});
