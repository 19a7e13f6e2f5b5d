/**
 * The drills construct on its own (infra/constructs/drills.ts): the drill queue takes drills' alerts only,
 * the drill target exists under the drill profile's name, the schedule runs an expiring drill monthly by
 * default (deploy context `drillSchedule`), and the runner may consume the drill queue and nothing more
 * of it. Then composed into the stateless stack (`BreakGlassService`): the drill function's IAM limited to
 * the drill profile's roles, the drill roles trusting it, the DRILL-partition-only table access of the API
 * functions, `POST /drills` and `GET /drills(/{id})` under SigV4, the drill queue protected.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { parseProfiles } from '../../functions/domain/profile.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import { BreakGlassFunction } from '../../infra/constructs/breakglass-function.js';
import {
  BreakGlassDrills,
  DEFAULT_DRILL_SCHEDULE,
  DRILL_LEADING_KEYS,
  DRILL_QUEUE_NAME,
} from '../../infra/constructs/drills.js';
import { actionsOf, app, functionPolicies, logicalId, render, resourcesOf, type Statement } from './templates.js';

const profiles = parseProfiles({
  version: 1,
  profiles: [
    {
      name: 'drill',
      description: 'drill',
      owner: 'security@example.com',
      maxDurationMinutes: 15,
      drill: true,
      statements: [
        {
          actions: ['sqs:GetQueueAttributes'],
          resources: ['arn:aws:sqs:eu-west-1:123456789012:breakglass-drill-target'],
        },
      ],
    },
  ],
});

function build(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  const topic = new Topic(stack, 'Alerts');
  const drills = new BreakGlassDrills(stack, 'Drills', { topic, profiles });
  const runner = new BreakGlassFunction(stack, 'RunDrill', {
    handlerFile: 'run-drill',
    description: 'drill',
    profiles: {},
  });
  drills.addRunner(runner);
  return Template.fromStack(stack);
}

describe('drills construct', () => {
  it('subscribes the drill queue to the topic with the filter {"drill": ["true"]} and creates the drill target', () => {
    const t = build();
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: DRILL_QUEUE_NAME, SqsManagedSseEnabled: true });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'breakglass-drill-target' });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      FilterPolicy: { drill: ['true'] },
    });
  });

  it('runs an expiring drill monthly by default, and on the deploy context drillSchedule when given', () => {
    build().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: DEFAULT_DRILL_SCHEDULE,
      Targets: [Match.objectLike({ Input: JSON.stringify({ source: 'breakglass.drill-schedule', mode: 'expire' }) })],
    });
    build({ drillSchedule: 'rate(7 days)' }).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
    });
    expect(build({ drillSchedule: 'off' }).findResources('AWS::Events::Rule')).toEqual({});
  });

  it('lets the runner receive and delete on the drill queue only, and hands it the queue URL', () => {
    const t = build();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrillsInbox'), 'Arn'] },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ DRILL_QUEUE_URL: { Ref: Match.stringLikeRegexp('^DrillsInbox') } }),
      },
    });
  });
});

describe('drills composed into the stateless stack', () => {
  const built = app({}, { bundle: false });
  const t = Template.fromStack(built.stateless);
  const policies = functionPolicies(t);
  const drillRoles = Object.values(
    t.findResources('AWS::IAM::Role', { Properties: { Path: PROFILE_ROLE_PATH } }) as Record<
      string,
      { Properties: { RoleName: string; AssumeRolePolicyDocument: { Statement: { Principal: { AWS: unknown } }[] } } }
    >,
  ).filter((r) => r.Properties.RoleName.startsWith('breakglass-drill-'));
  const runnerRoleId = logicalId(t, 'AWS::IAM::Role', 'ServiceDrillsRunDrillRole');
  const allows = (name: string) => (policies[name] ?? []).filter((s: Statement) => s.Effect === 'Allow');
  const resourcesFor = (name: string, action: string) =>
    allows(name)
      .filter((s) => actionsOf(s).includes(action))
      .flatMap((s) => resourcesOf(s).map(render));

  it('creates the drill function (5 minutes, no Lambda retries), and the API functions of POST and GET /drills', () => {
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'breakglass-run-drill', Timeout: 300 });
    t.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: logicalId(t, 'AWS::Lambda::Function', 'ServiceDrillsRunDrillFunction') },
      MaximumRetryAttempts: 0,
    });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'breakglass-start-drill', Timeout: 25 });
    t.hasResourceProperties('AWS::Lambda::Function', { FunctionName: 'breakglass-list-drills', Timeout: 25 });
  });

  it("limits the drill function's IAM writes and AssumeRole to the drill profile's roles", () => {
    // Prepare
    const drillArns = drillRoles.map(
      (r) => `arn:aws:iam::123456789012:role/breakglass/profile/${r.Properties.RoleName}`,
    );
    expect(drillArns.length).toBeGreaterThan(0);

    // Assess: exactly the drill roles, no pattern, for each IAM/STS action the drill needs
    for (const action of ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'sts:AssumeRole', 'sts:SetSourceIdentity'])
      expect(resourcesFor('DrillsRunDrill', action).sort()).toEqual([...drillArns].sort());
    const iamResources = allows('DrillsRunDrill')
      .filter((s) => actionsOf(s).some((a) => a.startsWith('iam:') && a !== 'iam:PassRole'))
      .flatMap((s) => resourcesOf(s).map(render));
    expect(iamResources.every((r) => !r.includes('*'))).toBe(true);
  });

  it('has the drill roles trust the drill function besides the credential function, and no other profile role', () => {
    const principals = (r: (typeof drillRoles)[number]) =>
      r.Properties.AssumeRolePolicyDocument.Statement.map((s) => render(s.Principal.AWS));
    for (const role of drillRoles) expect(principals(role)).toContain(`{${runnerRoleId}.Arn}`);
    const others = Object.values(
      t.findResources('AWS::IAM::Role', { Properties: { Path: PROFILE_ROLE_PATH } }) as Record<string, any>,
    ).filter((r) => !r.Properties.RoleName.startsWith('breakglass-drill-'));
    expect(others.length).toBeGreaterThan(0);
    for (const role of others)
      expect(JSON.stringify(role.Properties.AssumeRolePolicyDocument)).not.toContain(runnerRoleId);
  });

  it('lets POST and GET /drills touch the DRILL partition of the table only (dynamodb:LeadingKeys)', () => {
    const table = (name: string) => allows(name).filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(table('DrillsStartDrill')).toEqual([
      expect.objectContaining({ Action: 'dynamodb:PutItem', Condition: DRILL_LEADING_KEYS }),
    ]);
    expect(table('DrillsListDrills')).toEqual([
      expect.objectContaining({ Action: ['dynamodb:GetItem', 'dynamodb:Query'], Condition: DRILL_LEADING_KEYS }),
    ]);
    // The start function may invoke the drill function, and nothing else.
    expect(resourcesFor('DrillsStartDrill', 'lambda:InvokeFunction')).toEqual(
      expect.arrayContaining([`{${logicalId(t, 'AWS::Lambda::Function', 'ServiceDrillsRunDrillFunction')}.Arn}`]),
    );
    expect(allows('DrillsListDrills').some((s) => actionsOf(s).some((a) => a.startsWith('lambda:')))).toBe(false);
  });

  it('routes POST /drills (validated body), GET /drills and GET /drills/{id} under SigV4, to the drill functions', () => {
    const methods = Object.values(t.findResources('AWS::ApiGateway::Method')) as any[];
    const resources = t.findResources('AWS::ApiGateway::Resource') as Record<string, any>;
    const pathOf = (m: any) => {
      const parts: string[] = [];
      let ref = m.Properties.ResourceId.Ref as string | undefined;
      while (ref && resources[ref]) {
        parts.unshift(resources[ref].Properties.PathPart);
        ref = resources[ref].Properties.ParentId.Ref;
      }
      return `/${parts.join('/')}`;
    };
    const route = (method: string, path: string) =>
      methods.find((m) => m.Properties.HttpMethod === method && pathOf(m) === path);
    for (const [method, path, fn] of [
      ['POST', '/drills', 'ServiceDrillsStartDrillFunction'],
      ['GET', '/drills', 'ServiceDrillsListDrillsFunction'],
      ['GET', '/drills/{id}', 'ServiceDrillsListDrillsFunction'],
    ] as const) {
      const m = route(method, path);
      expect(m, `${method} ${path}`).toBeDefined();
      expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
      expect(JSON.stringify(m.Properties.Integration.Uri)).toContain(logicalId(t, 'AWS::Lambda::Function', fn));
    }
    expect(route('POST', '/drills').Properties.RequestModels).toBeDefined();
    // Security principals only, checked in the functions (as the kill switch's routes).
    for (const name of ['breakglass-start-drill', 'breakglass-list-drills', 'breakglass-run-drill'])
      t.hasResourceProperties('AWS::Lambda::Function', {
        FunctionName: name,
        Environment: {
          Variables: Match.objectLike({ SECURITY_PRINCIPALS: 'arn:aws:iam::123456789012:role/Security' }),
        },
      });
  });

  it('schedules the drill monthly, and not at all with -c drillSchedule=off', () => {
    const rules = (tpl: Template) =>
      Object.values(tpl.findResources('AWS::Events::Rule')).filter(
        (r: any) => r.Properties.Name === 'breakglass-drill',
      );
    expect(rules(t)).toEqual([
      expect.objectContaining({ Properties: expect.objectContaining({ ScheduleExpression: DEFAULT_DRILL_SCHEDULE }) }),
    ]);
    expect(rules(Template.fromStack(app({ drillSchedule: 'off' }, { bundle: false }).stateless))).toEqual([]);
  });

  it('puts the drill queue in PROTECTED_RESOURCES, and leaves the drill target out (the drill must read it)', () => {
    const env = (name: string) =>
      (Object.values(t.findResources('AWS::Lambda::Function')) as any[]).find(
        (f) => f.Properties.FunctionName === name,
      )!.Properties.Environment.Variables;
    const patterns = render(env('breakglass-create-grant').PROTECTED_RESOURCES).split(',');
    const inbox = logicalId(t, 'AWS::SQS::Queue', 'ServiceDrillsInbox');
    const target = logicalId(t, 'AWS::SQS::Queue', 'ServiceDrillsTarget');
    expect(patterns).toContain(`{${inbox}.Arn}`);
    expect(patterns).not.toContain(`{${target}.Arn}`);
    expect(render(env('breakglass-run-drill').PROTECTED_RESOURCES)).toBe(patterns.join(','));
    // The drill queue's consumer is the drill function only.
    expect(resourcesFor('DrillsRunDrill', 'sqs:ReceiveMessage')).toEqual([`{${inbox}.Arn}`]);
  });
});
