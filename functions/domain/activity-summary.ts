/**
 * The end-of-grant activity summary: one alert per grant, once it has ended and CloudTrail has had
 * time to deliver its last calls, saying what was done — counts, the write actions by name, the
 * denied attempts — and the digest of the records it summarizes.
 *
 * Run on a schedule (every 5 minutes in the cloud, every minute in the sandbox), never from the
 * lifecycle functions, and never per delivery:
 *
 * 1. find — grants EXPIRED or REVOKED whose end second lies between {@link LOOKBACK_HOURS} ago and
 *    {@link SETTLE_MINUTES} ago: CloudTrail hands events to EventBridge "on a best effort basis"
 *    (EventBridge events reference, "AWS CloudTrail events"), minutes after the call; the margin takes
 *    most stragglers, and a later one still lands in the grant's record and in the review's seal;
 * 2. skip — those already announced (`ActivityStore.announcedAt`);
 * 3. summarize — the summary counters and every record (for write actions by name, denied attempts
 *    and the digest, `activityDigest`);
 * 4. announce — publish, then mark announced (a crash between the two announces twice, never zero times).
 *
 * Integrity: the digest leaves the system in the alert (mailboxes, chat, queues), and the review seals
 * it into the grant's own audit chain (`review-grant.ts`): a record changed or removed afterwards no
 * longer matches either. Capture itself never writes the grant's items, so CloudTrail deliveries never
 * contend with lifecycle writes; the seal rides on the review's one write.
 */
import {
  type ActivityRecord,
  type ActivitySummary,
  activityDigest,
  endSecondOf,
  isDenied,
  verifyActivity,
} from './activity.js';
import { type ActivityEventType, type Alert, oneLine } from './alert.js';
import type { Severity } from './audit-event.js';
import type { Grant, GrantStatus } from './grant.js';
import type { ActivityStore, Clock, GrantStore, Notifier } from './ports.js';

export const ACTIVITY_SUMMARY: ActivityEventType = 'ACTIVITY_SUMMARY';
/** How long after a grant's end its summary waits for CloudTrail's late deliveries. */
export const SETTLE_MINUTES = 15;
/** Grants that ended longer ago than this are not announced (a first deployment does not replay history). */
export const LOOKBACK_HOURS = 48;
/** Grants are listed newest created first; a grant runs at most this long (profile `maxTotalMinutes`, 12 h … and margin). */
const CREATED_LOOKBACK_HOURS = LOOKBACK_HOURS + 7 * 24;
const PAGE = 50;
const ENDED: readonly GrantStatus[] = ['EXPIRED', 'REVOKED'];

export interface AnnouncePorts {
  readonly store: Pick<GrantStore, 'list'>;
  readonly activity: Pick<ActivityStore, 'summary' | 'all' | 'announcedAt' | 'markAnnounced'>;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly log: Pick<Console, 'error' | 'warn' | 'info'>;
}

export interface AnnounceReport {
  readonly announced: readonly string[];
  readonly failed: readonly string[];
}

export async function announceActivitySummaries(
  ports: AnnouncePorts,
  options: { settleMinutes?: number } = {},
): Promise<AnnounceReport> {
  const now = ports.clock.now().getTime();
  const latest = now - (options.settleMinutes ?? SETTLE_MINUTES) * 60_000;
  const earliest = now - LOOKBACK_HOURS * 3_600_000;
  const createdFloor = new Date(now - CREATED_LOOKBACK_HOURS * 3_600_000).toISOString();
  // 1. find
  const due: Grant[] = [];
  for (const status of ENDED) {
    let nextToken: string | undefined;
    do {
      const page = await ports.store.list({ status, limit: PAGE, ...(nextToken ? { nextToken } : {}) });
      for (const grant of page.grants) {
        const end = Date.parse(endSecondOf(grant));
        if (end <= latest && end >= earliest) due.push(grant);
      }
      const oldest = page.grants[page.grants.length - 1];
      nextToken = oldest && oldest.createdAt < createdFloor ? undefined : page.nextToken;
    } while (nextToken);
  }
  const announced: string[] = [];
  const failed: string[] = [];
  for (const grant of due) {
    try {
      // 2. skip
      if (await ports.activity.announcedAt(grant.id)) continue;
      // 3. summarize
      const [summary, records] = await Promise.all([ports.activity.summary(grant.id), ports.activity.all(grant.id)]);
      const alert = activitySummaryAlert(grant, summary, records);
      // 4. announce
      await ports.notifier.publish(alert);
      await ports.activity.markAnnounced(grant.id, new Date(now).toISOString());
      announced.push(grant.id);
    } catch (error) {
      // The next run tries again.
      ports.log.error({
        msg: 'activity: end-of-grant summary not announced',
        grantId: grant.id,
        error: error instanceof Error ? error.message : String(error),
      });
      failed.push(grant.id);
    }
  }
  return { announced, failed };
}

