/** Notifier over one SNS topic: subject + body for e-mail, message attributes for filter policies. */
import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { Alert } from '../domain/alert.js';
import type { Notifier } from '../domain/ports.js';

export class SnsNotifier implements Notifier {
  private readonly sns: SNSClient;

  constructor(private readonly options: { topicArn: string; awsSdkV3Client?: SNSClient; clientConfig?: SNSClientConfig }) {
    this.sns = options.awsSdkV3Client ?? new SNSClient(options.clientConfig ?? {});
  }

  async publish(alert: Alert): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: alert.subject,
        Message: alert.body,
        MessageAttributes: Object.fromEntries(
          Object.entries(alert.attributes).map(([key, value]) => [key, { DataType: 'String', StringValue: value }]),
        ),
      }),
    );
  }
}
