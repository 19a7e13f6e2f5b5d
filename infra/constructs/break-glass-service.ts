/**
 * The stateless half: one function per handler, the IAM-authorized REST API, the schedule
 * group and the role Scheduler uses, the daily jobs (review check, table export), and the
 * alarms. Everything here can be destroyed and redeployed without losing a record.
 */

import { CfnOutput, Duration, Stack } from 'aws-cdk-lib';
import {
  AccessLogField,
  AccessLogFormat,
  AuthorizationType,
  EndpointType,
  type IModel,
  JsonSchemaType,
  LambdaIntegration,
  LogGroupLogDestination,
  MethodLoggingLevel,
  RequestValidator,
  RestApi,
} from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  ComparisonOperator,
  type IMetric,
  MathExpression,
  Metric,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Schedule as EventSchedule, Rule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { CfnScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/adapters/emf-metrics.js';
import type { IndexName } from '../../functions/adapters/table-schema.js';
import { EXPORT_PREFIX } from '../../functions/domain/export-audit.js';
import { REVIEW_OUTCOMES } from '../../functions/domain/grant.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import { AUDIT_QUERY_PARAMETERS } from '../../functions/domain/query-audit.js';
import { REASON_MAX, TICKET_MAX } from '../../functions/domain/requests.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../../functions/domain/review-check.js';
import { SWEEP_METRICS } from '../../functions/domain/sweep.js';
import { assertSameAccount, type NamedPrincipal } from '../principals.js';
import { policyTargets } from '../profiles.js';
import {
  type ProtectedResource,
  protectedResources,
  RESOURCE_PREFIX,
  SCHEDULER_ROLE_PATH,
} from '../protected-resources.js';
import {
  API_FUNCTION_TIMEOUT,
  BreakGlassFunction,
  TABLE_APPEND,
  TABLE_READ,
  TABLE_REVIEW,
  TABLE_WRITE,
} from './breakglass-function.js';
import { accountsNamed, grantHubSpokeAccess, profilesGrantingIn } from './break-glass-spoke.js';
import { PROFILE_ROLE_TRUST_ACTIONS, ProfileRoles } from './profile-roles.js';

/** The indexes `GET /audit` reads (`DynamoAuditLog.queryEvents`). */
export const AUDIT_EVENT_INDEXES: readonly IndexName[] = [
  'eventsByRequester',
  'eventsByProfile',
  'eventsByType',
  'eventsByDay',
];
/** The index the daily review check reads (`DynamoAuditLog.reviewsDue`). */
export const REVIEW_DUE_INDEXES: readonly IndexName[] = ['byReviewDue'];

/**
 * One JSON line per request in the API's access log: who called (the caller's ARN as SigV4
 * authenticated it), what, and API Gateway's own error message when it refused or failed.
 */
export const API_ACCESS_LOG_FIELDS = {
  requestId: AccessLogField.contextRequestId(),
  requestTime: AccessLogField.contextRequestTime(),
  ip: AccessLogField.contextIdentitySourceIp(),
  caller: AccessLogField.contextIdentityCaller(),
  user: AccessLogField.contextIdentityUser(),
  userArn: AccessLogField.contextIdentityUserArn(),
  httpMethod: AccessLogField.contextHttpMethod(),
  resourcePath: AccessLogField.contextResourcePath(),
  protocol: AccessLogField.contextProtocol(),
  status: AccessLogField.contextStatus(),
  responseLength: AccessLogField.contextResponseLength(),
  errorMessage: AccessLogField.contextErrorMessage(),
  integrationStatus: AccessLogField.contextIntegrationStatus(),
  integrationError: AccessLogField.contextIntegrationErrorMessage(),
} as const;

/** Custom metrics the sweeper emits each run (CloudWatch embedded metric format, no dimensions). */
/** The sweeper's metrics as the function publishes them (one declaration: the domain's names, the adapter's namespace). */
export const SWEEPER_METRICS = {
  namespace: METRICS_NAMESPACE,
  succeeded: SWEEP_METRICS.succeeded,
  stepFailures: SWEEP_METRICS.stepFailures,
} as const;

/**
 * How long Lambda keeps trying an expiry event (throttled, or failing) before it goes to the
 * on-failure destination: 6 hours, Lambda's maximum. The grant's policy has stopped working at
 * its expiry second anyway (its condition) and the sweeper expires overdue grants within
 * minutes; what this bounds is how long a stuck expiry stays invisible, and the destination
 * record then keeps it for 14 days.
 */
export const EXPIRY_MAX_EVENT_AGE = Duration.hours(6);
/** Lambda retries a failed expiry twice (one, then two minutes apart) before the destination. */
export const EXPIRY_RETRY_ATTEMPTS = 2;

export interface BreakGlassServiceProps {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly expiryDeadLetterQueue: IQueue;
  /** On-failure destination of the expiry function's asynchronous invocations. */
  readonly expiryFailureQueue: IQueue;
  /** The audit bucket: the daily export writes under `exports/` of it. */
  readonly auditBucket: IBucket;
  /**
   * The other stateful resources no grant may reach (with the table, topic, queues and audit
   * bucket above): they join `PROTECTED_RESOURCES` and the profile roles' boundaries.
   */
  readonly otherStateful: {
    readonly keys: readonly IKey[];
    readonly buckets: readonly IBucket[];
    readonly auditDatabaseName: string;
    readonly auditWorkGroupName: string;
  };
  /** The profile file as read (inlined into the bundles) and as validated. */
  readonly profiles: { readonly raw: unknown; readonly set: ProfileSet };
  /** ARN patterns of the principals who may revoke any grant. @default none: only requesters revoke */
  readonly securityPrincipals?: readonly string[];
  /**
   * ARN patterns of the principals who may review ended grants (never their own). Synth fails
   * when this list, after the default, is empty: every review would be refused.
   * @default securityPrincipals
   */
  readonly reviewerPrincipals?: readonly string[];
  /** Days after a grant ends before the daily check announces its missing review (more than 0, at most 365). @default 3 */
  readonly reviewDeadlineDays?: number;
  /** Accept wildcard role/user names in the eligibility of caller-mode profiles (wider IAM write scope). @default false */
  readonly allowBroadEligibility?: boolean;
  /** Profiles whose activations are frozen by configuration (`*` for all): the kill switch without the API. @default none */
  readonly frozenProfiles?: readonly string[];
  /** ACTIVE grants one principal may hold at once. @default 3 */
  readonly maxActivePerPrincipal?: number;
  /** @default 'breakglass' */
  readonly scheduleGroupName?: string;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Stage throttling. @default { rateLimit: 10, burstLimit: 20 } */
  readonly throttling?: { readonly rateLimit: number; readonly burstLimit: number };
  /** Name of the REST API. @default 'breakglass' */
  readonly apiName?: string;
  /**
   * Create the account-wide API Gateway CloudWatch role (`AWS::ApiGateway::Account`), which
   * replaces any other in the account and region, and turn on execution logs. Access logs need
   * no such role and are always on. @default false
   */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** Account id → alias, named in grants and alerts (deploy context `accountAliases`; never looked up live). @default none */
  readonly accountAliases?: Readonly<Record<string, string>>;
}

/**
 * The API's resource policy: a Deny for callers whose role is *named* like an Identity Center role
 * (`AWSReservedSSO_*`) but is not under the path Identity Center creates its roles in
 * (`/aws-reserved/sso.amazonaws.com/`). A session ARN carries no role path, so the functions recognise
 * Identity Center users by the role name (`personOf`: the session name is the user); anyone allowed
 * `iam:CreateRole` could otherwise create `AWSReservedSSO_x` at `/`, name a session `alice@example.com`
 * and be Alice. `aws:PrincipalArn` is the role's ARN with its path, so it tells the two apart.
 * For IAM-authorized callers in the same account, API Gateway allows a request that IAM allows unless a
 * resource policy denies it: this policy only takes away, it grants nothing.
 */
export function identityCenterImpostorGuard(partition: string): PolicyDocument {
  return new PolicyDocument({
    statements: [
      new PolicyStatement({
        sid: 'DenyIdentityCenterImpostors',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['execute-api:Invoke'],
        resources: ['execute-api:/*'],
        conditions: {
          ArnLike: { 'aws:PrincipalArn': `arn:${partition}:iam::*:role/*AWSReservedSSO_*` },
          ArnNotLike: { 'aws:PrincipalArn': `arn:${partition}:iam::*:role/aws-reserved/sso.amazonaws.com/*` },
        },
      }),
    ],
  });
}

/**
 * Callers from the spoke accounts the profiles name: for a caller in another account, API Gateway needs
 * an explicit Allow in the resource policy besides the caller's own IAM policy (API Gateway developer
 * guide, "How API Gateway resource policies affect authorization workflow", cross-account). Only the
 * named principal patterns are allowed, by `aws:PrincipalArn`.
 */
export function withCrossAccountCallers(policy: PolicyDocument, patterns: readonly string[]) {
  if (!patterns.length) return policy;
  const arns = [
    ...new Set(
      patterns.map((p) => {
        const session = /^arn:([^:]+):sts::(\d{12}):assumed-role\/([^/]+)\/.*$/.exec(p);
        return session ? `arn:${session[1]}:iam::${session[2]}:role/${session[3]}` : p;
      }),
    ),
  ];
  policy.addStatements(
    new PolicyStatement({
      sid: 'AllowNamedCallersOfSpokeAccounts',
      effect: Effect.ALLOW,
      principals: [new AnyPrincipal()],
      actions: ['execute-api:Invoke'],
      resources: ['execute-api:/*'],
      conditions: { ArnLike: { 'aws:PrincipalArn': arns } },
    }),
  );
  return policy;
}

export class BreakGlassService extends Construct {
  readonly api: RestApi;
  readonly functions: Readonly<
    Record<
      | 'createGrant'
      | 'revokeGrant'
      | 'extendGrant'
      | 'expireGrant'
      | 'getGrant'
      | 'listGrants'
      | 'listProfiles'
      | 'killSwitch'
      | 'sweeper'
      | 'reviewGrant'
      | 'queryAudit'
      | 'checkReviews'
      | 'exportTable'
      | 'issueCredentials',
      BreakGlassFunction
    >
  >;
  readonly schedulerRole: Role;
  /** `PROTECTED_RESOURCES`, as the functions get it (and as the boundaries deny it). */
  readonly protectedResources: readonly ProtectedResource[];
  readonly profileRoles: ProfileRoles;
  /** The roles spokes trust (BreakGlassSpoke): the lifecycle functions' and the credential function's. */
  readonly lifecycleRoleArns: readonly string[];
  readonly credentialRoleArn: string;

  constructor(scope: Construct, id: string, props: BreakGlassServiceProps) {
    super(scope, id);
    const stack = Stack.of(this);
    // Configuration mistakes fail synth, before anything is built.
    const reviewers = [...(props.reviewerPrincipals ?? props.securityPrincipals ?? [])];
    if (!reviewers.length) {
      throw new Error(
        'break-glass: no reviewer principals. Set reviewerPrincipals (-c reviewerPrincipals=<ARN patterns, comma-separated>) or securityPrincipals, which it defaults to; without one, every post-incident review would be refused.',
      );
    }
    const reviewDeadlineDays = props.reviewDeadlineDays ?? DEFAULT_REVIEW_DEADLINE_DAYS;
    if (!(Number.isFinite(reviewDeadlineDays) && reviewDeadlineDays > 0 && reviewDeadlineDays <= 365)) {
      throw new Error(
        `break-glass: reviewDeadlineDays must be a number of days greater than 0 and at most 365, got ${reviewDeadlineDays}`,
      );
    }
    // Break-glass grants and checks access in its own account only (a later issue brings others in).
    const named: NamedPrincipal[] = [
      ...props.profiles.set.profiles.flatMap((p) =>
        p.eligible.map((pattern) => ({ source: `eligible of profile "${p.name}"`, pattern })),
      ),
      ...(props.securityPrincipals ?? []).map((pattern) => ({ source: 'securityPrincipals', pattern })),
      ...(props.reviewerPrincipals ?? []).map((pattern) => ({ source: 'reviewerPrincipals', pattern })),
    ];
    // Principals of the accounts the profiles name (spokes) are callers of this hub too (docs/many-accounts.md).
    const spokeAccounts = new Set(accountsNamed(props.profiles.set));
    const crossAccount = named.filter(
      (p) =>
        p.source.startsWith('eligible of') &&
        spokeAccounts.has(/^arn:[^:]*:(?:iam|sts)::(\d{12}):/.exec(p.pattern)?.[1] ?? ''),
    );
    assertSameAccount(
      named.filter((p) => !crossAccount.includes(p)),
      stack.account,
    );
    const targets = policyTargets(props.profiles.set, { allowBroadEligibility: props.allowBroadEligibility ?? false });
    const groupName = props.scheduleGroupName ?? 'breakglass';
    const logRetention = props.logRetention ?? RetentionDays.ONE_YEAR;
    const make = (
      name: string,
      handlerFile: string,
      description: string,
      timeout?: Duration,
      reservedConcurrentExecutions?: number,
    ) =>
      new BreakGlassFunction(this, name, {
        handlerFile,
        description,
        profiles: props.profiles.raw,
        logRetention,
        ...(timeout ? { timeout } : {}),
        ...(reservedConcurrentExecutions ? { reservedConcurrentExecutions } : {}),
      });
    // Behind API Gateway: done before its 29-second integration timeout.
    const api = (name: string, handlerFile: string, description: string) =>
      make(name, handlerFile, description, API_FUNCTION_TIMEOUT);

    // Functions
    const expireGrant = make(
      'ExpireGrant',
      'expire-grant',
      'break-glass: expire a grant (EventBridge Scheduler target)',
    )
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const createGrant = api('CreateGrant', 'create-grant', 'break-glass: POST /grants')
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const revokeGrant = api('RevokeGrant', 'revoke-grant', 'break-glass: POST /grants/{id}/revoke')
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const extendGrant = api('ExtendGrant', 'extend-grant', 'break-glass: POST /grants/{id}/extend')
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const killSwitch = api('KillSwitch', 'kill-switch', 'break-glass: freeze, unfreeze, revoke-all (security)')
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    // One sweep at a time (reserved concurrency 1): two would race each other's repairs.
    const sweeper = make(
      'Sweeper',
      'sweep',
      'break-glass: reconcile IAM with the grants table (scheduled)',
      Duration.minutes(4),
      1,
    )
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const getGrant = api('GetGrant', 'get-grant', 'break-glass: GET /grants/{id}').useTable(props.table, TABLE_READ);
    const listGrants = api('ListGrants', 'list-grants', 'break-glass: GET /grants').useTable(props.table, TABLE_READ);
    const listProfiles = api('ListProfiles', 'list-profiles', 'break-glass: GET /profiles');
    const reviewGrant = api('ReviewGrant', 'review-grant', 'break-glass: POST /grants/{id}/review')
      .useTable(props.table, TABLE_REVIEW, [])
      .useTopic(props.topic)
      .addEnvironment('REVIEWER_PRINCIPALS', reviewers.join(','));
    const queryAudit = api('QueryAudit', 'query-audit', 'break-glass: GET /audit').queryIndexes(
      props.table,
      AUDIT_EVENT_INDEXES,
    );
    const checkReviews = make(
      'CheckReviews',
      'check-reviews',
      'break-glass: announce overdue post-incident reviews (daily)',
      Duration.minutes(2),
    )
      .queryIndexes(props.table, REVIEW_DUE_INDEXES)
      .useTopic(props.topic)
      .addEnvironment('REVIEW_DEADLINE_DAYS', String(reviewDeadlineDays));
    const exportTable = make(
      'ExportTable',
      'export-table',
      'break-glass: export the grants table to the audit bucket (daily)',
    ).exportTableTo(props.table, props.auditBucket, EXPORT_PREFIX);
    // Credentials of a profile role for a grant's requester: read the grant and the freeze, append CREDENTIALS_ISSUED
    // or CREDENTIALS_DENIED (GrantStore.get + append, the alert limiter's item: no Query, no index), and announce it.
    const issueCredentials = api('IssueCredentials', 'issue-credentials', 'break-glass: POST /grants/{id}/credentials')
      .useTable(props.table, TABLE_APPEND, [])
      .useTopic(props.topic)
      .addEnvironment('ACCOUNT_ID', stack.account)
      .addEnvironment('AWS_PARTITION', stack.partition);
    this.functions = {
      createGrant,
      revokeGrant,
      extendGrant,
      expireGrant,
      getGrant,
      listGrants,
      listProfiles,
      killSwitch,
      sweeper,
      reviewGrant,
      queryAudit,
      checkReviews,
      exportTable,
      issueCredentials,
    };
    const apiFunctions = [
      createGrant,
      revokeGrant,
      extendGrant,
      killSwitch,
      getGrant,
      listGrants,
      listProfiles,
      reviewGrant,
      queryAudit,
      issueCredentials,
    ];
    const backgroundFunctions = [expireGrant, sweeper, checkReviews, exportTable];

    // EventBridge Scheduler invokes the expiry function asynchronously (Lambda developer guide,
    // "Invoke a Lambda function on a schedule"): once Lambda accepts the event, Scheduler's
    // retry policy and dead-letter queue are done with it. Lambda retries a failed invocation
    // (at most twice) and keeps a throttled one (at most 6 h), then discards it unless a
    // destination is configured (Lambda API, PutFunctionEventInvokeConfig): failures land in
    // the on-failure queue as destination records. Scheduler's DLQ still takes what Scheduler
    // could not hand to Lambda at all.
    expireGrant.fn.configureAsyncInvoke({
      onFailure: new SqsDestination(props.expiryFailureQueue),
      retryAttempts: EXPIRY_RETRY_ATTEMPTS,
      maxEventAge: EXPIRY_MAX_EVENT_AGE,
    });
    // A failed sweep is not retried by Lambda (the next one runs five minutes later and redoes
    // every step), and one throttled behind a running sweep is dropped after four minutes
    // instead of piling up; the heartbeat alarm tells when sweeps stop succeeding.
    sweeper.fn.configureAsyncInvoke({ retryAttempts: 0, maxEventAge: Duration.minutes(4) });

    // IAM writes: only inline policies, only on the profile roles (role/breakglass/profile/*) and the
    // entities some caller-mode profile can match.
    const hasProfileRoles = props.profiles.set.profiles.some((p) => p.grantTo === 'profileRole');
    const profileRolePattern = `arn:${stack.partition}:iam::${stack.account}:role${PROFILE_ROLE_PATH}*`;
    const roleTargets = [...(hasProfileRoles ? [profileRolePattern] : []), ...targets.roles];
    const policyWriters = [createGrant, extendGrant];
    const policyRemovers = [createGrant, revokeGrant, extendGrant, expireGrant, killSwitch, sweeper];
    const entityStatement = (actions: string[], kind: 'roles' | 'users', callerOnly = false) => {
      const resources = kind === 'users' ? targets.users : callerOnly ? targets.roles : roleTargets;
      return resources.length ? [new PolicyStatement({ actions, resources })] : [];
    };
    for (const f of policyWriters) {
      for (const s of [
        ...entityStatement(['iam:PutRolePolicy'], 'roles'),
        ...entityStatement(['iam:PutUserPolicy'], 'users'),
      ])
        f.fn.addToRolePolicy(s);
    }
    for (const f of policyRemovers) {
      for (const s of [
        ...entityStatement(['iam:DeleteRolePolicy'], 'roles'),
        ...entityStatement(['iam:DeleteUserPolicy'], 'users'),
      ])
        f.fn.addToRolePolicy(s);
    }
    // Reading the entities' inline policies: activation sizes the caller-mode ones (IAM's aggregate limit;
    // a profile role's pool is sized at synth, so activation never reads it), the sweeper lists them all.
    for (const s of [
      ...entityStatement(['iam:ListRolePolicies', 'iam:GetRolePolicy'], 'roles', true),
      ...entityStatement(['iam:ListUserPolicies', 'iam:GetUserPolicy'], 'users'),
    ])
      createGrant.fn.addToRolePolicy(s);
    for (const s of [
      ...entityStatement(['iam:ListRolePolicies'], 'roles'),
      ...entityStatement(['iam:ListUserPolicies'], 'users'),
    ])
      sweeper.fn.addToRolePolicy(s);
    if (hasProfileRoles) {
      for (const f of policyRemovers) {
        NagSuppressions.addResourceSuppressions(
          f.fn.role!,
          [
            {
              id: 'AwsSolutions-IAM5',
              reason: `Grants are written on the profile roles, whose names the pools derive from the profiles (breakglass-<profile>-<i>); the IAM actions are limited to inline policies of roles under ${PROFILE_ROLE_PATH}, which only this stack creates.`,
              appliesTo: [{ regex: `/^Resource::arn:<AWS::Partition>:iam::.+:role\\/breakglass\\/profile\\/\\*$/` }],
            },
          ],
          true,
        );
      }
    }

    // Scheduler: a dedicated group, and a role that may only invoke the expiry function.
    const group = new CfnScheduleGroup(this, 'ScheduleGroup', { name: groupName });
    this.schedulerRole = new Role(this, 'SchedulerRole', {
      // Under /breakglass/: covered by PROTECTED_RESOURCES' role/breakglass/* pattern.
      path: SCHEDULER_ROLE_PATH,
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
      description: 'EventBridge Scheduler: invoke the break-glass expiry function, dead-letter failures',
    });
    this.schedulerRole.addToPolicy(
      new PolicyStatement({ actions: ['lambda:InvokeFunction'], resources: [expireGrant.fn.functionArn] }),
    );
    props.expiryDeadLetterQueue.grantSendMessages(this.schedulerRole);
    const scheduleArns = stack.formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${groupName}/*`,
    });
    const schedulerActions: Array<[BreakGlassFunction, string[]]> = [
      [createGrant, ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']],
      [extendGrant, ['scheduler:UpdateSchedule']],
      [revokeGrant, ['scheduler:DeleteSchedule']],
      [killSwitch, ['scheduler:DeleteSchedule']],
      [sweeper, ['scheduler:GetSchedule', 'scheduler:CreateSchedule']],
    ];
    for (const [f, actions] of schedulerActions) {
      f.addEnvironment('SCHEDULE_GROUP', groupName)
        .addEnvironment('EXPIRY_FUNCTION_ARN', expireGrant.fn.functionArn)
        .addEnvironment('SCHEDULER_ROLE_ARN', this.schedulerRole.roleArn)
        .addEnvironment('EXPIRY_DLQ_ARN', props.expiryDeadLetterQueue.queueArn);
      f.fn.addToRolePolicy(new PolicyStatement({ actions, resources: [scheduleArns] }));
    }
    // Creating or updating a schedule passes Scheduler its role.
    for (const f of [createGrant, extendGrant, sweeper]) {
      f.fn.addToRolePolicy(
        new PolicyStatement({
          actions: ['iam:PassRole'],
          resources: [this.schedulerRole.roleArn],
          conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
        }),
      );
    }
    createGrant.fn.node.addDependency(group);
    for (const [f] of schedulerActions) {
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
    const security = (props.securityPrincipals ?? []).join(',');
    revokeGrant.addEnvironment('SECURITY_PRINCIPALS', security);
    killSwitch.addEnvironment('SECURITY_PRINCIPALS', security);
    for (const f of [createGrant, extendGrant, killSwitch]) {
      f.addEnvironment('FROZEN_PROFILES', (props.frozenProfiles ?? []).join(','));
      f.addEnvironment('MAX_ACTIVE_PER_PRINCIPAL', String(props.maxActivePerPrincipal ?? 3));
    }
    // A freeze refuses credentials too (423, recorded).
    issueCredentials.addEnvironment('FROZEN_PROFILES', (props.frozenProfiles ?? []).join(','));

    // The sweeper runs every five minutes; the export daily before the working day, the review check at its start (UTC).
    // The rule's retries cover only EventBridge failing to hand the event to Lambda; with one sweep
    // at a time, a retry older than four minutes would only collide with the next sweep.
    new Rule(this, 'SweepSchedule', {
      ruleName: `${RESOURCE_PREFIX}-sweep`,
      schedule: EventSchedule.rate(Duration.minutes(5)),
      targets: [new LambdaFunction(sweeper.fn, { retryAttempts: 2, maxEventAge: Duration.minutes(4) })],
      description: 'break-glass: reconcile IAM with the grants table',
    });
    new Rule(this, 'ExportSchedule', {
      ruleName: `${RESOURCE_PREFIX}-export`,
      schedule: EventSchedule.cron({ minute: '0', hour: '2' }),
      targets: [new LambdaFunction(exportTable.fn, { retryAttempts: 2 })],
      description: 'break-glass: daily export of the grants table for auditors',
    });
    new Rule(this, 'ReviewCheckSchedule', {
      ruleName: `${RESOURCE_PREFIX}-review-check`,
      schedule: EventSchedule.cron({ minute: '0', hour: '8' }),
      targets: [new LambdaFunction(checkReviews.fn, { retryAttempts: 2 })],
      description: 'break-glass: daily reminder of overdue post-incident reviews',
    });

    // API: AWS_IAM on every method, validated bodies, throttled, access-logged. A good neighbour
    // in a shared account: named, REGIONAL, and no account-wide API Gateway setting unless asked.
    // Execution logs need the account's API Gateway CloudWatch role (AWS::ApiGateway::Account,
    // one per account and region, replaced by whoever deploys one last); without that role a
    // stage with a logging level fails to deploy ("CloudWatch Logs role ARN must be set in account
    // settings to enable logging": aws-samples/amazon-bedrock-knowledgebase-slackbot#6, and
    // VirtusLab/besom#347, where removing loggingLevel was the fix), so the level is set only with
    // the role. The access log stays on (README, Deploy: not verified without the role).
    const executionLogs = props.apiGatewayCloudWatchRole ?? false;
    const accessLogs = new LogGroup(this, 'ApiAccessLogs', {
      logGroupName: `/aws/apigateway/${RESOURCE_PREFIX}-access`,
      retention: logRetention,
    });
    this.api = new RestApi(this, 'Api', {
      restApiName: props.apiName ?? 'breakglass',
      description: 'break-glass emergency access',
      endpointConfiguration: { types: [EndpointType.REGIONAL] },
      defaultMethodOptions: { authorizationType: AuthorizationType.IAM },
      policy: withCrossAccountCallers(
        identityCenterImpostorGuard(stack.partition),
        crossAccount.map((p) => p.pattern),
      ),
      cloudWatchRole: executionLogs,
      deployOptions: {
        stageName: 'v1',
        tracingEnabled: true,
        throttlingRateLimit: props.throttling?.rateLimit ?? 10,
        throttlingBurstLimit: props.throttling?.burstLimit ?? 20,
        ...(executionLogs ? { loggingLevel: MethodLoggingLevel.ERROR } : {}),
        metricsEnabled: true,
        accessLogDestination: new LogGroupLogDestination(accessLogs),
        accessLogFormat: AccessLogFormat.custom(JSON.stringify(API_ACCESS_LOG_FIELDS)),
      },
    });
    if (!executionLogs) {
      NagSuppressions.addResourceSuppressions(this.api.deploymentStage, [
        {
          id: 'AwsSolutions-APIG6',
          reason:
            'Execution logs need the account-wide API Gateway CloudWatch role, which this stack does not take over by default (-c apiGatewayCloudWatchRole=true turns both on); every request is in the access log, with the caller ARN and the error message.',
        },
      ]);
    }
    const bodyValidator = new RequestValidator(this, 'BodyValidator', {
      restApi: this.api,
      validateRequestBody: true,
      validateRequestParameters: true,
    });
    const activationModel = this.api.addModel('Activation', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['profile', 'reason'],
        additionalProperties: false,
        properties: {
          profile: { type: JsonSchemaType.STRING, minLength: 1, maxLength: 64 },
          reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 },
          durationMinutes: { type: JsonSchemaType.INTEGER, minimum: 1 },
          ticket: { type: JsonSchemaType.STRING, maxLength: TICKET_MAX + 64 },
        },
      },
    });
    const revokeModel = this.api.addModel('Revocation', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['reason'],
        additionalProperties: false,
        properties: { reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 } },
      },
    });
    const extendModel = this.api.addModel('Extension', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['minutes', 'reason'],
        additionalProperties: false,
        properties: {
          minutes: { type: JsonSchemaType.INTEGER, minimum: 1 },
          reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 },
        },
      },
    });
    const controlModel = this.api.addModel('Control', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['reason'],
        additionalProperties: false,
        properties: {
          profile: { type: JsonSchemaType.STRING, maxLength: 64 },
          reason: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 },
        },
      },
    });
    const reviewModel = this.api.addModel('Review', {
      contentType: 'application/json',
      schema: {
        type: JsonSchemaType.OBJECT,
        required: ['outcome', 'notes'],
        additionalProperties: false,
        properties: {
          outcome: { type: JsonSchemaType.STRING, enum: [...REVIEW_OUTCOMES] },
          notes: { type: JsonSchemaType.STRING, maxLength: REASON_MAX + 200 },
        },
      },
    });
    const withBody = (model: IModel) => ({
      requestValidator: bodyValidator,
      requestModels: { 'application/json': model },
    });
    const integration = (f: BreakGlassFunction) => new LambdaIntegration(f.fn);

    const grants = this.api.root.addResource('grants');
    grants.addMethod('POST', integration(createGrant), withBody(activationModel));
    grants.addMethod('GET', integration(listGrants));
    const grant = grants.addResource('{id}');
    grant.addMethod('GET', integration(getGrant));
    grant.addResource('revoke').addMethod('POST', integration(revokeGrant), withBody(revokeModel));
    grant.addResource('extend').addMethod('POST', integration(extendGrant), withBody(extendModel));
    grant.addResource('review').addMethod('POST', integration(reviewGrant), withBody(reviewModel));
    // No body: the grant id in the path and the SigV4 caller are the whole request.
    grant.addResource('credentials').addMethod('POST', integration(issueCredentials));
    this.api.root.addResource('audit').addMethod('GET', integration(queryAudit), {
      requestValidator: bodyValidator,
      requestParameters: Object.fromEntries(
        AUDIT_QUERY_PARAMETERS.map((name) => [`method.request.querystring.${name}`, false]),
      ),
    });
    this.api.root.addResource('profiles').addMethod('GET', integration(listProfiles));
    const freeze = this.api.root.addResource('freeze');
    freeze.addMethod('GET', integration(killSwitch));
    freeze.addMethod('POST', integration(killSwitch), withBody(controlModel));
    this.api.root.addResource('unfreeze').addMethod('POST', integration(killSwitch), withBody(controlModel));
    this.api.root.addResource('revoke-all').addMethod('POST', integration(killSwitch), withBody(controlModel));

    NagSuppressions.addResourceSuppressions(
      this.api,
      [
        {
          id: 'AwsSolutions-COG4',
          reason:
            'Callers are IAM principals (AWS_IAM/SigV4 on every method); break-glass must not depend on a Cognito user pool during an outage.',
        },
        {
          id: 'AwsSolutions-APIG3',
          reason:
            'Every method requires SigV4 and stage throttling limits abuse; a WAF web ACL can be attached by the deploying team (README, Deploy).',
        },
        {
          id: 'AwsSolutions-IAM4',
          reason:
            'The API Gateway CloudWatch role uses the AWS-managed AmazonAPIGatewayPushToCloudWatchLogs policy, the documented way to enable execution logs.',
          appliesTo: ['Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs'],
        },
      ],
      true,
    );

    // Alarms, published to the alert topic.
    const alarmAction = new SnsAction(props.topic);
    const alarm = (name: string, description: string, metric: IMetric) => {
      const a = new Alarm(this, name, {
        alarmName: `${RESOURCE_PREFIX}-${name}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(alarmAction);
      return a;
    };
    const minute = { period: Duration.minutes(1), statistic: 'Sum' };
    alarm(
      'ExpiryErrors',
      "break-glass: the expiry function failed; Lambda retries it twice, then records it in the expiry-failures queue. The grant's policy condition already denies use.",
      expireGrant.fn.metricErrors(minute),
    );
    // A new message each time, not "a message is visible": a second failure alarms again.
    alarm(
      'ExpiryDeadLetters',
      'break-glass: Scheduler could not invoke the expiry function and dead-lettered the schedule; replay it (README, Operations).',
      props.expiryDeadLetterQueue.metricNumberOfMessagesSent(minute),
    );
    alarm(
      'ExpiryFailures',
      "break-glass: an expiry failed after Lambda's retries and was recorded in the expiry-failures queue; replay it (README, Operations).",
      props.expiryFailureQueue.metricNumberOfMessagesSent(minute),
    );
    // Events Lambda dropped without a successful run (Lambda developer guide, "Types of metrics for
    // Lambda functions", asynchronous invocation metrics); with the destination above each should
    // also land there, so this one alone points at the destination itself (README, Operations).
    alarm(
      'ExpiryEventsDropped',
      "break-glass: Lambda dropped an expiry event (retries or event age exhausted); check the expiry-failures queue, then the function's logs.",
      expireGrant.fn.metric('AsyncEventsDropped', minute),
    );
    alarm('Api5xx', 'break-glass: the API answered 5xx.', this.api.metricServerError({ period: Duration.minutes(1) }));
    alarm(
      'ActivationErrors',
      'break-glass: the activation function crashed.',
      createGrant.fn.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'SweeperErrors',
      'break-glass: the reconciliation sweep failed; orphaned access may remain until it succeeds.',
      sweeper.fn.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      'SweeperStepFailures',
      "break-glass: a step of the reconciliation sweep failed (the others ran); see the sweeper's log for the step.",
      new Metric({
        namespace: SWEEPER_METRICS.namespace,
        metricName: SWEEPER_METRICS.stepFailures,
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
    );
    // The heartbeat: no successful sweep in 15 minutes (three runs), including none at all.
    const heartbeat = new Alarm(this, 'SweeperHeartbeat', {
      alarmName: `${RESOURCE_PREFIX}-SweeperHeartbeat`,
      metric: new Metric({
        namespace: SWEEPER_METRICS.namespace,
        metricName: SWEEPER_METRICS.succeeded,
        period: Duration.minutes(15),
        statistic: 'Sum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription:
        'break-glass: no sweep succeeded in 15 minutes (or none ran); orphaned policies and missing schedules are not being repaired.',
    });
    heartbeat.addAlarmAction(alarmAction);
    alarm(
      'ReviewErrors',
      'break-glass: the review function crashed; a post-incident review may not have been recorded.',
      reviewGrant.fn.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'AuditQueryErrors',
      'break-glass: the audit query function crashed.',
      queryAudit.fn.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'ReviewCheckErrors',
      'break-glass: the daily overdue-review check failed; overdue reviews were not announced (invoke the CheckReviews function again once fixed).',
      checkReviews.fn.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      'ExportErrors',
      "break-glass: the daily table export could not be started; today's copy for auditors is missing (invoke the ExportTable function again once fixed: it is idempotent per day).",
      exportTable.fn.metricErrors({ period: Duration.minutes(5) }),
    );
    // Throttles of these functions only (not the account's), in two groups: an alarm's metric math holds at most 10 metrics.
    const throttles = (fns: readonly BreakGlassFunction[]) =>
      new MathExpression({
        expression: `SUM([${fns.map((_, i) => `FILL(t${i}, 0)`).join(', ')}])`,
        usingMetrics: Object.fromEntries(fns.map((f, i) => [`t${i}`, f.fn.metricThrottles(minute)])),
        period: Duration.minutes(1),
        label: 'Throttles',
      });
    alarm(
      'ApiThrottles',
      'break-glass: Lambda throttled an API function (account concurrency exhausted?); callers got errors.',
      throttles(apiFunctions),
    );
    alarm(
      'BackgroundThrottles',
      'break-glass: Lambda throttled the expiry, sweeper, review-check or export function; expiries may be late (Lambda keeps retrying them for up to 6 h).',
      throttles(backgroundFunctions),
    );
    alarm(
      'AlertDeliveryFailures',
      'break-glass: SNS failed to deliver alerts to a subscriber (endpoint down, or a KMS/permission problem); someone was not told.',
      props.topic.metricNumberOfNotificationsFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
    );

    // What no grant may reach, once every resource it names exists (see protected-resources.ts for
    // why names and paths, not references, for this stack's own resources).
    this.protectedResources = protectedResources(
      stack,
      {
        table: props.table,
        topic: props.topic,
        keys: props.otherStateful.keys,
        queues: [props.expiryDeadLetterQueue, props.expiryFailureQueue],
        buckets: [props.auditBucket, ...props.otherStateful.buckets],
        auditDatabaseName: props.otherStateful.auditDatabaseName,
        auditWorkGroupName: props.otherStateful.auditWorkGroupName,
      },
      {
        scheduleGroupName: groupName,
        restApiId: this.api.restApiId,
        apiGatewayAccount: executionLogs,
        ...(executionLogs
          ? { apiGatewayCloudWatchRoleArn: (this.api.node.findChild('CloudWatchRole') as Role).roleArn }
          : {}),
      },
    );
    // Every function that builds a grant's policy, or checks the profile role pools against the list
    // (wiring.ts: activationRules, checkedProfiles, protectedResources).
    for (const f of [createGrant, extendGrant, killSwitch, sweeper])
      f.addEnvironment('PROTECTED_RESOURCES', this.protectedResources.map((r) => r.arn).join(','));

    // The profile roles, their boundaries, and the credential function's right to assume them (and nothing else).
    this.profileRoles = new ProfileRoles(this, 'ProfileRoles', {
      // The hub holds the roles of the profiles that grant in it; a spoke holds the others' (BreakGlassSpoke).
      profiles: profilesGrantingIn(props.profiles.set, stack.account, stack.account),
      protectedResources: this.protectedResources,
      credentialRole: issueCredentials.fn.role!,
    });
    // Setting a source identity needs sts:SetSourceIdentity both in the caller's identity policy and in
    // the role's trust policy (IAM User Guide, "Monitor and control actions taken with assumed roles",
    // permissions required to set source identity).
    if (this.profileRoles.roleArns.length) {
      issueCredentials.fn.addToRolePolicy(
        new PolicyStatement({ actions: [...PROFILE_ROLE_TRUST_ACTIONS], resources: [...this.profileRoles.roleArns] }),
      );
    }

    grantHubSpokeAccess({
      stack,
      profiles: props.profiles.set,
      lifecycle: [createGrant, extendGrant, revokeGrant, expireGrant, killSwitch, sweeper],
      credentials: issueCredentials,
      readers: [listProfiles],
      ...(props.accountAliases ? { accountAliases: props.accountAliases } : {}),
    });
    this.lifecycleRoleArns = [createGrant, extendGrant, revokeGrant, expireGrant, killSwitch, sweeper].map(
      (f) => f.fn.role!.roleArn,
    );
    this.credentialRoleArn = issueCredentials.fn.role!.roleArn;

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'break-glass API endpoint (SigV4-signed requests)',
    });
  }
}
