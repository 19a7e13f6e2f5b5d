/**
 * One grant, judged on its own: its row in the report and the findings it raises. Pure
 * functions over the unmarshalled items of one grant (its record and its events), so the
 * report can call them one grant at a time and never hold the export in memory.
 *
 * 1. verify — the grant's hash chain (`verifyChain`);
 * 2. replay — what the verified events say the record must hold (status, times, review);
 * 3. measure — lateness against expiry, review deadline, ticket rule;
 * 4. row — the figures a person reads, one line per grant.
 */
import { compareSeal, type SealedLeaf, sealOf } from '../functions/domain/activity-seal.js';
import { type ChainedEvent, type ChainedGrant, verifyChain } from '../functions/domain/audit-chain.js';
import { type Finding, finding } from './findings.js';

/** The policy a grant is measured against. */
export interface AuditPolicy {
  /** Access that outlives its expiry by more than this many seconds is a finding. */
  readonly lateSeconds: number;
  /** A grant still unreviewed this many days after it ended is a finding. */
  readonly reviewDays: number;
  /** The time the report is "as of" (review deadlines). */
  readonly asOf: Date;
  /** When the table was read (the export time): grants still open then are judged at it. */
  readonly snapshotAt: Date;
  /** Whether a profile requires a ticket; `undefined` when the profile is unknown or no profiles were given. */
  readonly ticketRequired: (profile: string) => boolean | undefined;
  /** The escalation risk classes a profile acknowledges (`acknowledgedRisks`); empty or absent without profiles. */
  readonly acknowledgedRisks?: (profile: string) => readonly string[];
  /**
   * The export holds action logging's items (`ACTIVITY#…`): a grant without a summary then made no
   * call (NO_ACTIVITY can be judged). @default false: activity columns stay empty, no activity finding.
   */
  readonly activityLogged?: boolean;
}

/** Action logging's per-grant summary item (`ACTIVITY#<id>` / `SUMMARY`), as exported. */
export interface ActivityCounts {
  readonly calls?: unknown;
  readonly writes?: unknown;
  readonly denied?: unknown;
  readonly afterEndAllowed?: unknown;
  readonly firstCallAt?: unknown;
  readonly lastCallAt?: unknown;
}

/** One grant's line in the report. */
export interface GrantRow {
  readonly id: string;
  /** Ledger number; absent on a record that has none. */
  readonly sequence: number | null;
  readonly requester: string;
  readonly profile: string;
  /** The account the grant is in (a spoke, or the hub); empty on a grant of a deployment that named none. */
  readonly account: string;
  /** That account's alias as the grant recorded it (the deploy context's `accountAliases`); empty when none was known. */
  readonly accountAlias: string;
  /** The risk classes the profile acknowledges (from the profiles given), comma-separated; empty when none. */
  readonly risks: string;
  readonly status: string;
  readonly reason: string;
  readonly ticket: string;
  /** createdAt */
  readonly start: string;
  /** expiresAt */
  readonly plannedEnd: string;
  /** endedAt */
  readonly actualEnd: string;
  /** Actual end minus planned end, in whole seconds, for EXPIRED and REVOKED grants (negative: ended early). */
  readonly lateSeconds: number | null;
  /** `justified`, `unjustified`, `unreviewed`, `not yet due` (still open) or `not needed` (DENIED, FAILED without a policy left behind). */
  readonly review: string;
  readonly reviewedBy: string;
  /** `ok`, or where and how the chain breaks. */
  readonly chain: string;
  readonly events: number;
  /** Action logging (null when the export holds none): calls, writes, denied calls, calls allowed after the end. */
  readonly activityCalls: number | null;
  readonly activityWrites: number | null;
  readonly activityDenied: number | null;
  readonly activityAfterEnd: number | null;
  readonly firstCall: string;
  readonly lastCall: string;
}

