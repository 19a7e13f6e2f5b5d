/**
 * The stateless half, composed of the functions (`break-glass-functions.ts`), the API
 * (`break-glass-api.ts`) and the schedules (`break-glass-schedules.ts`), with the alarms, the
 * list of what no grant may reach, and the profile roles. Everything here can be destroyed and
 * redeployed without losing a record.
 */

import { CfnOutput, Stack, Token } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import { Alarm, AlarmStatusWidget } from 'aws-cdk-lib/aws-cloudwatch';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, type Role } from 'aws-cdk-lib/aws-iam';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { METRICS_NAMESPACE } from '../../functions/adapters/emf-metrics.js';
import { ENV } from '../../functions/config/env.js';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../../functions/domain/review-check.js';
import { SWEEP_METRICS } from '../../functions/domain/sweep.js';
import { assertSameAccount, type NamedPrincipal } from '../principals.js';
import { policyTargets } from '../profiles.js';
import { type ProtectedResource, protectedResources } from '../protected-resources.js';
import { ActivityCapture } from './activity-capture.js';
import { BreakGlassApi } from './break-glass-api.js';
import { BreakGlassFunctions, type FunctionName } from './break-glass-functions.js';
import { BreakGlassMonitoring } from './break-glass-monitoring.js';
import { BreakGlassSchedules } from './break-glass-schedules.js';
import { accountsNamed, grantHubSpokeAccess, profilesGrantingIn } from './break-glass-spoke.js';
import type { BreakGlassFunction } from './breakglass-function.js';
import { BreakGlassDrills } from './drills.js';
import { PROFILE_ROLE_TRUST_ACTIONS, ProfileRoles } from './profile-roles.js';

/** The sweeper's metrics as the function publishes them (one declaration: the domain's names, the adapter's namespace). */
export const SWEEPER_METRICS = {
  namespace: METRICS_NAMESPACE,
  succeeded: SWEEP_METRICS.succeeded,
  stepFailures: SWEEP_METRICS.stepFailures,
} as const;

/**
 * What a deployment may tune, declared once: `BreakGlassProps` (the one-construct form) and the
 * stateless stack's props extend it, and pass it on whole.
 */
export interface BreakGlassServiceOptions {
  /** ARN patterns of the principals who may revoke any grant and use the kill switch. @default none: only requesters revoke */
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
  /** Name of the expiry schedules' group. @default 'breakglass' */
  readonly scheduleGroupName?: string;
  /** Retention of the functions' logs and the API's access log. @default RetentionDays.ONE_YEAR */
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
  /**
   * AWS Organizations id (`o-…`): its accounts may forward calls to the activity bus instead of the
   * listed spoke accounts (needed above 40 spokes; docs/action-logging.md). @default the spoke accounts
   */
  readonly spokeOrganizationId?: string;
  /** Only principals of this AWS Organization may call the API (`-c principalOrgId`, `withOrganizationOnly`). @default none */
  readonly principalOrgId?: string;
}

/** The stateful resources the stateless half uses (from `BreakGlassState` and the audit queries). */
export interface BreakGlassStatefulRefs {
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
}

export interface BreakGlassServiceProps extends BreakGlassStatefulRefs, BreakGlassServiceOptions {
  /** The profile file as read (inlined into the bundles) and as validated. */
  readonly profiles: { readonly raw: unknown; readonly set: ProfileSet };
}

export class BreakGlassService extends Construct {
  readonly api: RestApi;
  readonly functions: Readonly<Record<FunctionName, BreakGlassFunction>>;
  readonly schedulerRole: Role;
  /** `PROTECTED_RESOURCES`, as the functions get it (and as the boundaries deny it). */
  readonly protectedResources: readonly ProtectedResource[];
  readonly profileRoles: ProfileRoles;
  /** The alarms and the dashboard. */
  readonly monitoring: BreakGlassMonitoring;
  /** Action logging (CloudTrail → capture). */
  readonly activity: ActivityCapture;
  /** Drills (docs/drills.md), when the profiles have a drill profile. */
  readonly drills?: BreakGlassDrills;
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

