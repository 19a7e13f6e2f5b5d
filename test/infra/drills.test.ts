/**
 * The drills construct on its own (infra/constructs/drills.ts): the drill queue takes drills' alerts only,
 * the drill target exists under the drill profile's name, the schedule runs an expiring drill monthly by
 * default (deploy context `drillSchedule`), and the runner may consume the drill queue and nothing more
 * of it. Not yet composed into BreakGlassService: see docs/drills.md.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { describe, expect, it } from 'vitest';
import { parseProfiles } from '../../functions/domain/profile.js';
import { BreakGlassFunction } from '../../infra/constructs/breakglass-function.js';
import { BreakGlassDrills, DEFAULT_DRILL_SCHEDULE, DRILL_QUEUE_NAME } from '../../infra/constructs/drills.js';

const profiles = parseProfiles({
  version: 1,
  profiles: [
    {
      name: 'drill',
      description: 'drill',
      owner: 'security@example.com',
      maxDurationMinutes: 15,
      drill: true,
      statements: [
        {
          actions: ['sqs:GetQueueAttributes'],
          resources: ['arn:aws:sqs:eu-west-1:123456789012:breakglass-drill-target'],
        },
      ],
    },
  ],
});

function build(context: Record<string, unknown> = {}) {
  const app = new App({ context: { 'aws:cdk:bundling-stacks': [], ...context } });
  const stack = new Stack(app, 'S', { env: { account: '123456789012', region: 'eu-west-1' } });
  const topic = new Topic(stack, 'Alerts');
  const drills = new BreakGlassDrills(stack, 'Drills', { topic, profiles });
  const runner = new BreakGlassFunction(stack, 'RunDrill', {
    handlerFile: 'run-drill',
    description: 'drill',
    profiles: {},
  });
  drills.addRunner(runner);
  return Template.fromStack(stack);
}

describe('drills construct', () => {
  it('subscribes the drill queue to the topic with the filter {"drill": ["true"]} and creates the drill target', () => {
    const t = build();
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: DRILL_QUEUE_NAME, SqsManagedSseEnabled: true });
    t.hasResourceProperties('AWS::SQS::Queue', { QueueName: 'breakglass-drill-target' });
    t.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'sqs',
      FilterPolicy: { drill: ['true'] },
    });
  });

  it('runs an expiring drill monthly by default, and on the deploy context drillSchedule when given', () => {
    build().hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: DEFAULT_DRILL_SCHEDULE,
      Targets: [Match.objectLike({ Input: JSON.stringify({ source: 'breakglass.drill-schedule', mode: 'expire' }) })],
    });
    build({ drillSchedule: 'rate(7 days)' }).hasResourceProperties('AWS::Events::Rule', {
      ScheduleExpression: 'rate(7 days)',
    });
    expect(build({ drillSchedule: 'off' }).findResources('AWS::Events::Rule')).toEqual({});
  });

  it('lets the runner receive and delete on the drill queue only, and hands it the queue URL', () => {
    const t = build();
    t.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({
            Action: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
            Resource: { 'Fn::GetAtt': [Match.stringLikeRegexp('^DrillsInbox'), 'Arn'] },
          }),
        ]),
      },
    });
    t.hasResourceProperties('AWS::Lambda::Function', {
      Environment: {
        Variables: Match.objectLike({ DRILL_QUEUE_URL: { Ref: Match.stringLikeRegexp('^DrillsInbox') } }),
      },
    });
  });
});
