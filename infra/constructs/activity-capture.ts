/**
 * Action logging in the cloud (docs/action-logging.md): CloudTrail's API calls made by break-glass
 * sessions → an EventBridge rule → an SQS queue (with a dead-letter queue) → the capture function,
 * which appends each call to its grant; and `GET /grants/{id}/activity`, which reads them.
 *
 * - **The rule's state** is `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`: a plain `ENABLED` rule
 *   "matches events against the rule, except for read-only AWS management events delivered through
 *   CloudTrail" (EventBridge User Guide, "Receiving read-only management events from AWS services";
 *   EventBridge API reference, `Rule.State`). A responder's `Describe*`/`Get*`/`List*` calls would
 *   be missing without it. CDK's `Rule` has only `enabled`, so the state is set on the `CfnRule`.
 * - **Prerequisite**: EventBridge receives `AWS API Call via CloudTrail` only in accounts and regions
 *   where a CloudTrail trail logs management events (the docs say how to check).
 * - **What the rule matches**: events of an AWS service (`source` prefix `aws.`, which `PutEvents`
 *   refuses to anyone else: a forged "CloudTrail" event with any other source never matches), and of
 *   those only break-glass sessions. Profile-role sessions by their issuer, the
 *   role under `/breakglass/profile/` (`userIdentity.sessionContext.sessionIssuer.arn` is the role's
 *   ARN with its path: CloudTrail User Guide, "CloudTrail userIdentity element"); in caller mode the
 *   eligible roles (the same field) and users (`userIdentity.arn`), as EventBridge `wildcard`
 *   patterns. The capture function narrows caller-mode calls further, to each grant's window.
 * - **Least privilege**: the capture function may read grants (`GRANT#`) and caller-mode session
 *   items (`SESSION#`), and write only activity items (`ACTIVITY#`), by `dynamodb:LeadingKeys`; in a
 *   transaction "Permissions for Put, Update, Delete, and Get actions are governed by the permissions
 *   used for the underlying PutItem, UpdateItem, DeleteItem, and GetItem operations" (DynamoDB
 *   Developer Guide, "Using IAM with DynamoDB transactions"), so the same conditions hold there. The
 *   read function reads grants and activity items only.
 * - **At least once**: EventBridge and SQS may deliver a call twice; the capture deduplicates by
 *   CloudTrail `eventID` (`dynamodb-activity.adapter.ts`).
 * - **Spokes** (docs/many-accounts.md): CloudTrail delivers a call to EventBridge in the account and
 *   Region where it was made, so each spoke has its own rule ({@link SpokeActivityForwarder}, built
 *   by `BreakGlassSpoke`) forwarding its break-glass sessions' calls to the hub's activity bus
 *   ({@link ACTIVITY_BUS_NAME}), whose policy lets exactly the spoke accounts put CloudTrail's events
 *   on it, and whose rule feeds the same queue. The capture ties a call to a grant only within the
 *   grant's account (`accountMismatch`): a spoke's administrator can put events on the bus, never for
 *   another account's grants.
 */

