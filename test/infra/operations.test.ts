/**
 * Operations and shared-account properties of the synthesized templates (issue 14): where a
 * failed expiry lands, who watches the sweeper, what synth refuses, what no single role can
 * erase, and what the stacks leave alone in a shared account. Each assertion names a property
 * that, broken, makes it fail.
 *
 * AWS contracts these properties rely on (no emulator models them; looked up in AWS's docs):
 * - EventBridge Scheduler invokes a Lambda target asynchronously (Lambda developer guide, "Invoke a
 *   Lambda function on a schedule"), so Scheduler's retries and DLQ end when Lambda accepts the event.
 * - Lambda retries a failed asynchronous invocation at most twice and keeps an event at most 6 h, then
 *   discards it unless a destination or DLQ is configured (Lambda API, PutFunctionEventInvokeConfig).
 * - A transaction is authorized as the Put/Update/Delete it holds (DynamoDB developer guide, "Using IAM
 *   with DynamoDB transactions"); PartiQL writes have their own actions ("IAM security policies with PartiQL").
 * - A topic policy may hold sns:Subscribe but not Unsubscribe or SetSubscriptionAttributes (SNS developer
 *   guide, "Valid Amazon SNS policy actions"); Unsubscribe is allowed to the subscription's or topic's
 *   owner, or unauthenticated for subscriptions confirmed without authentication (SNS API, Unsubscribe).
 * - A stage with a logging level and no account CloudWatch role fails to deploy ("CloudWatch Logs role
 *   ARN must be set in account settings to enable logging").
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ENV } from '../../functions/config/env.js';
import { buildApp } from '../../infra/app.js';
import { EXPIRY_MAX_EVENT_AGE } from '../../infra/constructs/break-glass-functions.js';
import { TABLE_DATA_WRITE_ACTIONS } from '../../infra/constructs/break-glass-state.js';
import { API_FUNCTION_TIMEOUT, FUNCTION_ROLE_PATH } from '../../infra/constructs/breakglass-function.js';
import { actionsOf, app, functionPolicies, logicalId, resourcesOf, SECURITY, type Statement } from './templates.js';

type Resource = { Type: string; Properties: Record<string, any>; DeletionPolicy?: string };
let stateful: Template;
let stateless: Template;
const json = (value: unknown) => JSON.stringify(value);
const alarms = (template: Template) => Object.values(template.findResources('AWS::CloudWatch::Alarm')) as Resource[];
const alarmOn = (metricName: string) => {
  const found = alarms(stateless).filter((a) => a.Properties.MetricName === metricName);
  expect(found, metricName).toHaveLength(1);
  return found[0]!.Properties;
};
const fnId = (prefix: string) => logicalId(stateless, 'AWS::Lambda::Function', `Service${prefix}Function`);
/** Each `ServiceXFunction` that an API method integrates with. */
const apiFunctionIds = (template: Template) =>
  [
    ...new Set(
      Object.values(template.findResources('AWS::ApiGateway::Method'))
        .map((m) => /"Fn::GetAtt":\["(Service\w+Function\w+)","Arn"\]/.exec(json(m.Properties.Integration?.Uri))?.[1])
        .filter(Boolean),
    ),
  ] as string[];
const profileFile = (eligible: string[]) => {
  const file = join(mkdtempSync(join(tmpdir(), 'bg-ops-')), 'profiles.json');
  const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
  profiles.profiles = [{ ...profiles.profiles[0], eligible }];
  writeFileSync(file, JSON.stringify(profiles));
  return file;
};

beforeAll(() => {
  const built = app({}, { bundle: false });
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
});

