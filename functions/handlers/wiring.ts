/**
 * Real adapters, built once per module (cold start) from the environment. Each getter reads
 * only the variables its adapter needs, so a function that never schedules needs no
 * scheduler settings.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { clientDefaults } from '../adapters/client-defaults.js';
import { DynamoControlStore, DynamoGrantStore, DynamoLeaseLock } from '../adapters/dynamodb-grant-store.adapter.js';
import { DynamoAuditLog } from '../adapters/dynamodb-audit-log.adapter.js';
import { DynamoActivityStore } from '../adapters/dynamodb-activity.adapter.js';
import { DynamoTableExporter } from '../adapters/dynamodb-export.adapter.js';
import { IamPolicyAdapter } from '../adapters/iam-policy.adapter.js';
import { DEFAULT_REVIEW_DEADLINE_DAYS } from '../domain/review-check.js';
import { SchedulerAdapter } from '../adapters/scheduler.adapter.js';
import { SnsNotifier } from '../adapters/sns-notifier.adapter.js';
import type { ProfileSet } from '../domain/profile.js';
import { DEFAULT_RULES, type ActivationRules } from '../domain/activate-grant.js';
import { ConfigurationError } from '../domain/errors.js';
import type { Ports } from '../domain/ports.js';
import { listEnv, loadProfiles, optionalEnv, requireEnv } from './config.js';
import { log } from './log.js';

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}

/** One DynamoDB client (one connection pool) for the grant store, the kill switch and the leases. */
const dynamo = once(() => new DynamoDBClient(clientDefaults()));
export const store = once(() => new DynamoGrantStore({ tableName: requireEnv('TABLE_NAME'), awsSdkV3Client: dynamo() }));
export const control = once(() => new DynamoControlStore({ tableName: requireEnv('TABLE_NAME'), awsSdkV3Client: dynamo() }));
/**
 * How long an activation waits for another one on the same role or user (`BREAKGLASS_LEASE_WAIT_MS`,
 * default 8,000: well inside API Gateway's 29-second limit); then it answers 503 Busy.
 */
export const locks = once(() => {
  const raw = optionalEnv('BREAKGLASS_LEASE_WAIT_MS');
  const waitMs = raw === undefined ? undefined : Number(raw);
  if (waitMs !== undefined && (!Number.isInteger(waitMs) || waitMs < 100 || waitMs > 60_000)) throw new ConfigurationError('Environment variable BREAKGLASS_LEASE_WAIT_MS must be a whole number of milliseconds between 100 and 60000');
  return new DynamoLeaseLock({ tableName: requireEnv('TABLE_NAME'), awsSdkV3Client: dynamo(), ...(waitMs ? { waitMs, leaseMs: Math.max(10_000, waitMs) } : {}) });
});
export const access = once(() => new IamPolicyAdapter());
export const notifier = once(() => new SnsNotifier({ topicArn: requireEnv('TOPIC_ARN') }));
export const scheduler = once(() => {
  const deadLetterArn = optionalEnv('EXPIRY_DLQ_ARN');
  return new SchedulerAdapter({
    groupName: requireEnv('SCHEDULE_GROUP'),
    targetArn: requireEnv('EXPIRY_FUNCTION_ARN'),
    roleArn: requireEnv('SCHEDULER_ROLE_ARN'),
    ...(deadLetterArn ? { deadLetterArn } : {}),
  });
});
export const profiles = once((): ProfileSet => loadProfiles());
/** ARN patterns of the principals who may revoke anyone's grant. */
export const securityPrincipals = once(() => listEnv('SECURITY_PRINCIPALS'));
/** ARN patterns of the principals who may review grants (never their own). */
export const reviewerPrincipals = once(() => {
  const reviewers = listEnv('REVIEWER_PRINCIPALS');
  if (!reviewers.length) throw new ConfigurationError('Environment variable REVIEWER_PRINCIPALS is required');
  return reviewers;
});
/** Action logging: CloudTrail calls per grant (`activity.ts`). */
export const activityStore = once(() => new DynamoActivityStore({ tableName: requireEnv('TABLE_NAME'), awsSdkV3Client: dynamo() }));
/** Who may read any grant's activity besides its requester: `SECURITY_PRINCIPALS` and `REVIEWER_PRINCIPALS` (either may be empty). */
export const activityReaders = once(() => ({ security: listEnv('SECURITY_PRINCIPALS'), reviewers: listEnv('REVIEWER_PRINCIPALS') }));
export const auditLog = once(() => new DynamoAuditLog({ tableName: requireEnv('TABLE_NAME'), awsSdkV3Client: dynamo() }));
export const exporter = once(() => new DynamoTableExporter({ tableArn: requireEnv('TABLE_ARN'), bucket: requireEnv('AUDIT_BUCKET'), ...(optionalEnv('AUDIT_BUCKET_OWNER') ? { bucketOwner: optionalEnv('AUDIT_BUCKET_OWNER')! } : {}) }));
/** Days after a grant ends before its missing review is announced (`REVIEW_DEADLINE_DAYS`, default 3). */
export const reviewDeadlineDays = once(() => {
  const raw = optionalEnv('REVIEW_DEADLINE_DAYS');
  const days = raw === undefined ? DEFAULT_REVIEW_DEADLINE_DAYS : Number(raw);
  if (!Number.isFinite(days) || days <= 0 || days > 365) throw new ConfigurationError('Environment variable REVIEW_DEADLINE_DAYS must be a number of days greater than 0 and at most 365');
  return days;
});

export const clock = { now: () => new Date() };

/** Activation rules from configuration: `FROZEN_PROFILES` (`*` or names), `MAX_ACTIVE_PER_PRINCIPAL` (default 3). */
export const activationRules = once((): ActivationRules => {
  const raw = optionalEnv('MAX_ACTIVE_PER_PRINCIPAL');
  const max = raw === undefined ? DEFAULT_RULES.maxActivePerPrincipal : Number(raw);
  if (!Number.isInteger(max) || max < 1) throw new ConfigurationError('Environment variable MAX_ACTIVE_PER_PRINCIPAL must be a whole number of at least 1');
  return { frozenByConfig: listEnv('FROZEN_PROFILES'), maxActivePerPrincipal: max };
});

/** Every port, for the use cases that need them all (activation, revocation). */
export function allPorts(): Ports {
  return { store: store(), access: access(), scheduler: scheduler(), notifier: notifier(), control: control(), locks: locks(), clock, newId: randomUUID, log };
}