import { Aws, type CfnCondition, CfnOutput, type CfnResource, Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { CfnEventBusPolicy, type CfnRule, EventBus, type EventPattern, Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { EventBus as EventBusTarget, LambdaFunction, SqsQueue } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ENV } from '../../functions/config/env.js';
import { AWS_SOURCE_PREFIX, CLOUDTRAIL_DETAIL_TYPE } from '../../functions/domain/activity.js';
import { SETTLE_MINUTES } from '../../functions/domain/activity-summary.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import { IAM_PATH, RESOURCE_PREFIX } from '../protected-resources.js';
import { throttlesMetric } from './break-glass-monitoring.js';
import { BreakGlassFunction } from './breakglass-function.js';
import { onlyFromSources } from './queue-senders.js';

/** The rule's state: read-only management events too (see the module comment). */
export const ACTIVITY_RULE_STATE = 'ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS';
/** Names: covered by PROTECTED_RESOURCES' `rule/breakglass-*` and `sqs:…:breakglass-*` patterns. */
export const ACTIVITY_RULE_NAME = `${RESOURCE_PREFIX}-activity`;
export const ACTIVITY_QUEUE_NAME = `${RESOURCE_PREFIX}-activity`;
export const ACTIVITY_DLQ_NAME = `${RESOURCE_PREFIX}-activity-dlq`;
/** The hub's bus that spokes forward their break-glass sessions' calls to, and its rule to the activity queue. */
export const ACTIVITY_BUS_NAME = `${RESOURCE_PREFIX}-activity`;
export const SPOKE_ACTIVITY_RULE_NAME = `${RESOURCE_PREFIX}-activity-spokes`;
/** In a spoke: the rule forwarding to the hub's bus, and the role EventBridge uses to put events there. */
export const FORWARD_RULE_NAME = `${RESOURCE_PREFIX}-activity-forward`;
export const FORWARD_ROLE_NAME = `${RESOURCE_PREFIX}-activity-forwarder`;
/** Above this many spokes, the bus policy and the bus rule cannot list them (policy and pattern sizes): the organization instead. */
export const MAX_LISTED_ACTIVITY_SPOKES = 40;
/** Partition-key prefixes (`table-schema.ts`) each function may touch. */
export const CAPTURE_READ_KEYS = ['GRANT#*', 'SESSION#*'] as const;
export const CAPTURE_WRITE_KEYS = ['ACTIVITY#*'] as const;
export const ACTIVITY_READ_KEYS = ['GRANT#*', 'ACTIVITY#*'] as const;
/** The summary announcer lists ended grants by status (the byStatus index's partition key). */
export const ANNOUNCE_STATUSES = ['EXPIRED', 'REVOKED'] as const;
export const ACTIVITY_SUMMARY_RULE_NAME = `${RESOURCE_PREFIX}-activity-summary`;
/** SQS batch: the event source's default size; each call is its own item, so a batch failing partly redelivers only its failures. */
export const CAPTURE_BATCH_SIZE = 10;
/** At most this many capture functions at once: bounds the writes on the table during a busy incident. */
export const CAPTURE_MAX_CONCURRENCY = 5;
const CAPTURE_TIMEOUT = Duration.seconds(60);
/** The backlog alarm: the oldest waiting call is as old as the end-of-grant summary's wait (activity-summary.ts). */
export const ACTIVITY_BACKLOG_ALARM_SECONDS = SETTLE_MINUTES * 60;

export interface ActivityCaptureProps {
  readonly table: ITable;
  readonly topic: ITopic;
  /** The profile file as read (inlined into the bundles). */
  readonly profiles: unknown;
  /** Caller-mode eligibility, as IAM ARN patterns (`policyTargets`). */
  readonly callerRoles: readonly string[];
  readonly callerUsers: readonly string[];
  /** Whether some profile grants through profile roles (then their sessions are matched). */
  readonly profileRoles: boolean;
  /** `GET /grants/{id}/activity`'s function (built with the API's other functions, from the route table). */
  readonly readFunction: BreakGlassFunction;
  /** Functions that seal a grant's activity digest into its chain (the review): they read activity items. */
  readonly sealers: readonly BreakGlassFunction[];
  /** @default RetentionDays.ONE_YEAR (the function construct's default) */
  readonly logRetention?: RetentionDays;
  /**
   * The spoke accounts (those the profiles name, but the hub's): when there are any, the hub gets the
   * activity bus they forward to. @default none (no bus)
   */
  readonly spokeAccounts?: readonly string[];
  /**
   * The AWS Organizations id (`o-…`) whose accounts may put events on the activity bus instead of the
   * listed spoke accounts; required above {@link MAX_LISTED_ACTIVITY_SPOKES} spokes. @default the spoke accounts
   */
  readonly spokeOrganizationId?: string;
}

/**
 * The hub's activity bus pattern: CloudTrail's events (an `aws.` source: a PutEvents caller cannot use
 * one) of profile-role sessions in any account (`account` narrows it to the spokes when they are listed).
 */
export function spokeActivityEventPattern(partition: string, accounts?: readonly string[]): EventPattern {
  return {
    source: [{ prefix: 'aws.' }] as unknown as string[],
    detailType: [CLOUDTRAIL_DETAIL_TYPE],
    ...(accounts ? { account: [...accounts] } : {}),
    detail: {
      userIdentity: {
        sessionContext: { sessionIssuer: { arn: [{ wildcard: `arn:${partition}:iam::*:role${PROFILE_ROLE_PATH}*` }] } },
      },
    },
  };
}

/** The EventBridge pattern: CloudTrail API calls of break-glass sessions only. */
export function activityEventPattern(
  partition: string,
  account: string,
  options: { profileRoles: boolean; callerRoles: readonly string[]; callerUsers: readonly string[] },
): EventPattern {
  const issuers = [
    ...(options.profileRoles ? [{ prefix: `arn:${partition}:iam::${account}:role${PROFILE_ROLE_PATH}` }] : []),
    ...options.callerRoles.map((arn) => ({ wildcard: arn })),
  ];
  const branches = [
    ...(issuers.length ? [{ userIdentity: { sessionContext: { sessionIssuer: { arn: issuers } } } }] : []),
    ...(options.callerUsers.length
      ? [{ userIdentity: { arn: options.callerUsers.map((arn) => ({ wildcard: arn })) } }]
      : []),
  ];
  if (!branches.length) throw new Error('break-glass: no profile grants anything; action logging has nothing to match');
  // CDK writes `detailType` as `detail-type`. `detail-type` is free-form for anyone with
  // events:PutEvents; the `aws.` source prefix is not: "The aws. value prefix is service-reserved and
  // cannot be used as a value" (EventBridge API reference, PutEventsRequestEntry, Source). CloudTrail's
  // events carry `aws.<service>` (EventBridge events reference, e.g. "AWS CloudTrail events").
  return {
    source: [{ prefix: AWS_SOURCE_PREFIX }] as unknown as string[],
    detailType: [CLOUDTRAIL_DETAIL_TYPE],
    detail: branches.length === 1 ? branches[0]! : { $or: branches },
  };
}

export class ActivityCapture extends Construct {
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly rule: Rule;
  readonly captureFunction: BreakGlassFunction;
  readonly readFunction: BreakGlassFunction;
  readonly announceFunction: BreakGlassFunction;
  /** The event source mapping's ARN (no grant may disable or repoint it). */
  readonly eventSourceMappingArn: string;
  /** The bus spokes forward to (when there are spokes), and its rule to the queue. */
  readonly spokeBus?: EventBus;
  readonly spokeRule?: Rule;

  constructor(scope: Construct, id: string, props: ActivityCaptureProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const common = { profiles: props.profiles, ...(props.logRetention ? { logRetention: props.logRetention } : {}) };

    this.deadLetterQueue = new Queue(this, 'DeadLetters', {
      queueName: ACTIVITY_DLQ_NAME,
      retentionPeriod: Duration.days(14),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
    });
    this.queue = new Queue(this, 'Calls', {
      queueName: ACTIVITY_QUEUE_NAME,
      // Lambda's advice for an SQS source: a visibility timeout of at least six times the function's timeout.
      visibilityTimeout: Duration.seconds(CAPTURE_TIMEOUT.toSeconds() * 6),
      retentionPeriod: Duration.days(4),
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: 5 },
    });

    // Capture: read grants and sessions, write activity items only.
    this.captureFunction = new BreakGlassFunction(this, 'CaptureActivity', {
      ...common,
      handlerFile: 'capture-activity',
      description: 'break-glass: append CloudTrail API calls to their grant (SQS from EventBridge)',
      timeout: CAPTURE_TIMEOUT,
    }).useTopic(props.topic);
    tableByKeys(this.captureFunction, props.table, ['dynamodb:GetItem', 'dynamodb:Query'], CAPTURE_READ_KEYS);
    tableByKeys(this.captureFunction, props.table, ['dynamodb:PutItem', 'dynamodb:UpdateItem'], CAPTURE_WRITE_KEYS);
    const source = new SqsEventSource(this.queue, {
      batchSize: CAPTURE_BATCH_SIZE,
      maxBatchingWindow: Duration.seconds(5),
      reportBatchItemFailures: true,
      maxConcurrency: CAPTURE_MAX_CONCURRENCY,
    });
    this.captureFunction.fn.addEventSource(source);
    this.eventSourceMappingArn = source.eventSourceMappingArn;

    this.rule = new Rule(this, 'Rule', {
      ruleName: ACTIVITY_RULE_NAME,
      description: 'break-glass: API calls of break-glass sessions (CloudTrail) to the activity queue',
      eventPattern: activityEventPattern(stack.partition, stack.account, props),
      // EventBridge retries a target for up to 24 hours; what it still cannot deliver goes to the DLQ.
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185 })],
    });
    (this.rule.node.defaultChild as CfnRule).addPropertyOverride('State', ACTIVITY_RULE_STATE);
    this.captureFunction.addEnvironment(ENV.accountId, stack.account);

    if (props.spokeAccounts?.length) {
      const spokes = this.buildSpokeBus(props.spokeAccounts, props.spokeOrganizationId);
      this.spokeBus = spokes.bus;
      this.spokeRule = spokes.rule;
    }

    // Only the capture rules (this account's, and the spokes' bus's) may send to the queue: no principal can put a forged call on it (queue-senders.ts).
    // The dead-letter queue's ARN too, for a redrive back (StartMessageMoveTask); whether SQS marks a move
    // task's sends with it is not documented: a refused redrive leaves the calls readable (docs/action-logging.md).
    onlyFromSources(this.queue, [
      this.rule.ruleArn,
      ...(this.spokeRule ? [this.spokeRule.ruleArn] : []),
      this.deadLetterQueue.queueArn,
    ]);

    // Calls that could not be captured (after five receives, or undeliverable by EventBridge) wait here.
    new Alarm(this, 'DeadLettersAlarm', {
      alarmName: `${RESOURCE_PREFIX}-ActivityDeadLetters`,
      // Visible, not sent: a message SQS moves from the source queue is not counted in NumberOfMessagesSent.
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'break-glass: API calls of break-glass sessions could not be recorded and wait in the activity dead-letter queue; fix the cause, then redrive it (docs/action-logging.md).',
    }).addAlarmAction(new SnsAction(props.topic));

    // A backlog: calls waiting longer than the end-of-grant summary waits for them (SETTLE_MINUTES) are
    // missing from that summary and from a review sealed meanwhile; a flood of cheap calls (the capture runs
    // at most CAPTURE_MAX_CONCURRENCY functions) would otherwise delay them silently, and a message older
    // than the queue's retention is deleted, not dead-lettered ("The length of time … for which Amazon SQS
    // retains a message": SQS API reference, CreateQueue, MessageRetentionPeriod).
    new Alarm(this, 'BacklogAlarm', {
      alarmName: `${RESOURCE_PREFIX}-ActivityBacklog`,
      metric: this.queue.metricApproximateAgeOfOldestMessage({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: ACTIVITY_BACKLOG_ALARM_SECONDS,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'break-glass: API calls of break-glass sessions wait in the activity queue longer than the end-of-grant summary waits for them (a flood of calls, or a capture too slow); summaries and reviews meanwhile miss them (docs/action-logging.md).',
    }).addAlarmAction(new SnsAction(props.topic));

    // GET /grants/{id}/activity
    this.readFunction = props.readFunction;
    tableByKeys(this.readFunction, props.table, ['dynamodb:GetItem', 'dynamodb:Query'], ACTIVITY_READ_KEYS);
    // The end-of-grant summary: lists ended grants (byStatus, EXPIRED and REVOKED only), reads their activity, marks it announced.
    this.announceFunction = new BreakGlassFunction(this, 'AnnounceActivity', {
      ...common,
      handlerFile: 'announce-activity',
      description: 'break-glass: announce what was done with each ended grant (scheduled)',
      timeout: Duration.minutes(2),
    }).useTopic(props.topic);
    tableByKeys(this.announceFunction, props.table, ['dynamodb:GetItem', 'dynamodb:Query'], ['ACTIVITY#*']);
    tableByKeys(this.announceFunction, props.table, ['dynamodb:PutItem'], ['ACTIVITY#*']);
    this.announceFunction.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:Query'],
        resources: [`${props.table.tableArn}/index/byStatus`],
        conditions: { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': [...ANNOUNCE_STATUSES] } },
      }),
    );
    new Rule(this, 'SummarySchedule', {
      ruleName: ACTIVITY_SUMMARY_RULE_NAME,
      schedule: Schedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(this.announceFunction.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
      description: 'break-glass: end-of-grant activity summaries',
    });
    // The review seals the activity digest into the grant's chain: it reads the grant's activity items.
    for (const f of props.sealers)
      f.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['dynamodb:GetItem', 'dynamodb:Query'],
          resources: [props.table.tableArn],
          conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': ['ACTIVITY#*'] } },
        }),
      );

    // Throttles of these (the service's two throttle alarms are full: metric math holds at most 10 metrics).
    const fns = [this.captureFunction, this.readFunction, this.announceFunction];
    new Alarm(this, 'ThrottlesAlarm', {
      alarmName: `${RESOURCE_PREFIX}-ActivityThrottles`,
      metric: throttlesMetric(fns.map((f) => f.fn)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'break-glass: Lambda throttled the activity capture (calls wait in the queue), GET /grants/{id}/activity (callers got errors) or the end-of-grant summary.',
    }).addAlarmAction(new SnsAction(props.topic));
    for (const [name, f, what] of [
      ['ActivityCaptureErrors', this.captureFunction, 'the activity capture crashed; the batch will be redelivered'],
      ['ActivitySummaryErrors', this.announceFunction, 'end-of-grant activity summaries were not announced'],
    ] as const) {
      new Alarm(this, `${name}Alarm`, {
        alarmName: `${RESOURCE_PREFIX}-${name}`,
        metric: f.fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `break-glass: ${what} (docs/action-logging.md).`,
      }).addAlarmAction(new SnsAction(props.topic));
    }
  }

  /**
   * The bus spokes forward to: its policy lets exactly the spoke accounts (or the organization) put
   * CloudTrail's API-call events on it, and its rule feeds the activity queue.
   * - "You can send and receive events between event buses in AWS accounts … On the receiver account,
   *   edit the permissions on an event bus to allow specified AWS accounts, an organization, or all AWS
   *   accounts to send events to the receiver account" (EventBridge User Guide, "Sending and receiving
   *   events between AWS accounts"). The condition on `events:detail-type` and `events:source` follows
   *   the guide's "Example policy: Send events to a custom bus in a different account".
   * - The rule's state: read-only management events reach a rule on a custom bus only in
   *   `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` too ("For each rule on the default or custom event
   *   buses, you can set the rule state", "Receiving read-only management events from AWS services").
   * - Events keep the `account` they came from: the rule may match the spokes' accounts, and the capture
   *   checks it against each grant's account.
   */
  private buildSpokeBus(accounts: readonly string[], organizationId?: string): { bus: EventBus; rule: Rule } {
    const stack = Stack.of(this);
    if (organizationId !== undefined && !/^o-[a-z0-9]{10,32}$/.test(organizationId))
      throw new Error(
        `break-glass: spokeOrganizationId must be an AWS Organizations id (o-…), got "${organizationId}"`,
      );
    if (!organizationId && accounts.length > MAX_LISTED_ACTIVITY_SPOKES)
      throw new Error(
        `break-glass: ${accounts.length} spoke accounts are more than the activity bus policy lists (${MAX_LISTED_ACTIVITY_SPOKES}); set -c spokeOrganizationId=o-… so that the accounts of your organization may forward their break-glass sessions' calls`,
      );
    const bus = new EventBus(this, 'SpokeBus', {
      eventBusName: ACTIVITY_BUS_NAME,
      description: "break-glass: the spokes' break-glass sessions' API calls (CloudTrail), forwarded by each spoke",
    });
    new CfnEventBusPolicy(this, 'SpokesMayPut', {
      eventBusName: bus.eventBusName,
      statementId: 'BreakGlassSpokesPutCloudTrailCalls',
      statement: {
        Sid: 'BreakGlassSpokesPutCloudTrailCalls',
        Effect: 'Allow',
        Principal: organizationId ? '*' : { AWS: accounts.map((a) => `arn:${stack.partition}:iam::${a}:root`) },
        Action: 'events:PutEvents',
        Resource: bus.eventBusArn,
        Condition: {
          StringEquals: {
            'events:detail-type': CLOUDTRAIL_DETAIL_TYPE,
            ...(organizationId ? { 'aws:PrincipalOrgID': organizationId } : {}),
          },
          'ForAllValues:StringLike': { 'events:source': ['aws.*'] },
        },
      },
    });
    const rule = new Rule(this, 'SpokeRule', {
      ruleName: SPOKE_ACTIVITY_RULE_NAME,
      eventBus: bus,
      description: "break-glass: spokes' break-glass sessions' API calls to the activity queue",
      eventPattern: spokeActivityEventPattern(stack.partition, organizationId ? undefined : accounts),
      targets: [new SqsQueue(this.queue, { deadLetterQueue: this.deadLetterQueue, retryAttempts: 185 })],
    });
    (rule.node.defaultChild as CfnRule).addPropertyOverride('State', ACTIVITY_RULE_STATE);
    new CfnOutput(stack, 'SpokeActivityBusArn', {
      value: bus.eventBusArn,
      description:
        'break-glass: the bus spokes forward their calls to (-c hubActivityBusArn=… for BreakGlassSpoke-<id>)',
    });
    return { bus, rule };
  }
}

