/**
 * The sandbox's stand-in for Lambda's asynchronous invocation, over a mocked SQS client: the invoke
 * is accepted at once; a throwing handler is run again after each configured delay (Lambda: twice,
 * one then two minutes apart, https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-error-handling.html);
 * then the documented invocation record goes to the on-failure queue
 * (https://docs.aws.amazon.com/lambda/latest/dg/invocation-async-retain-records.html).
 */

import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_RETRY_DELAYS_MS,
  destinationRecord,
  FunctionNotFoundError,
  LambdaAsync,
  parseRetryDelays,
} from '../../../sandbox/lambda-async.js';

const FN = 'arn:aws:lambda:us-east-1:123456789012:function:breakglass-expiry-test';
const QUEUE_ARN = 'arn:aws:sqs:us-east-1:123456789012:breakglass-expiry-failures-test';
const QUEUE_URL = 'http://127.0.0.1:5000/123456789012/breakglass-expiry-failures-test';

function setUp(retryDelaysMs = [1, 1]) {
  const sqs = new SQSClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(sqs);
  mock.on(GetQueueUrlCommand).resolves({ QueueUrl: QUEUE_URL });
  mock.on(SendMessageCommand).resolves({ MessageId: 'm1' });
  const log: string[] = [];
  return { mock, log, lambda: new LambdaAsync({ sqs, retryDelaysMs, log: (l) => log.push(l) }) };
}

describe('asynchronous Lambda stand-in', () => {
  it("uses Lambda's documented delays unless told otherwise", () => {
    expect(DEFAULT_RETRY_DELAYS_MS).toEqual([60_000, 120_000]);
    expect(parseRetryDelays(undefined)).toEqual([60_000, 120_000]);
    expect(parseRetryDelays('50, 100')).toEqual([50, 100]);
    expect(parseRetryDelays('none')).toEqual([]);
    for (const bad of ['1,2,3', '-1', 'soon', '1.5'])
      expect(() => parseRetryDelays(bad)).toThrow(/SANDBOX_LAMBDA_RETRY_DELAYS_MS/);
  });

  it('accepts the event at once and runs the handler afterwards', async () => {
    const { lambda } = setUp();
    const ran: unknown[] = [];
    lambda.register(FN, async (event) => void ran.push(event));
    const accepted = lambda.invoke(FN, { grantId: 'g' });
    expect(accepted.statusCode).toBe(202);
    expect(ran).toEqual([]); // not yet: invoking does not wait for the handler
    await lambda.idle();
    expect(ran).toEqual([{ grantId: 'g' }]);
  });

  it("refuses an unknown function at invoke time (the failure Scheduler's retry policy covers)", () => {
    const { lambda } = setUp();
    expect(() => lambda.invoke(FN, {})).toThrow(FunctionNotFoundError);
  });

  it('retries a throwing handler, and sends nothing when a retry succeeds', async () => {
    const { lambda, mock } = setUp();
    let calls = 0;
    lambda.register(
      FN,
      async () => {
        if (++calls < 3) throw new Error('transient');
      },
      { onFailureArn: QUEUE_ARN },
    );
    lambda.invoke(FN, { grantId: 'g' });
    await lambda.idle();
    expect(calls).toBe(3);
    expect(mock.commandCalls(SendMessageCommand)).toHaveLength(0);
  });

  it('sends the invocation record to the on-failure queue after the last retry', async () => {
    // Prepare
    const { lambda, mock, log } = setUp([1]);
    const ids: string[] = [];
    class AccessDenied extends Error {
      override name = 'AccessDenied';
    }
    lambda.register(
      FN,
      async (_event, context) => {
        ids.push(context.awsRequestId);
        throw new AccessDenied('not authorized to perform: iam:DeleteRolePolicy');
      },
      { onFailureArn: QUEUE_ARN },
    );

    // Act
    const { requestId } = lambda.invoke(FN, { grantId: 'g' });
    await lambda.idle();

    // Assess: one retry configured → two attempts, same request id; the record names them
    expect(ids).toEqual([requestId, requestId]);
    expect(mock.commandCalls(GetQueueUrlCommand)[0]!.args[0].input).toEqual({
      QueueName: 'breakglass-expiry-failures-test',
      QueueOwnerAWSAccountId: '123456789012',
    });
    const sent = mock.commandCalls(SendMessageCommand);
    expect(sent).toHaveLength(1);
    expect(sent[0]!.args[0].input.QueueUrl).toBe(QUEUE_URL);
    expect(JSON.parse(sent[0]!.args[0].input.MessageBody!)).toMatchObject({
      version: '1.0',
      requestContext: {
        requestId,
        functionArn: `${FN}:$LATEST`,
        condition: 'RetriesExhausted',
        approximateInvokeCount: 2,
      },
      requestPayload: { grantId: 'g' },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      responsePayload: { errorMessage: 'not authorized to perform: iam:DeleteRolePolicy', errorType: 'AccessDenied' },
    });
    expect(log.at(-1)).toBe(`[lambda] breakglass-expiry-test ${requestId} invocation record sent to ${QUEUE_ARN}`);
  });

  it('logs a destination it cannot reach instead of throwing (Lambda counts DestinationDeliveryFailures)', async () => {
    const { lambda, mock, log } = setUp([]);
    mock
      .on(SendMessageCommand)
      .rejects(Object.assign(new Error('The specified queue does not exist.'), { name: 'QueueDoesNotExist' }));
    lambda.register(
      FN,
      async () => {
        throw new Error('boom');
      },
      { onFailureArn: QUEUE_ARN },
    );
    lambda.invoke(FN, {});
    await lambda.idle();
    expect(log.at(-1)).toMatch(
      /^\[lambda\] DestinationDeliveryFailures: breakglass-expiry-test .* could not reach .*QueueDoesNotExist/,
    );
  });

  it('builds the record from a non-Error throw too', () => {
    const record = destinationRecord(
      FN,
      'r1',
      3,
      { grantId: 'g' },
      'plain string',
      new Date('2026-11-24T03:44:27.000Z'),
    );
    expect(record).toMatchObject({
      timestamp: '2026-11-24T03:44:27.000Z',
      responsePayload: { errorMessage: 'plain string', errorType: 'Error' },
    });
  });
});
