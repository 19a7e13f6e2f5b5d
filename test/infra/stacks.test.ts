/**
 * Security properties of the synthesized templates. Each assertion is about a property that
 * matters (who may do what, encryption, retention, authorization), so breaking the property
 * breaks the test.
 */

import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Annotations, Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { TTL_ATTRIBUTE } from '../../functions/adapters/table-schema.js';
import { ENV } from '../../functions/config/env.js';
import { ProfileConfigError } from '../../functions/domain/errors.js';
import { actionsOf, app, functionPolicies, render, resourcesOf, type Statement } from './templates.js';

let stateful: Template;
let stateless: Template;
let nagErrors: string[];

beforeAll(() => {
  // Without esbuild: synth is synchronous, and fourteen bundles in a row on a starved machine block this worker's
  // event loop past vitest's 60-second RPC limit (seen: "Timeout calling onTaskUpdate" with two CPU hogs running).
  // The bundles are built by `npm run synth` (cdk.out) earlier in `npm test`; nothing asserted here reads them.
  const built = app({}, { bundle: false });
  stateful = Template.fromStack(built.stateful);
  stateless = Template.fromStack(built.stateless);
  nagErrors = [built.stateful, built.stateless].flatMap((stack) =>
    Annotations.fromStack(stack)
      .findError('*', Match.stringLikeRegexp('AwsSolutions-.*'))
      .map((e) => `${e.id}: ${String(e.entry.data).slice(0, 160)}`),
  );
});