/** Write actions by name (`service:Action`), most frequent first. */
export function writesByName(records: readonly ActivityRecord[]): Array<{ action: string; count: number }> {
  const counts = new Map<string, number>();
  for (const r of records) {
    if (r.readOnly === true) continue;
    const name = `${r.service.replace(/\.amazonaws\.com$/, '')}:${r.action}`;
    counts.set(name, (counts.get(name) ?? 0) + 1);
  }
  return [...counts.entries()]
    .map(([action, count]) => ({ action, count }))
    .sort((a, b) => b.count - a.count || (a.action < b.action ? -1 : 1));
}

const who = (principalArn: string) => principalArn.split('/').pop() ?? principalArn;
const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

/** ACTIVITY_SUMMARY: what was done with a grant that has ended. */
export function activitySummaryAlert(
  grant: Grant,
  summary: ActivitySummary,
  records: readonly ActivityRecord[],
): Alert {
  const writes = writesByName(records);
  const denied = records
    .filter((r) => isDenied(r.errorCode))
    .sort((a, b) => (a.eventTime < b.eventTime ? -1 : 1))
    .slice(0, 20);
  const verdict = verifyActivity(summary, records);
  const { root } = activityDigest(grant.id, records);
  const severity: Severity = summary.afterEndAllowed > 0 ? 'CRITICAL' : summary.denied > 0 ? 'WARNING' : 'INFO';
  const subject = ascii(
    oneLine(
      `[break-glass] ${grant.profile} of ${who(grant.principalArn)}: ${summary.calls} calls, ${summary.writes} writes, ${summary.denied} denied`,
      100,
    ),
  );
  const body = [
    `Event:      ${ACTIVITY_SUMMARY} (${severity})`,
    `Grant:      ${grant.id}`,
    `Who:        ${grant.principalArn}`,
    `Profile:    ${grant.profile} (owner: ${grant.owner})`,
    `Status:     ${grant.status}, ended ${endSecondOf(grant)}`,
    `Calls:      ${summary.calls} (${summary.writes} not read-only, ${summary.denied} denied, ${summary.afterEnd} after the end)`,
    `First/last: ${summary.firstCallAt ?? '-'} / ${summary.lastCallAt ?? '-'}`,
    ...(summary.calls === 0
      ? ['', 'No call was recorded: the access was granted and never used (or CloudTrail is off).']
      : []),
    ...(writes.length ? ['', 'Write actions:', ...writes.slice(0, 30).map((w) => `  ${w.count} x ${w.action}`)] : []),
    ...(denied.length
      ? [
          '',
          'Denied attempts:',
          ...denied.map(
            (r) =>
              `  ${r.eventTime}  ${r.service.replace(/\.amazonaws\.com$/, '')}:${r.action}  ${r.errorCode}  ${oneLine(r.resources.join(', ') || '-', 200)}`,
          ),
        ]
      : []),
    '',
    `Digest:     ${root} over ${records.length} records${verdict.ok ? '' : ` — NOT CONSISTENT: ${verdict.problem}`}`,
    `Details:    GET /grants/${grant.id}/activity  (breakglass activity ${grant.id})`,
  ].join('\n');
  return {
    subject,
    body,
    machine: {
      version: 1,
      eventType: ACTIVITY_SUMMARY,
      severity,
      grant: {
        id: grant.id,
        profile: grant.profile,
        owner: grant.owner,
        principalArn: grant.principalArn,
        status: grant.status,
        endSecond: endSecondOf(grant),
      },
      summary,
      writes,
      denied: denied.map((r) => ({
        eventId: r.eventId,
        eventTime: r.eventTime,
        service: r.service,
        action: r.action,
        errorCode: r.errorCode ?? null,
      })),
      digest: { calls: records.length, root, consistent: verdict.ok },
    },
    attributes: {
      eventType: ACTIVITY_SUMMARY,
      profile: grant.profile,
      principal: grant.principalArn,
      severity,
      grantId: grant.id,
      owner: grant.owner,
    },
  };
}