describe('expiry failures land somewhere', () => {
  it("sends the expiry function's failed asynchronous invocations to the expiry-failures queue, after 2 retries and at most 6 hours", () => {
    const configs = Object.values(
      stateless.findResources('AWS::Lambda::EventInvokeConfig', {
        Properties: { FunctionName: { Ref: fnId('ExpireGrant') } },
      }),
    );
    expect(configs).toHaveLength(1);
    const config = configs[0]!.Properties;
    expect(config).toMatchObject({ Qualifier: '$LATEST', MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 6 * 3600 });
    expect(EXPIRY_MAX_EVENT_AGE.toSeconds()).toBe(21600);
    const queueId = logicalId(stateful, 'AWS::SQS::Queue', 'StateExpiryFailures');
    expect(json(config.DestinationConfig.OnFailure.Destination)).toContain(queueId);
    // The function may send to that queue (Lambda sends destination records with the function's role).
    const send = functionPolicies(stateless).ExpireGrant!.filter((s) => actionsOf(s).includes('sqs:SendMessage'));
    expect(json(send.flatMap(resourcesOf))).toContain(queueId);
  });

  it("keeps the failures queue encrypted, TLS-only and for 14 days, beside Scheduler's own dead-letter queue", () => {
    const queues = stateful.findResources('AWS::SQS::Queue') as Record<string, Resource>;
    for (const prefix of ['StateExpiryFailures', 'StateExpiryDeadLetters']) {
      const id = logicalId(stateful, 'AWS::SQS::Queue', prefix);
      expect(queues[id]!.Properties, prefix).toMatchObject({
        SqsManagedSseEnabled: true,
        MessageRetentionPeriod: 14 * 24 * 3600,
      });
      stateful.hasResourceProperties('AWS::SQS::QueuePolicy', {
        Queues: [{ Ref: id }],
        PolicyDocument: {
          Statement: Match.arrayWith([
            Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
          ]),
        },
      });
    }
    // Schedules still name Scheduler's dead-letter queue (failures to invoke).
    for (const fn of ['CreateGrant', 'ExtendGrant', 'Sweeper']) {
      const env = (stateless.findResources('AWS::Lambda::Function')[fnId(fn)] as Resource).Properties.Environment
        .Variables;
      expect(json(env[ENV.expiryDlqArn]), fn).toContain(
        logicalId(stateful, 'AWS::SQS::Queue', 'StateExpiryDeadLetters'),
      );
    }
  });

  it('alarms on each new message in either queue (messages sent, not merely visible) and on dropped expiry events', () => {
    const sent = alarms(stateless).filter((a) => a.Properties.MetricName === 'NumberOfMessagesSent');
    const queues = sent.map((a) => json(a.Properties.Dimensions)).sort();
    expect(queues).toHaveLength(2);
    expect(queues.some((q) => q.includes('StateExpiryFailures'))).toBe(true);
    expect(queues.some((q) => q.includes('StateExpiryDeadLetters'))).toBe(true);
    for (const a of sent)
      expect(a.Properties).toMatchObject({
        Namespace: 'AWS/SQS',
        Statistic: 'Sum',
        Period: 60,
        Threshold: 1,
        ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      });
    const visible = alarms(stateless).filter((a) => a.Properties.MetricName === 'ApproximateNumberOfMessagesVisible');
    expect(visible.some((a) => json(a.Properties.Dimensions).includes('StateExpiry'))).toBe(false);
    const dropped = alarmOn('AsyncEventsDropped');
    expect(dropped).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
      Dimensions: [{ Name: 'FunctionName', Value: { Ref: fnId('ExpireGrant') } }],
    });
  });
});

