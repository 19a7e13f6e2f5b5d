/**
 * Failure paths the emulator cannot produce (throttling, service errors), with the real
 * adapters over aws-sdk-client-mock'd clients and an in-memory store.
 */

import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import {
  DeleteRolePolicyCommand,
  GetRolePolicyCommand,
  IAMClient,
  LimitExceededException,
  ListRolePoliciesCommand,
  NoSuchEntityException,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { DynamoDBDocumentClient, PutCommand, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoGrantStore } from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { IamPolicyAdapter } from '../../../functions/adapters/iam-policy.adapter.js';
import { SchedulerAdapter } from '../../../functions/adapters/scheduler.adapter.js';
import { SnsNotifier } from '../../../functions/adapters/sns-notifier.adapter.js';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { ConcurrentUpdateError, StepFailedError } from '../../../functions/domain/errors.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const iam = mockClient(IAMClient);
const scheduler = mockClient(SchedulerClient);
const sns = mockClient(SNSClient);
const ddb = mockClient(DynamoDBDocumentClient);
const throttled = () =>
  Object.assign(new Error('Rate exceeded'), { name: 'Throttling', $metadata: { httpStatusCode: 400 } });

function portsWithRealAdapters() {
  const ports = fakePorts();
  return {
    ...ports,
    access: new IamPolicyAdapter({ awsSdkV3Client: new IAMClient({ region: 'us-east-1' }) }),
    scheduler: new SchedulerAdapter({
      groupName: 'g',
      targetArn: 'arn:aws:lambda:us-east-1:123456789012:function:exp',
      roleArn: 'arn:aws:iam::123456789012:role/s',
      awsSdkV3Client: new SchedulerClient({ region: 'us-east-1' }),
    }),
    notifier: new SnsNotifier({
      topicArn: 'arn:aws:sns:us-east-1:123456789012:t',
      awsSdkV3Client: new SNSClient({ region: 'us-east-1' }),
    }),
    memory: ports,
  };
}
const request = {
  caller: { arn: ALICE, userId: ALICE_ID },
  body: { profile: 'demo', reason: 'orders API is returning errors', durationMinutes: 10 },
};

beforeEach(() => {
  iam.reset();
  scheduler.reset();
  sns.reset();
  ddb.reset();
  sns.on(PublishCommand).resolves({ MessageId: 'm' });
  iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: [] });
});

describe('activation when AWS fails', () => {
  it('records FAILED and answers 503 when IAM stays throttled, leaving nothing attached', async () => {
    iam.on(PutRolePolicyCommand).rejects(throttled());
    iam.on(DeleteRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'no such policy', $metadata: {} }));
    const ports = portsWithRealAdapters();
    const error = await activateGrant(ports, testProfiles(), request).catch((e) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.statusCode).toBe(503);
    const [grant] = [...ports.memory.store.grants.values()];
    expect(grant!.status).toBe('FAILED');
    expect(ports.memory.store.eventLog.get(grant!.id)!.at(-1)!.details).toMatchObject({
      step: 'AttachPolicy',
      error: 'Throttling: Rate exceeded',
    });
    // A rollback detach was attempted even though the put "failed": it may have landed.
    expect(iam.commandCalls(DeleteRolePolicyCommand)[0]!.args[0].input).toEqual({
      RoleName: 'Responder',
      PolicyName: grant!.policyName,
    });
    expect(scheduler.commandCalls(CreateScheduleCommand)).toHaveLength(0);
    expect(sns.commandCalls(PublishCommand)[0]!.args[0].input.MessageAttributes!.eventType!.StringValue).toBe(
      'ACTIVATION_FAILED',
    );
  });

  it('detaches the policy it attached when the schedule cannot be created', async () => {
    iam.on(PutRolePolicyCommand).resolves({});
    iam.on(DeleteRolePolicyCommand).resolves({});
    scheduler
      .on(CreateScheduleCommand)
      .rejects(Object.assign(new Error('Service unavailable'), { name: 'InternalServerException' }));
    const ports = portsWithRealAdapters();
    const error = await activateGrant(ports, testProfiles(), request).catch((e) => e);
    expect(error.code).toBe('ScheduleExpiryFailed');
    const [grant] = [...ports.memory.store.grants.values()];
    expect(iam.commandCalls(DeleteRolePolicyCommand).map((c) => c.args[0].input.PolicyName)).toEqual([
      grant!.policyName,
    ]);
    expect(grant!.status).toBe('FAILED');
  });

  it('sends the schedule Scheduler needs: at() in UTC, delete after completion, retries, dead-letter queue', async () => {
    scheduler.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    const adapter = new SchedulerAdapter({
      groupName: 'g',
      targetArn: 'arn:t',
      roleArn: 'arn:r',
      deadLetterArn: 'arn:dlq',
      awsSdkV3Client: new SchedulerClient({ region: 'us-east-1' }),
    });
    await adapter.schedule('id-1', '2026-11-24T10:30:00Z', 'id-1');
    expect(scheduler.commandCalls(CreateScheduleCommand)[0]!.args[0].input).toMatchObject({
      ScheduleExpression: 'at(2026-11-24T10:30:00)',
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      Target: { DeadLetterConfig: { Arn: 'arn:dlq' }, RetryPolicy: { MaximumRetryAttempts: 185 } },
    });
  });
});

