/**
 * Escalation risk classes: kinds of IAM action that let a grant holder widen or outlive the
 * access a profile means to give. A profile that allows an action of a class must say so, with
 * a reason, in `acknowledgedRisks`; reviewers, alerts and the audit report can then show it.
 *
 * This module is small on purpose: it is bundled into every Lambda, which checks the shape of
 * `acknowledgedRisks` at cold start. Which actions fall in which class needs the IAM action
 * data set and is decided at synth time and by `npm run profiles -- check`
 * (see `risk-classifier.ts`), which the Lambda bundles never import.
 */
import * as z from 'zod';

/** Every risk class with what it lets the holder do. Keys are what `acknowledgedRisks` names. */
export const RISK_CLASSES = {
  'credential-creation':
    'makes or revives credentials that outlive the grant (keys, service credentials, SSH keys, MFA, federation trust)',
  'permissions-management':
    'changes who may do what (IAM access level "Permissions management"), e.g. permissions boundaries, new roles',
  'role-passing':
    'takes on or hands out another role (sts:AssumeRole* on any role: the chained session survives revoke; iam:PassRole and instance profiles on roles the profile does not name)',
  'resource-policy-write':
    "rewrites a resource's own policy or ACL (bucket and key policies, KMS grants, Lambda permissions), which can open it to anyone, for good",
  'code-execution':
    'runs code as another identity (new or changed functions, instances, tasks, jobs, stacks, SSM commands and sessions)',
  'organization-identity':
    'changes the organization or its workforce identity (organizations, IAM Identity Center, identity store)',
  'audit-tampering':
    'silences the record or break-glass itself (CloudTrail, EventBridge rules and schedules, logs, GuardDuty, Config, Security Hub, alert subscriptions, the grants table, its stack and API)',
  'credential-read':
    'reads stored secrets (Secrets Manager values, SSM parameters, KMS decryption) on resources the profile does not name; what was read outlives the grant',
} as const satisfies Record<string, string>;

export type RiskClass = keyof typeof RISK_CLASSES;

export const RISK_CLASS_NAMES = Object.keys(RISK_CLASSES) as RiskClass[];

/** The shortest justification an acknowledgement may carry. */
export const MIN_JUSTIFICATION = 20;

/** `acknowledgedRisks`: `{"<class>": "<why, at least 20 characters>"}`. */
export const acknowledgedRisksSchema = z
  .record(
    z.string(),
    z
      .string()
      .trim()
      .min(MIN_JUSTIFICATION, `say why the profile needs this risk, in at least ${MIN_JUSTIFICATION} characters`),
  )
  .superRefine((given, ctx) => {
    for (const key of Object.keys(given)) {
      if (!(key in RISK_CLASSES))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `not a risk class; the classes are ${RISK_CLASS_NAMES.join(', ')}`,
        });
    }
  })
  .optional();

/** A profile as the risk check sees it (a parsed {@link Profile} is one). */
export interface RiskCheckedProfile {
  readonly name: string;
  readonly acknowledgedRisks?: Partial<Record<string, string>> | undefined;
  readonly statements: readonly {
    readonly effect: string;
    readonly actions: readonly string[];
    readonly resources: readonly string[];
  }[];
}

/**
 * Checks a profile's escalation risks against its acknowledgements: every class its Allow
 * statements reach must be acknowledged, and every acknowledgement must be reached. Injected
 * into `parseProfiles` at synth time and in `npm run profiles -- check`
 * (`risk-classifier.ts` over the IAM action data); absent at cold start, where the data set is
 * too big for a Lambda bundle and synth has already refused what it would refuse.
 */
export interface RiskCheck {
  /** Every problem, each a line naming the profile; empty when the risks are all acknowledged. */
  problems(profile: RiskCheckedProfile): string[];
}

/** An acknowledged risk, for display (`GET /profiles`, alerts, the audit report). */
export interface AcknowledgedRisk {
  readonly riskClass: RiskClass;
  readonly justification: string;
}

/** The risk classes a profile acknowledges, in the order of {@link RISK_CLASSES}, with their reasons. */
export function acknowledgedRisks(profile: {
  readonly acknowledgedRisks?: Partial<Record<string, string>> | undefined;
}): AcknowledgedRisk[] {
  const given = profile.acknowledgedRisks ?? {};
  return RISK_CLASS_NAMES.filter((riskClass) => typeof given[riskClass] === 'string').map((riskClass) => ({
    riskClass,
    justification: given[riskClass]!.trim(),
  }));
}

/** Each profile's acknowledged risks by name (empty for a name it does not know), for alerts. */
export function risksByProfile(
  profiles: readonly {
    readonly name: string;
    readonly acknowledgedRisks?: Partial<Record<string, string>> | undefined;
  }[],
): (profile: string) => readonly AcknowledgedRisk[] {
  const byName = new Map(profiles.map((p) => [p.name, acknowledgedRisks(p)]));
  return (profile) => byName.get(profile) ?? [];
}