describe('a sweeper that is watched', () => {
  it('has a heartbeat: fewer than one completed sweep in 15 minutes alarms, and so does no data at all', () => {
    // Read from AWS/Lambda (the sweeper's invocations less its errors), which no grant can write; a BreakGlass
    // metric can be written by anyone allowed logs:PutLogEvents, through an embedded-metric-format line.
    const found = alarms(stateless).filter((a) => a.Properties.AlarmName === 'breakglass-SweeperHeartbeat');
    expect(found).toHaveLength(1);
    const heartbeat = found[0]!.Properties;
    expect(heartbeat).toMatchObject({
      EvaluationPeriods: 1,
      Threshold: 1,
      ComparisonOperator: 'LessThanThreshold',
      TreatMissingData: 'breaching',
    });
    const metrics = heartbeat.Metrics as Array<{
      Expression?: string;
      MetricStat?: { Metric: { Namespace: string; MetricName: string; Dimensions: { Value: { Ref: string } }[] } };
      Period?: number;
      ReturnData?: boolean;
    }>;
    expect(metrics.find((m) => m.Expression)!.Expression).toBe('invocations - FILL(errors, 0)');
    const stats = metrics.flatMap((m) => (m.MetricStat ? [m.MetricStat] : []));
    expect(stats.map((m) => `${m.Metric.Namespace} ${m.Metric.MetricName}`).sort()).toEqual([
      'AWS/Lambda Errors',
      'AWS/Lambda Invocations',
    ]);
    for (const m of stats) {
      expect(m.Metric.Dimensions[0]!.Value.Ref).toBe(fnId('Sweeper'));
      expect(m).toMatchObject({ Period: 900, Stat: 'Sum' });
    }
    expect(json(heartbeat.AlarmActions)).toMatch(/Alerts/);
  });

  it('alarms on any failed sweep step', () => {
    expect(alarmOn('SweeperStepFailures')).toMatchObject({
      Namespace: 'BreakGlass',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
  });

  it('runs one sweep at a time: reserved concurrency 1, no Lambda retry, stale events dropped before the next sweep', () => {
    const sweeper = (stateless.findResources('AWS::Lambda::Function')[fnId('Sweeper')] as Resource).Properties;
    expect(sweeper.ReservedConcurrentExecutions).toBe(1);
    const others = Object.entries(stateless.findResources('AWS::Lambda::Function')).filter(
      ([id]) => id !== fnId('Sweeper'),
    );
    for (const [id, f] of others) expect(f.Properties.ReservedConcurrentExecutions, id).toBeUndefined();
    stateless.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: fnId('Sweeper') },
      MaximumRetryAttempts: 0,
      MaximumEventAgeInSeconds: 240,
    });
    stateless.hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(5 minutes)',
      Targets: [
        Match.objectLike({
          Arn: { 'Fn::GetAtt': [fnId('Sweeper'), 'Arn'] },
          RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 240 },
        }),
      ],
    });
    // The sweep ends before the next one starts.
    expect(sweeper.Timeout).toBeLessThan(300);
  });
});

