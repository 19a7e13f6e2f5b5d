/**
 * The deployed side of the trust model (docs/security.md, Trust model): the profile role pools, their
 * permissions boundaries, PROTECTED_RESOURCES covering every resource of both stacks, and the
 * credential function that alone may assume the profile roles.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.js';
import { ProfileConfigError } from '../../functions/domain/errors.js';
import { SELF_PROTECTION_SID } from '../../functions/domain/policy-builder.js';
import { parseProfiles } from '../../functions/domain/profile.js';
import { PROFILE_ROLE_PATH, profileRolePools } from '../../functions/domain/profile-roles.js';
import { MANAGED_POLICY_LIMIT } from '../../infra/constructs/profile-roles.js';
import { actionsOf, app, functionPolicies, globToRegExp, logicalId, render, resourcesOf } from './templates.js';

type Resource = { Type: string; Properties?: Record<string, any> };

let built: ReturnType<typeof app>;
let stateful: Template;
let stateless: Template;
/** PROTECTED_RESOURCES as the activation function gets it, rendered symbolically. */
let protectedPatterns: string[];

beforeAll(() => {
  // The hub's own profiles (a profile granting in a spoke account is spokes.test.ts's).
  built = app({ profiles: withProfiles(sample()) }, { bundle: false });
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
  const createGrant =
    stateless.findResources('AWS::Lambda::Function')[
      logicalId(stateless, 'AWS::Lambda::Function', 'ServiceCreateGrantFunction')
    ]!;
  protectedPatterns = render(createGrant.Properties.Environment.Variables[ENV.protectedResources]).split(',');
});

const profileRoles = () =>
  stateless.findResources('AWS::IAM::Role', { Properties: { Path: PROFILE_ROLE_PATH } }) as Record<string, Resource>;
const credentialRoleId = () => logicalId(stateless, 'AWS::IAM::Role', 'ServiceIssueCredentialsRole');
const sample = () => {
  const file = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
  return { ...file, profiles: file.profiles.filter((p: { accounts?: unknown }) => !p.accounts) };
};
const withProfiles = (profiles: unknown) => {
  const file = join(mkdtempSync(join(tmpdir(), 'bg-roles-')), 'profiles.json');
  writeFileSync(file, JSON.stringify(profiles));
  return file;
};