    const fns = new BreakGlassFunctions(this, 'Functions', {
      table: props.table,
      topic: props.topic,
      expiryFailureQueue: props.expiryFailureQueue,
      auditBucket: props.auditBucket,
      profiles: props.profiles,
      reviewerPrincipals: reviewers,
      reviewDeadlineDays,
      ...pick(props, [
        'securityPrincipals',
        'allowBroadEligibility',
        'frozenProfiles',
        'maxActivePerPrincipal',
        'logRetention',
      ]),
    });
    this.functions = fns.byName;
    const {
      createGrant,
      extendGrant,
      revokeGrant,
      killSwitch,
      sweeper,
      expireGrant,
      checkReviews,
      exportTable,
      reviewGrant,
      queryAudit,
      issueCredentials,
      getActivity,
      listProfiles,
    } = fns.byName;
    const apiFunctions = fns.api;
    const backgroundFunctions = fns.background;

    const schedules = new BreakGlassSchedules(this, 'Schedules', {
      expireGrant,
      expiryDeadLetterQueue: props.expiryDeadLetterQueue,
      scheduleManagers: [
        [createGrant, ['scheduler:CreateSchedule', 'scheduler:DeleteSchedule']],
        [extendGrant, ['scheduler:UpdateSchedule']],
        [revokeGrant, ['scheduler:DeleteSchedule']],
        [killSwitch, ['scheduler:DeleteSchedule']],
        [sweeper, ['scheduler:GetSchedule', 'scheduler:CreateSchedule']],
      ],
      sweeper,
      exportTable,
      checkReviews,
      ...pick(props, ['scheduleGroupName']),
    });
    this.schedulerRole = schedules.schedulerRole;

    const api = new BreakGlassApi(this, 'Api', {
      functions: fns.apiLambdas(),
      crossAccountCallers: crossAccount.map((p) => p.pattern),
      ...pick(props, ['apiName', 'throttling', 'logRetention', 'apiGatewayCloudWatchRole', 'principalOrgId']),
    });
    this.api = api.api;
    const executionLogs = api.executionLogs;

    // Action logging: CloudTrail → EventBridge → SQS → capture; GET /grants/{id}/activity reads it (activity-capture.ts).
    const targets = policyTargets(props.profiles.set, { allowBroadEligibility: props.allowBroadEligibility ?? false });
    this.activity = new ActivityCapture(this, 'Activity', {
      table: props.table,
      topic: props.topic,
      profiles: props.profiles.raw,
      callerRoles: targets.roles,
      callerUsers: targets.users,
      profileRoles: props.profiles.set.profiles.some((p) => p.grantTo === 'profileRole'),
      readFunction: getActivity,
      sealers: [reviewGrant],
      // The spokes forward their calls to the hub's activity bus (the accounts the profiles name, but this one).
      spokeAccounts: accountsNamed(props.profiles.set).filter(
        (a) => Token.isUnresolved(stack.account) || a !== stack.account,
      ),
      ...pick(props, ['logRetention', 'spokeOrganizationId']),
    });

    // Alarms (to the alert topic) and the operators' dashboard.
    this.monitoring = new BreakGlassMonitoring(this, 'Monitoring', {
      topic: props.topic,
      api: this.api,
      expiryDeadLetterQueue: props.expiryDeadLetterQueue,
      expiryFailureQueue: props.expiryFailureQueue,
      functions: {
        expireGrant: expireGrant.fn,
        createGrant: createGrant.fn,
        sweeper: sweeper.fn,
        reviewGrant: reviewGrant.fn,
        queryAudit: queryAudit.fn,
        checkReviews: checkReviews.fn,
        exportTable: exportTable.fn,
      },
      // The activity reader's throttles alarm with action logging's (a metric-math alarm holds at most 10 metrics).
      apiFunctions: apiFunctions.filter((f) => f !== getActivity).map((f) => f.fn),
      backgroundFunctions: backgroundFunctions.map((f) => f.fn),
    });

    // What no grant may reach, once every resource it names exists (see protected-resources.ts for
    // why names and paths, not references, for this stack's own resources).
    // Drills (drills.ts): their queues first, so that the drill queue is protected like the others.
    const drills = props.profiles.set.profiles.some((p) => p.drill)
      ? new BreakGlassDrills(this, 'Drills', { topic: props.topic, profiles: props.profiles.set })
      : undefined;
    this.protectedResources = protectedResources(
      stack,
      {
        table: props.table,
        topic: props.topic,
        keys: props.otherStateful.keys,
        queues: [
          props.expiryDeadLetterQueue,
          props.expiryFailureQueue,
          this.activity.queue,
          this.activity.deadLetterQueue,
          ...(drills ? [drills.inbox] : []),
        ],
        buckets: [props.auditBucket, ...props.otherStateful.buckets],
        auditDatabaseName: props.otherStateful.auditDatabaseName,
        auditWorkGroupName: props.otherStateful.auditWorkGroupName,
      },
      {
        scheduleGroupName: schedules.groupName,
        restApiId: this.api.restApiId,
        eventSourceMappingArns: [this.activity.eventSourceMappingArn],
        apiGatewayAccount: executionLogs,
        ...(executionLogs
          ? { apiGatewayCloudWatchRoleArn: (this.api.node.findChild('CloudWatchRole') as Role).roleArn }
          : {}),
      },
    );
    // Every function that builds a grant's policy, or checks the profile role pools against the list
    // (wiring.ts: activationRules, checkedProfiles, protectedResources). Not the kill switch: it writes no
    // policy, and the list is most of Lambda's 4 KB of environment.
    for (const f of [createGrant, extendGrant, sweeper])
      f.addEnvironment(ENV.protectedResources, this.protectedResources.map((r) => r.arn).join(','));

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

