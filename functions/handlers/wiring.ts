/**
 * Real adapters, built once per module (cold start) from the environment. Each getter reads
 * only the variables its adapter needs, so a function that never schedules needs no
 * scheduler settings.
 */

import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientDefaults } from '../adapters/client-defaults.js';
import { DynamoActivityStore } from '../adapters/dynamodb-activity.adapter.js';
import { DEFAULT_ALERT_WINDOW_SECONDS, DynamoAlertLimiter } from '../adapters/dynamodb-alert-limiter.adapter.js';
import { DynamoAuditLog } from '../adapters/dynamodb-audit-log.adapter.js';
import { DynamoDrillStore } from '../adapters/dynamodb-drill-store.adapter.js';
import { DynamoTableExporter } from '../adapters/dynamodb-export.adapter.js';
import { DynamoControlStore, DynamoGrantStore, DynamoLeaseLock } from '../adapters/dynamodb-grant-store.adapter.js';
import { IamPolicyAdapter } from '../adapters/iam-policy.adapter.js';
import { SchedulerAdapter } from '../adapters/scheduler.adapter.js';
import { SnsNotifier } from '../adapters/sns-notifier.adapter.js';
import { SpokeAccessManager } from '../adapters/spoke-access.adapter.js';
import { StsCredentialVendor } from '../adapters/sts-credentials.adapter.js';
import { ENV } from '../config/env.js';
import type { AccountDirectory } from '../domain/accounts.js';
import { type ActivationRules, DEFAULT_RULES } from '../domain/activate-grant.js';
import { ConfigurationError } from '../domain/errors.js';
import type { CredentialSettings } from '../domain/issue-credentials.js';
import type { Ports } from '../domain/ports.js';
import type { ProfileSet } from '../domain/profile.js';
import { profileRolePools } from '../domain/profile-roles.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../domain/review-check.js';
import { risksByProfile } from '../domain/risk.js';
import { listEnv, loadProfiles, optionalEnv, requireEnv } from './config.js';
import { domainLog as log, withEventMetrics } from './observability.js';

/**
 * Built on first use, then kept. Marked free of side effects for the bundler: with `sideEffects: false`
 * (package.json), a getter no handler uses is dropped with the adapter and SDK client it would build, so each
 * function loads only the clients it needs at cold start (docs/benchmark.md).
 */
/* @__NO_SIDE_EFFECTS__ */
function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/** One DynamoDB client (one connection pool) for the grant store, the kill switch and the leases. */
const dynamo = once(() => new DynamoDBClient(clientDefaults()));
/** Names of the deployed profiles: the only values a metric's `profile` dimension takes. */
const deployedProfileNames = once(() => new Set(profiles().profiles.map((p) => p.name)));
/** The grant store; each event it records is also counted as its metric (`observability.ts`). */
export const store = once(() =>
  withEventMetrics(
    new DynamoGrantStore({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo() }),
    deployedProfileNames,
  ),
);
export const control = once(
  () => new DynamoControlStore({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo() }),
);
/**
 * How long an activation waits for another one on the same role or user (`BREAKGLASS_LEASE_WAIT_MS`,
 * default 8,000: well inside API Gateway's 29-second limit); then it answers 503 Busy.
 */
export const locks = once(() => {
  const raw = optionalEnv(ENV.leaseWaitMs);
  const waitMs = raw === undefined ? undefined : Number(raw);
  if (waitMs !== undefined && (!Number.isInteger(waitMs) || waitMs < 100 || waitMs > 60_000))
    throw new ConfigurationError(
      `Environment variable ${ENV.leaseWaitMs} must be a whole number of milliseconds between 100 and 60000`,
    );
  return new DynamoLeaseLock({
    tableName: requireEnv(ENV.tableName),
    awsSdkV3Client: dynamo(),
    ...(waitMs ? { waitMs, leaseMs: Math.max(10_000, waitMs) } : {}),
  });
});
/**
 * Rate limit on DENIED alerts, per caller and profile: one alert, then at most one per window counting the rest
 * (`DENIAL_ALERT_WINDOW_SECONDS`, default 300; 0 announces every attempt).
 */
