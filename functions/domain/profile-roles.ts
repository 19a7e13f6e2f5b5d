/**
 * Profile roles: where a `grantTo: "profileRole"` grant's policy goes.
 *
 * Each such profile has a pool of roles `breakglass-<profile>-<i>` under the path
 * `/breakglass/profile/`, with no permissions of their own, a permissions boundary, and a trust
 * policy that trusts only break-glass's credential function. A grant's policy on one of them is
 * bound to the session break-glass opens for that grant (`bg-<grantId>`), so nobody else — not
 * another grant on the same role, not someone who names a session after someone else — gets it.
 *
 * The pool is sized from the profile alone (pure, no IAM read): the worst-case size of one
 * grant's policy, self-protection included, plus each slot's ended-sessions Deny (ended-sessions.ts),
 * gives how many grants fit on one role within IAM's 10,240-character aggregate inline-policy limit; `maxActiveGrants` gives how many roles. A grant
 * holds a *slot* `n < maxActiveGrants` (claimed in DynamoDB by a conditional write on the slot's own
 * item just before the grant is created, freed right after the write that ends it, reclaimed by the
 * sweeper when left behind) and its role is the pool's role `floor(n / grantsPerRole)`: no two grants
 * share a slot, so no role can ever overflow and activation never reads a role's policies.
 *
 * The stack (infra) creates the roles from {@link profileRolePool}; the functions use the same
 * function, so the two cannot disagree.
 */
import { endedSessionsReserve } from './ended-sessions.js';
import { ProfileConfigError } from './errors.js';
import { buildGrantPolicy, guardsFor, INLINE_POLICY_LIMITS, iamPolicySize, serializePolicy } from './policy-builder.js';
import type { Profile, ProfileSet } from './profile.js';

/** IAM path of every profile role; the functions may write policies only on `role/breakglass/profile/*`. */
export const PROFILE_ROLE_PATH = '/breakglass/profile/';
/** Role name prefix; with the longest profile name (48) and a two-digit index, 62 of IAM's 64 characters. */
export const PROFILE_ROLE_PREFIX = 'breakglass-';
/** A profile needing more roles than this is refused at load: narrow its statements or lower maxActiveGrants. */
export const MAX_PROFILE_ROLES = 20;
/** IAM role names: at most 64 characters. */
export const ROLE_NAME_MAX = 64;

/** How one profile's grants are spread over its roles. */
export interface ProfileRolePool {
  readonly profile: string;
  /** Role names, index i at position i. */
  readonly roleNames: readonly string[];
  /** Grants whose policies always fit together on one role. */
  readonly grantsPerRole: number;
  /** Slots (= maxActiveGrants): grant slot n lives on role floor(n / grantsPerRole). */
  readonly slots: number;
  /** Largest one grant's policy can be, as IAM counts it. */
  readonly worstCasePolicySize: number;
  /** Characters each slot also reserves on its role for its ended grants' session Denies (ended-sessions.ts). */
  readonly endedSessionsReserve: number;
}

/** The role session break-glass opens for a grant: the only session its policy works for. */
export function grantSessionName(grantId: string): string {
  return `bg-${grantId}`;
}

/**
 * The `aws:userid` a grant's policy on a profile role is bound to: `*:bg-<grantId>`. The role id
 * part is a wildcard on purpose: the policy sits on a role only break-glass can assume (its trust
 * policy names the credential function alone), so every session of it was opened by break-glass,
 * which names it after exactly one grant. Matching the role id would need an IAM read (GetRole)
 * on every activation for no added safety: a session of *another* role never carries this
 * role's inline policies, whatever it is named.
 */
export function grantSessionUserId(grantId: string): string {
  return `*:${grantSessionName(grantId)}`;
}

export function profileRoleName(profile: Pick<Profile, 'name'> | string, index: number): string {
  const name = `${PROFILE_ROLE_PREFIX}${typeof profile === 'string' ? profile : profile.name}-${index}`;
  if (name.length > ROLE_NAME_MAX)
    throw new ProfileConfigError(`Role name ${name} is longer than IAM's ${ROLE_NAME_MAX} characters`);
  return name;
}

export function profileRoleArn(partition: string, accountId: string, roleName: string): string {
  return `arn:${partition}:iam::${accountId}:role${PROFILE_ROLE_PATH}${roleName}`;
}

/** The largest one grant's policy on a profile role can be (the grant id is a fixed-length UUID). */
export function profileRoleWorstCase(profile: Profile, protectedResources: readonly string[]): number {
  const policy = buildGrantPolicy(profile, {
    expiresAt: '2099-12-31T23:59:59Z',
    userId: grantSessionUserId('00000000-0000-0000-0000-000000000000'),
    ...guardsFor(profile),
    protectedResources,
  });
  return iamPolicySize(serializePolicy(policy));
}

/**
 * The pool of roles a profile needs. @throws ProfileConfigError when one grant's policy cannot
 * fit on a role at all, or the profile would need more than {@link MAX_PROFILE_ROLES} roles.
 */
export function profileRolePool(profile: Profile, protectedResources: readonly string[]): ProfileRolePool {
  const worst = profileRoleWorstCase(profile, protectedResources);
  // Each slot also holds, on the same role, the Deny of its ended grants' live sessions (ended-sessions.ts).
  const reserve = endedSessionsReserve();
  const grantsPerRole = Math.floor(INLINE_POLICY_LIMITS.role / (worst + reserve));
  if (grantsPerRole < 1) {
    throw new ProfileConfigError(
      `profile "${profile.name}": one grant's policy can reach ${worst} characters (self-protection included), plus ${reserve} for its ended sessions' Deny, over IAM's ${INLINE_POLICY_LIMITS.role}-character inline limit`,
    );
  }
  const roles = Math.ceil(profile.maxActiveGrants / grantsPerRole);
  if (roles > MAX_PROFILE_ROLES) {
    throw new ProfileConfigError(
      `profile "${profile.name}": ${profile.maxActiveGrants} concurrent grants of ${worst} characters need ${roles} roles (${grantsPerRole} per role); at most ${MAX_PROFILE_ROLES} are allowed. Lower maxActiveGrants or narrow the statements.`,
    );
  }
  return {
    profile: profile.name,
    roleNames: Array.from({ length: roles }, (_, i) => profileRoleName(profile, i)),
    grantsPerRole,
    slots: profile.maxActiveGrants,
    worstCasePolicySize: worst,
    endedSessionsReserve: reserve,
  };
}

/** The pools of every profile that grants through profile roles (what infra creates; what the functions check at cold start). */
export function profileRolePools(set: ProfileSet, protectedResources: readonly string[]): ProfileRolePool[] {
  const problems: string[] = [];
  const pools: ProfileRolePool[] = [];
  for (const profile of set.profiles.filter((p) => p.grantTo === 'profileRole')) {
    try {
      pools.push(profileRolePool(profile, protectedResources));
    } catch (error) {
      problems.push((error as Error).message);
    }
  }
  if (problems.length) throw new ProfileConfigError(`Invalid break-glass profiles:\n  - ${problems.join('\n  - ')}`);
  return pools;
}

/** The role a grant holding `slot` uses. */
export function roleForSlot(pool: ProfileRolePool, slot: number): string {
  return pool.roleNames[Math.floor(slot / pool.grantsPerRole)]!;
}
