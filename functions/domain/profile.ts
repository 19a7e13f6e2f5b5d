/**
 * Profiles: what break-glass may grant, to whom, for how long. They are data (a JSON file)
 * validated by this schema at synth time and again at cold start, so an invalid profile
 * fails loudly long before anyone needs it in an outage.
 */
import * as z from 'zod';
import { ProfileConfigError } from './errors.js';
import { INLINE_POLICY_LIMIT, worstCasePolicySize } from './policy-builder.js';
import { arnMatches } from './principal.js';
import { acknowledgedRisksSchema, type RiskCheck } from './risk.js';

export { type AcknowledgedRisk, acknowledgedRisks, RISK_CLASSES, type RiskCheck, type RiskClass } from './risk.js';

/** Condition keys the policy builder owns; a profile may not set them. */
export const RESERVED_CONDITION_KEYS = [
  'aws:currenttime',
  'aws:userid',
  'aws:multifactorauthpresent',
  'aws:multifactorauthage',
] as const;

/**
 * IAM actions that would let access outlive the grant (new credentials, new policies,
 * changed trust). A profile may not grant them, not even through a wildcard.
 */
export const PERSISTENCE_ACTIONS = [
  'iam:CreateAccessKey',
  'iam:CreateUser',
  'iam:CreateLoginProfile',
  'iam:UpdateLoginProfile',
  'iam:PutRolePolicy',
  'iam:PutUserPolicy',
  'iam:PutGroupPolicy',
  'iam:AttachRolePolicy',
  'iam:AttachUserPolicy',
  'iam:AttachGroupPolicy',
  'iam:AddUserToGroup',
  'iam:UpdateAssumeRolePolicy',
  'iam:CreatePolicyVersion',
  'iam:SetDefaultPolicyVersion',
  'iam:DeleteRolePolicy',
  'iam:DeleteUserPolicy',
] as const;

const ACTION = /^(\*|[a-zA-Z0-9-]+:[a-zA-Z0-9*?]+)$/;
const ELIGIBLE = /^arn:(aws|aws-cn|aws-us-gov):(iam::\d{12}:(role|user)\/|sts::\d{12}:assumed-role\/)[\x21-\x7e]+$/;

const conditionValue = z.union([z.string(), z.boolean(), z.number(), z.array(z.string()).min(1)]);

const statementSchema = z
  .object({
    sid: z
      .string()
      .regex(/^[A-Za-z0-9]{1,64}$/, 'sid must be alphanumeric')
      .optional(),
    effect: z.enum(['Allow', 'Deny']).default('Allow'),
    actions: z.array(z.string().regex(ACTION, 'an action is "service:Action" (wildcards * and ? allowed)')).min(1),
    resources: z.array(z.string().min(1)).min(1),
    conditions: z.record(z.string().min(1), z.record(z.string().min(1), conditionValue)).optional(),
  })
  .strict();

const profileSchema = z
  .object({
    // 48 at most: the profile's roles are named `breakglass-<name>-<i>` within IAM's 64 (profile-roles.ts).
    name: z.string().regex(/^[a-z0-9][a-z0-9-]{1,47}$/, 'name is 2-48 lowercase letters, digits or dashes'),
    description: z.string().min(1).max(500),
    owner: z.string().min(1).max(200),
    maxDurationMinutes: z.number().int().min(1).max(720),
    /** How far extensions may take a grant, counted from activation. Defaults to maxDurationMinutes. */
    maxTotalMinutes: z.number().int().min(1).max(1440).optional(),
    maxExtensions: z.number().int().min(0).max(10).default(2),
    /** At most this many ACTIVE grants of the profile at once. */
    maxActiveGrants: z.number().int().min(1).max(1000).default(5),
    mfa: z
      .object({
        required: z.boolean(),
        /** Longest time since the MFA sign-in, in seconds (aws:MultiFactorAuthAge). */
        maxAgeSeconds: z.number().int().min(60).max(129_600).optional(),
      })
      .strict()
      .default({ required: false }),
    eligible: z
      .array(
        z
          .string()
          .regex(
            ELIGIBLE,
            'an eligible principal is an IAM role/user ARN or an STS assumed-role ARN with a 12-digit account',
          ),
      )
      // Required (at least one) for every profile but a drill profile, which has none (checked below).
      .default([]),
    ticket: z
      .object({
        required: z.boolean(),
        pattern: z.string().min(1).optional(),
      })
      .strict()
      .default({ required: false }),
    statements: z.array(statementSchema).min(1).max(20),
    /**
     * Where a grant's policy goes: `profileRole` (default) — a role of this profile that only
     * break-glass can assume, whose credentials the requester fetches (`POST /grants/{id}/credentials`);
     * `caller` — the caller's own role or user, bound to the caller's session.
     */
    grantTo: z.enum(['profileRole', 'caller']).default('profileRole'),
    /**
     * A drill profile (`drill.ts`): one harmless read-only action on one resource, activated only by a
     * drill (`POST /drills`, `breakglass drill`, the drill schedule), never by `POST /grants`.
     */
    drill: z.boolean().default(false),
    /**
     * The accounts this profile grants in (hub and spokes, see `accounts.ts`); a request names one
     * when there are several. Absent: the hub's own account.
     */
    /**
     * Whether callers of one spoke account may activate this profile in its other accounts. Default: a
     * caller of a spoke activates only in its own account (the hub's callers in any the profile lists).
     */
    crossAccount: z.boolean().default(false),
    accounts: z
      .array(z.string().regex(/^\d{12}$/, 'an account is a 12-digit AWS account id'))
      .min(1)
      .max(1000)
      .optional(),
  })
  .strict();

