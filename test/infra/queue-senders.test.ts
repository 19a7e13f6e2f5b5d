/**
 * Queues fed by an AWS service take messages from that service only (infra/constructs/queue-senders.ts):
 * the activity queue from the capture rule (EventBridge), the drills inbox from the alert topic (SNS). A
 * Deny of sqs:SendMessage unless `aws:SourceArn` is the feeding resource; the legitimate sender's Allow
 * names the same ARN (so it is not denied); the dead-letter queue has no such Deny (EventBridge's and SQS's
 * dead-lettering are untouched).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ACTIVITY_DLQ_NAME, ACTIVITY_QUEUE_NAME, ACTIVITY_RULE_NAME } from '../../infra/constructs/activity-capture.js';
import { DRILL_QUEUE_NAME } from '../../infra/constructs/drills.js';
import { ONLY_FROM_SOURCES_SID } from '../../infra/constructs/queue-senders.js';
import { app, type Statement as PolicyStatement, render } from './templates.js';

type Statement = PolicyStatement & { Sid?: string; Principal?: unknown };

type Resource = { Type: string; Properties: Record<string, any> };
let stateless: Template;

beforeAll(() => {
  stateless = Template.fromStack(app({}, { bundle: false }).stateless);
});

function queueId(template: Template, name: string): string {
  const found = Object.keys(template.findResources('AWS::SQS::Queue', { Properties: { QueueName: name } }));
  expect(found, name).toHaveLength(1);
  return found[0]!;
}

/** Every statement of every queue policy that names the queue (by logical id). */
function policyOf(template: Template, id: string): Statement[] {
  return (Object.values(template.findResources('AWS::SQS::QueuePolicy')) as Resource[])
    .filter((p) => render(p.Properties.Queues).includes(id))
    .flatMap((p) => p.Properties.PolicyDocument.Statement as Statement[]);
}

function theDeny(statements: Statement[]): Statement {
  const denies = statements.filter((s) => s.Sid === ONLY_FROM_SOURCES_SID);
  expect(denies).toHaveLength(1);
  return denies[0]!;
}

const sources = (deny: Statement): string[] =>
  ((deny.Condition as Record<string, Record<string, unknown[]>>).ArnNotEquals!['aws:SourceArn'] ?? []).map(render);

describe('who may send to the activity queue', () => {
  it('denies sqs:SendMessage to everyone unless aws:SourceArn is the capture rule (or its DLQ, for a redrive)', () => {
    const id = queueId(stateless, ACTIVITY_QUEUE_NAME);
    const deny = theDeny(policyOf(stateless, id));
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:SendMessage' });
    expect(render(deny.Resource)).toBe(`{${id}.Arn}`);
    // Every rule that targets the queue (this account's capture rule, and the spokes' bus's when spokes exist).
    const feeding = Object.entries(stateless.findResources('AWS::Events::Rule'))
      .filter(([, r]) =>
        ((r.Properties.Targets ?? []) as Array<{ Arn: unknown }>).some((t) => render(t.Arn) === `{${id}.Arn}`),
      )
      .map(([ruleId]) => ruleId);
    const [captureRule] = Object.keys(
      stateless.findResources('AWS::Events::Rule', { Properties: { Name: ACTIVITY_RULE_NAME } }),
    );
    expect(feeding).toContain(captureRule);
    expect(sources(deny).sort()).toEqual(
      [`{${queueId(stateless, ACTIVITY_DLQ_NAME)}.Arn}`, ...feeding.map((r) => `{${r}.Arn}`)].sort(),
    );
  });

  it('lets every rule that targets the queue through: its Allow and the Deny name the same rule ARN', () => {
    const id = queueId(stateless, ACTIVITY_QUEUE_NAME);
    const statements = policyOf(stateless, id);
    const allowed = sources(theDeny(statements));
    const targeting = Object.entries(stateless.findResources('AWS::Events::Rule') as Record<string, Resource>)
      .filter(([, r]) => (r.Properties.Targets ?? []).some((t: { Arn: unknown }) => render(t.Arn) === `{${id}.Arn}`))
      .map(([ruleId]) => `{${ruleId}.Arn}`);
    expect(targeting.length).toBeGreaterThan(0);
    for (const rule of targeting) expect(allowed).toContain(rule);
    const eventsAllows = statements.filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal).includes('events.amazonaws.com'),
    );
    expect(eventsAllows.length).toBeGreaterThan(0);
    for (const allow of eventsAllows) {
      const from = render((allow.Condition as Record<string, Record<string, unknown>>).ArnEquals!['aws:SourceArn']);
      expect(allowed).toContain(from);
    }
  });

  it('leaves the dead-letter queue without the Deny: EventBridge and SQS dead-letter into it as before', () => {
    const dlq = queueId(stateless, ACTIVITY_DLQ_NAME);
    expect(policyOf(stateless, dlq).filter((s) => s.Sid === ONLY_FROM_SOURCES_SID)).toEqual([]);
  });
});

describe('who may send to the drills inbox', () => {
  it('denies sqs:SendMessage unless aws:SourceArn is the alert topic, whose subscription Allow names the same topic', () => {
    const id = queueId(stateless, DRILL_QUEUE_NAME);
    const statements = policyOf(stateless, id);
    const deny = theDeny(statements);
    expect(deny).toMatchObject({ Effect: 'Deny', Principal: { AWS: '*' }, Action: 'sqs:SendMessage' });
    expect(render(deny.Resource)).toBe(`{${id}.Arn}`);
    const allowed = sources(deny);
    expect(allowed).toHaveLength(1);
    const snsAllows = statements.filter(
      (s) => s.Effect === 'Allow' && JSON.stringify(s.Principal).includes('sns.amazonaws.com'),
    );
    expect(snsAllows).toHaveLength(1);
    expect(
      render((snsAllows[0]!.Condition as Record<string, Record<string, unknown>>).ArnEquals!['aws:SourceArn']),
    ).toBe(allowed[0]);
    // The subscription is to that topic.
    const subscriptions = Object.values(stateless.findResources('AWS::SNS::Subscription')) as Resource[];
    const toInbox = subscriptions.filter((s) => render(s.Properties.Endpoint) === `{${id}.Arn}`);
    expect(toInbox).toHaveLength(1);
    expect(render(toInbox[0]!.Properties.TopicArn)).toBe(allowed[0]);
  });
});