describe('IAM size limits', () => {
  it('counts the other inline policies as IAM does (decoded, whitespace excluded)', async () => {
    iam.on(ListRolePoliciesCommand).resolves({ PolicyNames: ['ops-baseline', 'breakglass-self'] });
    iam
      .on(GetRolePolicyCommand, { PolicyName: 'ops-baseline' })
      .resolves({ PolicyDocument: encodeURIComponent('{ "Version": "2012-10-17",\n  "Statement": [] }') });
    const usage = await new IamPolicyAdapter({
      awsSdkV3Client: new IAMClient({ region: 'us-east-1' }),
    }).inlinePolicyUsage({ type: 'role', name: 'R' }, 'breakglass-self');
    expect(usage).toBe('{"Version":"2012-10-17","Statement":[]}'.length);
  });

  it('refuses with 409 and records FAILED when IAM itself says the limit is exceeded', async () => {
    iam
      .on(PutRolePolicyCommand)
      .rejects(new LimitExceededException({ message: 'Maximum policy size of 10240 bytes exceeded', $metadata: {} }));
    iam.on(DeleteRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'gone', $metadata: {} }));
    const ports = portsWithRealAdapters();
    const error = await activateGrant(ports, testProfiles(), request).catch((e) => e);
    expect(error.statusCode).toBe(409);
    expect(error.code).toBe('PolicySizeLimit');
    expect([...ports.memory.store.grants.values()][0]!.status).toBe('FAILED');
  });
});

describe('adapters are idempotent where the lifecycle needs it', () => {
  it('reports an already-removed policy as absent', async () => {
    iam.on(DeleteRolePolicyCommand).rejects(new NoSuchEntityException({ message: 'gone', $metadata: {} }));
    expect(
      await new IamPolicyAdapter({ awsSdkV3Client: new IAMClient({ region: 'us-east-1' }) }).detach(
        { type: 'role', name: 'R' },
        'p',
      ),
    ).toBe('absent');
  });

  it('reports an already-deleted schedule as absent', async () => {
    scheduler
      .on(DeleteScheduleCommand)
      .rejects(new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} }));
    const adapter = new SchedulerAdapter({
      groupName: 'g',
      targetArn: 'a',
      roleArn: 'r',
      awsSdkV3Client: new SchedulerClient({ region: 'us-east-1' }),
    });
    expect(await adapter.cancel('x')).toBe('absent');
  });

  it('lets other IAM errors through', async () => {
    iam.on(DeleteRolePolicyCommand).rejects(throttled());
    await expect(
      new IamPolicyAdapter({ awsSdkV3Client: new IAMClient({ region: 'us-east-1' }) }).detach(
        { type: 'role', name: 'R' },
        'p',
      ),
    ).rejects.toThrow('Rate exceeded');
  });

  it('records the ledger number of a grant whose first write failed as VOID, so the ledger has no unexplained gap', async () => {
    ddb.on(UpdateCommand).resolves({ Attributes: { last: 7 } });
    ddb.on(TransactWriteCommand).rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    ddb.on(PutCommand).resolves({});
    const store = new DynamoGrantStore({ tableName: 't', awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }) });
    const grant = {
      id: 'g',
      version: 0,
      eventCount: 0,
      principalArn: 'arn:aws:iam::123456789012:user/u',
      profile: 'demo',
    } as Grant;
    await expect(
      store.create(grant, { type: 'REQUESTED', at: '2026-11-24T10:00:00.000Z', actor: 'x', outcome: 'SUCCESS' }),
    ).rejects.toThrow('Rate exceeded');
    const put = ddb.commandCalls(PutCommand)[0]!.args[0].input;
    expect(put.Item).toMatchObject({
      pk: 'LEDGER',
      sk: 'VOID#000000000007',
      sequence: 7,
      grantId: 'g',
      error: 'ThrottlingException: Rate exceeded',
    });
    expect(put.ConditionExpression).toBe('attribute_not_exists(pk)');
  });

  it('turns a transaction conflict (a concurrent write to the same grant) into ConcurrentUpdateError', async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'TransactionConflict' }, { Code: 'None' }],
      }),
    );
    const store = new DynamoGrantStore({ tableName: 't', awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }) });
    const grant = {
      id: 'g',
      version: 3,
      eventCount: 4,
      lastHash: 'a'.repeat(64),
      principalArn: 'arn:aws:iam::123456789012:user/u',
      profile: 'demo',
    } as Grant;
    await expect(
      store.append(grant, { type: 'EXPIRED', at: 'now', actor: 'x', outcome: 'SUCCESS' }, { status: 'EXPIRED' }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
  });

  it('turns a lost optimistic lock into ConcurrentUpdateError', async () => {
    ddb.on(TransactWriteCommand).rejects(
      new TransactionCanceledException({
        message: 'cancelled',
        $metadata: {},
        CancellationReasons: [{ Code: 'ConditionalCheckFailed' }, { Code: 'None' }],
      }),
    );
    const store = new DynamoGrantStore({ tableName: 't', awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }) });
    const grant = {
      id: 'g',
      version: 3,
      eventCount: 4,
      lastHash: 'a'.repeat(64),
      principalArn: 'arn:aws:iam::123456789012:user/u',
      profile: 'demo',
    } as Grant;
    await expect(
      store.append(grant, { type: 'EXPIRED', at: 'now', actor: 'x', outcome: 'SUCCESS' }, { status: 'EXPIRED' }),
    ).rejects.toBeInstanceOf(ConcurrentUpdateError);
    const input = ddb.commandCalls(TransactWriteCommand)[0]!.args[0].input;
    expect(input.TransactItems![0]!.Update!.ConditionExpression).toBe('#version = :expected AND #lastHash = :prevHash');
    expect(input.TransactItems![0]!.Update!.ExpressionAttributeValues![':prevHash']).toBe('a'.repeat(64));
    expect(input.TransactItems![1]!.Put!.Item!.prevHash).toBe('a'.repeat(64));
    expect(input.TransactItems![1]!.Put!.ConditionExpression).toBe('attribute_not_exists(pk)');
    expect(input.TransactItems![1]!.Put!.Item!.sk).toBe('EVENT#000005');
  });
});