    drills?.compose({
      api,
      table: props.table,
      topic: props.topic,
      profilesRaw: props.profiles.raw,
      logRetention: props.logRetention ?? RetentionDays.ONE_YEAR,
      securityPrincipals: props.securityPrincipals ?? [],
      protectedResources: this.protectedResources,
      profileRoles: this.profileRoles,
      scheduling: {
        groupName: schedules.groupName,
        schedulerRole: this.schedulerRole,
        expiryFunctionArn: expireGrant.fn.functionArn,
        expiryDeadLetterQueueArn: props.expiryDeadLetterQueue.queueArn,
      },
      frozenProfiles: props.frozenProfiles ?? [],
      maxActivePerPrincipal: props.maxActivePerPrincipal ?? 3,
    });
    if (drills) this.drills = drills;

    const lifecycle = [createGrant, extendGrant, revokeGrant, expireGrant, killSwitch, sweeper];
    grantHubSpokeAccess({
      stack,
      profiles: props.profiles.set,
      lifecycle,
      credentials: issueCredentials,
      readers: [listProfiles, reviewGrant],
      ...(props.accountAliases ? { accountAliases: props.accountAliases } : {}),
    });
    this.lifecycleRoleArns = lifecycle.map((f) => f.fn.role!.roleArn);
    this.credentialRoleArn = issueCredentials.fn.role!.roleArn;

    // The dashboard shows every alarm: those of action logging and the drills too (made by their own constructs).
    const monitored = new Set<Alarm>(Object.values(this.monitoring.alarms));
    const others = this.node.findAll().filter((c): c is Alarm => c instanceof Alarm && !monitored.has(c));
    if (others.length)
      this.monitoring.dashboard.addWidgets(
        new AlarmStatusWidget({ title: 'Alarms: action logging and drills', alarms: others, width: 24, height: 3 }),
      );

    new CfnOutput(this, 'ApiUrl', {
      value: this.api.url,
      description: 'break-glass API endpoint (SigV4-signed requests)',
    });
  }
}

/** The options in `keys` that are set (exactOptionalPropertyTypes: an absent option stays absent). */
export function pick<T extends object, K extends keyof T>(from: T, keys: readonly K[]): Pick<T, K> {
  return Object.fromEntries(keys.filter((k) => from[k] !== undefined).map((k) => [k, from[k]])) as Pick<T, K>;
}

const STATEFUL_KEYS = [
  'table',
  'topic',
  'expiryDeadLetterQueue',
  'expiryFailureQueue',
  'auditBucket',
  'otherStateful',
] as const satisfies readonly (keyof BreakGlassStatefulRefs)[];
const OPTION_KEYS = [
  'securityPrincipals',
  'reviewerPrincipals',
  'reviewDeadlineDays',
  'allowBroadEligibility',
  'frozenProfiles',
  'maxActivePerPrincipal',
  'scheduleGroupName',
  'logRetention',
  'throttling',
  'apiName',
  'apiGatewayCloudWatchRole',
  'accountAliases',
  'spokeOrganizationId',
  'principalOrgId',
] as const satisfies readonly (keyof BreakGlassServiceOptions)[];

/** The service's props (without the profiles) out of a wider props object: the stateful references and the options that are set. */
export function serviceProps(
  from: BreakGlassStatefulRefs & BreakGlassServiceOptions,
): BreakGlassStatefulRefs & BreakGlassServiceOptions {
  return { ...pick(from, STATEFUL_KEYS), ...pick(from, OPTION_KEYS) };
}

/** The options a wider props object sets. */
export function serviceOptions(from: BreakGlassServiceOptions): BreakGlassServiceOptions {
  return pick(from, OPTION_KEYS);
}