describe('profile roles', () => {
  it('creates the pools profileRolePools sizes, under /breakglass/profile/, for profile-role profiles only', () => {
    // Prepare: the pools as the stack sized them (from the longest the deployed list can be).
    const set = parseProfiles(sample(), 'config/profiles.json');
    const expected = profileRolePools(
      set,
      built.stateless.service.protectedResources.map((r) => r.sizing),
    ).flatMap((p) => p.roleNames);
    // Assess
    expect(expected.length).toBeGreaterThan(2);
    expect(
      Object.values(profileRoles())
        .map((r) => r.Properties!.RoleName)
        .sort(),
    ).toEqual([...expected].sort());
    expect(expected.some((n) => n.startsWith('breakglass-demo-'))).toBe(true);
    expect(expected.some((n) => n.startsWith('breakglass-prod-db-admin-'))).toBe(true);
  });

  it('sizes the pools no smaller than a deployment needs: the sizing list is at least as long as the deployed one', () => {
    const set = parseProfiles(sample(), 'config/profiles.json');
    // With a realistic deployed list (names of 100 characters), the functions need no more roles than exist.
    const deployed = protectedPatterns.map((p) => p.replace(/\{[^}]+\}/g, 'n'.repeat(100)));
    const need = profileRolePools(set, deployed).flatMap((p) => p.roleNames);
    const exist = new Set(Object.values(profileRoles()).map((r) => r.Properties!.RoleName));
    for (const name of need) expect(exist.has(name), name).toBe(true);
  });

  it("trusts only the credential function's role (and the drill function, the drill profile's), for AssumeRole and SetSourceIdentity, with one-hour sessions", () => {
    const trust = (roleId: string) => ({
      Effect: 'Allow',
      Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'],
      Principal: { AWS: { 'Fn::GetAtt': [roleId, 'Arn'] } },
    });
    const drillRunner = logicalId(stateless, 'AWS::IAM::Role', 'ServiceDrillsRunDrillRole');
    for (const [id, role] of Object.entries(profileRoles())) {
      const drill = String(role.Properties!.RoleName).startsWith('breakglass-drill-');
      expect(role.Properties!.AssumeRolePolicyDocument.Statement, id).toEqual(
        drill ? [trust(credentialRoleId()), trust(drillRunner)] : [trust(credentialRoleId())],
      );
      expect(role.Properties!.MaxSessionDuration).toBe(3600);
    }
  });

  it("gives the profile roles no permissions of their own, only their profile's boundary", () => {
    const boundaries = stateless.findResources('AWS::IAM::ManagedPolicy');
    const attached = Object.values(stateless.findResources('AWS::IAM::Policy')).flatMap((p) =>
      (p.Properties.Roles as Array<{ Ref: string }>).map((r) => r.Ref),
    );
    for (const [id, role] of Object.entries(profileRoles())) {
      expect(role.Properties!.Policies, id).toBeUndefined();
      expect(role.Properties!.ManagedPolicyArns, id).toBeUndefined();
      expect(attached, id).not.toContain(id);
      const boundary = boundaries[role.Properties!.PermissionsBoundary.Ref]!;
      const profile = /^breakglass-(.+)-\d+$/.exec(role.Properties!.RoleName)![1];
      expect(boundary.Properties.ManagedPolicyName, id).toBe(`breakglass-boundary-${profile}`);
      expect(boundary.Properties.Path).toBe('/breakglass/');
    }
  });

  it("builds each boundary from its profile's statements and a Deny on PROTECTED_RESOURCES", () => {
    const set = parseProfiles(sample(), 'config/profiles.json');
    const boundaries = Object.values(stateless.findResources('AWS::IAM::ManagedPolicy'));
    expect(boundaries).toHaveLength(set.profiles.filter((p) => p.grantTo === 'profileRole').length);
    for (const profile of set.profiles) {
      const boundary = boundaries.find(
        (b) => b.Properties.ManagedPolicyName === `breakglass-boundary-${profile.name}`,
      )!;
      const statements = boundary.Properties.PolicyDocument.Statement as Array<Record<string, any>>;
      // The profile's own statements, with their own conditions (none of break-glass's guards: those are in the grant's policy).
      expect(
        statements.slice(0, -1).map((s) => ({
          sid: s.Sid,
          effect: s.Effect,
          actions: [s.Action].flat(),
          resources: [s.Resource].flat(),
          conditions: s.Condition,
        })),
      ).toEqual(
        profile.statements.map((s) => ({
          sid: s.sid,
          effect: s.effect,
          actions: s.actions,
          resources: s.resources,
          conditions: s.conditions,
        })),
      );
      expect(JSON.stringify(statements)).not.toMatch(/aws:CurrentTime|aws:userid/);
      const deny = statements.at(-1)!;
      expect(deny).toMatchObject({ Sid: SELF_PROTECTION_SID, Effect: 'Deny', Action: '*' });
      expect(deny.Condition).toBeUndefined();
      expect(resourcesOf(deny as never).map(render)).toEqual(protectedPatterns);
    }
  });

  it("refuses at synth a profile whose boundary cannot fit IAM's managed policy limit", () => {
    // Prepare: one statement of ~4,500 characters: a grant's policy fits a role (10,240), its boundary
    // with the Deny on break-glass's resources does not fit 6,144.
    const profiles = sample();
    profiles.profiles[0].statements = [
      {
        sid: 'Many',
        effect: 'Allow',
        actions: ['s3:GetObject'],
        resources: Array.from(
          { length: 60 },
          (_, i) => `arn:aws:s3:::incident-logs-bucket-number-${String(i).padStart(3, '0')}/objects/*`,
        ),
      },
    ];
    const file = withProfiles(profiles);
    // Act / Assess
    expect(() => app({ profiles: file }, { bundle: false })).toThrowError(ProfileConfigError);
    expect(() => app({ profiles: file }, { bundle: false })).toThrowError(
      new RegExp(
        `profile "demo": its permissions boundary .* over IAM's ${MANAGED_POLICY_LIMIT}-character managed policy limit`,
      ),
    );
  });

  it('creates no profile role, boundary or assume permission when every profile grants to callers', () => {
    const profiles = sample();
    profiles.profiles = profiles.profiles
      .filter((p: { name: string }) => p.name === 'prod-db-admin')
      .map((p: object) => ({ ...p, grantTo: 'caller' }));
    const template = Template.fromStack(app({ profiles: withProfiles(profiles) }, { bundle: false }).stateless);
    expect(template.findResources('AWS::IAM::Role', { Properties: { Path: PROFILE_ROLE_PATH } })).toEqual({});
    expect(template.findResources('AWS::IAM::ManagedPolicy')).toEqual({});
    expect(
      functionPolicies(template)
        .IssueCredentials!.flatMap(actionsOf)
        .filter((a) => a.startsWith('sts:')),
    ).toEqual([]);
    expect(JSON.stringify(functionPolicies(template))).not.toContain('breakglass/profile');
  });
});

