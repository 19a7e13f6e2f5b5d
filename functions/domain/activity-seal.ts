/**
 * The review's seal, checked again: the REVIEWED event carries the digest of the grant's activity as the
 * reviewer saw it (`activityCalls`, `activityDigest`, `review-grant.ts`); every later reader recomputes the
 * digest over the records stored now and compares, the way `verifyChain` does for the events. A record
 * removed, added or changed after the review (even with its hash and the summary's counts recomputed by
 * whoever could write the table) no longer matches.
 *
 * Records captured after the review (`capturedAt` later than the REVIEWED event: CloudTrail delivered
 * them later still than the review's wait) were not sealed; they are counted (`lateCalls`), not a mismatch.
 * A record stored in the same seconds as the review, captured just before it, may show as a mismatch:
 * its `capturedAt` says so.
 */
import { type ActivityRecord, type ActivitySummary, activityDigest, verifyActivity } from './activity.js';

/** Stored after the review (times compared as instants: `…00Z` and `…00.000Z` are the same second). */
function capturedAfter(leaf: Pick<SealedLeaf, 'capturedAt'>, seal: ActivitySealFacts): boolean {
  return Date.parse(leaf.capturedAt) > Date.parse(seal.at);
}

/** What a REVIEWED event sealed. */
export interface ActivitySealFacts {
  /** The REVIEWED event's time. */
  readonly at: string;
  readonly calls: number;
  readonly digest: string;
}

/** A record as the seal check needs it: its sort key, its hash and when it was stored. */
export type SealedLeaf = Pick<ActivityRecord, 'eventTime' | 'eventId' | 'hash' | 'capturedAt'>;

export type ActivityIntegrity =
  /** Not reviewed yet (or reviewed before reviews sealed the activity): records checked against their summary only. */
  | { readonly ok: true; readonly sealed: false; readonly calls: number }
  | {
      readonly ok: true;
      readonly sealed: true;
      readonly calls: number;
      readonly sealedAt: string;
      /** Records captured after the review, so not covered by its seal. */
      readonly lateCalls: number;
    }
  | { readonly ok: false; readonly sealed: boolean; readonly problem: string };

/** The seal of a grant's REVIEWED event; undefined without one (or one written before reviews sealed the activity). */
export function sealOf(
  events: readonly { readonly type: string; readonly at: string; readonly details?: unknown }[],
): ActivitySealFacts | undefined {
  const reviewed = events.find((e) => e.type === 'REVIEWED');
  const details = (reviewed?.details ?? {}) as Record<string, unknown>;
  if (!reviewed || typeof details.activityDigest !== 'string') return undefined;
  return { at: reviewed.at, calls: Number(details.activityCalls), digest: details.activityDigest };
}

/**
 * Compares the leaves stored now with the seal. A leaf's `hash` must be known to match its content: the
 * report recomputes it from the exported item; `checkActivityIntegrity` checks it with `verifyActivity`.
 */
export function compareSeal(
  grantId: string,
  seal: ActivitySealFacts,
  leaves: readonly SealedLeaf[],
): { ok: true; lateCalls: number } | { ok: false; problem: string } {
  const covered = leaves.filter((r) => !capturedAfter(r, seal));
  const { calls, root } = activityDigest(grantId, covered);
  if (root === seal.digest) return { ok: true, lateCalls: leaves.length - covered.length };
  return {
    ok: false,
    problem: `the activity no longer matches the digest the review sealed at ${seal.at}: ${seal.calls} call(s) sealed, ${calls} stored from before the review (a record was removed, added or changed since)`,
  };
}

/** `GET /grants/{id}/activity`'s and `GET /grants/{id}`'s verdict: records vs hashes and summary, then vs the seal. */
export function checkActivityIntegrity(
  grantId: string,
  events: readonly { readonly type: string; readonly at: string; readonly details?: unknown }[],
  summary: Pick<ActivitySummary, 'grantId' | 'calls'>,
  records: readonly ActivityRecord[],
): ActivityIntegrity {
  const seal = sealOf(events);
  // The seal first: a table writer who also recomputed the hashes and the summary is caught only here.
  if (seal) {
    const compared = compareSeal(grantId, seal, records);
    if (!compared.ok) return { ok: false, sealed: true, problem: compared.problem };
  }
  const verdict = verifyActivity(summary, records);
  if (!verdict.ok) return { ok: false, sealed: seal !== undefined, problem: verdict.problem };
  if (!seal) return { ok: true, sealed: false, calls: verdict.calls };
  const late = records.filter((r) => capturedAfter(r, seal)).length;
  return { ok: true, sealed: true, calls: verdict.calls, sealedAt: seal.at, lateCalls: late };
}
