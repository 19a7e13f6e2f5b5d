/**
 * The functions: one per API function of the route table (`functions/api/routes.ts`) and the four
 * background ones (expiry, sweeper, review check, export), each with exactly the table, topic,
 * bucket and IAM access its use case needs, and its configuration.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import type { IndexName } from '../../functions/adapters/table-schema.js';
import {
  API_FUNCTIONS,
  type ApiFunctionName,
  isServiceApiFunction,
  routesServedBy,
  type ServiceApiFunctionName,
} from '../../functions/api/routes.js';
import { ENV } from '../../functions/config/env.js';
import { EXPORT_PREFIX } from '../../functions/domain/export-audit.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { PROFILE_ROLE_PATH } from '../../functions/domain/profile-roles.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../../functions/domain/review-check.js';
import { policyTargets } from '../profiles.js';
import {
  API_FUNCTION_TIMEOUT,
  BreakGlassFunction,
  TABLE_APPEND,
  TABLE_READ,
  TABLE_REVIEW,
  TABLE_WRITE,
} from './breakglass-function.js';
import { hideFromLogicalIds } from './logical-ids.js';

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
 * How long Lambda keeps trying an expiry event (throttled, or failing) before it goes to the
 * on-failure destination: 6 hours, Lambda's maximum. The grant's policy has stopped working at
 * its expiry second anyway (its condition) and the sweeper expires overdue grants within
 * minutes; what this bounds is how long a stuck expiry stays invisible, and the destination
 * record then keeps it for 14 days.
 */
export const EXPIRY_MAX_EVENT_AGE = Duration.hours(6);
/** Lambda retries a failed expiry twice (one, then two minutes apart) before the destination. */
export const EXPIRY_RETRY_ATTEMPTS = 2;

export type BackgroundFunctionName = 'expireGrant' | 'sweeper' | 'checkReviews' | 'exportTable';
/** The functions this construct makes: the API's (but the drills', made by `BreakGlassDrills`) and the background ones. */
export type FunctionName = ServiceApiFunctionName | BackgroundFunctionName;
const SERVICE_API_FUNCTIONS = (Object.keys(API_FUNCTIONS) as ApiFunctionName[]).filter(isServiceApiFunction);

export interface BreakGlassFunctionsProps {
  readonly table: ITable;
  readonly topic: ITopic;
  /** On-failure destination of the expiry function's asynchronous invocations. */
  readonly expiryFailureQueue: IQueue;
  /** The audit bucket: the daily export writes under `exports/` of it. */
  readonly auditBucket: IBucket;
  /** The profile file as read (inlined into the bundles) and as validated. */
  readonly profiles: { readonly raw: unknown; readonly set: ProfileSet };
  /** ARN patterns of the principals who may revoke any grant and use the kill switch. @default none */
  readonly securityPrincipals?: readonly string[];
  /** ARN patterns of the reviewers; must not be empty (the service checks it). */
  readonly reviewerPrincipals: readonly string[];
  /** Days after a grant ends before its missing review is announced. @default 3 */
  readonly reviewDeadlineDays?: number;
  /** Accept wildcard role/user names in the eligibility of caller-mode profiles. @default false */
  readonly allowBroadEligibility?: boolean;
  /** Profiles frozen by configuration (`*` for all). @default none */
  readonly frozenProfiles?: readonly string[];
  /** ACTIVE grants one principal may hold at once. @default 3 */
  readonly maxActivePerPrincipal?: number;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
}

export class BreakGlassFunctions extends Construct {
  readonly byName: Readonly<Record<FunctionName, BreakGlassFunction>>;
  /** The functions behind the API. */
  readonly api: readonly BreakGlassFunction[];
  /** The expiry, sweeper, review-check and export functions. */
  readonly background: readonly BreakGlassFunction[];
  /** The functions that remove grant policies (and so need the IAM targets). */
  readonly policyRemovers: readonly BreakGlassFunction[];

  /** The Lambda function of each API function, for the API's integrations. */
  apiLambdas(): Record<ServiceApiFunctionName, IFunction> {
    const out = {} as Record<ServiceApiFunctionName, IFunction>;
    for (const name of SERVICE_API_FUNCTIONS) out[name] = this.byName[name].fn;
    return out;
  }

