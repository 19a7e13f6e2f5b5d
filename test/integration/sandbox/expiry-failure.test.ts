/**
 * A permanently failing expiry, through the sandbox's model of the real path: the schedule runner
 * (Scheduler) invokes the expiry function asynchronously, Lambda accepts the event (the schedule is
 * done and deleted), the handler throws on every attempt (the expiry role was denied
 * iam:DeleteRolePolicy), Lambda retries it twice and then sends its invocation record to the
 * on-failure SQS queue in moto, in Lambda's documented format
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html). The queue now
 * holds a message, which is what the stack's alarm watches. The sweeper then detaches the policy and
 * records the expiry.
 */

import { DeleteRolePolicyCommand, IAMClient, IAMServiceException } from '@aws-sdk/client-iam';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, ReceiveMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { type AwsStub, mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import type { Ports } from '../../../functions/domain/ports.js';
import { type DestinationRecord, LambdaAsync } from '../../../sandbox/lambda-async.js';
import { type FiredSchedule, ScheduleRunner } from '../../../sandbox/schedule-runner.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import {
  inlinePolicies,
  publishedMessages,
  schedules,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

let world: TestWorld;
let sqs: SQSClient;
let iamMock: AwsStub<any, any, any> | undefined;
const DENIED =
  'User: arn:aws:sts::123456789012:assumed-role/breakglass-expiry/fn is not authorized to perform: iam:DeleteRolePolicy';

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  sqs = new SQSClient(emulatorConfig(world.endpoint));
});
afterAll(() => iamMock?.restore());

describe('a permanently failing expiry (sandbox model of Scheduler → async Lambda → on-failure destination)', () => {
  it("ends in the on-failure queue after Lambda's retries, and the sweeper still closes the grant", {
    timeout: 120_000,
  }, async () => {
    // Prepare: a grant that expired 70 s ago (past the sweeper's 60 s grace), activated by the real
    // use case with a clock set back, so its policy, schedule and records are real.
    const wiring = await import('../../../functions/handlers/wiring.js');
    const expiry = (await import('../../../functions/handlers/expire-grant.js')).handler;
    const sweep = (await import('../../../functions/handlers/sweep.js')).createSweepHandler;
    const { activateGrant } = await import('../../../functions/domain/activate-grant.js');
    const identity = await sessionOf(world, world.responderRole, 'late');
    const past: Ports = { ...wiring.allPorts(), clock: { now: () => new Date(Date.now() - 130_000) } };
    const { grant } = await activateGrant(past, wiring.profiles(), {
      caller: { arn: identity.userArn, userId: identity.caller },
      body: { profile: 'demo', reason: 'expiry failure test: orders API down', durationMinutes: 1 },
    });
    expect(Date.parse(grant.expiresAt)).toBeLessThan(Date.now() - 60_000);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).toContain(grant.policyName);

    // The expiry function's role is denied iam:DeleteRolePolicy: every attempt fails the same way.
    iamMock = mockClient(IAMClient);
    iamMock.on(DeleteRolePolicyCommand).rejects(
      new IAMServiceException({
        name: 'AccessDenied',
        $fault: 'client',
        $metadata: { httpStatusCode: 403 },
        message: DENIED,
      }),
    );
    const log: string[] = [];
    const attempts: string[] = [];
    const lambda = new LambdaAsync({ sqs, retryDelaysMs: [50, 100], log: (line) => log.push(line) });
    lambda.register(
      world.expiryFunctionArn,
      async (event, context) => {
        attempts.push(context.awsRequestId);
        return expiry(event as { grantId: string }, context as never);
      },
      { onFailureArn: world.expiryFailureQueueArn },
    );
    const fired: FiredSchedule[] = [];
    const runner = new ScheduleRunner({
      client: new SchedulerClient(emulatorConfig(world.endpoint)),
      groupName: world.scheduleGroup,
      deliver: (arn, input) => lambda.invoke(arn, input),
      onFired: (f) => fired.push(f),
    });

    // Act: one pass of Scheduler fires the due schedule; Lambda runs its attempts
    await runner.tick();
    await lambda.idle();

    // Assess 1: Scheduler saw a successful invoke (one delivery, no Scheduler retry) and deleted the schedule
    expect(fired.filter((f) => f.name === grant.scheduleName).map((f) => [f.ok, f.attempt])).toEqual([[true, 1]]);
    expect((await schedules(world)).map((s) => s.Name)).not.toContain(grant.scheduleName);
    // Lambda ran the handler three times (the first attempt and two retries) for one request id
    expect(attempts).toHaveLength(3);
    expect(new Set(attempts).size).toBe(1);
    expect(log.filter((l) => l.includes('failed: AccessDenied'))).toHaveLength(3);

    // Assess 2: one invocation record in the on-failure queue, in Lambda's format
    const { Attributes } = await sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: world.expiryFailureQueueUrl,
        AttributeNames: ['ApproximateNumberOfMessages'],
      }),
    );
    // The alarm's condition: a message is waiting (ApproximateNumberOfMessagesVisible > 0; NumberOfMessagesSent > 0 in CloudWatch).
    expect(Attributes?.ApproximateNumberOfMessages).toBe('1');
    const { Messages } = await sqs.send(
      new ReceiveMessageCommand({ QueueUrl: world.expiryFailureQueueUrl, MaxNumberOfMessages: 10 }),
    );
    expect(Messages).toHaveLength(1);
    const record = JSON.parse(Messages![0]!.Body!) as DestinationRecord;
    expect(record).toEqual({
      version: '1.0',
      timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      requestContext: {
        requestId: attempts[0],
        functionArn: `${world.expiryFunctionArn}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 3,
      },
      requestPayload: { grantId: grant.id },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: DENIED, errorType: 'AccessDenied', stackTrace: expect.any(Array) },
    });

    // The grant is still ACTIVE; each attempt recorded and announced its failure; the policy is still attached.
    iamMock.restore();
    iamMock = undefined;
    const before = await tableItems(world, grant.id);
    expect(before.find((i) => i.sk === 'GRANT')?.status).toBe('ACTIVE');
    expect(before.filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'EXPIRY_FAILED',
      'EXPIRY_FAILED',
      'EXPIRY_FAILED',
    ]);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).toContain(grant.policyName);

    // Act 2: the sweeper's next run (IAM works for it)
    const report = await sweep(wiring.allPorts(), [{ type: 'role', name: world.responderRole }], {
      writeMetrics: () => {},
    })();

    // Assess 3: the sweeper expired the grant: policy gone, EXPIRED recorded by the sweeper and announced
    expect(report.expired).toEqual([grant.id]);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).not.toContain(grant.policyName);
    const after = await tableItems(world, grant.id);
    expect(after.find((i) => i.sk === 'GRANT')?.status).toBe('EXPIRED');
    expect(after.filter((i) => i.sk.startsWith('EVENT#')).at(-1)).toMatchObject({
      type: 'EXPIRED',
      actor: 'system:sweeper',
    });
    const alerts = (await publishedMessages(world))
      .filter((a) => a.attributes.grantId === grant.id)
      .map((a) => a.attributes.eventType);
    expect(alerts).toEqual(['ACTIVATED', 'EXPIRY_FAILED', 'EXPIRY_FAILED', 'EXPIRY_FAILED', 'EXPIRED']);
    await runner.stop();
    await lambda.stop();
  });
});