describe(ENV.protectedResources, () => {
  /**
   * Each resource's ARN (symbolic where CloudFormation generates the name), or `null` for a type
   * that has no ARN of its own: IAM and the services authorize actions on it through its parent's.
   */
  function arnsOf(id: string, r: Resource, all: Record<string, Resource>): string[] | null {
    const p = r.Properties ?? {};
    const region = 'arn:aws:%s:eu-west-1:123456789012:';
    const at = (service: string) => region.replace('%s', service);
    const restApi = (ref: unknown) => `arn:aws:apigateway:eu-west-1::/restapis/${render(ref)}`;
    switch (r.Type) {
      case 'AWS::DynamoDB::Table':
        return [`{${id}.Arn}`, `{${id}.Arn}/index/byStatus`, `{${id}.Arn}/stream/2026-01-01T00:00:00.000`];
      case 'AWS::SNS::Topic':
        return [`{Ref:${id}}`];
      case 'AWS::SNS::Subscription':
        return [`${render(p.TopicArn)}:0f7c1a4e-0000-0000-0000-000000000000`];
      case 'AWS::KMS::Key':
        return [`{${id}.Arn}`];
      // The drill target (docs/drills.md) is the one resource deliberately left out: a Deny on it in every
      // grant's policy and boundary would deny the drill's own granted call. It holds nothing.
      case 'AWS::SQS::Queue':
        return p.QueueName === 'breakglass-drill-target' ? null : [`{${id}.Arn}`];
      case 'AWS::S3::Bucket':
        return [`{${id}.Arn}`, `{${id}.Arn}/exports/dt=2026-01-01/data.json.gz`];
      case 'AWS::Glue::Database':
        return [`${at('glue')}database/${p.DatabaseInput.Name}`];
      case 'AWS::Glue::Table': {
        const db = p.DatabaseName.Ref ? all[p.DatabaseName.Ref]!.Properties!.DatabaseInput.Name : p.DatabaseName;
        return [`${at('glue')}table/${db}/${p.TableInput.Name}`];
      }
      case 'AWS::Athena::WorkGroup':
        return [`${at('athena')}workgroup/${p.Name}`];
      case 'AWS::Lambda::Function':
        return [`${at('lambda')}function:${p.FunctionName ?? `GENERATED-${id}`}`];
      case 'AWS::Lambda::EventSourceMapping':
        return [`${at('lambda')}event-source-mapping:{Ref:${id}}`];
      // A generated name without a path can only be covered by a reference to the role itself.
      case 'AWS::IAM::Role':
        return [
          p.RoleName === undefined && p.Path === undefined
            ? `{${id}.Arn}`
            : `arn:aws:iam::123456789012:role${p.Path ?? '/'}${p.RoleName ?? `GENERATED-${id}`}`,
        ];
      case 'AWS::IAM::ManagedPolicy':
        return [`arn:aws:iam::123456789012:policy${p.Path ?? '/'}${p.ManagedPolicyName ?? `GENERATED-${id}`}`];
      case 'AWS::Logs::LogGroup':
        return [
          `${at('logs')}log-group:${p.LogGroupName ?? `GENERATED-${id}`}:*`,
          `${at('logs')}log-group:${p.LogGroupName ?? `GENERATED-${id}`}:log-stream:x`,
        ];
      // A rule on a custom bus is `rule/<bus>/<rule>` (Service Authorization Reference, EventBridge, rule).
      case 'AWS::Events::Rule': {
        const bus = p.EventBusName as string | { Ref: string } | undefined;
        const busName = typeof bus === 'object' ? String(all[bus.Ref]?.Properties?.Name) : bus;
        return [`${at('events')}rule/${busName ? `${busName}/` : ''}${p.Name ?? `GENERATED-${id}`}`];
      }
      case 'AWS::Events::EventBus':
        return [`${at('events')}event-bus/${p.Name ?? `GENERATED-${id}`}`];
      case 'AWS::CloudWatch::Alarm':
        return [`${at('cloudwatch')}alarm:${p.AlarmName ?? `GENERATED-${id}`}`];
      // A dashboard's ARN has no region.
      case 'AWS::CloudWatch::Dashboard':
        return [`arn:aws:cloudwatch::123456789012:dashboard/${p.DashboardName ?? `GENERATED-${id}`}`];
      case 'AWS::Scheduler::ScheduleGroup':
        return [
          `${at('scheduler')}schedule-group/${p.Name}`,
          `${at('scheduler')}schedule/${p.Name}/3ab9c0de-0000-0000-0000-000000000000`,
        ];
      case 'AWS::ApiGateway::RestApi':
        return [restApi({ Ref: id })];
      case 'AWS::ApiGateway::Stage':
        return [`${restApi(p.RestApiId)}/stages/${p.StageName}`];
      case 'AWS::ApiGateway::Deployment':
        return [`${restApi(p.RestApiId)}/deployments/abc123`];
      case 'AWS::ApiGateway::Resource':
        return [`${restApi(p.RestApiId)}/resources/abc123`];
      case 'AWS::ApiGateway::Method':
        return [`${restApi(p.RestApiId)}/resources/abc123/methods/${p.HttpMethod}`];
      case 'AWS::ApiGateway::Model':
        return [`${restApi(p.RestApiId)}/models/${p.Name ?? id}`];
      case 'AWS::ApiGateway::RequestValidator':
        return [`${restApi(p.RestApiId)}/requestvalidators/abc123`];
      case 'AWS::ApiGateway::Account':
        return ['arn:aws:apigateway:eu-west-1::/account'];
      // No ARN of their own: inline policies and resource policies are changed through the role,
      // bucket, queue, topic or table they belong to; a Lambda permission or invoke configuration
      // through the function; a saved Athena query through its workgroup; CDK's metadata is no resource.
      case 'AWS::IAM::Policy':
      case 'AWS::S3::BucketPolicy':
      case 'AWS::SQS::QueuePolicy':
      case 'AWS::SNS::TopicPolicy':
      case 'AWS::Lambda::Permission':
      case 'AWS::Lambda::EventInvokeConfig':
      case 'AWS::Athena::NamedQuery':
      case 'AWS::Events::EventBusPolicy':
      case 'AWS::CDK::Metadata':
        return null;
      default:
        throw new Error(`${id}: no rule for ${r.Type}; say how PROTECTED_RESOURCES covers it (or why it has no ARN)`);
    }
  }

  const uncovered = (template: Template, patterns: string[]) => {
    const all = template.toJSON().Resources as Record<string, Resource>;
    const regexps = patterns.map(globToRegExp);
    return Object.entries(all).flatMap(([id, r]) =>
      (arnsOf(id, r, all) ?? [])
        .filter((arn) => !regexps.some((re) => re.test(arn)))
        .map((arn) => `${r.Type} ${id}: ${arn}`),
    );
  };

  it('covers every resource of both stacks that has an ARN', () => {
    expect(uncovered(stateful, protectedPatterns)).toEqual([]);
    expect(uncovered(stateless, protectedPatterns)).toEqual([]);
  });

  it('covers the account-wide API Gateway setting when the stack creates it', () => {
    const template = Template.fromStack(app({ apiGatewayCloudWatchRole: 'true' }, { bundle: false }).stateless);
    const env = Object.values(template.findResources('AWS::Lambda::Function')).find(
      (f) => f.Properties.FunctionName === 'breakglass-create-grant',
    )!.Properties.Environment.Variables;
    const patterns = render(env[ENV.protectedResources]).split(',');
    expect(Object.keys(template.findResources('AWS::ApiGateway::Account'))).toHaveLength(1);
    expect(uncovered(template, patterns)).toEqual([]);
  });

  it('fails the coverage check when a resource escapes the patterns', () => {
    // The check itself can fail: without the function pattern, every function is uncovered.
    const withoutFunctions = protectedPatterns.filter((p) => !p.includes(':function:'));
    expect(uncovered(stateless, withoutFunctions).filter((u) => u.startsWith('AWS::Lambda::Function'))).toHaveLength(
      Object.keys(stateless.findResources('AWS::Lambda::Function')).length,
    );
  });

  it("leaves the API's invoke ARN out: responders call it to revoke or extend", () => {
    const api = logicalId(stateless, 'AWS::ApiGateway::RestApi', 'ServiceApi');
    const invoke = `arn:aws:execute-api:eu-west-1:123456789012:{Ref:${api}}/v1/POST/grants/abc/revoke`;
    expect(protectedPatterns.some((p) => globToRegExp(p).test(invoke))).toBe(false);
    expect(protectedPatterns).toContain(`arn:aws:apigateway:eu-west-1::/restapis/{Ref:${api}}*`);
  });

  it('is given, identically, to exactly the functions that write or check grant policies', () => {
    const functions = Object.values(stateless.findResources('AWS::Lambda::Function'));
    const holders = functions.filter((f) => f.Properties.Environment.Variables[ENV.protectedResources] !== undefined);
    expect(holders.map((f) => f.Properties.FunctionName).sort()).toEqual([
      'breakglass-create-grant',
      'breakglass-extend-grant',
      'breakglass-run-drill',
      'breakglass-sweep',
    ]);
    for (const f of holders)
      expect(render(f.Properties.Environment.Variables[ENV.protectedResources]).split(',')).toEqual(protectedPatterns);
  });

  it("keeps each function's environment within Lambda's 4 KB with realistic generated names", () => {
    // Lambda: "The total size of all environment variables doesn't exceed 4 KB" (developer guide). Each
    // reference stands for a generated name or ARN of 128 characters (CloudFormation's are shorter).
    for (const f of Object.values(stateless.findResources('AWS::Lambda::Function'))) {
      const vars = f.Properties.Environment.Variables as Record<string, unknown>;
      const size = Object.entries(vars).reduce(
        (n, [k, v]) => n + k.length + render(v).replace(/\{[^}]+\}/g, 'n'.repeat(128)).length,
        0,
      );
      expect(size, f.Properties.FunctionName).toBeLessThan(4096);
    }
  });
});

