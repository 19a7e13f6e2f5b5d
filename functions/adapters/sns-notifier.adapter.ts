/** Notifier over one SNS topic: subject + body for e-mail, message attributes for filter policies. */

import { PublishCommand, SNSClient, type SNSClientConfig } from '@aws-sdk/client-sns';
import type { Alert } from '../domain/alert.js';
import type { Notifier } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

export class SnsNotifier implements Notifier {
  private readonly sns: SNSClient;

  constructor(
    private readonly options: { topicArn: string; awsSdkV3Client?: SNSClient; clientConfig?: SNSClientConfig },
  ) {
    this.sns = options.awsSdkV3Client ?? new SNSClient({ ...clientDefaults(), ...options.clientConfig });
  }

  async publish(alert: Alert): Promise<void> {
    await this.sns.send(
      new PublishCommand({
        TopicArn: this.options.topicArn,
        Subject: alert.subject,
        // One message, a form per protocol: text for e-mail/SMS, Chatbot JSON for chat (HTTPS), structured JSON for machines.
        MessageStructure: 'json',
        Message: JSON.stringify({
          default: alert.body,
          email: alert.body,
          ...(alert.chat ? { https: JSON.stringify(alert.chat) } : {}),
          ...(alert.machine
            ? {
                sqs: JSON.stringify(alert.machine),
                lambda: JSON.stringify(alert.machine),
                'email-json': JSON.stringify(alert.machine),
              }
            : {}),
        }),
        MessageAttributes: Object.fromEntries(
          Object.entries(alert.attributes)
            .filter(([, value]) => value !== undefined && value !== '' && !(Array.isArray(value) && value.length === 0))
            // A list goes as String.Array (a JSON array), which filter policies match element by element.
            .map(([key, value]) => [
              key,
              Array.isArray(value)
                ? { DataType: 'String.Array', StringValue: JSON.stringify(value) }
                : { DataType: 'String', StringValue: String(value) },
            ]),
        ),
      }),
    );
  }
}