/** What {@link analyseGrant} found out about one grant. */
export interface GrantAnalysis {
  readonly row: GrantRow;
  readonly findings: Finding[];
  /** False when the grant's profile is not in the profiles given (ticket rule not checked). */
  readonly profileKnown: boolean;
  readonly chainOk: boolean;
}

type Item = Readonly<Record<string, unknown>>;

const text = (value: unknown): string =>
  typeof value === 'string' ? value : value === undefined || value === null ? '' : String(value);
const time = (value: unknown): number | undefined => {
  if (typeof value !== 'string') return undefined;
  const ms = Date.parse(value);
  return Number.isFinite(ms) ? ms : undefined;
};
const detail = (event: Item, key: string): string | undefined => {
  const details = event.details;
  if (typeof details !== 'object' || details === null) return undefined;
  const value = (details as Record<string, unknown>)[key];
  return typeof value === 'string' ? value : undefined;
};

/** The record facts the events determine, as the events say them. */
export interface ReplayedFacts {
  status?: string;
  endedAt?: string;
  expiresAt?: string;
  reviewState?: string;
  reviewOutcome?: string;
  /** The REVIEWED event's actor: the review use case writes it to the record as `reviewedBy`. */
  reviewedBy?: string;
  /** The REVIEWED event's time: the record's `reviewedAt`. */
  reviewedAt?: string;
}

/**
 * Replays a grant's events (sorted by `seq`) the way the use cases write the record, and
 * returns the fields the record must therefore hold. Only fields an event determines are set.
 */
export function replayEvents(stored: readonly object[]): ReplayedFacts {
  const events = stored as readonly Item[];
  const facts: ReplayedFacts = {};
  let reviewed = false;
  for (const event of [...events].sort((a, b) => Number(a.seq) - Number(b.seq))) {
    const at = text(event.at);
    switch (event.type) {
      case 'REQUESTED':
        facts.status = 'PENDING';
        if (detail(event, 'expiresAt')) facts.expiresAt = detail(event, 'expiresAt');
        break;
      case 'DENIED':
        facts.status = 'DENIED';
        facts.endedAt = at;
        break;
      case 'ACTIVATED':
        facts.status = 'ACTIVE';
        if (detail(event, 'expiresAt')) facts.expiresAt = detail(event, 'expiresAt');
        break;
      case 'ACTIVATION_FAILED':
        facts.status = 'FAILED';
        facts.endedAt = at;
        break;
      case 'SWEPT':
        // The sweeper closes an activation that never finished (its policy may have been attached: review due);
        // other sweeps change no state.
        if (facts.status === 'PENDING') {
          facts.status = 'FAILED';
          facts.endedAt = at;
          if (!reviewed) facts.reviewState = 'DUE';
        }
        break;
      case 'ROLLBACK_FAILED':
        // A failed activation whose policy could not be taken back: review due.
        if (!reviewed) facts.reviewState = 'DUE';
        break;
      case 'EXTENDED':
        if (detail(event, 'to')) facts.expiresAt = detail(event, 'to');
        break;
      case 'EXPIRED':
      case 'REVOKED':
        facts.status = event.type;
        facts.endedAt = at;
        if (!reviewed) facts.reviewState = 'DUE';
        break;
      case 'REVIEWED':
        reviewed = true;
        facts.reviewState = 'DONE';
        facts.reviewOutcome = detail(event, 'outcome');
        facts.reviewedBy = typeof event.actor === 'string' ? event.actor : undefined;
        facts.reviewedAt = at || undefined;
        break;
      default:
        break; // failures and alerts change no state
    }
  }
  return facts;
}

/** The review facts a record holds: each one is written by the REVIEWED event and by nothing else. */
const REVIEW_FACTS = ['reviewState', 'reviewOutcome', 'reviewedBy', 'reviewedAt'] as const;

/**
 * The fields where the record and its replayed events disagree, as `field: record ≠ events`.
 * State and times are compared where an event determines them; every review fact is compared
 * always, so a review fact with no event behind it (a record marked reviewed that never was, a
 * reviewer's name changed) is a mismatch as much as a wrong one.
 */