describe('credential function', () => {
  it('may assume the profile roles, and only them, with SetSourceIdentity', () => {
    const statements = functionPolicies(stateless).IssueCredentials!;
    const sts = statements.filter((s) => actionsOf(s).some((a) => a.startsWith('sts:')));
    expect(sts).toHaveLength(1);
    expect(actionsOf(sts[0]!).sort()).toEqual(['sts:AssumeRole', 'sts:SetSourceIdentity']);
    const roles = Object.values(profileRoles())
      .map((r) => `arn:aws:iam::123456789012:role${PROFILE_ROLE_PATH}${r.Properties!.RoleName}`)
      .sort();
    expect(resourcesOf(sts[0]!).map(render).sort()).toEqual(roles);
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('iam:'))).toEqual([]);
    // Nobody else may assume them: no other function holds sts:AssumeRole, but the drill function, on the
    // drill profile's roles only (test/infra/drills.test.ts).
    for (const [fn, st] of Object.entries(functionPolicies(stateless)))
      if (fn === 'DrillsRunDrill')
        for (const s of st.filter((s) => actionsOf(s).includes('sts:AssumeRole')))
          expect(resourcesOf(s).map(render)).toEqual([
            'arn:aws:iam::123456789012:role/breakglass/profile/breakglass-drill-0',
          ]);
      else if (fn !== 'IssueCredentials') expect(st.flatMap(actionsOf), fn).not.toContain('sts:AssumeRole');
  });

  it("knows the account and partition of the profile roles, and answers within API Gateway's timeout", () => {
    stateless.hasResourceProperties('AWS::Lambda::Function', {
      FunctionName: 'breakglass-issue-credentials',
      Timeout: 25,
      Environment: {
        Variables: Match.objectLike({
          [ENV.accountId]: '123456789012',
          [ENV.awsPartition]: { Ref: 'AWS::Partition' },
          [ENV.tableName]: Match.anyValue(),
        }),
      },
    });
  });

  it('serves POST /grants/{id}/credentials with AWS_IAM, without a body', () => {
    const resources = stateless.findResources('AWS::ApiGateway::Resource', { Properties: { PathPart: 'credentials' } });
    const [resourceId] = Object.keys(resources);
    expect(resources[resourceId!]!.Properties.ParentId.Ref).toMatch(/idResource|Grantsid/i);
    const methods = Object.values(
      stateless.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: resourceId } } }),
    );
    expect(methods).toHaveLength(1);
    expect(methods[0]!.Properties).toMatchObject({ HttpMethod: 'POST', AuthorizationType: 'AWS_IAM' });
    expect(methods[0]!.Properties.RequestModels).toBeUndefined();
    expect(JSON.stringify(methods[0]!.Properties.Integration.Uri)).toContain(
      logicalId(stateless, 'AWS::Lambda::Function', 'ServiceIssueCredentialsFunction'),
    );
  });
});