/**
 * The escalation risks a profile knowingly allows (see `risk.ts`): `{"<class>": "<why>"}`.
 * Kept apart from the basic fields: only its shape is checked here; whether it matches the
 * statements is for the classifier `parseProfiles` may be given.
 */
const profileWithRisksSchema = profileSchema.extend({ acknowledgedRisks: acknowledgedRisksSchema });

const profileFileSchema = z
  .object({
    version: z.literal(1),
    profiles: z.array(profileWithRisksSchema).min(1),
  })
  .strict();

export type PolicyStatementSpec = z.infer<typeof statementSchema>;
export type Profile = z.infer<typeof profileWithRisksSchema>;
export interface ProfileSet {
  readonly profiles: readonly Profile[];
}

/** Why a statement is too broad, or undefined when it is acceptable. */
function overBroad(statement: PolicyStatementSpec): string | undefined {
  if (statement.effect === 'Deny') return undefined;
  const anyResource = statement.resources.includes('*');
  for (const action of statement.actions) {
    const lower = action.toLowerCase();
    if (lower === '*' && anyResource) return 'allows "*" actions on "*" resources';
    if (lower === '*') return 'allows "*" actions; name the actions the emergency needs';
    if (lower.startsWith('*:')) return `allows "${action}" across every service`;
    if (lower === 'iam:*') return 'allows "iam:*"';
    const persistence = PERSISTENCE_ACTIONS.find((p) => arnMatches(lower, p.toLowerCase()));
    if (persistence) return `allows "${action}", which matches ${persistence}: access that could outlive the grant`;
  }
  return undefined;
}

/**
 * Validates a parsed profile file. Throws {@link ProfileConfigError} with every problem
 * listed, each prefixed with where it is.
 *
 * With a `risks` check (at synth, in `npm run profiles -- check`) every action the Allow
 * statements reach is classified, and each risk class must be acknowledged, and each
 * acknowledgement used. Without one (at cold start, where the IAM action data is not bundled)
 * only the shape of `acknowledgedRisks` is checked: the profiles in a bundle are the ones synth
 * classified.
 */
export function parseProfiles(input: unknown, source = 'profiles', risks?: RiskCheck): ProfileSet {
  const parsed = profileFileSchema.safeParse(input);
  if (!parsed.success) {
    const lines = parsed.error.issues.map((i) => `${describePath(input, i.path)}: ${i.message}`);
    // One profile's typo should not hide another's unacknowledged risk: check the profiles that are well-formed.
    const given = (input as { profiles?: unknown } | null)?.profiles;
    for (const candidate of risks && Array.isArray(given) ? given : []) {
      const one = profileWithRisksSchema.safeParse(candidate);
      if (one.success) lines.push(...risks!.problems(one.data));
    }
    throw new ProfileConfigError(`Invalid break-glass profiles in ${source}:\n  - ${lines.join('\n  - ')}`);
  }
  const problems: string[] = [];
  const seen = new Set<string>();
  for (const profile of parsed.data.profiles) {
    if (seen.has(profile.name)) problems.push(`profile "${profile.name}": duplicate name`);
    seen.add(profile.name);
    problems.push(...drillProblems(profile));
    if (profile.maxTotalMinutes !== undefined && profile.maxTotalMinutes < profile.maxDurationMinutes) {
      problems.push(
        `profile "${profile.name}": maxTotalMinutes (${profile.maxTotalMinutes}) is below maxDurationMinutes (${profile.maxDurationMinutes})`,
      );
    }
    if (profile.ticket.required && !profile.ticket.pattern) {
      problems.push(`profile "${profile.name}": ticket.required needs ticket.pattern (e.g. "^INC-[0-9]+$")`);
    }
    if (profile.ticket.pattern) {
      try {
        new RegExp(profile.ticket.pattern);
      } catch {
        problems.push(`profile "${profile.name}": ticket.pattern is not a valid regular expression`);
      }
    }
    if (profile.accounts && new Set(profile.accounts).size !== profile.accounts.length)
      problems.push(`profile "${profile.name}": accounts lists an account twice`);
    if (profile.accounts && profile.grantTo === 'caller')
      problems.push(
        `profile "${profile.name}": accounts needs "grantTo": "profileRole" (a caller's own role lives in the caller's account)`,
      );
    if (profile.grantTo === 'profileRole' && profile.mfa.required) {
      // The profile role's session is opened by break-glass's credential function: it carries no MFA,
      // so an aws:MultiFactorAuthPresent condition would make the grant useless.
      problems.push(
        `profile "${profile.name}": mfa.required needs "grantTo": "caller" (a profile role session carries no MFA); require MFA on the roles people use to reach break-glass instead`,
      );
    }
    if (profile.grantTo === 'caller') {
      for (const pattern of profile.eligible.filter(onlyProtectedRoles)) {
        problems.push(
          `profile "${profile.name}": eligible ${pattern} can only match Identity Center or service-linked roles, whose policies IAM refuses to change; use "grantTo": "profileRole"`,
        );
      }
    }
    const size = worstCasePolicySize(profile);
    if (size > INLINE_POLICY_LIMIT) {
      problems.push(
        `profile "${profile.name}": its policy can reach ${size} characters, over IAM's ${INLINE_POLICY_LIMIT}-character inline limit`,
      );
    }
    profile.statements.forEach((statement, index) => {
      const why = overBroad(statement);
      if (why) problems.push(`profile "${profile.name}" statement ${index}: rejected as over-broad: ${why}`);
      for (const [operator, entries] of Object.entries(statement.conditions ?? {})) {
        for (const key of Object.keys(entries)) {
          if ((RESERVED_CONDITION_KEYS as readonly string[]).includes(key.toLowerCase())) {
            problems.push(
              `profile "${profile.name}" statement ${index}: condition ${operator}.${key} is set by break-glass itself`,
            );
          }
        }
      }
    });
    if (risks) problems.push(...risks.problems(profile));
  }
  if (problems.length > 0) {
    throw new ProfileConfigError(`Invalid break-glass profiles in ${source}:\n  - ${problems.join('\n  - ')}`);
  }
  return { profiles: parsed.data.profiles };
}

