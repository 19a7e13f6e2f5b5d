/**
 * Builds the inline IAM policy for a grant from its profile alone. Nothing a caller sends
 * reaches a statement: the only inputs are the profile, the expiry the use case computed,
 * and the principal API Gateway authenticated.
 */
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
  readonly Condition: Record<string, Record<string, unknown>>;
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
}

/** IAM's limit on the aggregate size of a role's inline policies (whitespace not counted). */
export const INLINE_POLICY_LIMIT = 10_240;

/** IAM's aggregate inline-policy limits per entity type (non-adjustable IAM quotas). */
export const INLINE_POLICY_LIMITS = { role: 10_240, user: 2_048 } as const;

/** A policy's size as IAM counts it: characters other than whitespace. */
export function iamPolicySize(document: string): number {
  return document.replace(/\s/g, '').length;
}

export function buildGrantPolicy(profile: Profile, guards: PolicyGuards): PolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: profile.statements.map((s) => {
      const condition: Record<string, Record<string, unknown>> = {};
      for (const [operator, entries] of Object.entries(s.conditions ?? {})) condition[operator] = { ...entries };
      condition.DateLessThan = { ...condition.DateLessThan, 'aws:CurrentTime': guards.expiresAt };
      if (guards.userId !== undefined) {
        condition.StringLike = { ...condition.StringLike, 'aws:userid': guards.userId };
      }
      if (guards.mfa) {
        condition.Bool = { ...condition.Bool, 'aws:MultiFactorAuthPresent': 'true' };
        if (guards.mfa.maxAgeSeconds !== undefined) {
          condition.NumericLessThan = { ...condition.NumericLessThan, 'aws:MultiFactorAuthAge': String(guards.mfa.maxAgeSeconds) };
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
  };
}

/** The policy as IAM stores and counts it: compact JSON. */
export function serializePolicy(policy: PolicyDocument): string {
  return JSON.stringify(policy);
}

/**
 * The largest this profile's policy can get: guards at their longest (a 128-char role id
 * plus 64-char session name). Used to refuse, at load, a profile that could never be attached.
 */
export function worstCasePolicySize(profile: Profile): number {
  return serializePolicy(buildGrantPolicy(profile, { expiresAt: '2099-12-31T23:59:59Z', userId: `${'A'.repeat(128)}:${'s'.repeat(64)}`, ...guardsFor(profile) })).length;
}

/** The guards a profile itself asks for (MFA); the use case adds expiry and session. */
export function guardsFor(profile: Profile): Pick<PolicyGuards, 'mfa'> {
  return profile.mfa.required ? { mfa: profile.mfa.maxAgeSeconds !== undefined ? { maxAgeSeconds: profile.mfa.maxAgeSeconds } : {} } : {};
}

/** One line saying what a profile grants: "Allow s3:GetObject, s3:ListBucket on arn:…; …" (bounded). */
export function summarizeGrants(profile: Profile): string {
  const text = profile.statements.map((s) => `${s.effect} ${s.actions.join(', ')} on ${s.resources.join(', ')}`).join('; ');
  return text.length > 1000 ? `${text.slice(0, 999)}…` : text;
}
