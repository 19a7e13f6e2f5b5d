/**
 * The spoke StackSet's template: inline (`TemplateBody`) while it fits CreateStackSet's 51,200 bytes,
 * a file asset in S3 (`TemplateURL`) above, e.g. a profile naming a thousand accounts (one
 * `Fn::Equals` each in its roles' condition).
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  type BreakGlassSpokeStackSetStack,
  STACK_SET_TEMPLATE_BODY_LIMIT,
  STACK_SET_TEMPLATE_URL_LIMIT,
} from '../../infra/spoke-stacks.js';
import { app, render } from './templates.js';

const OU = 'ou-ab12-cdefgh34';
const stackSetOf = (built: ReturnType<typeof app>) => {
  const stack = built.app.node.findChild('BreakGlassSpokeStackSet') as BreakGlassSpokeStackSetStack;
  const sets = Object.values(Template.fromStack(stack).findResources('AWS::CloudFormation::StackSet'));
  expect(sets).toHaveLength(1);
  return { stack, props: sets[0]!.Properties as Record<string, unknown> };
};

/** The sample profiles, plus one naming `count` accounts. */
function profilesWithManyAccounts(count: number): string {
  const sample = JSON.parse(readFileSync('config/profiles.json', 'utf8')) as { profiles: unknown[] };
  const accounts = Array.from({ length: count }, (_, i) => String(300000000000 + i));
  sample.profiles.push({
    name: 'fleet-read',
    description: 'Read the incident logs of every workload account',
    owner: 'platform@example.com',
    maxDurationMinutes: 60,
    accounts,
    eligible: ['arn:aws:iam::123456789012:role/Responder'],
    statements: [{ effect: 'Allow', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::incident-logs/*'] }],
  });
  const file = join(mkdtempSync(join(tmpdir(), 'breakglass-profiles-')), 'profiles.json');
  writeFileSync(file, JSON.stringify(sample));
  return file;
}

describe('spoke StackSet template delivery', () => {
  it('sends a template that fits inline as TemplateBody, with no TemplateURL and no asset', () => {
    const { stack, props } = stackSetOf(app({ spokeOrganizationalUnits: OU }, { bundle: false }));
    expect(stack.templateDelivery).toBe('inline');
    expect(stack.templateBytes).toBeLessThanOrEqual(STACK_SET_TEMPLATE_BODY_LIMIT);
    expect(props.TemplateURL).toBeUndefined();
    expect(Buffer.byteLength(props.TemplateBody as string, 'utf8')).toBe(stack.templateBytes);
    expect(stack.templateAsset).toBeUndefined();
  });

  it('sends a template over 51,200 bytes as a file asset (TemplateURL), holding the whole template', () => {
    // Prepare: a profile naming 1,000 accounts
    // (above 40 spokes the activity bus admits the organization, not a list: -c spokeOrganizationId)
    const built = app(
      { spokeOrganizationalUnits: OU, spokeOrganizationId: 'o-a1b2c3d4e5', profiles: profilesWithManyAccounts(1000) },
      { bundle: false },
    );
    // Act
    const { stack, props } = stackSetOf(built);
    const assembly = built.app.synth();
    // Assess: over the inline limit, so no TemplateBody; the URL is the asset's in the bootstrap bucket
    expect(stack.templateBytes).toBeGreaterThan(STACK_SET_TEMPLATE_BODY_LIMIT);
    expect(stack.templateBytes).toBeLessThanOrEqual(STACK_SET_TEMPLATE_URL_LIMIT);
    expect(stack.templateDelivery).toBe('asset');
    expect(props.TemplateBody).toBeUndefined();
    const asset = stack.templateAsset!;
    const sub = (props.TemplateURL as { 'Fn::Sub'?: string })['Fn::Sub'];
    const url = sub ? sub.replace('$' + '{AWS::URLSuffix}', 'amazonaws.com') : render(props.TemplateURL);
    expect(url).toMatch(/^https:\/\/s3\.eu-west-1\.amazonaws\.com\/cdk-[a-z0-9]+-assets-123456789012-eu-west-1\//);
    expect(url.endsWith(`/${asset.s3ObjectKey}`)).toBe(true);
    // The staged file is the spoke template: every account's condition is in it
    const staged = readFileSync(join(assembly.directory, asset.assetPath), 'utf8');
    expect(Buffer.byteLength(staged, 'utf8')).toBe(stack.templateBytes);
    const template = JSON.parse(staged) as { Resources: Record<string, { Properties?: { RoleName?: string } }> };
    expect(staged).toContain('"300000000999"');
    expect(Object.values(template.Resources).some((r) => r.Properties?.RoleName === 'breakglass-spoke-manager')).toBe(
      true,
    );
    // cdk deploy publishes it: the stack's asset manifest lists the file
    const manifest = JSON.parse(readFileSync(join(assembly.directory, `${stack.artifactId}.assets.json`), 'utf8')) as {
      files: Record<string, { source: { path: string } }>;
    };
    expect(Object.values(manifest.files).map((f) => f.source.path)).toContain(asset.assetPath);
  });
});