export const alertLimiter = once(() => {
  const raw = optionalEnv(ENV.denialAlertWindowSeconds);
  const windowSeconds = raw === undefined ? DEFAULT_ALERT_WINDOW_SECONDS : Number(raw);
  if (!Number.isInteger(windowSeconds) || windowSeconds < 0 || windowSeconds > 86_400)
    throw new ConfigurationError(
      `Environment variable ${ENV.denialAlertWindowSeconds} must be a whole number of seconds between 0 and 86400`,
    );
  return new DynamoAlertLimiter({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo(), windowSeconds });
});
/**
 * Many accounts (`accounts.ts`): the hub's account `ACCOUNT_ID` (optional here; without it every
 * grant is in the function's own account) and `ACCOUNT_ALIASES`, a JSON object of account id →
 * alias from the deploy context `accountAliases` (never looked up during an outage).
 */
export const accountDirectory = once((): AccountDirectory => {
  const hub = optionalEnv(ENV.accountId);
  if (hub !== undefined && !/^\d{12}$/.test(hub))
    throw new ConfigurationError(`Environment variable ${ENV.accountId} must be a 12-digit AWS account id`);
  const raw = optionalEnv(ENV.accountAliases);
  let aliases: Record<string, string> = {};
  if (raw !== undefined) {
    try {
      aliases = JSON.parse(raw) as Record<string, string>;
    } catch {
      throw new ConfigurationError(
        `Environment variable ${ENV.accountAliases} must be a JSON object of account id → alias`,
      );
    }
    if (
      typeof aliases !== 'object' ||
      aliases === null ||
      Object.entries(aliases).some(([k, v]) => !/^\d{12}$/.test(k) || typeof v !== 'string')
    )
      throw new ConfigurationError(
        `Environment variable ${ENV.accountAliases} must be a JSON object of account id → alias`,
      );
  }
  return { ...(hub ? { hub } : {}), aliases };
});
/** IAM of the hub and, through each spoke's manager role, of the spokes. */
export const access = once(
  () =>
    new SpokeAccessManager({
      hub: new IamPolicyAdapter(),
      partition: optionalEnv(ENV.awsPartition) ?? 'aws',
      ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
      aliases: accountDirectory().aliases ?? {},
    }),
);
export const notifier = once(() => new SnsNotifier({ topicArn: requireEnv(ENV.topicArn) }));
export const scheduler = once(() => {
  const deadLetterArn = optionalEnv(ENV.expiryDlqArn);
  return new SchedulerAdapter({
    groupName: requireEnv(ENV.scheduleGroup),
    targetArn: requireEnv(ENV.expiryFunctionArn),
    roleArn: requireEnv(ENV.schedulerRoleArn),
    ...(deadLetterArn ? { deadLetterArn } : {}),
  });
});
export const profiles = once((): ProfileSet => loadProfiles());
/** The acknowledged escalation risks of each deployed profile, for alerts. */
export const profileRisks = once(() => risksByProfile(profiles().profiles));
/** ARN patterns of the principals who may revoke anyone's grant. */
export const securityPrincipals = once(() => listEnv(ENV.securityPrincipals));
/** ARN patterns of the principals who may review grants (never their own). */
export const reviewerPrincipals = once(() => {
  const reviewers = listEnv(ENV.reviewerPrincipals);
  if (!reviewers.length) throw new ConfigurationError(`Environment variable ${ENV.reviewerPrincipals} is required`);
  return reviewers;
});
/** Action logging: CloudTrail calls per grant (`activity.ts`). */
export const activityStore = once(
  () => new DynamoActivityStore({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo() }),
);
/** Who may read any grant's activity besides its requester: `SECURITY_PRINCIPALS` and `REVIEWER_PRINCIPALS` (either may be empty). */
export const activityReaders = once(() => ({
  security: listEnv(ENV.securityPrincipals),
  reviewers: listEnv(ENV.reviewerPrincipals),
}));
export const auditLog = once(
  () => new DynamoAuditLog({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo() }),
);
export const exporter = once(
  () =>
    new DynamoTableExporter({
      tableArn: requireEnv(ENV.tableArn),
      bucket: requireEnv(ENV.auditBucket),
      ...(optionalEnv(ENV.auditBucketOwner) ? { bucketOwner: optionalEnv(ENV.auditBucketOwner)! } : {}),
    }),
);
/** Days after a grant ends before its missing review is announced (`REVIEW_DEADLINE_DAYS`, default 3). */
export const reviewDeadlineDays = once(() => {
  const raw = optionalEnv(ENV.reviewDeadlineDays);
  const days = raw === undefined ? DEFAULT_REVIEW_DEADLINE_DAYS : Number(raw);
  if (!Number.isFinite(days) || days <= 0 || days > 365)
    throw new ConfigurationError(
      `Environment variable ${ENV.reviewDeadlineDays} must be a number of days greater than 0 and at most 365`,
    );
  return days;
});

