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
 *   be in this account or in an account a profile grants in (a spoke); without one, all must name the same account.
 * - Many accounts (docs/many-accounts.md): `accountAliases` (JSON object of account id → alias, named in
 *   grants and alerts); `spokeOrganizationalUnits` (comma-separated `ou-…`: adds the StackSet stack
 *   `BreakGlassSpokeStackSet`, service-managed, auto-deployed; `spokeRegion`, default the hub's region;
 *   `stackSetCallAs` `SELF` | `DELEGATED_ADMIN`); `spokeAccounts` (comma-separated ids: one
 *   `BreakGlassSpoke-<id>` stack each, with `hubLifecycleRoleArns` and `hubCredentialRoleArn` from the
 *   hub's outputs; `hubActivityBusArn`, default the `breakglass-activity` bus of the credential role's
 *   account in the hub's region); `spokeOrganizationId` (`o-…`: the activity bus lets the organization's
 *   accounts forward instead of listing the spokes; needed above 40);
 *   `principalOrgId` (`o-…`: the API's resource policy lets only principals of that
 *   organization call, from any of its accounts).
 */
import { App, Aspects, Aws, CfnOutput, Fn } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { ACTIVITY_BUS_NAME } from './constructs/activity-capture.js';
import { BreakGlassSpokeStack } from './constructs/break-glass-spoke.js';
import { loadProfileFile } from './profiles.js';
import { BreakGlassSpokeStackSetStack } from './spoke-stacks.js';
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
    ...(accountAliases(app.node.tryGetContext('accountAliases')) ?? {}),
    ...(ctx('spokeOrganizationId') ? { spokeOrganizationId: ctx('spokeOrganizationId')! } : {}),
    ...(ctx('principalOrgId') ? { principalOrgId: ctx('principalOrgId')! } : {}),
  });
  addSpokes(app, stateless, profiles.profiles, { list, ctx, region, env });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: true }));
  return { app, stateful, stateless };
}

/** `-c accountAliases`: a JSON object (string on the command line, object in cdk.json) of 12-digit id → alias. */
function accountAliases(raw: unknown): { accountAliases: Record<string, string> } | undefined {
  if (raw === undefined || raw === '') return undefined;
  let value: unknown = raw;
  if (typeof raw === 'string') {
    try {
      value = JSON.parse(raw);
    } catch {
      throw new Error('-c accountAliases must be a JSON object of 12-digit account id → alias');
    }
  }
  if (
    typeof value !== 'object' ||
    value === null ||
    Array.isArray(value) ||
    Object.entries(value).some(([k, v]) => !/^\d{12}$/.test(k) || typeof v !== 'string' || !/^[\w.-]{1,63}$/.test(v))
  )
    throw new Error('-c accountAliases must be a JSON object of 12-digit account id → alias (letters, digits, . _ -)');
  return { accountAliases: value as Record<string, string> };
}

/** The spokes: the StackSet over OUs and/or one stack per listed account (docs/many-accounts.md). */
function addSpokes(
  app: App,
  stateless: BreakGlassStatelessStack,
  profiles: import('../functions/domain/profile.js').ProfileSet,
  options: {
    list: (key: string) => string[];
    ctx: (key: string) => string | undefined;
    region: string | undefined;
    env: { account?: string; region?: string } | undefined;
  },
): void {
  const service = stateless.service;
  new CfnOutput(stateless, 'SpokeLifecycleRoleArns', {
    value: Fn.join(',', [...service.lifecycleRoleArns]),
    description:
      'break-glass: the roles a spoke manager role trusts (-c hubLifecycleRoleArns=… for BreakGlassSpoke-<id>)',
  });
  new CfnOutput(stateless, 'SpokeCredentialRoleArn', {
    value: service.credentialRoleArn,
    description: 'break-glass: the role spoke profile roles trust (-c hubCredentialRoleArn=…)',
  });
  // Sized like the hub's own pools (the functions pick roles from the same sizes); plain strings, no tokens.
  const sizing = service.protectedResources.map((r) => ({ arn: r.sizing, sizing: r.sizing }));
  const ous = options.list('spokeOrganizationalUnits');
  if (ous.length) {
    const callAs = (options.ctx('stackSetCallAs') ?? 'SELF').toUpperCase();
    if (callAs !== 'SELF' && callAs !== 'DELEGATED_ADMIN')
      throw new Error(`-c stackSetCallAs must be SELF or DELEGATED_ADMIN, got "${callAs}"`);
    const region = options.ctx('spokeRegion') ?? options.region;
    if (!region)
      throw new Error(
        '-c spokeOrganizationalUnits needs a region: -c spokeRegion=<region> (IAM is global: one region)',
      );
    new BreakGlassSpokeStackSetStack(app, 'BreakGlassSpokeStackSet', {
      ...(options.env ? { env: options.env } : {}),
      description: 'break-glass: the StackSet that deploys a spoke into every account of the given OUs',
      profiles,
      organizationalUnits: ous,
      region,
      lifecycleRoleArns: service.lifecycleRoleArns,
      credentialRoleArn: service.credentialRoleArn,
      hubProtectedResources: sizing,
      // The bus exists when the profiles name spokes; otherwise its would-be ARN (the forwarder is then in no account).
      activityBusArn:
        service.activity.spokeBus?.eventBusArn ??
        `arn:${stateless.partition}:events:${stateless.region}:${stateless.account}:event-bus/${ACTIVITY_BUS_NAME}`,
      callAs,
    });
  }
  for (const account of options.list('spokeAccounts')) {
    if (!/^\d{12}$/.test(account)) throw new Error(`-c spokeAccounts: "${account}" is not a 12-digit account id`);
    const lifecycle = options.list('hubLifecycleRoleArns');
    const credential = options.ctx('hubCredentialRoleArn');
    if (!lifecycle.length || !credential)
      throw new Error(
        '-c spokeAccounts needs -c hubLifecycleRoleArns=… and -c hubCredentialRoleArn=… (the hub stack outputs SpokeLifecycleRoleArns and SpokeCredentialRoleArn)',
      );
    const hub = /^arn:([\w-]+):iam::(\d{12}):role\//.exec(credential);
    if (!hub)
      throw new Error(
        `-c hubCredentialRoleArn must be an IAM role ARN (output SpokeCredentialRoleArn), got "${credential}"`,
      );
    const busArn = options.ctx('hubActivityBusArn');
    if (busArn !== undefined && !/^arn:[\w-]+:events:[a-z0-9-]+:\d{12}:event-bus\/[\w.-]+$/.test(busArn))
      throw new Error(`-c hubActivityBusArn must be an event bus ARN (output SpokeActivityBusArn), got "${busArn}"`);
    new BreakGlassSpokeStack(app, `BreakGlassSpoke-${account}`, {
      env: { account, ...(options.region ? { region: options.region } : {}) },
      description: `break-glass spoke in ${account}: manager role, profile roles, action logging's forwarder`,
      profiles,
      lifecycleRoleArns: lifecycle,
      credentialRoleArn: credential,
      hubProtectedResources: sizing,
      // Default: the hub's bus, in the credential role's account and the hub's region (this one when none is given).
      activityBusArn:
        busArn ?? `arn:${hub[1]}:events:${options.region ?? Aws.REGION}:${hub[2]}:event-bus/${ACTIVITY_BUS_NAME}`,
    });
  }
}

if (process.argv[1] && import.meta.url.endsWith(process.argv[1].split('/').pop()!)) {
  buildApp().app.synth();
}
