/**
 * A spoke grant's own policy denies the spoke's break-glass, not only the hub's: the policy a spoke
 * grant records (activation with the hub's synthesized `PROTECTED_RESOURCES`) ends with a Deny `*`
 * that covers every resource the spoke deploys (the manager role, the profile roles and so their
 * inline policies, the boundaries, its rules, its stack), whether the spoke comes from the CDK stack
 * or the StackSet, and still leaves the profile's own resources and the spoke's other roles alone.
 */
import type { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.js';
import { SPOKE_MANAGER_ROLE_NAME } from '../../functions/domain/accounts.js';
import { activateGrant, DEFAULT_RULES } from '../../functions/domain/activate-grant.js';
import type { PolicyDocument } from '../../functions/domain/policy-builder.js';
import { SELF_PROTECTION_SID } from '../../functions/domain/policy-builder.js';
import { parseProfiles } from '../../functions/domain/profile.js';
import { SPOKE_STACK_SET_NAME } from '../../infra/spoke-stacks.js';
import { ACCOUNT, ALICE, ALICE_ID, fakePorts, MemoryAccess } from '../support/fakes.js';
import { app, globToRegExp, render } from './templates.js';

const SPOKE = '210987654321';
const HUB = '123456789012';
const built = app(
  {
    spokeOrganizationalUnits: 'ou-ab12-cdefgh34',
    spokeAccounts: SPOKE,
    hubLifecycleRoleArns: `arn:aws:iam::${HUB}:role/breakglass/functions/hub-CreateGrant`,
    hubCredentialRoleArn: `arn:aws:iam::${HUB}:role/breakglass/functions/hub-IssueCredentials`,
  },
  { bundle: false },
);
const hub = Template.fromStack(built.stateless);
const spokeStack = Template.fromStack(built.app.node.findChild(`BreakGlassSpoke-${SPOKE}`) as Stack);
const stackSet = Template.fromStack(built.app.node.findChild('BreakGlassSpokeStackSet') as Stack);
const stackSetTemplate = JSON.parse(
  Object.values(stackSet.findResources('AWS::CloudFormation::StackSet'))[0]!.Properties.TemplateBody,
) as { Resources: Record<string, Resource> };

/** PROTECTED_RESOURCES as the activation function is given it. */
const protectedResources = render(
  Object.values(hub.findResources('AWS::Lambda::Function')).find(
    (f) => f.Properties.FunctionName === 'breakglass-create-grant',
  )!.Properties.Environment.Variables[ENV.protectedResources],
).split(',');

type Resource = { Type: string; Properties?: Record<string, any> };

/** ARNs of a spoke template's resources in the spoke account, or null for those without one of their own. */
function spokeArns(id: string, r: Resource): string[] | null {
  const p = r.Properties ?? {};
  switch (r.Type) {
    case 'AWS::IAM::Role':
      if (p.RoleName === undefined)
        throw new Error(`${id}: a spoke role without a name cannot be protected by pattern`);
      return [`arn:aws:iam::${SPOKE}:role${p.Path ?? '/'}${p.RoleName}`];
    case 'AWS::IAM::ManagedPolicy':
      return [`arn:aws:iam::${SPOKE}:policy${p.Path ?? '/'}${p.ManagedPolicyName ?? `GENERATED-${id}`}`];
    case 'AWS::Events::Rule':
      return [`arn:aws:events:eu-west-1:${SPOKE}:rule/${p.Name ?? `GENERATED-${id}`}`];
    // Changed through the role it belongs to (iam:PutRolePolicy on the role's ARN); CDK's metadata is no resource.
    case 'AWS::IAM::Policy':
    case 'AWS::CDK::Metadata':
      return null;
    default:
      throw new Error(`${id}: no rule for ${r.Type}; say how a spoke grant's policy covers it`);
  }
}

async function spokeGrantPolicy(): Promise<PolicyDocument> {
  const profiles = parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'spoke-logs',
        description: 'spoke access',
        owner: 'payments@example.com',
        maxDurationMinutes: 60,
        accounts: [SPOKE],
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [
          { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::payments-incident-logs/*'] },
          { actions: ['iam:Get*', 'iam:List*'], resources: ['*'] },
        ],
      },
    ],
  });
  const ports = { ...fakePorts(), access: new MemoryAccess() };
  const { grant } = await activateGrant(
    ports,
    profiles,
    { caller: { arn: ALICE, userId: ALICE_ID }, body: { profile: 'spoke-logs', reason: 'payments down, logs' } },
    { ...DEFAULT_RULES, protectedResources, accounts: { hub: HUB } },
  );
  expect(grant).toMatchObject({ status: 'ACTIVE', account: SPOKE });
  return JSON.parse(grant.policyDocument!) as PolicyDocument;
}

describe("a spoke grant's self-protection", () => {
  it("denies every break-glass resource of the spoke, from the CDK stack or the StackSet, the grant's own role included", async () => {
    // Prepare
    const policy = await spokeGrantPolicy();
    const deny = policy.Statement.find((s) => s.Sid === SELF_PROTECTION_SID)!;
    expect(deny).toMatchObject({ Effect: 'Deny', Action: ['*'] });
    const covered = (arn: string) => deny.Resource.some((p) => globToRegExp(p).test(arn));
    const arnsOf = (resources: Record<string, Resource>) =>
      Object.entries(resources).flatMap(([id, r]) => spokeArns(id, r) ?? []);
    const cdk = arnsOf(spokeStack.toJSON().Resources as Record<string, Resource>);
    const fromStackSet = arnsOf(stackSetTemplate.Resources);
    // Act / Assess: every resource, the manager role and a profile role among them
    expect(cdk).toContain(`arn:aws:iam::${SPOKE}:role/breakglass/${SPOKE_MANAGER_ROLE_NAME}`);
    expect(cdk).toContain(`arn:aws:iam::${SPOKE}:role/breakglass/profile/breakglass-spoke-logs-0`);
    expect(fromStackSet).toContain(`arn:aws:iam::${SPOKE}:role/breakglass/${SPOKE_MANAGER_ROLE_NAME}`);
    expect(cdk.filter((a) => !covered(a))).toEqual([]);
    expect(fromStackSet.filter((a) => !covered(a))).toEqual([]);
    // The stacks that deploy the spoke
    expect(covered(`arn:aws:cloudformation:eu-west-1:${SPOKE}:stack/BreakGlassSpoke-${SPOKE}/0f7c1a4e-1111`)).toBe(
      true,
    );
    expect(
      covered(`arn:aws:cloudformation:eu-west-1:${SPOKE}:stack/StackSet-${SPOKE_STACK_SET_NAME}-0f7c1a4e/0f7c1a4e`),
    ).toBe(true);
    // The hub's break-glass is still denied
    expect(covered(`arn:aws:iam::${HUB}:role/breakglass/function/breakglass-create-grant`)).toBe(true);
  });

  it("leaves the profile's own resources and the spoke's other roles reachable", async () => {
    const policy = await spokeGrantPolicy();
    const deny = policy.Statement.find((s) => s.Sid === SELF_PROTECTION_SID)!;
    const covered = (arn: string) => deny.Resource.some((p) => globToRegExp(p).test(arn));
    expect(covered('arn:aws:s3:::payments-incident-logs/2026/11/01/app.log')).toBe(false);
    expect(covered(`arn:aws:iam::${SPOKE}:role/PaymentsApp`)).toBe(false);
    expect(covered(`arn:aws:cloudformation:eu-west-1:${SPOKE}:stack/PaymentsApi/0f7c1a4e`)).toBe(false);
  });

  it("names each kind of break-glass resource once for every account, so the functions' list does not grow with spokes", () => {
    expect(protectedResources).toContain('arn:aws:iam::*:role/breakglass/*');
    expect(protectedResources).toContain('arn:aws:iam::*:policy/breakglass/*');
    expect(protectedResources.filter((p) => p.includes(SPOKE))).toEqual([]);
  });
});