describe('least privilege', () => {
  it('gives each of the twenty functions its own role (three of them the drills, three action logging)', () => {
    expect(Object.keys(functionPolicies(stateless)).sort()).toEqual([
      'ActivityAnnounceActivity',
      'ActivityCaptureActivity',
      'CheckReviews',
      'CreateGrant',
      'DrillsListDrills',
      'DrillsRunDrill',
      'DrillsStartDrill',
      'ExpireGrant',
      'ExportTable',
      'ExtendGrant',
      'GetActivity',
      'GetGrant',
      'IssueCredentials',
      'KillSwitch',
      'ListGrants',
      'ListProfiles',
      'QueryAudit',
      'ReviewGrant',
      'RevokeGrant',
      'Sweeper',
    ]);
  });

  it('lets no function hold iam:*, "*" actions, or create users and keys', () => {
    for (const [fn, statements] of Object.entries(functionPolicies(stateless))) {
      for (const action of statements.flatMap(actionsOf)) {
        expect(action, fn).not.toMatch(
          /^(\*|iam:\*|iam:Create(User|AccessKey|LoginProfile)|iam:Attach.*|dynamodb:\*|dynamodb:DeleteItem|dynamodb:BatchWriteItem)$/,
        );
      }
    }
  });

  it('limits "*" resources to actions with no resource-level permissions: X-Ray, and ListExports for the export', () => {
    for (const [fn, statements] of Object.entries(functionPolicies(stateless))) {
      for (const s of statements.filter((s) => resourcesOf(s).includes('*'))) {
        expect(
          actionsOf(s).every((a) => a.startsWith('xray:') || (fn === 'ExportTable' && a === 'dynamodb:ListExports')),
          `${fn}: ${JSON.stringify(s)}`,
        ).toBe(true);
      }
    }
  });

  it('lets only activation, extension and the ends of grants put policies, and only on the profile roles when every profile grants through them', () => {
    // The sample profiles both grant through profile roles; demo is eligible to an Identity Center
    // role, which widens nothing: policies go on role/breakglass/profile/* only. The functions that end
    // grants also put and read the slot's ended-sessions Deny there (ended-sessions.ts).
    const iamStatements = Object.fromEntries(
      Object.entries(functionPolicies(stateless)).map(([fn, st]) => [
        fn,
        st.filter((s) => actionsOf(s).some((a) => a.startsWith('iam:') && a !== 'iam:PassRole')),
      ]),
    );
    expect(iamStatements.CreateGrant!.flatMap(actionsOf).sort()).toEqual(['iam:DeleteRolePolicy', 'iam:PutRolePolicy']);
    expect(iamStatements.Sweeper!.flatMap(actionsOf).sort()).toEqual([
      'iam:DeleteRolePolicy',
      'iam:GetRolePolicy',
      'iam:ListRolePolicies',
      'iam:PutRolePolicy',
    ]);
    expect(iamStatements.ExtendGrant!.flatMap(actionsOf).sort()).toEqual(['iam:DeleteRolePolicy', 'iam:PutRolePolicy']);
    for (const fn of ['ExpireGrant', 'RevokeGrant', 'KillSwitch'])
      expect(iamStatements[fn]!.flatMap(actionsOf).sort()).toEqual([
        'iam:DeleteRolePolicy',
        'iam:GetRolePolicy',
        'iam:PutRolePolicy',
      ]);
    for (const fn of [
      'GetGrant',
      'ListGrants',
      'ListProfiles',
      'ReviewGrant',
      'QueryAudit',
      'CheckReviews',
      'ExportTable',
      'IssueCredentials',
      'DrillsStartDrill',
      'DrillsListDrills',
    ])
      expect(iamStatements[fn], fn).toEqual([]);
    // The drill function writes the drill profile's roles only (test/infra/drills.test.ts).
    expect(iamStatements.DrillsRunDrill!.flatMap(actionsOf).sort()).toEqual([
      'iam:DeleteRolePolicy',
      'iam:GetRolePolicy',
      'iam:PutRolePolicy',
    ]);
    for (const s of iamStatements.DrillsRunDrill!)
      expect(resourcesOf(s).map(render)).toEqual([
        'arn:aws:iam::123456789012:role/breakglass/profile/breakglass-drill-0',
      ]);
    for (const [fn, statements] of Object.entries(iamStatements))
      if (fn !== 'DrillsRunDrill')
        for (const s of statements)
          expect(resourcesOf(s).map(render)).toEqual(['arn:aws:iam::123456789012:role/breakglass/profile/*']);
  });

  it('adds the caller-mode targets to the profile roles, and lets activation read only those', () => {
    // Prepare: demo grants to callers (Medic, user ops), prod-db-admin through profile roles.
    const dir = mkdtempSync(join(tmpdir(), 'bg-infra-'));
    const file = join(dir, 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles[0] = {
      ...profiles.profiles[0],
      grantTo: 'caller',
      eligible: ['arn:aws:sts::123456789012:assumed-role/Medic/alice', 'arn:aws:iam::123456789012:user/ops'],
    };
    writeFileSync(file, JSON.stringify(profiles));
    // Act
    const policies = functionPolicies(Template.fromStack(app({ profiles: file }, { bundle: false }).stateless));
    // Assess
    const on = (fn: string, action: string) =>
      policies[fn]!.filter((s) => actionsOf(s).includes(action))
        .flatMap(resourcesOf)
        .map(render)
        .sort();
    const roles = ['arn:aws:iam::123456789012:role/Medic', 'arn:aws:iam::123456789012:role/breakglass/profile/*'];
    for (const fn of ['CreateGrant', 'ExtendGrant']) expect(on(fn, 'iam:PutRolePolicy'), fn).toEqual(roles);
    for (const fn of ['CreateGrant', 'ExtendGrant', 'RevokeGrant', 'ExpireGrant', 'KillSwitch', 'Sweeper'])
      expect(on(fn, 'iam:DeleteRolePolicy'), fn).toEqual(roles);
    expect(on('Sweeper', 'iam:ListRolePolicies')).toEqual(roles);
    expect(on('CreateGrant', 'iam:GetRolePolicy')).toEqual(['arn:aws:iam::123456789012:role/Medic']);
    expect(on('CreateGrant', 'iam:ListRolePolicies')).toEqual(['arn:aws:iam::123456789012:role/Medic']);
    expect(on('CreateGrant', 'iam:PutUserPolicy')).toEqual(['arn:aws:iam::123456789012:user/ops']);
  });

  it('derives the IAM resources from the profile file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-infra-'));
    const file = join(dir, 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles = [
      {
        ...profiles.profiles[0],
        grantTo: 'caller',
        eligible: ['arn:aws:sts::123456789012:assumed-role/Medic/alice', 'arn:aws:iam::123456789012:user/ops'],
      },
    ];
    writeFileSync(file, JSON.stringify(profiles));
    const statements = functionPolicies(Template.fromStack(app({ profiles: file }, { bundle: false }).stateless))
      .CreateGrant!;
    const put = (action: string) => statements.filter((s) => actionsOf(s).includes(action)).flatMap(resourcesOf);
    expect(put('iam:PutRolePolicy')).toEqual(['arn:aws:iam::123456789012:role/Medic']);
    expect(put('iam:PutUserPolicy')).toEqual(['arn:aws:iam::123456789012:user/ops']);
  });

  it('refuses wildcard role names in caller-mode eligibility unless the team opts in', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-infra-'));
    const file = join(dir, 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles = [
      { ...profiles.profiles[0], grantTo: 'caller', eligible: ['arn:aws:iam::123456789012:role/*'] },
    ];
    writeFileSync(file, JSON.stringify(profiles));
    expect(() => app({ profiles: file }, { bundle: false })).toThrowError(/allowBroadEligibility=true/);
    const statements = functionPolicies(
      Template.fromStack(app({ profiles: file, allowBroadEligibility: 'true' }, { bundle: false }).stateless),
    ).CreateGrant!;
    expect(statements.filter((s) => actionsOf(s).includes('iam:PutRolePolicy')).flatMap(resourcesOf)).toEqual([
      'arn:aws:iam::123456789012:role/*',
    ]);
  });

  it('needs no flag for wildcards in the eligibility of a profile-role profile: they widen nothing', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-infra-'));
    const file = join(dir, 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles = [
      {
        ...profiles.profiles[0],
        grantTo: 'profileRole',
        eligible: ['arn:aws:iam::123456789012:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*'],
      },
    ];
    writeFileSync(file, JSON.stringify(profiles));
    const statements = functionPolicies(Template.fromStack(app({ profiles: file }, { bundle: false }).stateless))
      .CreateGrant!;
    expect(
      statements
        .filter((s) => actionsOf(s).includes('iam:PutRolePolicy'))
        .flatMap(resourcesOf)
        .map(render),
    ).toEqual(['arn:aws:iam::123456789012:role/breakglass/profile/*']);
  });

  it('fails synth on an invalid profile', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bg-infra-'));
    const file = join(dir, 'profiles.json');
    const profiles = JSON.parse(readFileSync('config/profiles.json', 'utf8'));
    profiles.profiles[0].statements = [{ actions: ['*'], resources: ['*'] }];
    writeFileSync(file, JSON.stringify(profiles));
    expect(() => app({ profiles: file })).toThrowError(ProfileConfigError);
    expect(() => app({ profiles: file })).toThrowError(/over-broad/);
  });

  it('keeps DynamoDB access to the grants table, without deletes; read functions only read', () => {
    const policies = functionPolicies(stateless);
    const dynamo = (fn: string) =>
      policies[fn]!.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')))
        .flatMap(actionsOf)
        .sort();
    const write = [
      'dynamodb:ConditionCheckItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ];
    for (const fn of ['CreateGrant', 'RevokeGrant', 'ExtendGrant', 'ExpireGrant', 'KillSwitch'])
      expect(dynamo(fn)).toEqual(write);
    // The sweeper reads the grants and holds it checks 100 at a time.
    expect(dynamo('Sweeper')).toEqual(['dynamodb:BatchGetItem', ...write]);
    for (const fn of ['GetGrant', 'ListGrants']) expect(dynamo(fn)).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(dynamo('ListProfiles')).toEqual([]);
    expect(dynamo('IssueCredentials')).toEqual(['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem']);
    // The review also reads the grant's activity items (ACTIVITY#*) to seal their digest into its chain.
    expect(dynamo('ReviewGrant')).toEqual([
      'dynamodb:GetItem',
      'dynamodb:GetItem',
      'dynamodb:PutItem',
      'dynamodb:Query',
      'dynamodb:UpdateItem',
    ]);
    for (const fn of ['QueryAudit', 'CheckReviews']) expect(dynamo(fn)).toEqual(['dynamodb:Query']);
    expect(dynamo('ExportTable')).toEqual([
      'dynamodb:DescribeExport',
      'dynamodb:ExportTableToPointInTime',
      'dynamodb:ListExports',
    ]);
  });

  it('lets only the lifecycle functions touch schedules, each only as it needs, in the break-glass group only', () => {
    const policies = functionPolicies(stateless);
    const scheduler = (fn: string) => policies[fn]!.filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')));
    expect(scheduler('CreateGrant').flatMap(actionsOf).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
    ]);
    expect(scheduler('RevokeGrant').flatMap(actionsOf)).toEqual(['scheduler:DeleteSchedule']);
    expect(scheduler('KillSwitch').flatMap(actionsOf)).toEqual(['scheduler:DeleteSchedule']);
    expect(scheduler('ExtendGrant').flatMap(actionsOf)).toEqual(['scheduler:UpdateSchedule']);
    // The drill activates and revokes its own grant.
    expect(scheduler('DrillsRunDrill').flatMap(actionsOf).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
    ]);
    expect(scheduler('Sweeper').flatMap(actionsOf).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:GetSchedule',
    ]);
    for (const fn of [
      'ExpireGrant',
      'GetGrant',
      'ListGrants',
      'ListProfiles',
      'ReviewGrant',
      'QueryAudit',
      'CheckReviews',
      'ExportTable',
      'IssueCredentials',
      'DrillsStartDrill',
      'DrillsListDrills',
    ])
      expect(scheduler(fn)).toEqual([]);
    const passers = Object.entries(policies)
      .filter(([, st]) => st.some((s) => actionsOf(s).includes('iam:PassRole')))
      .map(([fn]) => fn)
      .sort();
    expect(passers).toEqual(['CreateGrant', 'DrillsRunDrill', 'ExtendGrant', 'Sweeper']);
    expect(JSON.stringify(scheduler('CreateGrant')[0]!.Resource)).toContain(':schedule/breakglass/*');
    const passRole = policies.CreateGrant!.find((s) => actionsOf(s).includes('iam:PassRole'))!;
    expect(passRole.Condition).toEqual({ StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } });
  });

  it('lets the Scheduler role only invoke the expiry function and dead-letter', () => {
    const roles = stateless.findResources('AWS::IAM::Role', {
      Properties: {
        AssumeRolePolicyDocument: {
          Statement: Match.arrayWith([Match.objectLike({ Principal: { Service: 'scheduler.amazonaws.com' } })]),
        },
      },
    });
    const [roleId] = Object.keys(roles);
    const statements = Object.values(stateless.findResources('AWS::IAM::Policy'))
      .filter((p) => JSON.stringify(p.Properties.Roles).includes(`"${roleId}"`))
      .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
    const invoke = statements.find((s) => actionsOf(s).includes('lambda:InvokeFunction'))!;
    expect(resourcesOf(invoke)).toHaveLength(1);
    expect(JSON.stringify(invoke.Resource)).toMatch(/ServiceExpireGrantFunction/);
    expect(statements.flatMap(actionsOf).sort()).toEqual([
      'lambda:InvokeFunction',
      'sqs:GetQueueAttributes',
      'sqs:GetQueueUrl',
      'sqs:SendMessage',
    ]);
  });
});

