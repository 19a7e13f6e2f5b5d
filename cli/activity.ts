/**
 * `breakglass activity`: the table of a grant's calls, and `--from-cloudtrail`, which reads CloudTrail
 * event history (`LookupEvents`) directly with the caller's own AWS credentials and prints the same
 * shape — for when the activity log is not deployed, or to cross-check it.
 *
 * LookupEvents facts this relies on (CloudTrail API Reference, LookupEvents):
 * - "The rate of lookup requests is limited to two per second, per account, per Region. If this
 *   limit is exceeded, a throttling error occurs." Requests are spaced at least 500 ms apart, and a
 *   throttling error waits and retries;
 * - at most 50 events per page, with a `NextToken`; event history covers the last 90 days, one
 *   Region per request (calls in other Regions need `--regions`);
 * - the `Username` lookup attribute matches the session name of an assumed role (the AWS CLI's
 *   lookup-events example shows `"Username": "my-session-name"` for an AssumedRole event).
 * Each event's `CloudTrailEvent` (the record as JSON) goes through the same `composeActivity` as the
 * capture function, so secrets are dropped and requests bounded here too.
 */
import { CloudTrailClient, LookupEventsCommand, type LookupEventsCommandOutput } from '@aws-sdk/client-cloudtrail';
import { defaultProvider } from '@aws-sdk/credential-provider-node';
import {
  type ActivityRecord,
  type ActivitySummary,
  composeActivity,
  emptySummary,
  endSecondOf,
  grantOfSession,
  MalformedRecordError,
  parseCall,
  sessionNameFor,
  summaryIncrements,
} from '../functions/domain/activity.js';

/** Milliseconds between two LookupEvents requests: two per second at most. */
export const LOOKUP_SPACING_MS = 500;
/** How long after a grant's end calls are still looked for (and shown flagged). */
export const AFTER_END_MS = 15 * 60_000;
const THROTTLE_RETRIES = 5;

/** What the CLI reads of a grant (GET /grants/{id}). */
export interface GrantFacts {
  readonly id: string;
  readonly principalArn: string;
  readonly targetType: string;
  readonly targetName: string;
  readonly createdAt: string;
  readonly expiresAt: string;
  readonly endedAt?: string;
  readonly sessionUserId?: string;
}

/**
 * The session name the grant's calls carry: `bg-<grantId>` for a profile role; in caller mode (the
 * policy went on the requester's own role or user) the requester's session or user name.
 */
export function sessionOfGrant(grant: GrantFacts): { session: string; mode: 'session' | 'userid' } {
  const arn = /^arn:[\w-]+:(?:sts::\d{12}:assumed-role\/([^/]+)\/(.+)|iam::\d{12}:user\/(?:.*\/)?(.+))$/.exec(
    grant.principalArn,
  );
  const ownRole = arn?.[1] !== undefined && grant.targetType === 'role' && arn[1] === grant.targetName;
  const ownUser = arn?.[3] !== undefined && grant.targetType === 'user' && arn[3] === grant.targetName;
  if (ownRole) return { session: arn[2]!, mode: 'userid' };
  if (ownUser) return { session: arn[3]!, mode: 'userid' };
  return { session: sessionNameFor(grant.id), mode: 'session' };
}

export interface LookupOptions {
  readonly regions: readonly string[];
  readonly awsProfile?: string;
  readonly now: () => number;
  readonly sleep: (ms: number) => Promise<void>;
  readonly progress?: (text: string) => void;
  /** For tests: the client of a region. */
  readonly clientFor?: (region: string) => CloudTrailClient;
}

