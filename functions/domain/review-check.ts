/**
 * The daily review check: grants that ended more than N days ago and are still unreviewed are
 * announced, one alert per profile (so a profile's owner can subscribe to just theirs).
 *
 * 1. find — the grants whose review is due and that ended before now − N days (an index query), except
 *    drills' grants: a rehearsal is no one's access, its record is the DRILL result (docs/drills.md);
 * 2. announce — per profile, the list (oldest first) with how to review each.
 */
import { type Alert, oneLine } from './alert.js';
import type { Grant } from './grant.js';
import { describeError } from './lifecycle.js';
import type { AuditLog, Clock, Notifier, Ports } from './ports.js';

export const DEFAULT_REVIEW_DEADLINE_DAYS = 3;
/** Overdue grants read per check (the count in the alerts stops there: "1000 or more"). */
export const REVIEW_CHECK_LIMIT = 1000;
/** Grants named per alert: SNS messages are limited to 256 KB, and each form repeats the list. */
export const LISTED_PER_ALERT = 50;

export interface ReviewCheckPorts {
  readonly audit: AuditLog;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly log: Ports['log'];
}

export interface ReviewCheckReport {
  readonly overdue: number;
  readonly profiles: readonly string[];
}

export async function checkOverdueReviews(
  ports: ReviewCheckPorts,
  deadlineDays: number = DEFAULT_REVIEW_DEADLINE_DAYS,
): Promise<ReviewCheckReport> {
  // 1. find
  const now = ports.clock.now();
  const cutoff = new Date(now.getTime() - deadlineDays * 86_400_000).toISOString();
  const found = await ports.audit.reviewsDue(cutoff, REVIEW_CHECK_LIMIT);
  const due = found.filter((grant) => grant.drill !== true);

  // 2. announce
  const byProfile = new Map<string, Grant[]>();
  for (const grant of due) byProfile.set(grant.profile, [...(byProfile.get(grant.profile) ?? []), grant]);
  let alertsFailed = 0;
  for (const [profile, grants] of byProfile) {
    try {
      await ports.notifier.publish(
        overdueAlert(profile, grants, deadlineDays, now, found.length >= REVIEW_CHECK_LIMIT),
      );
    } catch (error) {
      alertsFailed += 1;
      ports.log.error({ msg: 'could not publish the overdue-review alert', profile, error: describeError(error) });
    }
  }
  // A reminder nobody received must fail the run (its error alarm is the fallback).
  if (alertsFailed) throw new Error(`${alertsFailed} overdue-review alert(s) could not be published`);
  return { overdue: due.length, profiles: [...byProfile.keys()] };
}

function overdueAlert(
  profile: string,
  grants: readonly Grant[],
  deadlineDays: number,
  now: Date,
  capped: boolean,
): Alert {
  const owner = grants[0]!.owner;
  const count = `${grants.length}${capped ? '+' : ''}`;
  const listed = grants.slice(0, LISTED_PER_ALERT);
  const subject = oneLine(
    `[break-glass WARNING] ${count} ${profile} grant(s) unreviewed past ${deadlineDays} days`,
    100,
  ).replace(/[^\x20-\x7e]/g, '?');
  const lines = [
    `Event:      REVIEW_OVERDUE (WARNING)`,
    `Profile:    ${profile} (owner: ${owner})`,
    `Deadline:   ${deadlineDays} days after a grant ends`,
    `As of:      ${now.toISOString()}`,
    '',
    ...listed.map(
      (g) => `- ${g.id}  ${g.principalArn}  ended ${g.endedAt} (${g.status})  reason: ${oneLine(g.reason, 120)}`,
    ),
    ...(grants.length > listed.length
      ? [
          `… and ${grants.length - listed.length}${capped ? ' or more' : ''} more, oldest listed first (breakglass audit, or the "ended grants still unreviewed" Athena query, lists them all).`,
        ]
      : []),
    '',
    'Review each: POST /grants/<id>/review {"outcome":"justified"|"unjustified","notes":"..."} (a reviewer who is not the requester).',
  ];
  return {
    subject,
    body: lines.join('\n'),
    machine: {
      version: 1,
      eventType: 'REVIEW_OVERDUE',
      severity: 'WARNING',
      profile,
      owner,
      deadlineDays,
      overdue: grants.length,
      capped,
      grants: listed.map((g) => ({ id: g.id, principalArn: g.principalArn, endedAt: g.endedAt, status: g.status })),
    },
    attributes: { eventType: 'REVIEW_OVERDUE', profile, principal: '-', severity: 'WARNING', grantId: '-', owner },
  };
}