/** Table actions on the items whose partition key starts with one of `keys`, and the table's name, in one call. */
function tableByKeys(f: BreakGlassFunction, table: ITable, actions: string[], keys: readonly string[]): void {
  f.addEnvironment(ENV.tableName, table.tableName);
  f.fn.addToRolePolicy(
    new PolicyStatement({
      actions,
      resources: [table.tableArn],
      conditions: { 'ForAllValues:StringLike': { 'dynamodb:LeadingKeys': [...keys] } },
    }),
  );
}

export interface SpokeActivityForwarderProps {
  /** The hub's activity bus ({@link ACTIVITY_BUS_NAME}). */
  readonly busArn: string;
  /** Where the resources exist (a StackSet template: only in accounts a profile names). @default always */
  readonly condition?: CfnCondition;
}

/**
 * In a spoke: a rule on the default bus matching CloudTrail's API calls by this account's profile-role
 * sessions (the role path in this account; the same pattern as the hub's own rule, in the state that
 * receives read-only management events), targeting the hub's activity bus with a role that may put
 * events on that one bus only.
 *
 * A role, not the account's permission alone: EventBridge's guide recommends "always using IAM roles
 * when the target of a rule is an event bus" ("Permissions for event buses"), a role is required when
 * the receiver grants an organization ("If you're setting an event bus in another account as the target
 * and that account granted permission to your account through an organization instead of directly by
 * the account ID, you must specify a RoleArn", API reference, `Target.RoleArn`), and for a bus in
 * another Region. No dead-letter queue (the spoke holds no state): EventBridge retries a target for up
 * to 24 hours (EventBridge User Guide, "How EventBridge retries delivering events").
 */
