/**
 * Hub and spokes on the synthesized templates: both directions of the trust (each spoke trusts only
 * the hub's function roles; the hub's functions may assume only the spokes' manager role name and,
 * for credentials, their profile roles), the spoke's manager role limited to inline policies of
 * `role/breakglass/profile/*`, and the StackSet (service-managed, auto-deployment, one region).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { SPOKE_MANAGER_ROLE_NAME } from '../../functions/domain/accounts.js';
import {
  ACTIVITY_BUS_NAME,
  ACTIVITY_RULE_STATE,
  FORWARD_ROLE_NAME,
  FORWARD_RULE_NAME,
  SPOKE_ACTIVITY_RULE_NAME,
} from '../../infra/constructs/activity-capture.js';
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
    const managerId = Object.entries(spoke.findResources('AWS::IAM::Role')).find(
      ([, r]) => r.Properties.RoleName === SPOKE_MANAGER_ROLE_NAME,
    )![0];
    const statements = Object.values(spoke.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${managerId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
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
    expect(Object.keys(params).sort()).toEqual(['HubActivityBusArn', 'HubCredentialRoleArn', 'HubLifecycleRoleArns']);
    // The hub's own activity bus (a reference to it in the hub's stateless stack).
    expect(JSON.stringify(params.HubActivityBusArn)).toContain('SpokeBus');
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

describe("action logging: spokes forward their break-glass sessions' calls to the hub", () => {
  const hubBusArn = `arn:aws:events:eu-west-1:123456789012:event-bus/${ACTIVITY_BUS_NAME}`;
  const forwardRule = (template: Template) =>
    Object.entries(template.findResources('AWS::Events::Rule')).find(
      ([, r]) => r.Properties.Name === FORWARD_RULE_NAME,
    )!;

  it("spoke: a rule on the default bus matching CloudTrail calls of this account's profile-role sessions, to the hub's bus", () => {
    const [, rule] = forwardRule(spoke);
    expect(rule.Properties.EventBusName).toBeUndefined(); // the default bus, where CloudTrail delivers
    expect(rule.Properties.State).toBe(ACTIVITY_RULE_STATE);
    expect(rule.Properties.EventPattern).toEqual({
      'detail-type': ['AWS API Call via CloudTrail'],
      // Only AWS services may put an `aws.` source (EventBridge User Guide, "Event structure reference").
      source: [{ prefix: 'aws.' }],
      detail: {
        userIdentity: {
          sessionContext: {
            sessionIssuer: {
              arn: [
                {
                  prefix: {
                    'Fn::Join': [
                      '',
                      [
                        'arn:',
                        { Ref: 'AWS::Partition' },
                        ':iam::',
                        { Ref: 'AWS::AccountId' },
                        ':role/breakglass/profile/',
                      ],
                    ],
                  },
                },
              ],
            },
          },
        },
      },
    });
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(rule.Properties.Targets[0].Arn).toBe(hubBusArn);
    const [roleId] = Object.entries(spoke.findResources('AWS::IAM::Role')).find(
      ([, r]) => r.Properties.RoleName === FORWARD_ROLE_NAME,
    )!;
    expect(rule.Properties.Targets[0].RoleArn).toEqual({ 'Fn::GetAtt': [roleId, 'Arn'] });
  });

  it('spoke: the forwarder role is assumed by EventBridge only, and may only PutEvents on the hub bus', () => {
    const [roleId, role] = Object.entries(spoke.findResources('AWS::IAM::Role')).find(
      ([, r]) => r.Properties.RoleName === FORWARD_ROLE_NAME,
    )!;
    expect(role.Properties.Path).toBe('/breakglass/');
    expect(role.Properties.AssumeRolePolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Principal: { Service: 'events.amazonaws.com' }, Action: 'sts:AssumeRole' },
    ]);
    expect(role.Properties.ManagedPolicyArns).toBeUndefined();
    const statements = Object.values(spoke.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    expect(statements).toEqual([{ Effect: 'Allow', Action: 'events:PutEvents', Resource: hubBusArn }]);
  });

  it("spoke: no grant may touch the forwarding rule (the profile roles' boundary denies it)", () => {
    const boundary = Object.values(spoke.findResources('AWS::IAM::ManagedPolicy'))[0]!;
    expect(JSON.stringify(boundary.Properties.PolicyDocument)).toContain(
      `:events:*:${SPOKE}:rule/${FORWARD_RULE_NAME}`,
    );
  });

  it('spoke: takes -c hubActivityBusArn, and refuses one that is not an event bus ARN', () => {
    const other = 'arn:aws:events:us-east-1:123456789012:event-bus/breakglass-activity';
    const built2 = app(
      {
        spokeAccounts: SPOKE,
        hubLifecycleRoleArns: lifecycleArns.join(','),
        hubCredentialRoleArn: credentialArn,
        hubActivityBusArn: other,
      },
      { bundle: false },
    );
    const t = Template.fromStack(built2.app.node.findChild(`BreakGlassSpoke-${SPOKE}`) as import('aws-cdk-lib').Stack);
    expect(forwardRule(t)[1].Properties.Targets[0].Arn).toBe(other);
    expect(() =>
      app(
        {
          spokeAccounts: SPOKE,
          hubLifecycleRoleArns: lifecycleArns.join(','),
          hubCredentialRoleArn: credentialArn,
          hubActivityBusArn: 'breakglass-activity',
        },
        { bundle: false },
      ),
    ).toThrow(/hubActivityBusArn must be an event bus ARN/);
  });

  it('StackSet template: the forwarder exists only in accounts a profile names, targeting the HubActivityBusArn parameter', () => {
    const set = Object.values(stackSet.findResources('AWS::CloudFormation::StackSet'))[0]!.Properties;
    const template = JSON.parse(set.TemplateBody);
    const resources = Object.values(template.Resources as Record<string, any>);
    const rule = resources.find((r) => r.Properties?.Name === FORWARD_RULE_NAME);
    const role = resources.find((r) => r.Properties?.RoleName === FORWARD_ROLE_NAME);
    expect(rule.Properties.Targets[0].Arn).toEqual({ Ref: 'HubActivityBusArn' });
    expect(rule.Condition).toBeDefined();
    expect(role.Condition).toBe(rule.Condition);
    expect(template.Conditions[rule.Condition]).toEqual({ 'Fn::Equals': [{ Ref: 'AWS::AccountId' }, SPOKE] });
    const policy = resources.find(
      (r) => r.Type === 'AWS::IAM::Policy' && JSON.stringify(r).includes('events:PutEvents'),
    );
    expect(policy.Condition).toBe(rule.Condition);
    expect(policy.Properties.PolicyDocument.Statement).toEqual([
      { Effect: 'Allow', Action: 'events:PutEvents', Resource: { Ref: 'HubActivityBusArn' } },
    ]);
  });

  it('hub: a dedicated bus whose policy lets exactly the spoke accounts put CloudTrail API-call events', () => {
    const buses = Object.values(hub.findResources('AWS::Events::EventBus'));
    expect(buses.map((b) => b.Properties.Name)).toEqual([ACTIVITY_BUS_NAME]);
    const policies = Object.values(hub.findResources('AWS::Events::EventBusPolicy'));
    expect(policies).toHaveLength(1);
    const statement = policies[0]!.Properties.Statement;
    expect(statement).toMatchObject({
      Effect: 'Allow',
      Action: 'events:PutEvents',
      Condition: {
        StringEquals: { 'events:detail-type': 'AWS API Call via CloudTrail' },
        'ForAllValues:StringLike': { 'events:source': ['aws.*'] },
      },
    });
    expect(statement.Principal.AWS.map(render)).toEqual([`arn:aws:iam::${SPOKE}:root`]);
    expect(render(statement.Resource)).toContain('SpokeBus');
  });

  it("hub: the bus's rule takes aws.* CloudTrail calls of profile-role sessions from the spokes to the activity queue", () => {
    const [, rule] = Object.entries(hub.findResources('AWS::Events::Rule')).find(
      ([, r]) => r.Properties.Name === SPOKE_ACTIVITY_RULE_NAME,
    )!;
    expect(rule.Properties.State).toBe(ACTIVITY_RULE_STATE);
    expect(rule.Properties.EventPattern).toEqual({
      source: [{ prefix: 'aws.' }],
      'detail-type': ['AWS API Call via CloudTrail'],
      account: [SPOKE],
      detail: {
        userIdentity: {
          sessionContext: {
            sessionIssuer: {
              arn: [
                {
                  wildcard: {
                    'Fn::Join': ['', ['arn:', { Ref: 'AWS::Partition' }, ':iam::*:role/breakglass/profile/*']],
                  },
                },
              ],
            },
          },
        },
      },
    });
    expect(rule.Properties.Targets).toHaveLength(1);
    expect(JSON.stringify(rule.Properties.Targets[0].Arn)).toContain('ActivityCalls');
    expect(JSON.stringify(rule.Properties.Targets[0].DeadLetterConfig)).toContain('ActivityDeadLetters');
    // The capture function checks each call's account against its grant's: it knows the hub's.
    const capture = Object.entries(hub.findResources('AWS::Lambda::Function')).find(([id]) =>
      id.startsWith('ServiceActivityCaptureActivity'),
    )![1];
    expect(capture.Properties.Environment.Variables.ACCOUNT_ID).toBe('123456789012');
  });

  it('hub: lets the organization forward instead with -c spokeOrganizationId, and needs it above 40 spokes', () => {
    const org = Template.fromStack(app({ spokeOrganizationId: 'o-abcd123456' }, { bundle: false }).stateless);
    const [policy] = Object.values(org.findResources('AWS::Events::EventBusPolicy'));
    expect(policy!.Properties.Statement.Principal).toBe('*');
    expect(policy!.Properties.Statement.Condition.StringEquals['aws:PrincipalOrgID']).toBe('o-abcd123456');
    const [, rule] = Object.entries(org.findResources('AWS::Events::Rule')).find(
      ([, r]) => r.Properties.Name === SPOKE_ACTIVITY_RULE_NAME,
    )!;
    expect(rule.Properties.EventPattern.account).toBeUndefined();
    expect(() => app({ spokeOrganizationId: 'acme' }, { bundle: false })).toThrow(/spokeOrganizationId must be/);
  });
});
