/**
 * Drills (`functions/domain/drill.ts`, docs/drills.md): the drill queue subscribed to the alert topic
 * (drills' alerts only), the queue the drill profile reads, the drill functions (`POST /drills`,
 * `GET /drills`) and the schedule that runs a drill by itself.
 *
 * Built in two steps so that the service can protect the drill queue before its functions exist:
 * the constructor makes the queues (the drill queue joins `PROTECTED_RESOURCES`; the target queue must
 * not: every grant's policy and every profile role's boundary end with a Deny `*` on that list, so the
 * drill's granted call would be denied), `compose` adds the functions, routes and schedule once the
 * service's API, protected resources and profile roles exist. The routes are the route table's
 * (`functions/api/routes.ts`: path, request schema, who may call); `BreakGlassApi.serve` builds them.
 * `BreakGlassService` composes it when the profiles have a drill profile (test/infra/drills.test.ts).
 *
 * - the drill function (`run-drill`, 5 minutes): activates, takes credentials of and revokes grants of
 *   the drill profile only: its IAM writes and `sts:AssumeRole` are limited to the drill profile's roles,
 *   which trust it besides the credential function; it consumes the drill queue; Lambda does not retry
 *   it (a drill is not repeated);
 * - `POST /drills` (`start-drill`): security principals only (checked in the function, like the kill
 *   switch's routes), saves the drill and invokes the drill function asynchronously (API Gateway's
 *   29-second limit); it may write and read the `DRILL` partition of the table only (`dynamodb:LeadingKeys`);
 * - `GET /drills`, `GET /drills/{id}` (`list-drills`): reads the `DRILL` partition only;
 * - the schedule (deploy context `drillSchedule`, `off` disables) and an alarm on the drill function's errors.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule as EventSchedule, Rule, RuleTargetInput } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { ArnPrincipal, type CfnRole, type IRole, type PolicyDocument, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { SubscriptionFilter } from 'aws-cdk-lib/aws-sns';
import { SqsSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { API_FUNCTIONS, type DrillApiFunctionName, routesServedBy } from '../../functions/api/routes.js';
import { ENV } from '../../functions/config/env.js';
import { drillProfile } from '../../functions/domain/drill.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { profileRoleArn } from '../../functions/domain/profile-roles.js';
import { type ProtectedResource, RESOURCE_PREFIX } from '../protected-resources.js';
import type { BreakGlassApi } from './break-glass-api.js';
import { throttlesMetric } from './break-glass-monitoring.js';
import { API_FUNCTION_TIMEOUT, BreakGlassFunction, TABLE_WRITE } from './breakglass-function.js';
import { PROFILE_ROLE_TRUST_ACTIONS, type ProfileRoles } from './profile-roles.js';
import { onlyFromSources } from './queue-senders.js';

/** The drill schedule by default: monthly, the 1st at 09:00 UTC (deploy context `drillSchedule`, an EventBridge expression). */
export const DEFAULT_DRILL_SCHEDULE = 'cron(0 9 1 * ? *)';
/** The drill queue's name: protected, read by the drill function only. */
export const DRILL_QUEUE_NAME = `${RESOURCE_PREFIX}-drill-inbox`;
/** The drill function's timeout: an expiring drill waits out its one-minute grant and the expiry lag. */
export const DRILL_FUNCTION_TIMEOUT = Duration.minutes(5);

/**
 * The table's partition key attribute, which `dynamodb:LeadingKeys` compares (DynamoDB developer guide,
 * "Using IAM policy conditions for fine-grained access control": the condition key represents the
 * partition key attribute of the items a request touches), and the drills' partition.
 */
export const DRILL_LEADING_KEYS = { 'ForAllValues:StringEquals': { 'dynamodb:LeadingKeys': ['DRILL'] } } as const;