describe('synth refuses principals outside the deployment account', () => {
  const other = 'arn:aws:iam::210987654321:role/Security';

  it('names each foreign security, reviewer and eligible principal with where it came from', () => {
    const file = profileFile([
      'arn:aws:iam::123456789012:role/Responder',
      'arn:aws:sts::210987654321:assumed-role/Responder/alice',
    ]);
    let message = '';
    try {
      app(
        {
          profiles: file,
          securityPrincipals: `${SECURITY},${other}`,
          reviewerPrincipals: 'arn:aws:iam::*:role/Auditor',
        },
        { bundle: false },
      );
    } catch (error) {
      message = (error as Error).message;
    }
    expect(message).toMatch(/not in the deployment's account 123456789012/);
    expect(message).toContain(`securityPrincipals: ${other}`);
    expect(message).toContain('reviewerPrincipals: arn:aws:iam::*:role/Auditor');
    expect(message).toMatch(/eligible of profile "\w[\w-]*": arn:aws:sts::210987654321:assumed-role\/Responder\/alice/);
    expect(message).not.toContain(`${SECURITY}\n`);
    expect(message).not.toContain('role/Responder\n');
  });

  it('refuses a table admin role of another account', () => {
    expect(() =>
      app({ tableAdminRoleArn: 'arn:aws:iam::210987654321:role/TableAdmin' }, { bundle: false }),
    ).toThrowError(/tableAdminRoleArn: arn:aws:iam::210987654321:role\/TableAdmin/);
  });

  it('without an account (environment-agnostic synth), requires every principal to name one and the same account', () => {
    const agnostic = (context: Record<string, string>) => {
      const saved = process.env.CDK_DEFAULT_ACCOUNT;
      delete process.env.CDK_DEFAULT_ACCOUNT;
      try {
        return buildApp(
          new App({ context: { 'aws:cdk:bundling-stacks': [], securityPrincipals: SECURITY, ...context } }),
        );
      } finally {
        if (saved !== undefined) process.env.CDK_DEFAULT_ACCOUNT = saved;
      }
    };
    expect(() => agnostic({})).not.toThrow();
    expect(() => agnostic({ reviewerPrincipals: other })).toThrowError(
      /one account.*found 123456789012, 210987654321[\s\S]*reviewerPrincipals: arn:aws:iam::210987654321:role\/Security/,
    );
    expect(() => agnostic({ reviewerPrincipals: 'arn:aws:iam::*:role/Auditor' })).toThrowError(
      /reviewerPrincipals: arn:aws:iam::\*:role\/Auditor/,
    );
  });
});

describe('an audit trail no single role can erase', () => {
  const auditBucket = (template: Template) => {
    const [bucket] = Object.values(
      template.findResources('AWS::S3::Bucket', {
        Properties: { LoggingConfiguration: { LogFilePrefix: 'audit-exports/' } },
      }),
    );
    return bucket!.Properties;
  };

  it('puts the audit exports under Object Lock, GOVERNANCE for 400 days by default, on a versioned bucket', () => {
    expect(auditBucket(stateful)).toMatchObject({
      ObjectLockEnabled: true,
      ObjectLockConfiguration: {
        ObjectLockEnabled: 'Enabled',
        Rule: { DefaultRetention: { Mode: 'GOVERNANCE', Days: 400 } },
      },
      VersioningConfiguration: { Status: 'Enabled' },
    });
  });

  it('takes the mode and days from context, and refuses others', () => {
    const template = Template.fromStack(
      app({ auditObjectLockMode: 'COMPLIANCE', auditObjectLockDays: '30' }, { bundle: false }).stateful,
    );
    expect(auditBucket(template).ObjectLockConfiguration.Rule.DefaultRetention).toEqual({
      Mode: 'COMPLIANCE',
      Days: 30,
    });
    expect(() => app({ auditObjectLockMode: 'LEGAL' }, { bundle: false })).toThrowError(/GOVERNANCE or COMPLIANCE/);
    expect(() => app({ auditObjectLockDays: '0' }, { bundle: false })).toThrowError(/auditObjectLockDays/);
  });

  it("denies item writes on the table to every principal but break-glass's function roles", () => {
    const [table] = Object.values(stateful.findResources('AWS::DynamoDB::Table'));
    const statements = table!.Properties.ResourcePolicy.PolicyDocument.Statement as Statement[];
    expect(statements).toHaveLength(1);
    const deny = statements[0]! as Statement & { Principal: unknown };
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Resource: '*' });
    expect(actionsOf(deny).sort()).toEqual([...TABLE_DATA_WRITE_ACTIONS].sort());
    expect(actionsOf(deny)).toEqual(
      expect.arrayContaining([
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:BatchWriteItem',
        'dynamodb:PartiQLUpdate',
      ]),
    );
    const allowed = (deny.Condition as { ArnNotLike: { 'aws:PrincipalArn': unknown[] } }).ArnNotLike[
      'aws:PrincipalArn'
    ];
    expect(allowed).toHaveLength(1);
    expect(json(allowed)).toContain(`:role${FUNCTION_ROLE_PATH}*`);
    // Every role that writes the table is a function role under that path.
    const roles = stateless.findResources('AWS::IAM::Role');
    const writers = Object.values(stateless.findResources('AWS::IAM::Policy')).filter((p) =>
      (p.Properties.PolicyDocument.Statement as Statement[]).some((s) =>
        actionsOf(s).some((a) => (TABLE_DATA_WRITE_ACTIONS as readonly string[]).includes(a)),
      ),
    );
    expect(writers.length).toBeGreaterThanOrEqual(7);
    for (const p of writers)
      for (const role of p.Properties.Roles as { Ref: string }[])
        expect(roles[role.Ref]!.Properties.Path, role.Ref).toBe(FUNCTION_ROLE_PATH);
    // A pattern, not references: the stateful stack imports nothing from the stateless one.
    expect(json(stateful.toJSON())).not.toContain('Fn::ImportValue');
  });

  it('lets a table admin role from context write too', () => {
    const admin = 'arn:aws:iam::123456789012:role/BreakGlassTableAdmin';
    const [table] = Object.values(
      Template.fromStack(app({ tableAdminRoleArn: admin }, { bundle: false }).stateful).findResources(
        'AWS::DynamoDB::Table',
      ),
    );
    const allowed =
      table!.Properties.ResourcePolicy.PolicyDocument.Statement[0].Condition.ArnNotLike['aws:PrincipalArn'];
    expect(allowed).toHaveLength(2);
    expect(allowed).toContain(admin);
    expect(() => app({ tableAdminRoleArn: 'Admin' }, { bundle: false })).toThrowError(/must be an IAM role ARN/);
  });

  it("lets only security principals and the deployment's CloudFormation role subscribe to the alert topic", () => {
    const [policy] = Object.values(stateful.findResources('AWS::SNS::TopicPolicy'));
    const statements = policy!.Properties.PolicyDocument.Statement as (Statement & {
      Sid: string;
      Principal: unknown;
    })[];
    const guard = statements.find((s) => s.Sid === 'OnlySecuritySubscribes')!;
    expect(guard).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sns:Subscribe' });
    const allowed = (guard.Condition as { ArnNotLike: { 'aws:PrincipalArn': unknown[] } }).ArnNotLike[
      'aws:PrincipalArn'
    ];
    expect(allowed[0]).toBe(SECURITY);
    expect(json(allowed[1])).toMatch(/cfn-exec-role-123456789012-eu-west-1/);
    expect(allowed).toHaveLength(2);
    // A topic policy cannot hold Unsubscribe or SetSubscriptionAttributes (SNS rejects the policy); docs/security.md says so.
    expect(statements.flatMap(actionsOf).filter((a) => /Unsubscribe|SubscriptionAttributes/.test(a))).toEqual([]);
  });

  it('guards subscriptions by the role of a security session pattern (aws:PrincipalArn of a session is its role)', () => {
    const template = Template.fromStack(
      app({ securityPrincipals: 'arn:aws:sts::123456789012:assumed-role/Security/sam' }, { bundle: false }).stateful,
    );
    const [policy] = Object.values(template.findResources('AWS::SNS::TopicPolicy'));
    const guard = (
      policy!.Properties.PolicyDocument.Statement as {
        Sid: string;
        Condition: { ArnNotLike: Record<string, unknown[]> };
      }[]
    ).find((s) => s.Sid === 'OnlySecuritySubscribes')!;
    expect(guard.Condition.ArnNotLike['aws:PrincipalArn']![0]).toBe('arn:aws:iam::123456789012:role/Security');
  });
});

