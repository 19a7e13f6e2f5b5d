/**
 * Action logging's deployed side (infra/constructs/activity-capture.ts): the EventBridge rule in the
 * state that also receives read-only management events, matching break-glass sessions only; the
 * queue with its DLQ and alarm; the capture function, batched with partial failures, that may write
 * activity items and nothing else; the activity route; and PROTECTED_RESOURCES covering all of it.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../functions/domain/activity.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import {
  ACTIVITY_DLQ_NAME,
  ACTIVITY_QUEUE_NAME,
  ACTIVITY_RULE_NAME,
  ACTIVITY_RULE_STATE,
  activityEventPattern,
  CAPTURE_BATCH_SIZE,
} from '../../infra/constructs/activity-capture.js';
import { actionsOf, app, functionPolicies, globToRegExp, logicalId, render, type Statement } from './templates.js';

type Resource = { Type: string; Properties: Record<string, any> };

let stateless: Template;
let protectedPatterns: string[];
const one = (type: string, props: Record<string, unknown>): [string, Resource] => {
  const found = Object.entries(stateless.findResources(type, { Properties: props })) as [string, Resource][];
  expect(found, `${type} ${JSON.stringify(props)}`).toHaveLength(1);
  return found[0]!;
};

beforeAll(() => {
  stateless = Template.fromStack(app({}, { bundle: false }).stateless);
  const createGrant = one('AWS::Lambda::Function', { FunctionName: 'breakglass-create-grant' })[1];
  protectedPatterns = render(createGrant.Properties.Environment.Variables.PROTECTED_RESOURCES).split(',');
});

/**
 * A minimal matcher of the EventBridge pattern subset the rule uses (exact strings, `prefix`,
 * `wildcard`, `$or`), to prove on real CloudTrail shapes what the rule lets through.
 */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern))
    return pattern.some((p) => {
      if (typeof event !== 'string') return false;
      if (typeof p === 'string') return p === event;
      if (p.prefix !== undefined) return event.startsWith(render(p.prefix));
      if (p.wildcard !== undefined) return globToRegExp(render(p.wildcard)).test(event);
      throw new Error(`unsupported ${JSON.stringify(p)}`);
    });
  const obj = pattern as Record<string, unknown>;
  return Object.entries(obj).every(([key, sub]) => {
    if (key === '$or') return (sub as unknown[]).some((branch) => matches(branch, event));
    const value = (event as Record<string, unknown> | undefined)?.[key];
    return value !== undefined && matches(sub, value);
  });
}

const callBy = (identity: Record<string, unknown>) => ({
  'detail-type': CLOUDTRAIL_DETAIL_TYPE,
  source: 'aws.s3',
  detail: { eventName: 'ListBuckets', userIdentity: identity },
});
const roleSession = (roleArn: string, session: string) =>
  callBy({
    type: 'AssumedRole',
    arn: `arn:aws:sts::123456789012:assumed-role/${roleArn.split('/').pop()}/${session}`,
    sessionContext: { sessionIssuer: { type: 'Role', arn: roleArn } },
  });

