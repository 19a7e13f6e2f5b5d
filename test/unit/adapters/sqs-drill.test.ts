/**
 * The drill's AWS probe judges nothing itself: IAM's refusal (SQS `AccessDeniedException`, or
 * `AccessDenied` in the older protocol: SQS API Reference, Common Errors) is "denied", success is
 * "allowed", and any other failure fails the step instead of passing for a denial.
 */
import { GetQueueAttributesCommand, ListQueueTagsCommand, SQSClient } from '@aws-sdk/client-sqs';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { queueUrlOf, SqsDrillProbe } from '../../../functions/adapters/sqs-drill.adapter.js';

const call = (action: string) => ({
  credentials: { accessKeyId: 'ASIA', secretAccessKey: 'S', sessionToken: 'T', expiration: '2026-01-01T00:00:00Z' },
  roleArn: 'arn:aws:iam::123456789012:role/breakglass/profile/breakglass-drill-0',
  sessionName: 'bg-1',
  action,
  resource: 'arn:aws:sqs:eu-west-1:123456789012:breakglass-drill-target',
});
const error = (name: string) => Object.assign(new Error(name), { name });

describe('SqsDrillProbe', () => {
  it('answers allowed on success, denied on AccessDeniedException and AccessDenied, with the session credentials', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(GetQueueAttributesCommand).resolves({ Attributes: {} });
    sqs.on(ListQueueTagsCommand).rejectsOnce(error('AccessDeniedException')).rejectsOnce(error('AccessDenied'));
    const configs: unknown[] = [];
    const probe = new SqsDrillProbe({}, (config) => {
      configs.push(config);
      return new SQSClient(config);
    });
    expect(await probe.call(call('sqs:GetQueueAttributes'))).toEqual({ allowed: true, detail: 'OK' });
    expect(await probe.call(call('sqs:ListQueueTags'))).toEqual({ allowed: false, detail: 'AccessDeniedException' });
    expect(await probe.call(call('sqs:ListQueueTags'))).toEqual({ allowed: false, detail: 'AccessDenied' });
    expect(configs[0]).toMatchObject({ credentials: { accessKeyId: 'ASIA', sessionToken: 'T' }, maxAttempts: 1 });
    expect(sqs.commandCalls(GetQueueAttributesCommand)[0]!.args[0].input.QueueUrl).toBe(
      'https://sqs.eu-west-1.amazonaws.com/123456789012/breakglass-drill-target',
    );
    sqs.restore();
  });

  it('fails (throws) on anything but a refusal, so a throttled or missing queue never passes as denied', async () => {
    const sqs = mockClient(SQSClient);
    sqs.on(ListQueueTagsCommand).rejects(error('QueueDoesNotExist'));
    await expect(new SqsDrillProbe().call(call('sqs:ListQueueTags'))).rejects.toThrowError('QueueDoesNotExist');
    await expect(new SqsDrillProbe().call(call('s3:GetObject'))).rejects.toThrowError(/cannot make s3:GetObject/);
    sqs.restore();
  });

  it('builds the queue URL from the ARN, per partition', () => {
    expect(queueUrlOf('arn:aws-cn:sqs:cn-north-1:123456789012:q')).toBe(
      'https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q',
    );
  });
});
