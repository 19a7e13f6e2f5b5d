/**
 * Builds the inline IAM policy for a grant from its profile alone. Nothing a caller sends
 * reaches a statement: the only inputs are the profile, the expiry the use case computed,
 * and the principal API Gateway authenticated.
 */
import { createHash } from 'node:crypto';
import type { Profile } from './profile.js';

export interface PolicyDocument {
  readonly Version: '2012-10-17';
  readonly Statement: readonly PolicyStatement[];
}

export interface PolicyStatement {
  readonly Sid?: string;
  readonly Effect: 'Allow' | 'Deny';
  readonly Action: string[];
  readonly Resource: string[];
  readonly Condition?: Record<string, Record<string, unknown>>;
}

export interface PolicyGuards {
  /** Every statement stops applying at this instant (`aws:CurrentTime` < expiresAt). */
  readonly expiresAt: string;
  /**
   * For an assumed-role caller, `<roleId>:<sessionName>`: on a role several people share,
   * only the session that activated gains anything. Undefined for IAM users.
   */
  readonly userId?: string;
  /** Require an MFA-authenticated session, optionally no older than this many seconds. */
  readonly mfa?: { readonly maxAgeSeconds?: number };
  /**
   * ARN patterns of break-glass's own resources (`PROTECTED_RESOURCES`): every policy ends with
   * an explicit Deny on them, so no grant can reach the table, the functions, the topic or the
   * roles that hold grants, whatever its profile allows (an explicit Deny wins over any Allow).
   */
  readonly protectedResources: readonly string[];
}

/** Sid of the closing self-protection statement(s). */
export const SELF_PROTECTION_SID = 'BreakGlassSelfProtection';
/** Sid of the statement that keeps grants off break-glass's own metric namespace. */
export const METRICS_PROTECTION_SID = 'BreakGlassMetricsProtection';

/**
 * The CloudWatch namespace of break-glass's own custom metrics (the alarms that watch it read them).
 * It lives here, in the domain, so the grant policy's self-protection and the metrics adapter share it.
 */
export const METRICS_NAMESPACE = 'BreakGlass';

/** IAM's limit on the aggregate size of a role's inline policies (whitespace not counted). */
export const INLINE_POLICY_LIMIT = 10_240;

/** IAM's aggregate inline-policy limits per entity type (non-adjustable IAM quotas). */
export const INLINE_POLICY_LIMITS = { role: 10_240, user: 2_048 } as const;

/** A policy's size as IAM counts it: characters other than whitespace. */
export function iamPolicySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

export function buildGrantPolicy(profile: Pick<Profile, 'statements'>, guards: PolicyGuards): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      ...profile.statements.map((s) => {
        const condition: Record<string, Record<string, unknown>> = {};
        for (const [operator, entries] of Object.entries(s.conditions ?? {})) condition[operator] = { ...entries };
        condition.DateLessThan = { ...condition.DateLessThan, 'aws:CurrentTime': guards.expiresAt };
        if (guards.userId !== undefined) {
          condition.StringLike = { ...condition.StringLike, 'aws:userid': guards.userId };
        }
        if (guards.mfa) {
          condition.Bool = { ...condition.Bool, 'aws:MultiFactorAuthPresent': 'true' };
          if (guards.mfa.maxAgeSeconds !== undefined) {
            condition.NumericLessThan = {
              ...condition.NumericLessThan,
              'aws:MultiFactorAuthAge': String(guards.mfa.maxAgeSeconds),
            };
          }
        }
        return {
          ...(s.sid ? { Sid: s.sid } : {}),
          Effect: s.effect,
          Action: [...s.actions],
          Resource: [...s.resources],
          Condition: condition,
        };
      }),
      ...selfProtection(guards),
    ],
  };
}

/**
 * The explicit Deny on break-glass's own resources. With a session guard (a shared role, or a
 * profile role's pool) it is bound to the grant's session like the rest; on an IAM user it
 * needs none. It carries no expiry: a Deny that outlives the grant takes nothing from anyone.
 */