describe('a good neighbour in a shared account', () => {
  it('names the API breakglass and makes it REGIONAL', () => {
    stateless.hasResourceProperties('AWS::ApiGateway::RestApi', {
      Name: 'breakglass',
      EndpointConfiguration: { Types: ['REGIONAL'] },
    });
  });

  it('takes over no account-wide API Gateway setting by default: no AWS::ApiGateway::Account, no execution logs, access logs on', () => {
    expect(Object.keys(stateless.findResources('AWS::ApiGateway::Account'))).toEqual([]);
    const [stage] = Object.values(stateless.findResources('AWS::ApiGateway::Stage'));
    for (const setting of stage!.Properties.MethodSettings) expect(setting.LoggingLevel).toBeUndefined();
    expect(stage!.Properties.AccessLogSetting.DestinationArn).toBeDefined();
  });

  it('creates the account role and turns on execution logs with -c apiGatewayCloudWatchRole=true', () => {
    const stack = app({ apiGatewayCloudWatchRole: 'true' }, { bundle: false }).stateless;
    const template = Template.fromStack(stack);
    expect(Object.keys(template.findResources('AWS::ApiGateway::Account'))).toHaveLength(1);
    // The role uses the AWS-managed push-to-logs policy, acknowledged next to the code: cdk-nag stays clean.
    expect(Annotations.fromStack(stack).findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))).toEqual([]);
    template.hasResourceProperties('AWS::ApiGateway::Stage', {
      MethodSettings: Match.arrayWith([Match.objectLike({ LoggingLevel: 'ERROR' })]),
    });
  });

  it("logs the caller's ARN and API Gateway's error message for each request", () => {
    const [stage] = Object.values(stateless.findResources('AWS::ApiGateway::Stage'));
    const format = JSON.parse(stage!.Properties.AccessLogSetting.Format);
    expect(format).toMatchObject({
      userArn: '$context.identity.userArn',
      errorMessage: '$context.error.message',
      requestId: '$context.requestId',
      status: '$context.status',
    });
  });

  it("stops every function behind the API before API Gateway's 29-second limit", () => {
    const functions = stateless.findResources('AWS::Lambda::Function');
    const ids = apiFunctionIds(stateless);
    expect(ids).toHaveLength(13); // with GET /grants/{id}/activity, POST /drills and GET /drills (the drill function itself is not behind the API)
    for (const id of ids) expect(functions[id]!.Properties.Timeout, id).toBeLessThan(29);
    expect(API_FUNCTION_TIMEOUT.toSeconds()).toBeLessThan(29);
  });

  it('alarms on throttles of every one of its functions, and only its own', () => {
    const math = alarms(stateless).filter(
      (a) =>
        a.Properties.Metrics &&
        !a.Properties.ThresholdMetricId &&
        a.Properties.AlarmName !== 'breakglass-SweeperHeartbeat', // metric math on invocations, not throttles
    );
    expect(math).toHaveLength(4); // API, background, action logging (activity-capture.ts), drills (drills.ts)
    const throttled = math.flatMap((a) =>
      (
        a.Properties.Metrics as {
          MetricStat?: { Metric: { MetricName: string; Dimensions: { Value: { Ref: string } }[] } };
        }[]
      ).flatMap((m) => (m.MetricStat ? [m.MetricStat.Metric] : [])),
    );
    for (const m of throttled) expect(m.MetricName).toBe('Throttles');
    expect(throttled.map((m) => m.Dimensions[0]!.Value.Ref).sort()).toEqual(
      Object.keys(stateless.findResources('AWS::Lambda::Function')).sort(),
    );
    for (const a of math)
      expect(a.Properties).toMatchObject({ Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
    // One expression per alarm sums its metrics; an alarm holds at most 10 metrics.
    for (const a of math) expect(a.Properties.Metrics.length).toBeLessThanOrEqual(11);
  });

  it('alarms when SNS fails to deliver an alert', () => {
    expect(alarmOn('NumberOfNotificationsFailed')).toMatchObject({
      Namespace: 'AWS/SNS',
      Statistic: 'Sum',
      Threshold: 1,
      ComparisonOperator: 'GreaterThanOrEqualToThreshold',
    });
    expect(json(alarmOn('NumberOfNotificationsFailed').Dimensions)).toContain('StateAlerts');
  });
});
