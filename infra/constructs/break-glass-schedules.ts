/**
 * Time in the stateless half: the schedule group for the per-grant expiry schedules and the role
 * EventBridge Scheduler uses to invoke the expiry function, the functions' right to manage those
 * schedules, and the rules that run the sweeper and the daily jobs.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Schedule as EventSchedule, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.js';
import { RESOURCE_PREFIX, SCHEDULER_ROLE_PATH } from '../protected-resources.js';
import type { BreakGlassFunction } from './breakglass-function.js';
import { hideFromLogicalIds } from './logical-ids.js';

/** The schedule group's name when none is given. */
export const DEFAULT_SCHEDULE_GROUP = 'breakglass';

export interface BreakGlassSchedulesProps {
  /** The function the per-grant schedules invoke. */
  readonly expireGrant: BreakGlassFunction;
  /** Scheduler's dead-letter queue for invocations it could not hand to Lambda. */
  readonly expiryDeadLetterQueue: IQueue;
  /** Functions that create, update, read or delete schedules, with the Scheduler actions each needs. */
  readonly scheduleManagers: ReadonlyArray<readonly [BreakGlassFunction, readonly string[]]>;
  /** The sweeper, run every five minutes. */
  readonly sweeper: BreakGlassFunction;
  /** The daily export (02:00 UTC). */
  readonly exportTable: BreakGlassFunction;
  /** The daily overdue-review check (08:00 UTC). */
  readonly checkReviews: BreakGlassFunction;
  /** @default 'breakglass' */
  readonly scheduleGroupName?: string;
}

export class BreakGlassSchedules extends Construct {
  readonly groupName: string;
  readonly group: CfnScheduleGroup;
  readonly schedulerRole: Role;

  constructor(scope: Construct, id: string, props: BreakGlassSchedulesProps) {
    super(scope, id);
    // Split out of BreakGlassService: its resources keep the logical IDs (and fixed names) they had there.
    hideFromLogicalIds(this);
    const stack = Stack.of(this);
    const groupName = props.scheduleGroupName ?? DEFAULT_SCHEDULE_GROUP;
    this.groupName = groupName;

    // Scheduler: a dedicated group, and a role that may only invoke the expiry function.
    this.group = new CfnScheduleGroup(this, 'ScheduleGroup', { name: groupName });
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      // Under /breakglass/: covered by PROTECTED_RESOURCES' role/breakglass/* pattern.
      path: SCHEDULER_ROLE_PATH,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the break-glass expiry function, dead-letter failures',
    });
    this.schedulerRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [props.expireGrant.fn.functionArn] }),
    );
    props.expiryDeadLetterQueue.grantSendMessages(this.schedulerRole);
    const scheduleArns = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${groupName}/*`,
    });
    for (const [f, actions] of props.scheduleManagers) {
      f.addEnvironment(ENV.scheduleGroup, groupName)
        .addEnvironment(ENV.expiryFunctionArn, props.expireGrant.fn.functionArn)
        .addEnvironment(ENV.schedulerRoleArn, this.schedulerRole.roleArn)
        .addEnvironment(ENV.expiryDlqArn, props.expiryDeadLetterQueue.queueArn);
      f.fn.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [scheduleArns] }));
      // Creating or updating a schedule passes Scheduler its role.
      if (actions.some((a) => a === 'scheduler:CreateSchedule' || a === 'scheduler:UpdateSchedule')) {
        f.fn.addToRolePolicy(
          new PolicyStatement({
            actions: ['iam:PassRole'],
            resources: [this.schedulerRole.roleArn],
            conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
          }),
        );
      }
      if (actions.includes('scheduler:CreateSchedule')) f.fn.node.addDependency(this.group);
      NagSuppressions.addResourceSuppressions(
        f.fn.role!,
        [
          {
            id: 'AwsSolutions-IAM5',
            reason:
              'Schedules are named by grant id at activation time; the permission is limited to the dedicated break-glass schedule group.',
            appliesTo: [{ regex: `/^Resource::arn:<AWS::Partition>:scheduler:.+:schedule\\/${groupName}\\/\\*$/` }],
          },
        ],
        true,
      );
    }

    // The sweeper runs every five minutes; the export daily before the working day, the review check at its start (UTC).
    // The rule's retries cover only EventBridge failing to hand the event to Lambda; with one sweep
    // at a time, a retry older than four minutes would only collide with the next sweep.
    new Rule(this, 'SweepSchedule', {
      ruleName: `${RESOURCE_PREFIX}-sweep`,
      schedule: EventSchedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(props.sweeper.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
      description: 'break-glass: reconcile IAM with the grants table',
    });
    new Rule(this, 'ExportSchedule', {
      ruleName: `${RESOURCE_PREFIX}-export`,
      schedule: EventSchedule.cron({ minute: '0', hour: '2' }),
      targets: [new LambdaFunction(props.exportTable.fn, { retryAttempts: 2 })],
      description: 'break-glass: daily export of the grants table for auditors',
    });
    new Rule(this, 'ReviewCheckSchedule', {
      ruleName: `${RESOURCE_PREFIX}-review-check`,
      schedule: EventSchedule.cron({ minute: '0', hour: '8' }),
      targets: [new LambdaFunction(props.checkReviews.fn, { retryAttempts: 2 })],
      description: 'break-glass: daily reminder of overdue post-incident reviews',
    });
  }
}