export function recordMismatches(record: object, facts: ReplayedFacts): string[] {
  const grant = record as Item;
  const out: string[] = [];
  for (const field of ['status', 'endedAt', 'expiresAt'] as const) {
    const expected = facts[field];
    if (expected !== undefined && grant[field] !== expected)
      out.push(`${field} is ${show(grant[field])} but the events say ${show(expected)}`);
  }
  for (const field of REVIEW_FACTS) {
    if (grant[field] !== facts[field])
      out.push(`${field} is ${show(grant[field])} but the events say ${show(facts[field])}`);
  }
  return out;
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));

/** Whole seconds between planned and actual end, for grants that ended after giving access. */
export function lateSecondsOf(record: object): number | null {
  const grant = record as Item;
  if (grant.status !== 'EXPIRED' && grant.status !== 'REVOKED') return null;
  const end = time(grant.endedAt);
  const planned = time(grant.expiresAt);
  return end === undefined || planned === undefined ? null : Math.round((end - planned) / 1000);
}

/** What the review column says. */
export function reviewLabel(record: object): string {
  const grant = record as Item;
  if (grant.reviewOutcome === 'justified' || grant.reviewOutcome === 'unjustified') return grant.reviewOutcome;
  // A drill's grant (docs/drills.md) is a rehearsal, not access anyone used: its record is the DRILL result.
  if (grant.drill === true) return 'not needed';
  if (grant.reviewState === 'DUE') return 'unreviewed';
  if (grant.status === 'DENIED' || grant.status === 'FAILED') return 'not needed';
  if (grant.status === 'ACTIVE' || grant.status === 'PENDING') return 'not yet due';
  return 'unreviewed';
}

/** The chain column: `ok`, or the first break. */
export function chainLabel(verdict: ReturnType<typeof verifyChain>): string {
  if (verdict.ok) return 'ok';
  return `broken at ${verdict.seq === 0 ? 'the grant record' : `event ${verdict.seq}`}: ${verdict.problem}`;
}

/**
 * Judges one grant: its record and every event stored under it, in any order; with action logging, its
 * summary and its calls as leaves (`activityLeaf` in report.ts: sort key, capture time, content hash).
 */
