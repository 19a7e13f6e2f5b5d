/**
 * The names of the environment variables the functions read, declared once: the stacks set them
 * (`infra/`), the handlers read them (`functions/handlers/config.ts`, `wiring.ts`), the sandbox and
 * the tests set them. Write `ENV.tableName`, never the string. What each one holds is documented
 * here and in docs/reference-api.md's configuration section.
 */
export const ENV = {
  /** The grants table's name (every function that reads or writes it). */
  tableName: 'TABLE_NAME',
  /** The grants table's ARN (the daily export). */
  tableArn: 'TABLE_ARN',
  /** The alert topic's ARN. */
  topicArn: 'TOPIC_ARN',
  /** The EventBridge Scheduler group of the expiry schedules. */
  scheduleGroup: 'SCHEDULE_GROUP',
  /** The expiry function the schedules invoke. */
  expiryFunctionArn: 'EXPIRY_FUNCTION_ARN',
  /** The role Scheduler assumes to invoke it. */
  schedulerRoleArn: 'SCHEDULER_ROLE_ARN',
  /** The schedules' dead-letter queue (optional). */
  expiryDlqArn: 'EXPIRY_DLQ_ARN',
  /** Comma-separated ARN patterns of the security principals (revoke anyone's grant, kill switch). */
  securityPrincipals: 'SECURITY_PRINCIPALS',
  /** Comma-separated ARN patterns of the reviewers (never of their own grants). */
  reviewerPrincipals: 'REVIEWER_PRINCIPALS',
  /** Comma-separated ARN patterns no grant may reach (the deployment's own resources). */
  protectedResources: 'PROTECTED_RESOURCES',
  /** The profile file, outside a bundle (the sandbox, the tests); a bundle carries its own copy. */
  profilesFile: 'PROFILES_FILE',
  /** ACTIVE grants one principal may hold at once (default 3). */
  maxActivePerPrincipal: 'MAX_ACTIVE_PER_PRINCIPAL',
  /** `*` or comma-separated profile names frozen by configuration. */
  frozenProfiles: 'FROZEN_PROFILES',
  /** Days after a grant ends before its missing review is announced (default 3). */
  reviewDeadlineDays: 'REVIEW_DEADLINE_DAYS',
  /** The audit bucket the daily export writes to. */
  auditBucket: 'AUDIT_BUCKET',
  /** The audit bucket's owner account (optional; the export's expected bucket owner). */
  auditBucketOwner: 'AUDIT_BUCKET_OWNER',
  /** The account of the profile roles (the credential function). */
  accountId: 'ACCOUNT_ID',
  /** JSON object of account id → alias (deploy context `accountAliases`; many accounts, docs/many-accounts.md). */
  accountAliases: 'ACCOUNT_ALIASES',
  /** The partition of the profile roles (default `aws`). */
  awsPartition: 'AWS_PARTITION',
  /** Per-attempt timeout of every AWS SDK call, in milliseconds. */
  awsTimeoutMs: 'BREAKGLASS_AWS_TIMEOUT_MS',
  /** How long an activation waits for another on the same role or user (default 8000 ms). */
  leaseWaitMs: 'BREAKGLASS_LEASE_WAIT_MS',
  /** The DENIED alert window per caller and profile (default 300 s; 0 announces every attempt). */
  denialAlertWindowSeconds: 'DENIAL_ALERT_WINDOW_SECONDS',
  /** The drill's SQS queue, subscribed to the alert topic with the `drill` filter (the drill function). */
  drillQueueUrl: 'DRILL_QUEUE_URL',
  /** The drill function `POST /drills` invokes asynchronously. */
  drillFunctionName: 'DRILL_FUNCTION_NAME',
  /** Powertools Logger's level (DEBUG, INFO, WARN, ERROR; the stacks set INFO unless `logLevel` says otherwise). */
  powertoolsLogLevel: 'POWERTOOLS_LOG_LEVEL',
  /** Minutes after a grant's end before its activity summary is announced (default 15: CloudTrail's late deliveries). */
  activitySettleMinutes: 'ACTIVITY_SETTLE_MINUTES',
} as const;

export type EnvName = (typeof ENV)[keyof typeof ENV];
