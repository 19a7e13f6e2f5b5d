/**
 * `cdk synth` / `cdk deploy` entry point. Context (`-c key=value`):
 * - `profiles`: path of the profile file (default `config/profiles.json`); validated here.
 * - `alertEmail`: e-mail subscribed to the alert topic (optional).
 * - `securityPrincipals`: comma-separated ARN patterns allowed to revoke any grant.
 * - `reviewerPrincipals`: comma-separated ARN patterns allowed to review ended grants (never their
 *   own); default `securityPrincipals`. Synth fails when both are empty.
 * - `reviewDeadlineDays`: days after a grant ends before its missing review is announced (default 3).
 * - `allowBroadEligibility`: `true` to accept wildcard role/user names in eligibility.
 * - `frozenProfiles`: `*` or comma-separated profile names whose activations are refused.
 * - `maxActivePerPrincipal`: ACTIVE grants one person may hold (default 3).
 * - `account`, `region`: target environment (default: the CLI's).
 */
import { App, Aspects } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { loadProfileFile } from './profiles.js';
import { BreakGlassStatefulStack, BreakGlassStatelessStack } from './stacks.js';

export function buildApp(app: App = new App()): { app: App; stateful: BreakGlassStatefulStack; stateless: BreakGlassStatelessStack } {
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
  if (maxActive !== undefined && !/^[1-9]\d*$/.test(maxActive)) throw new Error(`-c maxActivePerPrincipal must be a whole number of at least 1, got "${maxActive}"`);
  const list = (key: string) => (ctx(key) ?? '').split(',').map((s) => s.trim()).filter(Boolean);
  const securityPrincipals = list('securityPrincipals');
  const reviewerPrincipals = list('reviewerPrincipals');
  const reviewDeadline = ctx('reviewDeadlineDays');
  if (reviewDeadline !== undefined && !/^\d+(\.\d+)?$/.test(reviewDeadline)) throw new Error(`-c reviewDeadlineDays must be a number of days, got "${reviewDeadline}"`);

  const stateful = new BreakGlassStatefulStack(app, 'BreakGlassStateful', { ...(env ? { env } : {}), ...(alertEmail ? { alertEmail } : {}), description: 'break-glass: grants table, alert topic, dead-letter queue, audit bucket (retained)' });
  const stateless = new BreakGlassStatelessStack(app, 'BreakGlassStateless', {
    ...(env ? { env } : {}),
    description: 'break-glass: functions, API, schedules, alarms',
    table: stateful.table,
    topic: stateful.topic,
    expiryDeadLetterQueue: stateful.expiryDeadLetterQueue,
    auditBucket: stateful.auditBucket,
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
