/**
 * Reads and validates the profile file at synth time (an invalid profile, or an escalation risk
 * it does not acknowledge, fails `cdk synth`),
 * and derives from it the only IAM entities the functions may put policies on.
 */
import { readFileSync } from 'node:fs';
import { eligibleEntities } from '../functions/domain/eligible-entities.js';
import { ProfileConfigError } from '../functions/domain/errors.js';
import { type ProfileSet, parseProfiles } from '../functions/domain/profile.js';
import { iamRiskCheck } from '../profiles/iam-catalog.js';

export function loadProfileFile(path: string): { raw: unknown; profiles: ProfileSet } {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new ProfileConfigError(`Cannot read the profile file ${path}: ${(error as Error).message}`, { cause: error });
  }
  // Every escalation risk must be acknowledged; the Lambdas only re-check the shape (risk.ts).
  return { raw, profiles: parseProfiles(raw, path, iamRiskCheck()) };
}

export interface PolicyTargets {
  /** `arn:aws:iam::<acct>:role/<name>` patterns the grants may be attached to. */
  readonly roles: string[];
  /** `arn:aws:iam::<acct>:user/<name>` patterns. */
  readonly users: string[];
}

/**
 * The IAM roles and users some `grantTo: "caller"` profile's eligibility can match: with the
 * profile roles (`role/breakglass/profile/*`), the resources of the functions'
 * `iam:Put*Policy` / `iam:Delete*Policy` permissions. Derived by `eligibleEntities`, as the
 * sweeper's targets are.
 *
 * Profiles that grant through profile roles are skipped: their grants are written on the
 * profile roles only, so their eligibility (e.g. `AWSReservedSSO_OnCall_*`) widens nothing.
 * A wildcard in a caller-mode role or user *name* would let the functions write policies on
 * many entities; it is refused unless the team opts in with `allowBroadEligibility`.
 */
export function policyTargets(profiles: ProfileSet, options: { allowBroadEligibility?: boolean } = {}): PolicyTargets {
  const roles = new Set<string>();
  const users = new Set<string>();
  const broad: string[] = [];
  for (const entity of eligibleEntities(profiles)) {
    if (entity.wildcard) broad.push(`profile "${entity.source.profile}": ${entity.source.pattern}`);
    (entity.kind === 'role' ? roles : users).add(entity.arn);
  }
  if (broad.length > 0 && !options.allowBroadEligibility) {
    throw new ProfileConfigError(
      `These eligibility patterns use a wildcard in a role or user name, so the break-glass functions could write policies on every entity they match:\n  - ${broad.join('\n  - ')}\nName the roles/users, or opt in with: cdk synth -c allowBroadEligibility=true`,
    );
  }
  return { roles: [...roles].sort(), users: [...users].sort() };
}
