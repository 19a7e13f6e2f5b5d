/**
 * Drills (`functions/domain/drill.ts`, docs/drills.md): the drill queue subscribed to the alert topic
 * (drills' alerts only), the queue the drill profile reads, the drill functions (`POST /drills`,
 * `GET /drills`) and the schedule that runs a drill by itself.
 *
 * Built in two steps so that the service can protect the drill queue before its functions exist:
 * the constructor makes the queues (the drill queue joins `PROTECTED_RESOURCES`; the target queue must
 * not, or no grant could read it), `addRunner` wires the runner once the service's shared
 * permissions are known.
 *
 * NOT YET COMPOSED into `BreakGlassService` (docs/drills.md, "Deploying"): the stack does not create the
 * drill functions, the `/drills` route, the drill roles' trust of the runner, nor add the drill queue to
 * `PROTECTED_RESOURCES`. Tested on its own (test/infra/drills.test.ts).
 */

import { Duration } from 'aws-cdk-lib';
import { Schedule as EventSchedule, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.js';
import { drillProfile } from '../../functions/domain/drill.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { RESOURCE_PREFIX } from '../protected-resources.js';
import type { BreakGlassFunction } from './breakglass-function.js';

/** The drill schedule by default: monthly, the 1st at 09:00 UTC (deploy context `drillSchedule`, an EventBridge expression). */
export const DEFAULT_DRILL_SCHEDULE = 'cron(0 9 1 * ? *)';
/** The drill queue's name: protected, read by the drill function only. */
export const DRILL_QUEUE_NAME = `${RESOURCE_PREFIX}-drill-inbox`;
/** The drill function's timeout: an expiring drill waits out its one-minute grant and the expiry lag. */
export const DRILL_FUNCTION_TIMEOUT = Duration.minutes(5);

export interface BreakGlassDrillsProps {
  readonly topic: ITopic;
  readonly profiles: ProfileSet;
  /**
   * An EventBridge schedule expression, or `off`.
   * @default the deploy context `drillSchedule`, else {@link DEFAULT_DRILL_SCHEDULE}
   */
  readonly schedule?: string;
}

export class BreakGlassDrills extends Construct {
  /** Drills' alerts (`drill = "true"`), read back by the drill. */
  readonly inbox: Queue;
  /** The queue the drill profile reads, when its resource is a queue of this account and region. */
  readonly target?: Queue;
  readonly schedule: string;

  constructor(scope: Construct, id: string, props: BreakGlassDrillsProps) {
    super(scope, id);
    this.schedule = props.schedule ?? this.node.tryGetContext('drillSchedule') ?? DEFAULT_DRILL_SCHEDULE;
    this.inbox = new Queue(this, 'Inbox', {
      queueName: DRILL_QUEUE_NAME,
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // A drill reads its alerts within minutes; what a failed drill leaves behind goes soon.
      retentionPeriod: Duration.hours(1),
    });
    props.topic.addSubscription(
      new SqsSubscription(this.inbox, {
        filterPolicy: { drill: SubscriptionFilter.stringFilter({ allowlist: ['true'] }) },
      }),
    );
    const resource = drillProfile(props.profiles)?.statements[0]?.resources[0];
    const name = resource ? /^arn:[^:]+:sqs:[^:]+:[^:]+:([\w-]+)$/.exec(resource)?.[1] : undefined;
    if (name) {
      this.target = new Queue(this, 'Target', {
        queueName: name,
        encryption: QueueEncryption.SQS_MANAGED,
        enforceSSL: true,
      });
    }
    for (const q of [this.inbox, this.target].filter((q) => q !== undefined)) {
      NagSuppressions.addResourceSuppressions(q, [
        {
          id: 'AwsSolutions-SQS3',
          reason:
            'The drill queues hold drills alerts (read back within minutes) or nothing at all (the drill target): a dead-letter queue would hold nothing worth keeping.',
        },
      ]);
    }
  }

  /**
   * Wires the drill functions: the runner reads the drill queue and is invoked by the schedule;
   * `DRILL_QUEUE_URL` and the right to consume the queue go together.
   */
  addRunner(runner: BreakGlassFunction): void {
    runner.addEnvironment(ENV.drillQueueUrl, this.inbox.queueUrl);
    runner.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['sqs:ReceiveMessage', 'sqs:DeleteMessage'],
        resources: [this.inbox.queueArn],
      }),
    );
    if (this.schedule !== 'off') {
      new Rule(this, 'Schedule', {
        ruleName: `${RESOURCE_PREFIX}-drill`,
        schedule: EventSchedule.expression(this.schedule),
        targets: [
          new LambdaFunction(runner.fn, {
            retryAttempts: 0,
            event: RuleTargetInput.fromObject({ source: 'breakglass.drill-schedule', mode: 'expire' }),
          }),
        ],
        description: 'break-glass: scheduled drill (let a one-minute drill grant expire)',
      });
    }
  }
}
