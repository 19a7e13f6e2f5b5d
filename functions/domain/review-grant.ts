/**
 * Post-incident review: a configured reviewer judges whether an ended grant was justified.
 *
 * 1. validate — outcome and notes (notes say what the reviewer looked at, ≥ 10 characters);
 * 2. authorize — a reviewer principal, and never the requester: not the same ARN, and not the
 *    same person through another role (same session or user name) — the two-person rule;
 * 3. check — the grant's review is due: it gave (or may have given) access and has ended — EXPIRED,
 *    REVOKED, or FAILED with a policy that could not be taken back — and is not reviewed yet; and its
 *    activity has settled: {@link SETTLE_MINUTES} have passed since its end, the wait the end-of-grant
 *    summary keeps for CloudTrail's late deliveries, so the seal covers the grant's last calls;
 * 4. record — REVIEWED with outcome and notes, conditional on the version read;
 * 5. announce (an "unjustified" outcome is a WARNING).
 */
import type { Caller } from './activate-grant.js';
import { activitySeal, endSecondOf, verifyActivity } from './activity.js';
import { SETTLE_MINUTES } from './activity-summary.js';
import type { NewAuditEvent } from './audit-event.js';
import { ConcurrentUpdateError, ForbiddenError, GrantNotFoundError, InvalidTransitionError } from './errors.js';
import { type Grant, grantPerson } from './grant.js';
import { announce } from './lifecycle.js';
import type { ActivityStore, Ports } from './ports.js';
import { type Principal, parsePrincipalArn, personOf, principalMatchesAny } from './principal.js';
import { checkGrantId, checkReason, parseRequest, reviewRequestSchema } from './requests.js';

export interface ReviewInput {
  readonly grantId: string | undefined;
  readonly caller: Caller;
  readonly body: unknown;
  readonly requestId?: string;
}

export type ReviewPorts = Pick<Ports, 'store' | 'notifier' | 'clock' | 'log' | 'profileRisks'> & {
  /** Action logging: the review seals the grant's activity digest into its chain (`activitySeal`). */
  readonly activity: Pick<ActivityStore, 'all' | 'summary'>;
};

/**
 * A principal's bare name: the session name of an assumed role, or the user name, compared
 * case-insensitively and without an e-mail domain (Identity Center names sessions `alice@example.com`).
 * The two-person rule refuses a reviewer who is the requester (`personOf`) *or* merely shares this
 * name with them: for the review, a false "same person" costs a second reviewer, a false "different
 * person" costs the rule. As strong as the session naming: pin `sts:RoleSessionName` in the
 * reviewer roles' trust policies (or use Identity Center).
 */
function bareName(principal: Principal | undefined, arn: string): string {
  const name = !principal
    ? arn
    : principal.kind === 'assumed-role'
      ? (principal.sessionName ?? arn)
      : principal.entityName;
  return name.toLowerCase().split('@')[0]!;
}

export interface ReviewOptions {
  /**
   * Minutes after the grant's end before it may be reviewed (`ACTIVITY_SETTLE_MINUTES`; the sandbox shortens it).
   * @default SETTLE_MINUTES
   */
  readonly settleMinutes?: number;
}

export async function reviewGrant(
  ports: ReviewPorts,
  reviewers: readonly string[],
  input: ReviewInput,
  options: ReviewOptions = {},
): Promise<Grant> {
  // 1. validate
  const grantId = checkGrantId(input.grantId);
  const request = parseRequest(reviewRequestSchema, input.body);
  const notes = checkReason(request.notes, 'notes');

  // 2. authorize
  const caller = parsePrincipalArn(input.caller.arn);
  if (!caller || !principalMatchesAny(reviewers, caller)) {
    throw new ForbiddenError('Only a configured reviewer (REVIEWER_PRINCIPALS) may review grants');
  }
  const grant = await ports.store.get(grantId);
  if (!grant) throw new GrantNotFoundError(`No grant ${grantId}`);
  const requester = parsePrincipalArn(grant.principalArn);
  if (
    personOf(caller) === grantPerson(grant) ||
    bareName(caller, input.caller.arn) === bareName(requester, grant.principalArn)
  ) {
    throw new ForbiddenError(
      `Two-person rule: ${input.caller.arn} requested grant ${grantId} (or is the same person); another reviewer must review it`,
    );
  }

  // 3. check
  if (grant.reviewState === 'DONE') {
    throw new InvalidTransitionError(
      `Grant ${grantId} was already reviewed (${grant.reviewOutcome}) by ${grant.reviewedBy} at ${grant.reviewedAt}`,
    );
  }
  if (grant.reviewState !== 'DUE') {
    throw new InvalidTransitionError(
      `Grant ${grantId} is ${grant.status}; only grants that gave access and have ended (EXPIRED, REVOKED, or FAILED with a policy left behind) are reviewed`,
    );
  }
  // CloudTrail hands calls to EventBridge "on a best effort basis", minutes late (activity-summary.ts): a seal
  // written the second the grant ends would leave out its last calls, and the reviewer would judge without them.
  const settleMinutes = options.settleMinutes ?? SETTLE_MINUTES;
  const reviewableAt = Date.parse(endSecondOf(grant)) + settleMinutes * 60_000;
  if (ports.clock.now().getTime() < reviewableAt) {
    throw new InvalidTransitionError(
      `Grant ${grantId}'s activity is still arriving (CloudTrail delivers calls up to ${settleMinutes} minutes late); it can be reviewed from ${new Date(reviewableAt).toISOString()}`,
    );
  }

  // 4. record
  const at = ports.clock.now().toISOString();
  const event: NewAuditEvent = {
    type: 'REVIEWED',
    at,
    actor: input.caller.arn,
    outcome: 'SUCCESS',
    ...(input.requestId ? { requestId: input.requestId } : {}),
    // The seal: what the reviewer judged, as the digest of the grant's activity (docs/action-logging.md, Integrity).
    details: { outcome: request.outcome, notes, ...(await sealOf(ports, grant.id)) },
  };
  let written: Grant;
  try {
    written = await ports.store.append(grant, event, {
      reviewState: 'DONE',
      reviewOutcome: request.outcome,
      reviewedBy: input.caller.arn,
      reviewedAt: at,
    });
  } catch (error) {
    if (error instanceof ConcurrentUpdateError) {
      const fresh = await ports.store.get(grantId);
      if (fresh?.reviewState === 'DONE')
        throw new InvalidTransitionError(
          `Grant ${grantId} was reviewed by ${fresh.reviewedBy} while this review was being written`,
        );
    }
    throw error;
  }

  // 5. announce
  await announce(ports, written, event);
  return written;
}

/** `activityCalls` and `activityDigest`; `activityProblem` when the records do not match their summary or hashes. */
async function sealOf(ports: ReviewPorts, grantId: string): Promise<Record<string, string>> {
  const [records, summary] = await Promise.all([ports.activity.all(grantId), ports.activity.summary(grantId)]);
  const verdict = verifyActivity(summary, records);
  return {
    ...activitySeal(grantId, records),
    ...(verdict.ok ? {} : { activityProblem: verdict.problem.slice(0, 300) }),
  };
}