function selfProtection(guards: PolicyGuards): PolicyStatement[] {
  const session = guards.userId !== undefined ? { StringLike: { 'aws:userid': guards.userId } } : undefined;
  return [
    // cloudwatch:PutMetricData names no resource, so the ARN list below cannot reach break-glass's own
    // metrics (the anomaly alarms' series, the sweeper's heartbeat): a grant could widen the bands or keep
    // the heartbeat green. The namespace condition key can: "The following policy allows the user to publish
    // metrics in any namespace except for CustomNamespace2" — a Deny of cloudwatch:PutMetricData with
    // StringEquals cloudwatch:namespace (CloudWatch User Guide, "Using condition keys to limit access to
    // CloudWatch namespaces"). Like the statement below it carries no expiry.
    {
      Sid: METRICS_PROTECTION_SID,
      Effect: 'Deny',
      Action: ['cloudwatch:PutMetricData'],
      Resource: ['*'],
      Condition: { StringEquals: { 'cloudwatch:namespace': METRICS_NAMESPACE }, ...session },
    },
    ...(guards.protectedResources.length
      ? [
          {
            Sid: SELF_PROTECTION_SID,
            Effect: 'Deny' as const,
            Action: ['*'],
            Resource: [...guards.protectedResources],
            ...(session ? { Condition: session } : {}),
          },
        ]
      : []),
  ];
}

/**
 * The same policy with another expiry: every `aws:CurrentTime` bound moves, nothing else
 * changes. Extensions re-attach exactly what the grant recorded at activation this way,
 * never a policy rebuilt from the profile file as it is now.
 */
export function withExpiry(document: string, expiresAt: string): string {
  const policy = JSON.parse(document) as PolicyDocument;
  return serializePolicy({
    ...policy,
    Statement: policy.Statement.map((s) =>
      s.Condition?.DateLessThan?.['aws:CurrentTime'] !== undefined
        ? {
            ...s,
            Condition: { ...s.Condition, DateLessThan: { ...s.Condition.DateLessThan, 'aws:CurrentTime': expiresAt } },
          }
        : s,
    ),
  });
}

/** SHA-256 (hex) of a policy document as attached: recorded in ACTIVATED and EXTENDED events. */
export function policyHash(document: string): string {
  return createHash('sha256').update(document).digest('hex');
}

/** The policy as IAM stores and counts it: compact JSON. */
export function serializePolicy(policy: PolicyDocument): string {
  return JSON.stringify(policy);
}

/**
 * The largest this profile's policy can get, self-protection included: guards at their longest
 * (a 128-char role id plus 64-char session name). Used to refuse, at load, a profile that could
 * never be attached; profile roles are sized with `profileRolePool` (profile-roles.ts).
 */
export function worstCasePolicySize(profile: Profile, protectedResources: readonly string[] = []): number {
  return iamPolicySize(
    serializePolicy(
      buildGrantPolicy(profile, {
        expiresAt: '2099-12-31T23:59:59Z',
        userId: `${'A'.repeat(128)}:${'s'.repeat(64)}`,
        ...guardsFor(profile),
        protectedResources,
      }),
    ),
  );
}

/** The guards a profile itself asks for (MFA); the use case adds expiry and session. */
export function guardsFor(profile: Profile): Pick<PolicyGuards, 'mfa'> {
  return profile.mfa.required
    ? { mfa: profile.mfa.maxAgeSeconds !== undefined ? { maxAgeSeconds: profile.mfa.maxAgeSeconds } : {} }
    : {};
}

/** One line saying what a profile grants: "Allow s3:GetObject, s3:ListBucket on arn:…; …" (bounded). */
export function summarizeGrants(profile: Profile): string {
  const text = profile.statements
    .map((s) => `${s.effect} ${s.actions.join(', ')} on ${s.resources.join(', ')}`)
    .join('; ');
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}