  constructor(scope: Construct, id: string, props: BreakGlassFunctionsProps) {
    super(scope, id);
    // Split out of BreakGlassService: its resources keep the logical IDs they had there.
    hideFromLogicalIds(this);
    const stack = Stack.of(this);
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
    // Behind API Gateway: done before its 29-second integration timeout. Described by the routes they serve.
    const api = (name: ServiceApiFunctionName) => {
      const { id: constructId, handler } = API_FUNCTIONS[name];
      return make(constructId, handler, `break-glass: ${routesServedBy(name).join(', ')}`, API_FUNCTION_TIMEOUT);
    };

    const expireGrant = make(
      'ExpireGrant',
      'expire-grant',
      'break-glass: expire a grant (EventBridge Scheduler target)',
    )
      .useTable(props.table, TABLE_WRITE)
      .useTopic(props.topic);
    const createGrant = api('createGrant').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const revokeGrant = api('revokeGrant').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const extendGrant = api('extendGrant').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    const killSwitch = api('killSwitch').useTable(props.table, TABLE_WRITE).useTopic(props.topic);
    // One sweep at a time (reserved concurrency 1): two would race each other's repairs.
    const sweeper = make(
      'Sweeper',
      'sweep',
      'break-glass: reconcile IAM with the grants table (scheduled)',
      Duration.minutes(4),
      1,
    )
      // BatchGetItem: the grants and persons' holds it checks, 100 per read (sweep.ts).
      .useTable(props.table, [...TABLE_WRITE, 'dynamodb:BatchGetItem'])
      .useTopic(props.topic);
    const getGrant = api('getGrant').useTable(props.table, TABLE_READ);
    const listGrants = api('listGrants').useTable(props.table, TABLE_READ);
    const listProfiles = api('listProfiles');
    const reviewGrant = api('reviewGrant')
      .useTable(props.table, TABLE_REVIEW, [])
      .useTopic(props.topic)
      .addEnvironment(ENV.reviewerPrincipals, props.reviewerPrincipals.join(','));
    const queryAudit = api('queryAudit').queryIndexes(props.table, AUDIT_EVENT_INDEXES);
    const checkReviews = make(
      'CheckReviews',
      'check-reviews',
      'break-glass: announce overdue post-incident reviews (daily)',
      Duration.minutes(2),
    )
      .queryIndexes(props.table, REVIEW_DUE_INDEXES)
      .useTopic(props.topic)
      .addEnvironment(ENV.reviewDeadlineDays, String(props.reviewDeadlineDays ?? DEFAULT_REVIEW_DEADLINE_DAYS));
    const exportTable = make(
      'ExportTable',
      'export-table',
      'break-glass: export the grants table to the audit bucket (daily)',
    ).exportTableTo(props.table, props.auditBucket, EXPORT_PREFIX);
    // Credentials of a profile role for a grant's requester: read the grant and the freeze, append CREDENTIALS_ISSUED
    // or CREDENTIALS_DENIED (GrantStore.get + append, the alert limiter's item: no Query, no index), and announce it.
    const issueCredentials = api('issueCredentials')
      .useTable(props.table, TABLE_APPEND, [])
      .useTopic(props.topic)
      .addEnvironment(ENV.accountId, stack.account)
      .addEnvironment(ENV.awsPartition, stack.partition);
    // GET /grants/{id}/activity: its table rights (activity items only) come from ActivityCapture.
    const getActivity = api('getActivity')
      .addEnvironment(ENV.securityPrincipals, (props.securityPrincipals ?? []).join(','))
      .addEnvironment(ENV.reviewerPrincipals, props.reviewerPrincipals.join(','));
    this.byName = {
      getActivity,
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
    this.api = SERVICE_API_FUNCTIONS.map((name) => this.byName[name]);
    this.background = [expireGrant, sweeper, checkReviews, exportTable];

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
    this.policyRemovers = [createGrant, revokeGrant, extendGrant, expireGrant, killSwitch, sweeper];

    // IAM writes: only inline policies, only on the profile roles (role/breakglass/profile/*) and the
    // entities some caller-mode profile can match.
    const targets = policyTargets(props.profiles.set, { allowBroadEligibility: props.allowBroadEligibility ?? false });
    const hasProfileRoles = props.profiles.set.profiles.some((p) => p.grantTo === 'profileRole');
    const profileRolePattern = `arn:${stack.partition}:iam::${stack.account}:role${PROFILE_ROLE_PATH}*`;
    const roleTargets = [...(hasProfileRoles ? [profileRolePattern] : []), ...targets.roles];
    const policyWriters = [createGrant, extendGrant];
    const policyRemovers = this.policyRemovers;
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
    // Ending a profile-role grant whose credentials were issued writes the Deny of its session on the
    // profile role (read-modify-write of the slot's bg-ended-sessions-<slot> policy, ended-sessions.ts);
    // only on role/breakglass/profile/*, never on a caller-mode entity.
    if (hasProfileRoles)
      for (const f of [revokeGrant, expireGrant, killSwitch, sweeper])
        f.fn.addToRolePolicy(
          new PolicyStatement({ actions: ['iam:PutRolePolicy', 'iam:GetRolePolicy'], resources: [profileRolePattern] }),
        );
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

    // Who may do what, and the configured limits.
    const security = (props.securityPrincipals ?? []).join(',');
    revokeGrant.addEnvironment(ENV.securityPrincipals, security);
    killSwitch.addEnvironment(ENV.securityPrincipals, security);
    for (const f of [createGrant, extendGrant, killSwitch]) {
      f.addEnvironment(ENV.frozenProfiles, (props.frozenProfiles ?? []).join(','));
      f.addEnvironment(ENV.maxActivePerPrincipal, String(props.maxActivePerPrincipal ?? 3));
    }
    // A freeze refuses credentials too (423, recorded).
    issueCredentials.addEnvironment(ENV.frozenProfiles, (props.frozenProfiles ?? []).join(','));
  }
}