/** What composing the drills into the service needs from it. */
export interface DrillsCompositionProps {
  /** The API: it adds the drill routes of the route table once their functions exist. */
  readonly api: BreakGlassApi;
  readonly table: ITable;
  readonly topic: ITopic;
  /** The profile file as read (inlined into the bundles). */
  readonly profilesRaw: unknown;
  readonly logRetention: RetentionDays;
  readonly securityPrincipals: readonly string[];
  readonly protectedResources: readonly ProtectedResource[];
  readonly profileRoles: ProfileRoles;
  /** What activating and revoking a grant needs: the schedule group, Scheduler's role, the expiry function. */
  readonly scheduling: {
    readonly groupName: string;
    readonly schedulerRole: IRole;
    readonly expiryFunctionArn: string;
    readonly expiryDeadLetterQueueArn: string;
  };
  readonly frozenProfiles: readonly string[];
  readonly maxActivePerPrincipal: number;
}

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
  /** The drill functions, once composed. */
  runner?: BreakGlassFunction;
  start?: BreakGlassFunction;
  list?: BreakGlassFunction;
  private readonly profiles: ProfileSet;

  constructor(scope: Construct, id: string, props: BreakGlassDrillsProps) {
    super(scope, id);
    this.profiles = props.profiles;
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
    // Only the alert topic may send to the inbox: a forged alert would pass a drill while alerting is broken (queue-senders.ts).
    onlyFromSources(this.inbox, [props.topic.topicArn]);
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

  /** The ARNs of the drill profile's roles (its pool, `breakglass-<drill profile>-<i>`). */
  drillRoleArns(profileRoles: ProfileRoles): string[] {
    const stack = Stack.of(this);
    const name = drillProfile(this.profiles)?.name;
    return profileRoles.pools
      .filter((pool) => pool.profile === name)
      .flatMap((pool) => pool.roleNames.map((role) => profileRoleArn(stack.partition, stack.account, role)));
  }

  /** Composes the drills into the service: the drill functions, their permissions, routes, schedule and alarm. */
  compose(props: DrillsCompositionProps): void {
    const stack = Stack.of(this);
    const make = (id: string, handlerFile: string, description: string, timeout: Duration) =>
      new BreakGlassFunction(this, id, {
        handlerFile,
        description,
        profiles: props.profilesRaw,
        logRetention: props.logRetention,
        timeout,
      });
    const security = props.securityPrincipals.join(',');

    // The drill function: the activation, credential and revocation use cases, on the drill profile only.
    const runner = make(
      'RunDrill',
      'run-drill',
      'break-glass: run a drill (POST /drills, schedule)',
      DRILL_FUNCTION_TIMEOUT,
    )
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic)
      .addEnvironment('ACCOUNT_ID', stack.account)
      .addEnvironment('AWS_PARTITION', stack.partition)
      .addEnvironment(ENV.securityPrincipals, security)
      .addEnvironment('FROZEN_PROFILES', props.frozenProfiles.join(','))
      .addEnvironment('MAX_ACTIVE_PER_PRINCIPAL', String(props.maxActivePerPrincipal))
      .addEnvironment('PROTECTED_RESOURCES', props.protectedResources.map((r) => r.arn).join(','))
      .addEnvironment('SCHEDULE_GROUP', props.scheduling.groupName)
      .addEnvironment('EXPIRY_FUNCTION_ARN', props.scheduling.expiryFunctionArn)
      .addEnvironment('SCHEDULER_ROLE_ARN', props.scheduling.schedulerRole.roleArn)
      .addEnvironment('EXPIRY_DLQ_ARN', props.scheduling.expiryDeadLetterQueueArn);
    // A failed or throttled drill is not repeated: its result (or its absence) is the finding.
    runner.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(15) });
    this.addRunner(runner);
    const roles = this.drillRoleArns(props.profileRoles);
    if (roles.length) {
      runner.fn.addToRolePolicy(
        // GetRolePolicy: the drill's revoke reads the slot's ended-sessions Deny before rewriting it (ended-sessions.ts).
        new PolicyStatement({
          actions: ['iam:PutRolePolicy', 'iam:DeleteRolePolicy', 'iam:GetRolePolicy'],
          resources: roles,
        }),
      );
      // Setting a source identity needs sts:SetSourceIdentity in the caller's policy and the role's trust policy.
      runner.fn.addToRolePolicy(new PolicyStatement({ actions: [...PROFILE_ROLE_TRUST_ACTIONS], resources: roles }));
      // The drill roles trust the drill function besides the credential function: the drill takes their credentials.
      const names = new Set(roles.map((arn) => arn.split('/').pop()));
      const runnerPrincipal = new ArnPrincipal(runner.fn.role!.roleArn);
      for (const role of props.profileRoles.roles) {
        if (!names.has((role.node.defaultChild as CfnRole).roleName)) continue;
        const trust = (role.node.defaultChild as CfnRole).assumeRolePolicyDocument as PolicyDocument;
        trust.addStatements(
          new PolicyStatement({ actions: [...PROFILE_ROLE_TRUST_ACTIONS], principals: [runnerPrincipal] }),
        );
      }
    }
    const schedules = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${props.scheduling.groupName}/*`,
    });
    runner.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule'],
        resources: [schedules],
      }),
    );
    runner.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['iam:PassRole'],
        resources: [props.scheduling.schedulerRole.roleArn],
        conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
      }),
    );
    NagSuppressions.addResourceSuppressions(
      runner.fn.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Schedules are named by grant id at activation time; the permission is limited to the dedicated break-glass schedule group.',
          appliesTo: [
            { regex: `/^Resource::arn:<AWS::Partition>:scheduler:.+:schedule\\/${props.scheduling.groupName}\\/\\*$/` },
          ],
        },
      ],
      true,
    );

    // The API functions of the drill routes (functions/api/routes.ts), named and described by the route table.
    const api = (name: DrillApiFunctionName) =>
      make(
        API_FUNCTIONS[name].id,
        API_FUNCTIONS[name].handler,
        `break-glass: ${routesServedBy(name).join(', ')}`,
        API_FUNCTION_TIMEOUT,
      );
    // POST /drills: save the drill, invoke the drill function asynchronously, answer 202.
    const start = api('startDrill')
      .addEnvironment(ENV.tableName, props.table.tableName)
      .addEnvironment(ENV.securityPrincipals, security)
      .addEnvironment(ENV.drillFunctionName, runner.fn.functionName);
    start.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:PutItem'],
        resources: [props.table.tableArn],
        conditions: DRILL_LEADING_KEYS,
      }),
    );
    // The function itself, not its versions (`grantInvoke` would add `<arn>:*`).
    start.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [runner.fn.functionArn] }),
    );
    // GET /drills, GET /drills/{id}: the DRILL partition only.
    const list = api('listDrills')
      .addEnvironment(ENV.tableName, props.table.tableName)
      .addEnvironment(ENV.securityPrincipals, security);
    list.fn.addToRolePolicy(
      new PolicyStatement({
        actions: ['dynamodb:GetItem', 'dynamodb:Query'],
        resources: [props.table.tableArn],
        conditions: DRILL_LEADING_KEYS,
      }),
    );
    // Their methods, from the route table (request model, validator, SigV4), as every other route's.
    props.api.serve({ startDrill: start.fn, listDrills: list.fn });

    // A drill that fails publishes its own CRITICAL alert; a drill function that crashes cannot.
    new Alarm(this, 'RunnerErrors', {
      alarmName: `${RESOURCE_PREFIX}-DrillErrors`,
      metric: runner.fn.metricErrors({ period: Duration.minutes(5) }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription:
        'break-glass: the drill function crashed; no DRILL result was recorded (GET /drills, its logs).',
    }).addAlarmAction(new SnsAction(props.topic));
    // Throttles of the drill functions (the service's two throttle alarms hold ten metrics each, full).
    const fns = [runner, start, list];
    new Alarm(this, 'Throttles', {
      alarmName: `${RESOURCE_PREFIX}-DrillThrottles`,
      metric: throttlesMetric(fns.map((f) => f.fn)),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      alarmDescription: 'break-glass: Lambda throttled a drill function; a drill may not have run.',
    }).addAlarmAction(new SnsAction(props.topic));
    this.runner = runner;
    this.start = start;
    this.list = list;
  }
}
