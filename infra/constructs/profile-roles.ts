/**
 * The profile roles (docs/security.md, Trust model): for each profile that grants through a profile role,
 * the pool `breakglass-<profile>-<i>` under `/breakglass/profile/`, sized by the same pure
 * function the functions use (`profileRolePools`). Each role has no permissions of its own, a
 * permissions boundary built from its profile, and a trust policy naming only the credential
 * function's role, with `sts:SetSourceIdentity` (the credential function sets the person as the
 * session's source identity; it sets no session tags, so no `sts:TagSession`).
 */
import { Duration, Stack } from 'aws-cdk-lib';
import {
  ArnPrincipal,
  type CfnRole,
  Effect,
  type IRole,
  ManagedPolicy,
  PolicyDocument,
  PolicyStatement,
  Role,
} from 'aws-cdk-lib/aws-iam';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { ProfileConfigError } from '../../functions/domain/errors.js';
import {
  type PolicyDocument as GrantPolicyDocument,
  iamPolicySize,
  SELF_PROTECTION_SID,
  serializePolicy,
} from '../../functions/domain/policy-builder.js';
import type { Profile, ProfileSet } from '../../functions/domain/profile.js';
import {
  PROFILE_ROLE_PATH,
  type ProfileRolePool,
  profileRoleArn,
  profileRolePools,
} from '../../functions/domain/profile-roles.js';
import { IAM_PATH, type ProtectedResource, RESOURCE_PREFIX } from '../protected-resources.js';

/**
 * IAM's limit on a managed policy document (a permissions boundary is one): 6,144 characters,
 * whitespace not counted (IAM User Guide, "IAM and AWS STS quotas", managed policy size; AWS
 * Knowledge Center, "iam-increase-policy-size": "The maximum character limit for managed
 * policies is 6,144"). Not adjustable; checked at synth so a deploy never fails on it.
 */
export const MANAGED_POLICY_LIMIT = 6_144;

/** The credential function may assume a profile role only with these; the trust policy allows exactly them. */
export const PROFILE_ROLE_TRUST_ACTIONS = ['sts:AssumeRole', 'sts:SetSourceIdentity'] as const;

/** STS role chaining caps the credential function's sessions at one hour (issue-credentials.ts). */
export const PROFILE_ROLE_MAX_SESSION = Duration.hours(1);

/** Name of a profile's boundary policy (under {@link IAM_PATH}). */
export function boundaryName(profile: string): string {
  return `${RESOURCE_PREFIX}-boundary-${profile}`;
}

/**
 * A profile's permissions boundary: its own statements (with their own conditions, without the
 * grant's expiry and session guards, which live in the inline policy), then a Deny `*` on the
 * deployment's resources. It changes only with a deploy, so an inline policy broader than the
 * profile (written by a compromised function) gains nothing.
 */
export function boundaryDocument(
  profile: Pick<Profile, 'statements'>,
  protectedArns: readonly string[],
): GrantPolicyDocument {
  return {
    Version: '2012-10-17',
    Statement: [
      ...profile.statements.map((s) => ({
        ...(s.sid ? { Sid: s.sid } : {}),
        Effect: s.effect,
        Action: [...s.actions],
        Resource: [...s.resources],
        ...(s.conditions
          ? { Condition: structuredClone(s.conditions) as Record<string, Record<string, unknown>> }
          : {}),
      })),
      { Sid: SELF_PROTECTION_SID, Effect: 'Deny', Action: ['*'], Resource: [...protectedArns] },
    ],
  };
}

export interface ProfileRolesProps {
  readonly profiles: ProfileSet;
  readonly protectedResources: readonly ProtectedResource[];
  /** The credential function's role: the only principal the profile roles trust. */
  readonly credentialRole: IRole;
  /**
   * What the boundaries deny: the ARNs of `protectedResources` by default. A spoke (another account)
   * denies its own break-glass roles and policies instead; its pools are still sized from the hub's
   * `protectedResources`, so they hold at least the roles the hub's functions pick.
   */
  readonly boundaryDenies?: readonly string[];
}

export class ProfileRoles extends Construct {
  readonly pools: readonly ProfileRolePool[];
  readonly roles: readonly Role[];
  /** The profile roles' ARNs, built from their path and names (no reference: policies naming them need no ordering). */
  readonly roleArns: readonly string[];
  readonly boundaries: Readonly<Record<string, ManagedPolicy>>;

  constructor(scope: Construct, id: string, props: ProfileRolesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const sizing = props.protectedResources.map((r) => r.sizing);
    // Sized from the longest the deployed list can be: the functions size from the real list, so they
    // can need fewer roles than exist here, never more.
    this.pools = profileRolePools(props.profiles, sizing);
    const tooLarge = this.pools
      .map((pool) => props.profiles.profiles.find((p) => p.name === pool.profile)!)
      .map((profile) => ({ profile, size: iamPolicySize(serializePolicy(boundaryDocument(profile, sizing))) }))
      .filter(({ size }) => size > MANAGED_POLICY_LIMIT);
    if (tooLarge.length) {
      throw new ProfileConfigError(
        `Invalid break-glass profiles:\n  - ${tooLarge.map(({ profile, size }) => `profile "${profile.name}": its permissions boundary (its statements plus the Deny on break-glass's own resources) can reach ${size} characters, over IAM's ${MANAGED_POLICY_LIMIT}-character managed policy limit; narrow its statements (fewer actions or resources, wildcards)`).join('\n  - ')}`,
      );
    }
    const protectedArns = props.boundaryDenies ?? props.protectedResources.map((r) => r.arn);
    const principal = new ArnPrincipal(props.credentialRole.roleArn);
    const boundaries: Record<string, ManagedPolicy> = {};
    const roles: Role[] = [];
    for (const pool of this.pools) {
      const profile = props.profiles.profiles.find((p) => p.name === pool.profile)!;
      const boundary = new ManagedPolicy(this, `Boundary-${profile.name}`, {
        managedPolicyName: boundaryName(profile.name),
        path: IAM_PATH,
        description: `break-glass: permissions boundary of the ${profile.name} profile roles`,
        document: PolicyDocument.fromJson(boundaryDocument(profile, protectedArns)),
      });
      boundaries[profile.name] = boundary;
      NagSuppressions.addResourceSuppressions(boundary, [
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'A permissions boundary grants nothing: it caps the profile roles at the profile\'s own statements (wildcards as the profile file has them, reviewed with it) and denies "*" on break-glass\'s own resources.',
        },
      ]);
      for (const name of pool.roleNames) {
        const role = new Role(this, name, {
          roleName: name,
          path: PROFILE_ROLE_PATH,
          description: `break-glass: grants of the ${profile.name} profile (no permissions of its own; each grant's inline policy is bound to its session)`,
          assumedBy: principal,
          maxSessionDuration: PROFILE_ROLE_MAX_SESSION,
          permissionsBoundary: boundary,
        });
        // One trust statement: AssumeRole and SetSourceIdentity, for the credential function's role only.
        (role.node.defaultChild as CfnRole).assumeRolePolicyDocument = new PolicyDocument({
          statements: [
            new PolicyStatement({
              effect: Effect.ALLOW,
              actions: [...PROFILE_ROLE_TRUST_ACTIONS],
              principals: [principal],
            }),
          ],
        });
        roles.push(role);
      }
    }
    this.boundaries = boundaries;
    this.roles = roles;
    this.roleArns = this.pools.flatMap((pool) =>
      pool.roleNames.map((name) => profileRoleArn(stack.partition, stack.account, name)),
    );
  }
}
