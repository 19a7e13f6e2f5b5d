/**
 * Hub and spokes on the synthesized templates: both directions of the trust (each spoke trusts only
 * the hub's function roles; the hub's functions may assume only the spokes' manager role name and,
 * for credentials, their profile roles), the spoke's manager role limited to inline policies of
 * `role/breakglass/profile/*`, and the StackSet (service-managed, auto-deployment, one region).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SPOKE_MANAGER_ROLE_NAME } from '../../functions/domain/accounts.js';
import { SPOKE_MANAGER_ACTIONS } from '../../infra/constructs/break-glass-spoke.js';
import { SPOKE_STACK_SET_NAME } from '../../infra/spoke-stacks.js';
import { actionsOf, app, functionPolicies, render, resourcesOf, type Statement } from './templates.js';

const SPOKE = '210987654321';
const LIFECYCLE = ['CreateGrant', 'ExtendGrant', 'RevokeGrant', 'ExpireGrant', 'KillSwitch', 'Sweeper'];
const lifecycleArns = LIFECYCLE.map((f) => `arn:aws:iam::123456789012:role/breakglass/functions/hub-${f}`);
const credentialArn = 'arn:aws:iam::123456789012:role/breakglass/functions/hub-IssueCredentials';
const managerArn = `arn:aws:iam::${SPOKE}:role/breakglass/${SPOKE_MANAGER_ROLE_NAME}`;

const built = app(
  {
    spokeOrganizationalUnits: 'ou-ab12-cdefgh34',
    spokeAccounts: SPOKE,
    hubLifecycleRoleArns: lifecycleArns.join(','),
    hubCredentialRoleArn: credentialArn,
    accountAliases: JSON.stringify({ [SPOKE]: 'payments-prod' }),
  },
  { bundle: false },
);
const hub = Template.fromStack(built.stateless);
const spokeStack = built.app.node.findChild(`BreakGlassSpoke-${SPOKE}`) as import('aws-cdk-lib').Stack;
const spoke = Template.fromStack(spokeStack);
const stackSetStack = built.app.node.findChild('BreakGlassSpokeStackSet') as import('aws-cdk-lib').Stack;
const stackSet = Template.fromStack(stackSetStack);

const roleByName = (template: Template, name: string) =>
  Object.values(template.findResources('AWS::IAM::Role')).find((r) => r.Properties.RoleName === name)!;

describe('spoke side of the trust', () => {
  it('has a manager role trusted by exactly the hub lifecycle function roles, for sts:AssumeRole only', () => {
    const manager = roleByName(spoke, SPOKE_MANAGER_ROLE_NAME);
    expect(manager.Properties.Path).toBe('/breakglass/');
    expect(manager.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      {
        Sid: 'HubLifecycleFunctionsOnly',
        Effect: 'Allow',
        Principal: { AWS: lifecycleArns },
        Action: 'sts:AssumeRole',
      },
    ]);
  });

  it('lets the manager role only put, delete, list and read inline policies of role/breakglass/profile/* in its account', () => {
    const statements = Object.values(spoke.findResources('AWS::IAM::Policy')).flatMap(
      (p) => p.Properties.PolicyDocument.Statement as Statement[],
    );
    expect(statements).toHaveLength(1);
    expect(actionsOf(statements[0]!).sort()).toEqual([...SPOKE_MANAGER_ACTIONS].sort());
    expect(resourcesOf(statements[0]!)).toEqual([
      { 'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, `:iam::${SPOKE}:role/breakglass/profile/*`]] },
    ]);
  });

  it("holds the profile roles of the profiles granting there, trusting only the hub's credential role, bounded", () => {
    const role = roleByName(spoke, 'breakglass-spoke-logs-0');
    expect(role.Properties.Path).toBe('/breakglass/profile/');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      expect.objectContaining({
        Effect: 'Allow',
        Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
        Principal: { AWS: credentialArn },
      }),
    ]);
    expect(role.Properties.PermissionsBoundary).toBeDefined();
    // Not the hub's profiles (demo, prod-db-admin grant in the hub only)
    expect(roleByName(spoke, 'breakglass-demo-0')).toBeUndefined();
    const boundary = Object.values(spoke.findResources('AWS::IAM::ManagedPolicy'))[0]!;
    expect(JSON.stringify(boundary.Properties.PolicyDocument)).toContain(`:iam::${SPOKE}:role/breakglass/*`);
  });
});

describe('hub side of the trust', () => {
  const policies = functionPolicies(hub);
  const assumes = (name: string) =>
    (policies[name] ?? [])
      .filter((s) => actionsOf(s).some((a) => a.startsWith('sts:')))
      .flatMap((s) => resourcesOf(s).map((r) => render(r)));

  it('lets the lifecycle functions assume only the spokes’ manager role, and nothing else across accounts', () => {
    for (const f of LIFECYCLE) expect(assumes(f), f).toEqual([managerArn]);
    for (const f of ['GetGrant', 'ListGrants', 'ListProfiles', 'ReviewGrant', 'QueryAudit'])
      expect(assumes(f), f).toEqual([]);
  });

  it('lets the credential function assume the spoke profile roles (with a source identity), not the manager role', () => {
    const credentials = assumes('IssueCredentials');
    expect(credentials).toContain(`arn:aws:iam::${SPOKE}:role/breakglass/profile/*`);
    expect(credentials.some((r) => r.includes(SPOKE_MANAGER_ROLE_NAME))).toBe(false);
  });

  it('does not create spoke profiles’ roles in the hub, and tells the functions the hub account and the aliases', () => {
    expect(roleByName(hub, 'breakglass-spoke-logs-0')).toBeUndefined();
    expect(roleByName(hub, 'breakglass-demo-0')).toBeDefined();
    const fns = Object.entries(hub.findResources('AWS::Lambda::Function'))
      .filter(([id]) =>
        [...LIFECYCLE, 'IssueCredentials', 'ListProfiles'].some((f) => id.startsWith(`Service${f}Function`)),
      )
      .map(([, f]) => f);
    expect(fns).toHaveLength(LIFECYCLE.length + 2);
    for (const f of fns) {
      expect(f.Properties.Environment.Variables.ACCOUNT_ID).toBe('123456789012');
      expect(JSON.parse(f.Properties.Environment.Variables.ACCOUNT_ALIASES)).toEqual({ [SPOKE]: 'payments-prod' });
    }
  });

  it('uses a manager ARN in the same role path and name the spoke creates', () => {
    expect(managerArn).toBe(
      `arn:aws:iam::${SPOKE}:role${roleByName(spoke, SPOKE_MANAGER_ROLE_NAME).Properties.Path}${SPOKE_MANAGER_ROLE_NAME}`,
    );
  });
});

describe('the StackSet', () => {
  const set = Object.values(stackSet.findResources('AWS::CloudFormation::StackSet'))[0]!.Properties;

  it('is service-managed and auto-deploys to the organizational units, in one region (IAM is global)', () => {
    expect(set).toMatchObject({
      StackSetName: SPOKE_STACK_SET_NAME,
      PermissionModel: 'SERVICE_MANAGED',
      AutoDeployment: { Enabled: true, RetainStacksOnAccountRemoval: false },
      CallAs: 'SELF',
      Capabilities: ['CAPABILITY_NAMED_IAM'],
      StackInstancesGroup: [
        { DeploymentTargets: { OrganizationalUnitIds: ['ou-ab12-cdefgh34'] }, Regions: ['eu-west-1'] },
      ],
    });
  });

  it("passes the hub's role ARNs as the template's parameters, and conditions each profile's roles on its accounts", () => {
    const params = Object.fromEntries(
      (set.Parameters as Array<{ ParameterKey: string; ParameterValue: unknown }>).map((p) => [
        p.ParameterKey,
        p.ParameterValue,
      ]),
    );
    expect(Object.keys(params).sort()).toEqual(['HubCredentialRoleArn', 'HubLifecycleRoleArns']);
    const template = JSON.parse(set.TemplateBody);
    expect(template.Parameters.HubLifecycleRoleArns.Type).toBe('CommaDelimitedList');
    expect(template.Rules?.CheckBootstrapVersion).toBeUndefined();
    const manager = Object.values(template.Resources as Record<string, any>).find(
      (r) => r.Properties?.RoleName === SPOKE_MANAGER_ROLE_NAME,
    );
    expect(manager.Properties.AssumeRolePolicyDocument.Statement[0].Principal.AWS).toEqual({
      Ref: 'HubLifecycleRoleArns',
    });
    expect(manager.Condition).toBeUndefined();
    const profileRole = Object.values(template.Resources as Record<string, any>).find(
      (r) => r.Properties?.RoleName === 'breakglass-spoke-logs-0',
    );
    expect(profileRole.Condition).toBeDefined();
    expect(template.Conditions[profileRole.Condition]).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, SPOKE] });
  });

  it('refuses an organizational unit id that is not one', () => {
    expect(() => app({ spokeOrganizationalUnits: 'payments' }, { bundle: false })).toThrow(
      /not an organizational unit id/,
    );
  });
});