export class SpokeActivityForwarder extends Construct {
  readonly rule: Rule;
  readonly role: Role;
  constructor(scope: Construct, id: string, props: SpokeActivityForwarderProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.role = new Role(this, 'Role', {
      roleName: FORWARD_ROLE_NAME,
      path: IAM_PATH,
      description: "break-glass spoke: EventBridge forwards this account's break-glass sessions' calls to the hub",
      assumedBy: new ServicePrincipal('events.amazonaws.com'),
    });
    const bus = EventBus.fromEventBusArn(this, 'HubBus', props.busArn);
    this.rule = new Rule(this, 'Rule', {
      ruleName: FORWARD_RULE_NAME,
      description: "break-glass spoke: this account's break-glass sessions' API calls (CloudTrail) to the hub",
      eventPattern: activityEventPattern(stack.partition, Aws.ACCOUNT_ID, {
        profileRoles: true,
        callerRoles: [],
        callerUsers: [],
      }),
      // The target adds events:PutEvents on this bus ARN, and nothing else, to the role's policy.
      targets: [new EventBusTarget(bus, { role: this.role })],
    });
    (this.rule.node.defaultChild as CfnRule).addPropertyOverride('State', ACTIVITY_RULE_STATE);
    if (props.condition)
      for (const child of this.node.findAll()) {
        const resource = child as CfnResource;
        if (resource.cfnOptions) resource.cfnOptions.condition = props.condition;
      }
  }
}