export async function activityFromCloudTrail(
  grant: GrantFacts,
  options: LookupOptions,
): Promise<{ activity: ActivityRecord[]; summary: ActivitySummary; session: string }> {
  const { session, mode } = sessionOfGrant(grant);
  const endSecond = endSecondOf(grant);
  const start = new Date(Math.floor(Date.parse(grant.createdAt) / 1000) * 1000);
  const end = new Date(Math.min(options.now(), Date.parse(endSecond) + AFTER_END_MS));
  const capturedAt = new Date(options.now()).toISOString();
  const byId = new Map<string, ActivityRecord>();
  let lastRequest = -Infinity;
  for (const region of options.regions) {
    const client =
      options.clientFor?.(region) ??
      new CloudTrailClient({
        region,
        credentials: defaultProvider(options.awsProfile ? { profile: options.awsProfile } : {}),
      });
    let nextToken: string | undefined;
    do {
      let page: LookupEventsCommandOutput | undefined;
      for (let attempt = 0; !page; attempt++) {
        const wait = lastRequest + LOOKUP_SPACING_MS - options.now();
        if (wait > 0) await options.sleep(wait);
        lastRequest = options.now();
        try {
          page = await client.send(
            new LookupEventsCommand({
              LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: session }],
              StartTime: start,
              EndTime: end,
              MaxResults: 50,
              ...(nextToken ? { NextToken: nextToken } : {}),
            }),
          );
        } catch (error) {
          const name = (error as Error).name;
          if (!/Throttl/.test(name) || attempt >= THROTTLE_RETRIES) throw error;
          options.progress?.(`… CloudTrail is throttling lookups (2 per second per Region); waiting`);
          await options.sleep(1_000 * 2 ** attempt);
        }
      }
      for (const event of page.Events ?? []) {
        let record: unknown;
        try {
          record = JSON.parse(event.CloudTrailEvent ?? '');
        } catch {
          continue;
        }
        let call;
        try {
          call = parseCall(record);
        } catch (error) {
          if (error instanceof MalformedRecordError) continue;
          throw error;
        }
        // The same session name on another role or user is someone else.
        const named = grantOfSession(call);
        const ours =
          mode === 'session'
            ? named?.grantId === grant.id && (named.roleName === undefined || named.roleName === grant.targetName)
            : grant.sessionUserId
              ? call.principalId === grant.sessionUserId
              : call.identityArn === grant.principalArn;
        if (!ours) continue;
        // Caller mode: the session's own calls before the grant are not break-glass activity.
        if (mode === 'userid' && call.eventTime < start.toISOString().replace(/\.\d{3}Z$/, 'Z')) continue;
        byId.set(call.eventId, composeActivity(call, { grantId: grant.id, attribution: mode, endSecond, capturedAt }));
      }
      nextToken = page.NextToken;
    } while (nextToken);
  }
  const activity = [...byId.values()].sort((a, b) =>
    a.eventTime === b.eventTime ? (a.eventId < b.eventId ? 1 : -1) : a.eventTime < b.eventTime ? 1 : -1,
  );
  return { activity, summary: summarize(grant.id, activity), session };
}

/** The summary of records in hand (the same counters the capture keeps). */
export function summarize(grantId: string, records: readonly ActivityRecord[]): ActivitySummary {
  let s: ActivitySummary = emptySummary(grantId);
  for (const r of records) {
    const inc = summaryIncrements(r);
    s = {
      ...s,
      calls: s.calls + inc.calls,
      writes: s.writes + inc.writes,
      denied: s.denied + inc.denied,
      afterEnd: s.afterEnd + inc.afterEnd,
      afterEndAllowed: s.afterEndAllowed + inc.afterEndAllowed,
      firstCallAt: !s.firstCallAt || r.eventTime < s.firstCallAt ? r.eventTime : s.firstCallAt,
      lastCallAt: !s.lastCallAt || r.eventTime > s.lastCallAt ? r.eventTime : s.lastCallAt,
    };
  }
  return s;
}

/** A line warning that the activity does not verify; none when it does (or was not checked). */
export function integrityLines(body: {
  readonly integrity?: { readonly ok: boolean; readonly problem?: string };
}): string[] {
  return body.integrity && !body.integrity.ok
    ? [`⚠ The activity does not verify: ${body.integrity.problem ?? 'unknown problem'}`]
    : [];
}

/** The table `breakglass activity` prints, newest first. */
export function activityLines(records: readonly ActivityRecord[], summary: ActivitySummary, source: string): string[] {
  if (!records.length) return [`No calls recorded (${source}).`, `Summary: ${summaryLine(summary)}`];
  const rows = records.map((r) => [
    r.eventTime,
    `${r.service.replace(/\.amazonaws\.com$/, '')}:${r.action}`,
    r.readOnly === true ? 'R' : 'W',
    r.errorCode ?? 'OK',
    r.resources[0] ? `${r.resources[0]}${r.resources.length > 1 ? ` (+${r.resources.length - 1})` : ''}` : '-',
    r.afterEnd ? (r.errorCode ? 'after end' : 'AFTER END, ALLOWED') : '',
  ]);
  const head = ['TIME (UTC)', 'CALL', 'R/W', 'RESULT', 'RESOURCE', ''];
  const widths = head.map((h, i) => Math.min(60, Math.max(h.length, ...rows.map((row) => row[i]!.length))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd();
  return [
    `Activity of grant ${summary.grantId} (${source}), newest first:`,
    line(head),
    ...rows.map(line),
    `Summary: ${summaryLine(summary)}`,
  ];
}

function summaryLine(s: ActivitySummary): string {
  return `${s.calls} call(s), ${s.writes} write(s), ${s.denied} denied, ${s.afterEnd} after the end (${s.afterEndAllowed} allowed)${s.firstCallAt ? `, first ${s.firstCallAt}, last ${s.lastCallAt}` : ''}`;
}