export function analyseGrant(
  record: object,
  stored: readonly object[],
  policy: AuditPolicy,
  activity?: ActivityCounts,
  calls: readonly SealedLeaf[] = [],
): GrantAnalysis {
  const grant = record as Item;
  const events = stored as readonly Item[];
  const id = text(grant.id) || text(grant.pk).replace(/^GRANT#/, '');
  const sequence =
    typeof grant.sequence === 'number' && Number.isInteger(grant.sequence) && grant.sequence > 0
      ? grant.sequence
      : null;
  const principal = text(grant.principalArn);
  const profile = text(grant.profile);
  const who = `${principal || '(unknown requester)'} (${profile || 'no profile'})`;
  const subject = { grantId: id, ...(principal ? { principal } : {}), ...(sequence !== null ? { sequence } : {}) };
  const findings: Finding[] = [];

  // 1. verify
  const verdict = verifyChain(grant as ChainedGrant, events as readonly ChainedEvent[]);
  if (!verdict.ok) {
    findings.push(
      finding('CHAIN_BROKEN', {
        ...subject,
        seq: verdict.seq,
        message: `Grant ${id} of ${who}: ${verdict.problem} (first break at ${verdict.seq === 0 ? 'the grant record' : `event ${verdict.seq}`}). Treat the grant's trail as tampered with: compare it with the alerts sent for it and with an earlier export, and find who wrote to the table.`,
      }),
    );
  }

  // 2. replay (only meaningful over a verified chain: a broken one is already a finding)
  if (verdict.ok) {
    const mismatches = recordMismatches(grant, replayEvents(events));
    if (mismatches.length) {
      findings.push(
        finding('RECORD_MISMATCH', {
          ...subject,
          message: `Grant ${id} of ${who}: the record disagrees with its verified events (${mismatches.join('; ')}). The record was edited outside break-glass: trust the events, restore the record from an earlier export and find who wrote it.`,
        }),
      );
    }
  }

  // 3. measure
  const lateSeconds = lateSecondsOf(grant);
  if (lateSeconds !== null && lateSeconds > policy.lateSeconds) {
    findings.push(
      finding('LATE_REVOCATION', {
        ...subject,
        message: `Grant ${id} of ${who} kept access ${lateSeconds} s past its expiry (${text(grant.expiresAt)}; ${text(grant.status).toLowerCase()} at ${text(grant.endedAt)}), over the ${policy.lateSeconds} s allowed. Find out why removal was late (EXPIRY_FAILED events, the expiry dead-letter queue) and review what the principal did after ${text(grant.expiresAt)}.`,
      }),
    );
  }
  if (grant.status === 'ACTIVE' || grant.status === 'PENDING') {
    const planned = time(grant.expiresAt);
    const overBy = planned === undefined ? undefined : Math.round((policy.snapshotAt.getTime() - planned) / 1000);
    if (overBy !== undefined && overBy > policy.lateSeconds) {
      findings.push(
        finding('LATE_REVOCATION', {
          ...subject,
          message: `Grant ${id} of ${who} was still ${text(grant.status)} in the export (taken at ${policy.snapshotAt.toISOString()}), ${overBy} s after its expiry (${text(grant.expiresAt)}). Its expiry did not run: check the expiry dead-letter queue and revoke the grant now if it is still ACTIVE.`,
        }),
      );
    }
  }
  // A drill's grant is judged for integrity and timeliness like any other (a chain broken, access outliving
  // its expiry are real), but it is no one's access: no review, ticket or risk finding (DRILL_STALE covers drills).
  const drill = grant.drill === true;
  const ended = time(grant.endedAt);
  if (
    !drill &&
    grant.reviewState === 'DUE' &&
    ended !== undefined &&
    ended < policy.asOf.getTime() - policy.reviewDays * 86_400_000
  ) {
    const days = Math.floor((policy.asOf.getTime() - ended) / 86_400_000);
    findings.push(
      finding('REVIEW_OVERDUE', {
        ...subject,
        message: `Grant ${id} of ${who} ended ${days} days before ${policy.asOf.toISOString()} (at ${text(grant.endedAt)}) and is still unreviewed; the deadline is ${policy.reviewDays} days. Ask a reviewer of profile ${profile || '(none)'} other than the requester to review it.`,
      }),
    );
  }
  const required = policy.ticketRequired(profile);
  const activated = events.some((e) => e.type === 'ACTIVATED');
  if (!drill && activated && required === true && !text(grant.ticket)) {
    findings.push(
      finding('MISSING_TICKET', {
        ...subject,
        message: `Grant ${id} of ${who} was activated without a ticket, but profile ${profile} requires one. Ask the requester for the incident ticket and attach it to the review; if activation skipped the check, find out how.`,
      }),
    );
  }
  const risks = drill ? [] : (policy.acknowledgedRisks?.(profile) ?? []);
  if (activated && risks.length) {
    findings.push(
      finding('RISK_ACKNOWLEDGED', {
        ...subject,
        message: `Grant ${id} of ${who} gave access under acknowledged escalation risks (${risks.join(', ')}). Its review should check that none was used beyond the incident: no credentials, roles, code or policies left behind.`,
      }),
    );
  }

  // Action logging (docs/action-logging.md): what was done with the access.
  const n = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
  const counts = policy.activityLogged
    ? {
        calls: n(activity?.calls),
        writes: n(activity?.writes),
        denied: n(activity?.denied),
        afterEnd: n(activity?.afterEndAllowed),
      }
    : undefined;
  const endedStatus = grant.status === 'EXPIRED' || grant.status === 'REVOKED';
  if (counts && counts.afterEnd > 0)
    findings.push(
      finding('ACTIVITY_AFTER_EXPIRY', {
        ...subject,
        count: counts.afterEnd,
        message: `Grant ${id} of ${who}: AWS allowed ${counts.afterEnd} call(s) made after the grant ended. Access outlived the grant: check that its policy is gone and no session or credentials remain, and review the calls (GET /grants/${id}/activity).`,
      }),
    );
  // The review's seal (activity-seal.ts): `calls` carry each stored call's content hash, recomputed from the export.
  // Checked even when the export holds no activity item at all: a seal of N calls then shows their removal.
  const seal = sealOf(events as readonly { type: string; at: string; details?: unknown }[]);
  const sealVerdict = seal ? compareSeal(id, seal, calls) : undefined;
  if (sealVerdict && !sealVerdict.ok)
    findings.push(
      finding('ACTIVITY_CHANGED_AFTER_REVIEW', {
        ...subject,
        message: `Grant ${id} of ${who}: ${sealVerdict.problem}. What the reviewer judged is no longer what the table holds: compare the grant's ACTIVITY# items with an earlier export (versioned bucket) and find who could write them.`,
      }),
    );
  if (counts && counts.denied > 0)
    findings.push(
      finding('DENIED_ATTEMPTS_IN_GRANT', {
        ...subject,
        count: counts.denied,
        message: `Grant ${id} of ${who}: ${counts.denied} call(s) were denied during the grant, beyond what profile ${profile || '(none)'} allows. The review should say whether the profile is too narrow for the incident or the attempts went beyond it.`,
      }),
    );
  // A drill's grant (the grant's own `drill` fact, set only by the drill use case: activation refuses a drill
  // profile otherwise) makes no calls by design: the drill evaluates what its policy would allow, it never uses it.
  // Calls it did make still count above (denied, after the end).
  if (counts && activated && endedStatus && counts.calls === 0 && !drill)
    findings.push(
      finding('NO_ACTIVITY', {
        ...subject,
        message: `Grant ${id} of ${who} gave access and no call was recorded with it. If that is right, the access was not needed: ask whether the profile's use was justified; otherwise check CloudTrail and the activity rule.`,
      }),
    );

  // 4. row
  const row: GrantRow = {
    id,
    sequence,
    requester: principal,
    profile,
    account: text(grant.account),
    accountAlias: text(grant.accountAlias),
    risks: risks.join(','),
    status: text(grant.status),
    reason: text(grant.reason),
    ticket: text(grant.ticket),
    start: text(grant.createdAt),
    plannedEnd: text(grant.expiresAt),
    actualEnd: text(grant.endedAt),
    lateSeconds,
    review: reviewLabel(grant),
    reviewedBy: text(grant.reviewedBy),
    chain: chainLabel(verdict),
    events: events.length,
    activityCalls: counts?.calls ?? null,
    activityWrites: counts?.writes ?? null,
    activityDenied: counts?.denied ?? null,
    activityAfterEnd: counts?.afterEnd ?? null,
    firstCall: text(activity?.firstCallAt),
    lastCall: text(activity?.lastCallAt),
  };
  return { row, findings, profileKnown: required !== undefined, chainOk: verdict.ok };
}

/** Events stored under a grant whose record is missing: one finding for the lot. */
export function analyseOrphans(grantId: string, stored: readonly object[]): Finding {
  const events = stored as readonly Item[];
  const first = [...events].sort((a, b) => Number(a.seq) - Number(b.seq))[0] ?? {};
  const principal = text(first.requester);
  const profile = text(first.profile);
  const at = text(first.at);
  return finding('ORPHAN_EVENTS', {
    grantId,
    ...(principal ? { principal } : {}),
    count: events.length,
    message: `${events.length} event(s) of grant ${grantId} (${principal || 'unknown requester'}, ${profile || 'unknown profile'}${at ? `, first at ${at}` : ''}) have no grant record: the record was deleted. Restore it from an earlier export and find who deleted it.`,
  });
}
