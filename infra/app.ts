/**
 * `cdk synth` / `cdk deploy` entry point. Context (`-c key=value`):
 * - `profiles`: path of the profile file (default `config/profiles.json`); validated here.
 * - `alertEmail`: e-mail subscribed to the alert topic (optional).
 * - `securityPrincipals`: comma-separated ARN patterns allowed to revoke any grant.
 * - `reviewerPrincipals`: comma-separated ARN patterns allowed to review ended grants (never their
 *   own); default `securityPrincipals`. Synth fails when both are empty.
 * - `reviewDeadlineDays`: days after a grant ends before its missing review is announced (default 3).
 * - `allowBroadEligibility`: `true` to accept wildcard role/user names in the eligibility of `grantTo: "caller"`
 *   profiles (profile-role profiles need no flag: their eligibility widens nothing).
 * - `frozenProfiles`: `*` or comma-separated profile names whose activations are refused.
 * - `maxActivePerPrincipal`: ACTIVE grants one person may hold (default 3).
 * - `tableAdminRoleArn`: a role that may write the grants table besides the functions (last resort).
 * - `auditObjectLockMode` (`GOVERNANCE` | `COMPLIANCE`, default GOVERNANCE), `auditObjectLockDays`
 *   (default 400): Object Lock of the audit exports.
 * - `apiGatewayCloudWatchRole`: `true` to create the account-wide API Gateway CloudWatch role and
 *   turn on execution logs (default: access logs only, no account-wide setting).
 * - `account`, `region`: target environment (default: the CLI's). Every principal named above must
 *   be in this account; without one, all must name the same account.
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadProfileFile } from './profiles.js';
import { BreakGlassStatefulStack, BreakGlassStatelessStack } from './stacks.js';

export function buildApp(app: App = new App()): {
  app: App;
  stateful: BreakGlassStatefulStack;
  stateless: BreakGlassStatelessStack;
} {
  // S3 server access logs are let in by a bucket policy on the log bucket, not by its legacy
  // LogDeliveryWrite ACL (cfn-lint W3045; S3 user guide, "Enabling Amazon S3 server access logging").
  if (app.node.tryGetContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy') === undefined)
    app.node.setContext('@aws-cdk/aws-s3:serverAccessLogsUseBucketPolicy', true);
  const ctx = (key: string): string | undefined => {
    const value = app.node.tryGetContext(key);
    return value === undefined || value === '' ? undefined : String(value);
  };
  const profiles = loadProfileFile(ctx('profiles') ?? 'config/profiles.json');
  const account = ctx('account') ?? process.env.CDK_DEFAULT_ACCOUNT;
  const region = ctx('region') ?? process.env.CDK_DEFAULT_REGION;
  const env = account || region ? { ...(account ? { account } : {}), ...(region ? { region } : {}) } : undefined;
  const alertEmail = ctx('alertEmail');
  const maxActive = ctx('maxActivePerPrincipal');
  if (maxActive !== undefined && !/^[1-9]\d*$/.test(maxActive))
    throw new Error(`-c maxActivePerPrincipal must be a whole number of at least 1, got "${maxActive}"`);
  const list = (key: string) =>
    (ctx(key) ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const securityPrincipals = list('securityPrincipals');
  const reviewerPrincipals = list('reviewerPrincipals');
  const reviewDeadline = ctx('reviewDeadlineDays');
  if (reviewDeadline !== undefined && !/^\d+(\.\d+)?$/.test(reviewDeadline))
    throw new Error(`-c reviewDeadlineDays must be a number of days, got "${reviewDeadline}"`);

  const lockMode = (ctx('auditObjectLockMode') ?? 'GOVERNANCE').toUpperCase();
  if (lockMode !== 'GOVERNANCE' && lockMode !== 'COMPLIANCE')
    throw new Error(`-c auditObjectLockMode must be GOVERNANCE or COMPLIANCE, got "${lockMode}"`);
  const lockDays = ctx('auditObjectLockDays') ?? '400';
  if (!/^[1-9]\d*$/.test(lockDays))
    throw new Error(`-c auditObjectLockDays must be a whole number of days, got "${lockDays}"`);
  const tableAdminRoleArn = ctx('tableAdminRoleArn');
  if (tableAdminRoleArn !== undefined && !/^arn:[\w-]+:iam::\d{12}:role\/[\w+=,.@/-]+$/.test(tableAdminRoleArn))
    throw new Error(`-c tableAdminRoleArn must be an IAM role ARN, got "${tableAdminRoleArn}"`);

  const stateful = new BreakGlassStatefulStack(app, 'BreakGlassStateful', {
    ...(env ? { env } : {}),
    ...(alertEmail ? { alertEmail } : {}),
    securityPrincipals,
    ...(tableAdminRoleArn ? { tableAdminRoleArn } : {}),
    auditObjectLock: { mode: lockMode, days: Number(lockDays) },
    description: 'break-glass: grants table, alert topic, expiry failure queues, audit buckets (retained)',
  });
  const stateless = new BreakGlassStatelessStack(app, 'BreakGlassStateless', {
    ...(env ? { env } : {}),
    description: 'break-glass: functions, API, schedules, alarms',
    table: stateful.table,
    topic: stateful.topic,
    expiryDeadLetterQueue: stateful.expiryDeadLetterQueue,
    expiryFailureQueue: stateful.expiryFailureQueue,
    auditBucket: stateful.auditBucket,
    otherStateful: stateful.otherStateful,
    apiGatewayCloudWatchRole: ctx('apiGatewayCloudWatchRole') === 'true',
    profiles,
    securityPrincipals,
    ...(reviewerPrincipals.length ? { reviewerPrincipals } : {}),
    ...(reviewDeadline ? { reviewDeadlineDays: Number(reviewDeadline) } : {}),
    allowBroadEligibility: ctx('allowBroadEligibility') === 'true',
    frozenProfiles: list('frozenProfiles'),
    ...(maxActive ? { maxActivePerPrincipal: Number(maxActive) } : {}),
  });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stateful, stateless };
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  buildApp().app.synth();
}