describe('the capture rule', () => {
  it('is named under the protected prefix, in the state that also receives read-only management events', () => {
    const [, rule] = one('AWS::Events::Rule', { Name: ACTIVITY_RULE_NAME });
    // EventBridge User Guide, "Receiving read-only management events from AWS services": ENABLED
    // matches everything except read-only management events delivered through CloudTrail.
    expect(rule.Properties.State).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
    expect(ACTIVITY_RULE_STATE).toBe('ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS');
  });

  it('matches calls of profile-role and eligible caller-mode sessions, and nobody else', () => {
    const [, rule] = one('AWS::Events::Rule', { Name: ACTIVITY_RULE_NAME });
    const pattern = rule.Properties.EventPattern;
    expect(pattern['detail-type']).toEqual([CLOUDTRAIL_DETAIL_TYPE]);
    const profileRole = `arn:aws:iam::123456789012:role${PROFILE_ROLE_PATH}breakglass-demo-0`;
    expect(matches(pattern, roleSession(profileRole, 'bg-0e5c7a5e-0000-4000-8000-000000000000'))).toBe(true);
    // The sample profiles all grant through profile roles: their eligible roles' own sessions are not break-glass activity.
    expect(matches(pattern, roleSession('arn:aws:iam::123456789012:role/OnCallDBA', 'dave'))).toBe(false);
    // Everyone else: another role, a role merely named like a profile role outside the path, an IAM user.
    expect(matches(pattern, roleSession('arn:aws:iam::123456789012:role/Deployer', 'ci'))).toBe(false);
    expect(matches(pattern, roleSession('arn:aws:iam::123456789012:role/breakglass-demo-0', 'bg-x'))).toBe(false);
    expect(matches(pattern, callBy({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/mallory' }))).toBe(false);
    // Another detail-type (a console sign-in) is not an API call.
    expect(
      matches(pattern, { ...roleSession(profileRole, 'bg-x'), 'detail-type': 'AWS Console Sign In via CloudTrail' }),
    ).toBe(false);
  });

  it('matches eligible roles and IAM users in caller mode, with $or beside the profile-role sessions', () => {
    const pattern = activityEventPattern('aws', '123456789012', {
      profileRoles: true,
      callerRoles: ['arn:aws:iam::123456789012:role/OnCallDBA'],
      callerUsers: ['arn:aws:iam::123456789012:user/alice'],
    });
    const raw = { 'detail-type': pattern.detailType, detail: pattern.detail };
    expect(matches(raw, callBy({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/alice' }))).toBe(true);
    expect(matches(raw, callBy({ type: 'IAMUser', arn: 'arn:aws:iam::123456789012:user/bob' }))).toBe(false);
    expect(matches(raw, roleSession('arn:aws:iam::123456789012:role/OnCallDBA', 'dave'))).toBe(true);
    expect(
      matches(raw, roleSession('arn:aws:iam::123456789012:role/breakglass/profile/breakglass-demo-0', 'bg-1')),
    ).toBe(true);
    expect(matches(raw, roleSession('arn:aws:iam::123456789012:role/Deployer', 'ci'))).toBe(false);
    expect(() => activityEventPattern('aws', '1', { profileRoles: false, callerRoles: [], callerUsers: [] })).toThrow(
      /nothing to match/,
    );
  });

  it('targets the activity queue, dead-lettering what EventBridge cannot deliver', () => {
    const [, rule] = one('AWS::Events::Rule', { Name: ACTIVITY_RULE_NAME });
    const [queueId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_QUEUE_NAME });
    const [dlqId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_DLQ_NAME });
    expect(rule.Properties.Targets).toHaveLength(1);
    const target = rule.Properties.Targets[0];
    expect(render(target.Arn)).toBe(`{${queueId}.Arn}`);
    expect(render(target.DeadLetterConfig.Arn)).toBe(`{${dlqId}.Arn}`);
  });
});

describe('the activity queue and the capture function', () => {
  it('redrives to a dead-letter queue, and alarms when anything waits there', () => {
    const [, queue] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_QUEUE_NAME });
    const [dlqId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_DLQ_NAME });
    expect(render(queue.Properties.RedrivePolicy.deadLetterTargetArn)).toBe(`{${dlqId}.Arn}`);
    expect(queue.Properties.RedrivePolicy.maxReceiveCount).toBeGreaterThan(1);
    const [, alarm] = one('AWS::CloudWatch::Alarm', { AlarmName: 'breakglass-ActivityDeadLetters' });
    expect(alarm.Properties).toMatchObject({
      Namespace: 'AWS/SQS',
      MetricName: 'ApproximateNumberOfMessagesVisible',
      Threshold: 1,
    });
    expect(JSON.stringify(alarm.Properties.Dimensions)).toContain(dlqId);
  });

  it('consumes the queue in batches with partial batch failures', () => {
    const [queueId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_QUEUE_NAME });
    const [fnId] = one('AWS::Lambda::Function', { FunctionName: 'breakglass-capture-activity' });
    const [, mapping] = Object.entries(stateless.findResources('AWS::Lambda::EventSourceMapping'))[0] as [
      string,
      Resource,
    ];
    expect(render(mapping.Properties.EventSourceArn)).toBe(`{${queueId}.Arn}`);
    expect(render(mapping.Properties.FunctionName)).toBe(`{Ref:${fnId}}`);
    expect(mapping.Properties.BatchSize).toBe(CAPTURE_BATCH_SIZE);
    expect(mapping.Properties.FunctionResponseTypes).toEqual(['ReportBatchItemFailures']);
  });

  it('lets the capture function write activity items only, and read grants and sessions', () => {
    const policies = functionPolicies(stateless);
    const capture = Object.entries(policies).find(([name]) => name.includes('CaptureActivity'))![1];
    const table = capture.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    const keysOf = (s: Statement) =>
      (s.Condition as { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': string[] } })['ForAllValues:StringLike'][
        'dynamodb:LeadingKeys'
      ];
    const writes = table.filter((s) => actionsOf(s).some((a) => /Put|Update|Delete|BatchWrite/.test(a)));
    expect(writes).toHaveLength(1);
    expect(actionsOf(writes[0]!).sort()).toEqual(['dynamodb:PutItem', 'dynamodb:UpdateItem']);
    expect(keysOf(writes[0]!)).toEqual(['ACTIVITY#*']);
    for (const s of table) {
      expect(s.Effect).toBe('Allow');
      expect(keysOf(s).length).toBeGreaterThan(0); // no table action without a key condition
      expect(actionsOf(s)).not.toContain('dynamodb:DeleteItem');
    }
    const reads = table.find((s) => actionsOf(s).includes('dynamodb:GetItem'))!;
    expect(keysOf(reads).sort()).toEqual(['GRANT#*', 'SESSION#*']);
    // No IAM, no scheduler: it records, it never changes access.
    expect(capture.flatMap(actionsOf).filter((a) => /^(iam|scheduler|sts):/.test(a))).toEqual([]);
  });

  it('lets the read function read grants and activity items only', () => {
    const policies = functionPolicies(stateless);
    const read = Object.entries(policies).find(([name]) => name.includes('GetActivity'))![1];
    const table = read.filter((s) => actionsOf(s).some((a) => a.startsWith('dynamodb:')));
    expect(table.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:Query']);
    expect(JSON.stringify(table[0]!.Condition)).toContain('ACTIVITY#*');
    expect(JSON.stringify(table[0]!.Condition)).not.toContain('SESSION#');
  });
});

describe('the activity route', () => {
  it('serves GET /grants/{id}/activity from the read function, with SigV4', () => {
    const [resourceId] = one('AWS::ApiGateway::Resource', { PathPart: 'activity' });
    const [fnId] = one('AWS::Lambda::Function', { FunctionName: 'breakglass-get-activity' });
    const methods = Object.values(
      stateless.findResources('AWS::ApiGateway::Method', { Properties: { ResourceId: { Ref: resourceId } } }),
    ) as Resource[];
    expect(methods.map((m) => m.Properties.HttpMethod)).toEqual(['GET']);
    expect(methods[0]!.Properties.AuthorizationType).toBe('AWS_IAM');
    expect(JSON.stringify(methods[0]!.Properties.Integration.Uri)).toContain(fnId);
  });
});

describe('PROTECTED_RESOURCES and action logging', () => {
  it('covers the rule, both queues, both functions and the event source mapping', () => {
    const covered = (arn: string) => protectedPatterns.some((p) => globToRegExp(p).test(arn));
    const [queueId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_QUEUE_NAME });
    const [dlqId] = one('AWS::SQS::Queue', { QueueName: ACTIVITY_DLQ_NAME });
    const mapping = logicalId(stateless, 'AWS::Lambda::EventSourceMapping', 'ServiceActivity');
    for (const arn of [
      `arn:aws:events:eu-west-1:123456789012:rule/${ACTIVITY_RULE_NAME}`,
      `{${queueId}.Arn}`,
      `{${dlqId}.Arn}`,
      `arn:aws:lambda:eu-west-1:123456789012:event-source-mapping:{Ref:${mapping}}`,
      'arn:aws:lambda:eu-west-1:123456789012:function:breakglass-capture-activity',
      'arn:aws:lambda:eu-west-1:123456789012:function:breakglass-get-activity',
      'arn:aws:cloudwatch:eu-west-1:123456789012:alarm:breakglass-ActivityDeadLetters',
    ])
      expect(covered(arn), arn).toBe(true);
    // The check can fail: a queue of someone else's is not covered.
    expect(covered('arn:aws:sqs:eu-west-1:123456789012:orders')).toBe(false);
  });
});