export const clock = { now: () => new Date() };

export const vendor = once(() => new StsCredentialVendor());
/**
 * Where the profile roles are: `ACCOUNT_ID` (12 digits, required by the credential function) and
 * `AWS_PARTITION` (default `aws`).
 */
export const credentialSettings = once((): CredentialSettings => {
  const accountId = requireEnv(ENV.accountId);
  if (!/^\d{12}$/.test(accountId))
    throw new ConfigurationError(`Environment variable ${ENV.accountId} must be a 12-digit AWS account id`);
  return { accountId, partition: optionalEnv(ENV.awsPartition) ?? 'aws' };
});

/** `FROZEN_PROFILES`: `*` or profile names frozen by configuration (activations, extensions, credentials). */
export const frozenProfiles = once((): string[] => listEnv(ENV.frozenProfiles));

/** Activation rules from configuration: `FROZEN_PROFILES` (`*` or names), `MAX_ACTIVE_PER_PRINCIPAL` (default 3). */
export const activationRules = once((): ActivationRules => {
  const raw = optionalEnv(ENV.maxActivePerPrincipal);
  const max = raw === undefined ? DEFAULT_RULES.maxActivePerPrincipal : Number(raw);
  if (!Number.isInteger(max) || max < 1)
    throw new ConfigurationError(
      `Environment variable ${ENV.maxActivePerPrincipal} must be a whole number of at least 1`,
    );
  // A racing duplicate waits for the activation in flight as long as an activation waits for a lease.
  const wait = optionalEnv(ENV.leaseWaitMs);
  return {
    frozenByConfig: frozenProfiles(),
    maxActivePerPrincipal: max,
    protectedResources: protectedResources(),
    ...(wait && Number.isInteger(Number(wait)) ? { pendingWaitMs: Number(wait) } : {}),
    accounts: accountDirectory(),
  };
});

/**
 * `PROTECTED_RESOURCES`: comma-separated ARN patterns of the deployment's own resources (table,
 * topic, queues, buckets, functions, schedule group, roles `/breakglass/*`), denied in every
 * policy break-glass writes. Required: a function that writes policies must never write one
 * without it. Not the API's `execute-api` ARN: a responder needs it to revoke or extend.
 */
export const protectedResources = once((): string[] => {
  const list = listEnv(ENV.protectedResources);
  if (!list.length) throw new ConfigurationError(`Environment variable ${ENV.protectedResources} is required`);
  const bad = list.find((p) => !/^arn:[\w-]+:[\w-]+:[\w-]*:(\d{12}|\*)?:.+$/.test(p));
  if (bad)
    throw new ConfigurationError(
      `Environment variable ${ENV.protectedResources} must list ARN patterns; "${bad.slice(0, 100)}" is not one`,
    );
  return list;
});

/** The profiles, with every profile role pool checked against PROTECTED_RESOURCES (too large a policy fails here, at cold start). */
export const checkedProfiles = once((): ProfileSet => {
  const set = profiles();
  profileRolePools(set, protectedResources());
  return set;
});

/** Every port, for the use cases that need them all (activation, revocation). */
export function allPorts(): Ports {
  return {
    store: store(),
    access: access(),
    scheduler: scheduler(),
    notifier: notifier(),
    control: control(),
    locks: locks(),
    alertLimiter: alertLimiter(),
    clock,
    profileRisks: profileRisks(),
    ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
    newId: randomUUID,
    log,
    activity: activityStore(),
  };
}

/**
 * Drills (`drill.ts`): their results in the table. The drill queue's reader (`SqsDrillInbox`) is wired in
 * run-drill.ts, the one function that reads it: here, it would bundle the SQS client into every function.
 */
export const drillStore = once(
  () => new DynamoDrillStore({ tableName: requireEnv(ENV.tableName), awsSdkV3Client: dynamo() }),
);