describe('API', () => {
  it('requires AWS_IAM on every method', () => {
    const methods = Object.values(stateless.findResources('AWS::ApiGateway::Method'));
    expect(methods.length).toBe(17); // 14 of the route table, and POST /drills, GET /drills, GET /drills/{id}
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it("denies callers whose role is named like an Identity Center role outside Identity Center's path, and grants nothing", () => {
    const [api] = Object.values(stateless.findResources('AWS::ApiGateway::RestApi'));
    const statements = api!.Properties.Policy.Statement as Array<{
      Effect: string;
      Action: string;
      Condition: Record<string, Record<string, string>>;
    }>;
    expect(statements.map((s) => s.Effect)).toEqual(['Deny']);
    expect(statements[0]!.Action).toBe('execute-api:Invoke');
    const like = JSON.stringify(statements[0]!.Condition.ArnLike!['aws:PrincipalArn']);
    const notLike = JSON.stringify(statements[0]!.Condition.ArnNotLike!['aws:PrincipalArn']);
    expect(like).toContain(':iam::*:role/*AWSReservedSSO_*');
    expect(notLike).toContain(':iam::*:role/aws-reserved/sso.amazonaws.com/*');
  });

  it('validates bodies, throttles the stage, logs access and traces', () => {
    stateless.hasResourceProperties('AWS::ApiGateway::RequestValidator', { ValidateRequestBody: true });
    stateless.hasResourceProperties('AWS::ApiGateway::Method', {
      HttpMethod: 'POST',
      RequestModels: { 'application/json': Match.anyValue() },
      RequestValidatorId: Match.anyValue(),
    });
    stateless.hasResourceProperties('AWS::ApiGateway::Stage', {
      TracingEnabled: true,
      AccessLogSetting: { DestinationArn: Match.anyValue(), Format: Match.stringLikeRegexp('caller') },
      MethodSettings: Match.arrayWith([Match.objectLike({ ThrottlingRateLimit: 10, ThrottlingBurstLimit: 20 })]),
    });
  });

  it('runs every function on Node.js 22, ARM64, traced, with a retained log group', () => {
    const functions = Object.values(stateless.findResources('AWS::Lambda::Function'));
    expect(functions).toHaveLength(20);
    for (const f of functions) {
      expect(f.Properties).toMatchObject({
        Runtime: 'nodejs22.x',
        Architectures: ['arm64'],
        TracingConfig: { Mode: 'Active' },
      });
      expect(f.Properties.LoggingConfig.LogGroup).toBeDefined();
    }
    const logGroups = Object.values(stateless.findResources('AWS::Logs::LogGroup'));
    for (const g of logGroups) expect(g.Properties.RetentionInDays).toBe(365);
  });

  it('raises alarms on expiry errors and failures, dead letters, API 5xx, throttles, failed deliveries, the sweeper, and the errors of activation, review, audit query, review check and export, to the topic', () => {
    const alarms = Object.values(stateless.findResources('AWS::CloudWatch::Alarm'));
    const kind = (a: (typeof alarms)[number]) =>
      a.Properties.MetricName ?? (a.Properties.ThresholdMetricId ? 'anomaly detection' : 'metric math');
    expect(alarms.map(kind).sort()).toEqual([
      '5XXError',
      'ApproximateAgeOfOldestMessage', // the activity queue's backlog
      'ApproximateNumberOfMessagesVisible', // the activity dead-letter queue
      'AsyncEventsDropped',
      ...Array(10).fill('Errors'), // the 8th: the drill function (breakglass-DrillErrors); 9th, 10th: activity capture and summary
      'NumberOfMessagesSent',
      'NumberOfMessagesSent',
      'NumberOfNotificationsFailed',
      'SweeperStepFailures',
      'anomaly detection',
      'anomaly detection',
      'metric math',
      'metric math',
      'metric math',
      'metric math',
      'metric math', // the sweeper heartbeat: its invocations less its errors (AWS/Lambda, which no grant can write)
    ]);
    for (const a of alarms) expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/Alerts/);
  });

  it('runs the sweeper every five minutes', () => {
    stateless.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(5 minutes)', State: 'ENABLED' });
  });

  it('passes the configuration kill switch and limits to activation', () => {
    const template = Template.fromStack(
      app({ frozenProfiles: '*', maxActivePerPrincipal: '2' }, { bundle: false }).stateless,
    );
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'break-glass: POST /grants',
      Environment: { Variables: Match.objectLike({ [ENV.frozenProfiles]: '*', [ENV.maxActivePerPrincipal]: '2' }) },
    });
    // A configured freeze refuses extensions too.
    template.hasResourceProperties('AWS::Lambda::Function', {
      Description: 'break-glass: POST /grants/{id}/extend',
      Environment: { Variables: Match.objectLike({ [ENV.frozenProfiles]: '*' }) },
    });
  });

  it('lets DynamoDB expire the alert-limit items (TTL on the attribute the adapter writes)', () => {
    stateful.hasResourceProperties('AWS::DynamoDB::Table', {
      TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
    });
  });

  it('outputs the endpoint, topic and table', () => {
    expect(Object.keys(stateless.findOutputs('*')).join()).toMatch(/ApiUrl/);
    expect(Object.keys(stateful.findOutputs('*'))).toEqual(
      expect.arrayContaining(['AuditBucketName', 'TableName', 'TopicArn']),
    );
  });
});

