/**
 * Hostile review (queue senders, infra/constructs/queue-senders.ts), kept as `it.fails`.
 *
 * The activity queue denies sqs:SendMessage unless `aws:SourceArn` is a capture rule *or the activity
 * dead-letter queue* (an exception left for a redrive back, StartMessageMoveTask), and the dead-letter
 * queue itself carries no Deny at all. The principal the Deny is meant to stop (a hub administrator or a
 * role with sqs:SendMessage on `*`) therefore sends its forged "CloudTrail" call to the dead-letter queue
 * instead, which accepts it, and waits for the documented recovery: an operator redriving the dead letters
 * to their source queue ("If this field is left blank, the messages will be redriven back to their
 * respective original source queues", SQS API Reference, StartMessageMoveTask, DestinationArn). If the
 * move task's sends carry the DLQ's ARN as the code hopes, the forged call passes the queue's Deny and is
 * captured as the holder's; if they do not, the exception serves nothing. Either way the exception is
 * either useless or a laundering path.
 *
 * What AWS documents for the legitimate writer of the DLQ: EventBridge delivers a rule's failed events to
 * its target DLQ as the service with `aws:SourceArn` the rule's ARN (EventBridge User Guide, "Using
 * resource-based policies for Amazon EventBridge", Amazon SQS permissions: `ArnEquals aws:SourceArn
 * arn:aws:events:…:rule/…`; "Event retry policy and using dead-letter queues", granting permissions to
 * the dead-letter queue).
 *
 * Fix described: put the same Deny on the dead-letter queue with the capture rules as its only sources
 * (EventBridge's dead-lettering passes; SQS's own maxReceiveCount move is no SendMessage, as the module
 * already relies on), and drop the DLQ's ARN from the activity queue's sources (a redrive then needs the
 * operator to lift the Deny for its duration, which docs/action-logging.md can say), or keep the DLQ's
 * ARN there only once the DLQ itself is closed to direct sends.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_DLQ_NAME, ACTIVITY_QUEUE_NAME } from '../../infra/constructs/activity-capture.js';
import { ONLY_FROM_SOURCES_SID } from '../../infra/constructs/queue-senders.js';
import { app, type Statement as PolicyStatement, render } from './templates.js';

type Statement = PolicyStatement & { Sid?: string };
type Resource = { Type: string; Properties: Record<string, any> };
let stateless: Template;

beforeAll(() => {
  stateless = Template.fromStack(app({}, { bundle: false }).stateless);
});

const queueId = (name: string) =>
  Object.keys(stateless.findResources('AWS::SQS::Queue', { Properties: { QueueName: name } }))[0]!;
const policyOf = (id: string): Statement[] =>
  (Object.values(stateless.findResources('AWS::SQS::QueuePolicy')) as Resource[])
    .filter((p) => render(p.Properties.Queues).includes(id))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
const sourcesOf = (statements: Statement[]): string[] | undefined => {
  const deny = statements.find((s) => s.Sid === ONLY_FROM_SOURCES_SID);
  return deny
    ? ((deny.Condition as Record<string, Record<string, unknown[]>>).ArnNotEquals!['aws:SourceArn'] ?? []).map(render)
    : undefined;
};

describe('a forged call through the activity dead-letter queue', () => {
  it.fails('cannot reach the activity queue: either the DLQ takes only the capture rules, or a redrive from it is no exception', () => {
    const queue = queueId(ACTIVITY_QUEUE_NAME);
    const dlq = queueId(ACTIVITY_DLQ_NAME);
    expect(queue && dlq).toBeTruthy();
    const queueSources = sourcesOf(policyOf(queue))!;
    const dlqSources = sourcesOf(policyOf(dlq));
    // The DLQ open to direct sends, and its ARN an exception on the queue: a forged message has a way in.
    const dlqClosed = dlqSources !== undefined && !dlqSources.includes(`{${dlq}.Arn}`) && dlqSources.length > 0;
    const redriveIsException = queueSources.includes(`{${dlq}.Arn}`);
    expect(dlqClosed || !redriveIsException).toBe(true);
  });
});
