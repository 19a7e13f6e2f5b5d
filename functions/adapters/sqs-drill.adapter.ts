/**
 * The drill's SQS side: the inbox (the drill queue subscribed to the alert topic, filtered to
 * `drill = "true"`) and the probe that makes the drill profile's calls with the drill's credentials,
 * judged by IAM itself (`AWS IAM`).
 */
import type { SQSClient, SQSClientConfig } from '@aws-sdk/client-sqs';
import type { DrillInbox, DrillProbe, ProbeCall, ProbeVerdict, ReceivedAlert } from '../domain/drill.js';
import { clientDefaults } from './client-defaults.js';

/** The SQS client and commands, loaded on first use (`sqs-client.ts`). */
const sqsModule = () => import('./sqs-client.js');

/** `https://sqs.<region>.<domain>/<account>/<name>` from `arn:<partition>:sqs:<region>:<account>:<name>`. */
export function queueUrlOf(arn: string): string {
  const [, partition, , region, account, name] = arn.split(':');
  const domain = partition === 'aws-cn' ? 'amazonaws.com.cn' : 'amazonaws.com';
  return `https://sqs.${region}.${domain}/${account}/${name}`;
}

/** An alert as SNS delivers it to SQS (raw delivery off): the envelope, whose `Message` is our machine JSON. */
function parseAlert(body: string | undefined, sentTimestamp: string | undefined): ReceivedAlert | undefined {
  try {
    const envelope = JSON.parse(body ?? '') as { Message?: string };
    const machine = JSON.parse(envelope.Message ?? '') as { eventType?: string; at?: string; grant?: { id?: string } };
    if (!machine.eventType || !machine.grant?.id) return undefined;
    return {
      eventType: machine.eventType,
      grantId: machine.grant.id,
      ...(machine.at ? { at: machine.at } : {}),
      receivedAt: new Date(Number(sentTimestamp) || Date.now()).toISOString(),
    };
  } catch {
    return undefined;
  }
}

export class SqsDrillInbox implements DrillInbox {
  private client?: Promise<SQSClient>;

  constructor(
    private readonly options: { queueUrl: string; awsSdkV3Client?: SQSClient; clientConfig?: SQSClientConfig },
  ) {}

  private sqs(): Promise<SQSClient> {
    this.client ??= this.options.awsSdkV3Client
      ? Promise.resolve(this.options.awsSdkV3Client)
      : sqsModule().then(({ SQSClient }) => new SQSClient({ ...clientDefaults(), ...this.options.clientConfig }));
    return this.client;
  }

  async collect(grantId: string, eventTypes: readonly string[], waitMs: number): Promise<ReceivedAlert[]> {
    const [sqs, { DeleteMessageBatchCommand, ReceiveMessageCommand }] = await Promise.all([this.sqs(), sqsModule()]);
    const deadline = Date.now() + waitMs;
    const found: ReceivedAlert[] = [];
    while (!eventTypes.every((t) => found.some((f) => f.eventType === t)) && Date.now() < deadline) {
      const { Messages } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.options.queueUrl,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: Math.max(0, Math.min(5, Math.floor((deadline - Date.now()) / 1000))),
          // Another drill's messages come back to it soon.
          VisibilityTimeout: 2,
          MessageSystemAttributeNames: ['SentTimestamp'],
        }),
      );
      const mine = (Messages ?? [])
        .map((m) => ({ m, alert: parseAlert(m.Body, m.Attributes?.SentTimestamp) }))
        .filter((x) => x.alert?.grantId === grantId);
      found.push(...mine.map((x) => x.alert!));
      if (mine.length)
        await sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.options.queueUrl,
            Entries: mine.map((x, i) => ({ Id: String(i), ReceiptHandle: x.m.ReceiptHandle! })),
          }),
        );
    }
    return found;
  }
}

/**
 * The drill's calls, made for real with its credentials: IAM judges them. Implements every action of
 * `DRILL_ACTIONS` (profile.ts), granted and outside.
 */
export class SqsDrillProbe implements DrillProbe {
  readonly judgedBy = 'AWS IAM';

  constructor(
    private readonly clientConfig: SQSClientConfig = {},
    /** Builds the client for one set of credentials (tests pass a mocked one). */
    private readonly clientFor: (config: SQSClientConfig) => SQSClient | Promise<SQSClient> = async (config) =>
      new (await sqsModule()).SQSClient(config),
  ) {}

  async call(call: ProbeCall): Promise<ProbeVerdict> {
    const { GetQueueAttributesCommand, ListQueueTagsCommand } = await sqsModule();
    const sqs = await this.clientFor({
      ...clientDefaults(),
      ...this.clientConfig,
      credentials: {
        accessKeyId: call.credentials.accessKeyId,
        secretAccessKey: call.credentials.secretAccessKey,
        sessionToken: call.credentials.sessionToken,
      },
      maxAttempts: 1,
    });
    const QueueUrl = queueUrlOf(call.resource);
    try {
      if (call.action === 'sqs:GetQueueAttributes')
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }));
      else if (call.action === 'sqs:ListQueueTags') await sqs.send(new ListQueueTagsCommand({ QueueUrl }));
      else throw new Error(`The drill probe cannot make ${call.action}`);
      return { allowed: true, detail: 'OK' };
    } catch (error) {
      const name = (error as { name?: string }).name ?? '';
      // Only an authorization refusal is "denied"; anything else is a failure of the step. SQS names it
      // `AccessDeniedException` ("You do not have sufficient access to perform this action", HTTP 400:
      // SQS API Reference, Common Errors) or, in its older query protocol, `AccessDenied` (AWS re:Post,
      // "How do I troubleshoot AccessDenied or AccessDeniedException errors on Amazon SQS API calls?").
      // Expired or unknown session credentials are refusals too.
      if (/AccessDenied|AuthorizationError|NotAuthorized|InvalidClientTokenId|ExpiredToken/i.test(name))
        return { allowed: false, detail: name };
      throw error;
    } finally {
      sqs.destroy();
    }
  }
}