describe('stateful resources', () => {
  it('keeps the table: PITR, deletion protection, encryption, retained', () => {
    stateful.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        DeletionProtectionEnabled: true,
        SSESpecification: { SSEEnabled: true },
        BillingMode: 'PAY_PER_REQUEST',
      }),
    });
  });

  it('encrypts the topic with a rotating key and lets only break-glass roles and alarms publish', () => {
    stateful.hasResourceProperties('AWS::SNS::Topic', { KmsMasterKeyId: Match.anyValue() });
    stateful.hasResourceProperties('AWS::KMS::Key', { EnableKeyRotation: true });
    stateful.hasResourceProperties('AWS::SNS::TopicPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Sid: 'OnlyBreakGlassPublishes',
            Effect: 'Deny',
            Action: 'sns:Publish',
            Condition: {
              Bool: { 'aws:PrincipalIsAWSService': 'false' },
              ArnNotLike: { 'aws:PrincipalArn': Match.anyValue() },
            },
          }),
        ]),
      },
    });
    const deny = JSON.stringify(stateful.findResources('AWS::SNS::TopicPolicy'));
    expect(deny).toContain(':role/breakglass/function/*');
  });

  it('encrypts the dead-letter queue and requires TLS', () => {
    stateful.hasResourceProperties('AWS::SQS::Queue', { SqsManagedSseEnabled: true, MessageRetentionPeriod: 1209600 });
    stateful.hasResourceProperties('AWS::SQS::QueuePolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });

  it('keeps the audit bucket encrypted, versioned, private, TLS-only and retained', () => {
    const buckets = stateful.findResources('AWS::S3::Bucket', {
      Properties: { LoggingConfiguration: Match.anyValue() },
    });
    const [bucket] = Object.values(buckets);
    expect(bucket!.DeletionPolicy).toBe('Retain');
    expect(bucket!.Properties).toMatchObject({
      VersioningConfiguration: { Status: 'Enabled' },
      BucketEncryption: {
        ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }],
      },
      PublicAccessBlockConfiguration: {
        BlockPublicAcls: true,
        BlockPublicPolicy: true,
        IgnorePublicAcls: true,
        RestrictPublicBuckets: true,
      },
    });
    stateful.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
  });
});

describe('cdk-nag', () => {
  it('has no AwsSolutions finding that is not acknowledged with a reason', () => {
    expect(nagErrors).toEqual([]);
  });
});