/**
 * Actions a drill profile may grant, each with the read-only call *outside* the profile that the drill
 * makes to prove the grant gives nothing more (same service, same resource). The probes (adapters and
 * the sandbox) implement exactly these calls.
 */
export const DRILL_ACTIONS: Readonly<Record<string, string>> = {
  'sqs:GetQueueAttributes': 'sqs:ListQueueTags',
};

/** What is wrong with a profile as a drill profile (or with `eligible` for its kind). */
function drillProblems(profile: Profile): string[] {
  const where = `profile "${profile.name}"`;
  if (!profile.drill) return profile.eligible.length === 0 ? [`${where}: eligible needs at least one principal`] : [];
  const problems: string[] = [];
  if (profile.eligible.length)
    problems.push(
      `${where}: a drill profile has no eligible principals: only a drill (POST /drills, security principals, or the drill schedule) activates it`,
    );
  if (profile.grantTo !== 'profileRole') problems.push(`${where}: a drill profile grants to its profile role`);
  const [statement, ...rest] = profile.statements;
  const action = statement?.actions.length === 1 ? statement.actions[0]! : undefined;
  if (
    rest.length ||
    !statement ||
    statement.effect !== 'Allow' ||
    statement.conditions ||
    !action ||
    statement.resources.length !== 1 ||
    /[*?]/.test(statement.resources[0]!) ||
    DRILL_ACTIONS[action] === undefined
  )
    problems.push(
      `${where}: a drill profile has exactly one Allow statement of one action on one resource (no wildcard, no conditions); the action is one of ${Object.keys(DRILL_ACTIONS).join(', ')}`,
    );
  return problems;
}

/** An eligible pattern whose role name can only be an Identity Center or service-linked role's. */
function onlyProtectedRoles(pattern: string): boolean {
  const role =
    /^arn:[^:]+:iam::\d{12}:role\/(.*)$/.exec(pattern)?.[1] ??
    /^arn:[^:]+:sts::\d{12}:assumed-role\/([^/]+)\//.exec(pattern)?.[1];
  if (role === undefined) return false;
  if (/^(aws-reserved\/sso\.amazonaws\.com|aws-service-role)\//.test(role)) return true;
  const name = role.split('/').pop()!;
  return /^AWSReservedSSO_/.test(name) || /^AWSServiceRoleFor/.test(name);
}

function describePath(input: unknown, path: readonly PropertyKey[]): string {
  // Name the profile rather than its index when we can: "profile \"demo\".statements.0.actions".
  if (path[0] === 'profiles' && typeof path[1] === 'number') {
    const profiles = (input as { profiles?: Array<{ name?: unknown }> }).profiles;
    const name = profiles?.[path[1]]?.name;
    const rest = path.slice(2).map(String).join('.');
    return `profile ${typeof name === 'string' ? `"${name}"` : `#${path[1]}`}${rest ? `.${rest}` : ''}`;
  }
  return path.length ? path.map(String).join('.') : '(file)';
}

/** The longest a grant of this profile may last in total, extensions included. */
export function maxTotalMinutes(profile: Profile): number {
  return profile.maxTotalMinutes ?? profile.maxDurationMinutes;
}

/** Finds a profile by exact name. */
export function findProfile(set: ProfileSet, name: string): Profile | undefined {
  return set.profiles.find((p) => p.name === name);
}
