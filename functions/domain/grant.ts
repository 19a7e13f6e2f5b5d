/**
 * A grant: one activation of one profile by one principal, and its lifecycle.
 *
 * ```
 *   PENDING ──► ACTIVE ──► EXPIRED
 *      │          └──────► REVOKED
 *      ├──► FAILED          (activation rolled back)
 *      └──► EXPIRED         (an expiry that finds an activation that never finished)
 *   DENIED                  (an ineligible attempt; terminal from the start)
 * ```
 */
import { InvalidTransitionError } from './errors.js';
import { personOfArn } from './principal.js';

export const GRANT_STATUSES = ['PENDING', 'ACTIVE', 'EXPIRED', 'REVOKED', 'FAILED', 'DENIED'] as const;
export type GrantStatus = (typeof GRANT_STATUSES)[number];

const TRANSITIONS: Record<GrantStatus, readonly GrantStatus[]> = {
  PENDING: ['ACTIVE', 'FAILED', 'EXPIRED'],
  ACTIVE: ['EXPIRED', 'REVOKED'],
  EXPIRED: [],
  REVOKED: [],
  FAILED: [],
  DENIED: [],
};

export interface Grant {
  readonly id: string;
  readonly profile: string;
  /** Profile owner at activation time: who answers for this access. */
  readonly owner: string;
  readonly principalArn: string;
  /** `role` or `user`: the kind of IAM entity holding the policy. */
  readonly targetType: 'role' | 'user';
  readonly targetName: string;
  /** The AWS account the policy is in (hub or spoke, `accounts.ts`); absent on grants recorded before accounts. */
  readonly account?: string;
  /** The account's alias from the deploy context (`accountAliases`) at activation; never looked up live. */
  readonly accountAlias?: string;
  readonly status: GrantStatus;
  readonly reason: string;
  readonly ticket?: string;
  readonly durationMinutes: number;
  readonly createdAt: string;
  readonly expiresAt: string;
  /** When the grant stopped being usable (expired, revoked, failed). */
  readonly endedAt?: string;
  /**
   * When a revocation began (`GrantStore.markEnding`): from then on no credentials are issued and no extension is
   * made for the grant, so a holder taking credentials in a loop cannot outrace the revocation's record.
   */
  readonly endingSince?: string;
  readonly policyName: string;
  readonly scheduleName: string;
  /**
   * The `aws:userid` the policy is bound to: `<roleId>:<session>` of the activating session
   * (caller mode, assumed roles), or `*:bg-<grantId>` (profile role). Absent for IAM users.
   */
  readonly sessionUserId?: string;
  /** The requester as `personOf` (principal.ts) defines it; grants recorded before it existed fall back to `principalArn`. */
  readonly person?: string;
  /** Where the policy went: a profile role (default) or the caller's own role or user. */
  readonly grantTo?: 'profileRole' | 'caller';
  /** A drill's grant (`drill.ts`): its alerts carry the `drill` message attribute. */
  readonly drill?: boolean;
  /** The profile slot this grant holds (`SLOT#<profile>` in the table) while it may give access. */
  readonly slot?: number;
  /** Profile role grants: the role session break-glass opens for the requester (`bg-<grantId>`). */
  readonly sessionName?: string;
  /** The policy document as attached at activation; extensions re-attach it with only the expiry moved. */
  readonly policyDocument?: string;
  /** How many times credentials were issued for this grant (use, for the reviewer). */
  readonly credentialsIssued?: number;
  /** What the policy grants, in one line ("s3:GetObject on arn:…"), for alerts and auditors. */
  readonly grants?: string;
  /** Extensions granted so far. */
  readonly extensions?: number;
  /** Who ended it early, and why (revocation). */
  readonly endedBy?: string;
  readonly endReason?: string;
  /** Optimistic-locking counter: each transition writes version + 1 on the condition version = n. */
  readonly version: number;
  /** Number of audit events appended so far; the next event's sequence number. */
  readonly eventCount: number;
  /** Ledger number: one counter across all grants, so a deleted grant leaves a gap (see `audit-chain.ts`). */
  readonly sequence?: number;
  /** Hash of the last event: the head of this grant's chain. */
  readonly lastHash?: string;
  /** `DUE` once a grant that gave access has ended, `DONE` once reviewed; absent otherwise. */
  readonly reviewState?: 'DUE' | 'DONE';
  /** The post-incident review (two-person rule: never by the requester). */
  readonly reviewOutcome?: ReviewOutcome;
  readonly reviewedBy?: string;
  readonly reviewedAt?: string;
  readonly requestId?: string;
}

export const REVIEW_OUTCOMES = ['justified', 'unjustified'] as const;
export type ReviewOutcome = (typeof REVIEW_OUTCOMES)[number];

export function isTerminal(status: GrantStatus): boolean {
  return TRANSITIONS[status].length === 0;
}

export function canTransition(from: GrantStatus, to: GrantStatus): boolean {
  return TRANSITIONS[from].includes(to);
}

/** Throws {@link InvalidTransitionError} with a message a caller can act on. */
export function assertTransition(grant: Pick<Grant, 'id' | 'status'>, to: GrantStatus): void {
  if (!canTransition(grant.status, to)) {
    throw new InvalidTransitionError(`Grant ${grant.id} is ${grant.status}; it cannot become ${to}`);
  }
}

/**
 * The person who requested a grant (see `personOf` in principal.ts). A grant recorded before the
 * account was part of an Identity Center person (`sso:<name>`) is read as today's form, from its
 * principal ARN: otherwise its requester could not end it, and could review it as someone else.
 */
export function grantPerson(grant: Pick<Grant, 'person' | 'principalArn'>): string {
  if (!grant.person) return grant.principalArn;
  return /^sso:[^:]*$/.test(grant.person) ? personOfArn(grant.principalArn) : grant.person;
}

/**
 * What a grant's claims are counted in: its profile in its account (`demo@210987654321`), or the profile alone
 * for a grant naming no account (recorded before accounts, or a deployment without `ACCOUNT_ID`). The profile
 * slots and the person's one-per-profile hold are per scope, so one account's grants, whatever their spoke does
 * to them, never use up another account's slots, and a grant in one account never stands for one in another.
 */
export function claimScope(profile: string, account?: string): string {
  return account ? `${profile}@${account}` : profile;
}

/** Where a grant's policy is: its entity, and its account when it has one. */
export function grantTarget(grant: Pick<Grant, 'targetType' | 'targetName' | 'account'>): {
  type: 'role' | 'user';
  name: string;
  account?: string;
} {
  return { type: grant.targetType, name: grant.targetName, ...(grant.account ? { account: grant.account } : {}) };
}

/** The inline policy name for a grant; also the prefix the sweeper recognises. */
export const POLICY_PREFIX = 'breakglass-';
export function policyNameFor(grantId: string): string {
  return `${POLICY_PREFIX}${grantId}`;
}

/** Expiry instant, truncated to the whole second so the policy condition and `at()` agree exactly. */
export function expiryFrom(now: Date, durationMinutes: number): Date {
  const ms = now.getTime() + durationMinutes * 60_000;
  return new Date(Math.floor(ms / 1000) * 1000);
}

/** ISO-8601 UTC without milliseconds: `2026-11-24T10:00:00Z`. */
export function isoSeconds(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}
