/**
 * Capture: CloudTrail API calls (EventBridge `AWS API Call via CloudTrail`), tied to the grant they
 * were made with and kept beside its record (`activity.ts`).
 *
 * 1. parse — an EventBridge event of that detail-type, from an AWS service (`source` `aws.*`), whose
 *    `detail` has an `eventID`, `eventTime`, `eventSource` and `eventName`; anything else is *rejected*
 *    (it can never succeed: not retried);
 * 2. attribute — only within the grant's own account ({@link accountMismatch}: a spoke's administrator
 *    can put events on the hub's activity bus, but never for another account's grants), then
 *    - profile role: the session name `bg-<grantId>` (in `userIdentity.arn` or `principalId`) names
 *      the grant exactly; the session must be of the grant's own role (someone naming a session of
 *      another role after a grant is *ignored*, and the grant's policy, bound to `*:bg-<grantId>`,
 *      never applied to it anyway);
 *    - caller mode: the session's `aws:userid` (`principalId`; an IAM user's ARN) → the grants it
 *      held (`SessionGrant`, written by activation) → every one whose window, creation to end second,
 *      contains `eventTime`. A caller-mode session keeps its own permissions outside a grant, so its
 *      calls outside every window are not break-glass activity and are *ignored*;
 * 3. record — one record per grant and `eventID` (EventBridge and SQS deliver at least once: a copy
 *    is a *duplicate* and changes nothing), counted in the grant's summary atomically;
 * 4. announce — a call made after the grant's end second that was **allowed** (no `errorCode`) means
 *    access outlived the grant: one CRITICAL alert per grant per batch. Late *delivery* is normal and
 *    never flagged: only `eventTime` counts. The alert goes out for redelivered copies too (at least
 *    once); if it cannot be published, the events are reported *failed* so the queue redelivers them.
 */

import {
  type ActivityRecord,
  AWS_SOURCE_PREFIX,
  CLOUDTRAIL_DETAIL_TYPE,
  composeActivity,
  endSecondOf,
  grantOfSession,
  MalformedRecordError,
  type ParsedCall,
  parseCall,
  sessionNameFor,
} from './activity.js';
import { type ActivityEventType, type Alert, oneLine } from './alert.js';
import type { Grant } from './grant.js';
import type { ActivityStore, Clock, GrantStore, Notifier, SessionGrant } from './ports.js';
import { PROFILE_ROLE_PATH } from './profile-roles.js';

export interface CapturePorts {
  /**
   * The hub's account (`ACCOUNT_ID`): the account of grants that name none. Without it, such a grant's
   * calls are only checked to name one account throughout (a single-account deployment).
   */
  readonly hubAccount?: string;
  readonly store: Pick<GrantStore, 'get'>;
  readonly activity: ActivityStore;
  readonly notifier: Notifier;
  readonly clock: Clock;
  readonly log: Pick<Console, 'error' | 'warn' | 'info'>;
}

/** One delivery: an EventBridge event, and the id to report it by (the SQS message id, or the event id). */
export interface CaptureInput {
  readonly id: string;
  readonly event: unknown;
}

export type CaptureOutcome = 'stored' | 'duplicate' | 'ignored' | 'rejected' | 'failed';

export interface CaptureResult {
  readonly id: string;
  readonly outcome: CaptureOutcome;
  /** The grants the call was attributed to. */
  readonly grantIds: readonly string[];
  /** Why it was ignored, rejected or failed. */
  readonly reason?: string;
}

export interface CaptureReport {
  readonly results: readonly CaptureResult[];
  /** The CRITICAL alerts published (allowed calls after a grant's end). */
  readonly alerts: readonly Alert[];
}

/** Caller-mode candidates read per session: activations per principal are limited (a few at a time). */
const SESSION_CANDIDATES = 10;

/** The alert's event type (`alert.ts`, ACTIVITY_EVENT_TYPES). */
export const ACTIVITY_AFTER_END: ActivityEventType = 'ACTIVITY_AFTER_END';

/** Captures a batch; never throws for one bad delivery (its result says what happened). */
export async function captureActivity(ports: CapturePorts, inputs: readonly CaptureInput[]): Promise<CaptureReport> {
  const grants = new Map<string, Promise<Grant | undefined>>();
  const grantOf = (id: string) => {
    let found = grants.get(id);
    if (!found) {
      found = ports.store.get(id);
      grants.set(id, found);
    }
    return found;
  };
  const capturedAt = ports.clock.now().toISOString();
  const results: CaptureResult[] = [];
  /** Allowed calls after the end, per grant, with the inputs that carried them. */
  const late = new Map<string, { grant: Grant; records: ActivityRecord[]; inputs: Set<string> }>();

  for (const input of inputs) {
    // 1. parse
    let call: ParsedCall;
    let envelope: Envelope;
    try {
      ({ call, envelope } = parseEnvelope(input.event));
    } catch (error) {
      if (!(error instanceof MalformedRecordError)) throw error;
      ports.log.warn({ msg: 'activity: rejected a delivery', id: input.id, reason: error.message });
      results.push({ id: input.id, outcome: 'rejected', grantIds: [], reason: error.message });
      continue;
    }
    try {
      // 2. attribute
      const attributed = await attribute(call, envelope, grantOf, ports);
      if ('ignored' in attributed) {
        results.push({ id: input.id, outcome: 'ignored', grantIds: [], reason: attributed.ignored });
        continue;
      }
      // 3. record
      let stored = false;
      for (const { grant, attribution } of attributed.grants) {
        const record = composeActivity(call, {
          grantId: grant.id,
          attribution,
          endSecond: endSecondOf(grant),
          capturedAt,
        });
        if ((await ports.activity.record(record)) === 'stored') stored = true;
        if (record.afterEnd && !record.errorCode) {
          const entry = late.get(grant.id) ?? { grant, records: [], inputs: new Set<string>() };
          entry.records.push(record);
          entry.inputs.add(input.id);
          late.set(grant.id, entry);
        }
      }
      results.push({
        id: input.id,
        outcome: stored ? 'stored' : 'duplicate',
        grantIds: attributed.grants.map((g) => g.grant.id),
      });
    } catch (error) {
      ports.log.error({
        msg: 'activity: could not record a call',
        id: input.id,
        eventId: call.eventId,
        error: describe(error),
      });
      results.push({ id: input.id, outcome: 'failed', grantIds: [], reason: describe(error) });
    }
  }

  // 4. announce
  const alerts: Alert[] = [];
  const unannounced = new Set<string>();
  for (const { grant, records, inputs: carriers } of late.values()) {
    const alert = afterEndAlert(grant, records);
    try {
      await ports.notifier.publish(alert);
      alerts.push(alert);
    } catch (error) {
      ports.log.error({
        msg: 'activity: CRITICAL alert not delivered; the calls will be redelivered',
        grantId: grant.id,
        error: describe(error),
      });
      for (const id of carriers) unannounced.add(id);
    }
  }
  return {
    results: results.map((r) =>
      unannounced.has(r.id)
        ? {
            ...r,
            outcome: 'failed' as const,
            reason: 'the CRITICAL alert about a call after the grant ended could not be published',
          }
        : r,
    ),
    alerts,
  };
}

/** What the capture reads of the EventBridge envelope besides `detail`. */
export interface Envelope {
  /** The account the event came from: set by EventBridge, kept when a rule forwards it to another account's bus. */
  readonly account: string;
  readonly source: string;
}

function parseEnvelope(event: unknown): { call: ParsedCall; envelope: Envelope } {
  if (typeof event !== 'object' || event === null || Array.isArray(event))
    throw new MalformedRecordError('the delivery is not an EventBridge event');
  const e = event as Record<string, unknown>;
  if (e['detail-type'] !== CLOUDTRAIL_DETAIL_TYPE)
    throw new MalformedRecordError(`detail-type is not "${CLOUDTRAIL_DETAIL_TYPE}"`);
  // "All events that come from AWS services begin with "aws." Customer-generated events can have any value
  // here, as long as it doesn't begin with "aws."" (EventBridge User Guide, "Event structure reference").
  // A spoke allowed onto the hub's activity bus can put events, but none that claims to be CloudTrail's:
  // the bus policy and rule take `aws.` sources only, and this is checked again here.
  if (typeof e.source !== 'string' || !e.source.startsWith(AWS_SOURCE_PREFIX))
    throw new MalformedRecordError(`source is not an AWS service's ("${AWS_SOURCE_PREFIX}…"): not a CloudTrail event`);
  if (typeof e.account !== 'string' || !ACCOUNT_ID.test(e.account))
    throw new MalformedRecordError('the envelope names no 12-digit account');
  return { call: parseCall(e.detail), envelope: { account: e.account, source: e.source } };
}

const ACCOUNT_ID = /^\d{12}$/;
/** The account in an ARN (`arn:<partition>:<service>:<region>:<account>:…`), if it names one. */
const accountOfArn = (arn: unknown): string | undefined =>
  typeof arn === 'string' ? /^arn:[\w-]+:[\w-]*:[\w-]*:(\d{12}):/.exec(arn)?.[1] : undefined;

/**
 * Why a call may not be tied to a grant of `grantAccount`, or undefined when it may. Every account the
 * delivery names must be the grant's: the envelope's `account` (EventBridge sets it; a rule forwarding
 * the event to the hub's bus keeps it), CloudTrail's `recipientAccountId` (the account whose trail
 * recorded the call), the identity's `accountId`, and the accounts in its ARN and its session issuer's
 * ARN. `recipientAccountId` is required: every CloudTrail record has it (CloudTrail User Guide,
 * "CloudTrail record contents"). So an administrator of one spoke, who can put events on the hub's bus
 * and can even name a role and session of their own after another account's grant, never adds a call to
 * a grant outside their account. Without `grantAccount` (a grant naming no account, no `ACCOUNT_ID`)
 * the accounts must only agree with one another.
 */
export function accountMismatch(call: ParsedCall, envelope: Envelope, grantAccount?: string): string | undefined {
  const r = call.record;
  if (typeof r.recipientAccountId !== 'string' || !ACCOUNT_ID.test(r.recipientAccountId))
    return 'the record has no recipientAccountId';
  const issuer = (r.userIdentity as { sessionContext?: { sessionIssuer?: { arn?: unknown; accountId?: unknown } } })
    ?.sessionContext?.sessionIssuer;
  const named: Array<[string, unknown]> = [
    ['the envelope', envelope.account],
    ['recipientAccountId', r.recipientAccountId],
    ['userIdentity.accountId', r.userIdentity?.accountId],
    ['userIdentity.arn', accountOfArn(r.userIdentity?.arn)],
    ['the session issuer', issuer?.accountId],
    ["the session issuer's ARN", accountOfArn(issuer?.arn)],
  ];
  const expected = grantAccount ?? envelope.account;
  for (const [where, account] of named)
    if (account !== undefined && account !== expected)
      return grantAccount
        ? `${where} names account ${String(account)}, not the grant's account ${grantAccount}`
        : `${where} names account ${String(account)}, the envelope ${envelope.account}`;
  return undefined;
}

type Attribution = { grants: Array<{ grant: Grant; attribution: 'session' | 'userid' }> } | { ignored: string };

async function attribute(
  call: ParsedCall,
  envelope: Envelope,
  grantOf: (id: string) => Promise<Grant | undefined>,
  ports: Pick<CapturePorts, 'activity' | 'hubAccount'>,
): Promise<Attribution> {
  const accountOf = (grant: Grant) => grant.account ?? ports.hubAccount;
  const named = grantOfSession(call);
  if (named) {
    const grant = await grantOf(named.grantId);
    if (!grant) return { ignored: `session names grant ${named.grantId}, which does not exist` };
    if (grant.targetType !== 'role' || (named.roleName !== undefined && named.roleName !== grant.targetName)) {
      return {
        ignored: `session names grant ${grant.id} but is a session of role ${named.roleName ?? '?'}, not of the grant's role ${grant.targetName}`,
      };
    }
    const mismatch = accountMismatch(call, envelope, accountOf(grant)) ?? sessionMismatch(call, grant);
    if (mismatch) return { ignored: `session names grant ${grant.id} but ${mismatch}` };
    return { grants: [{ grant, attribution: 'session' }] };
  }
  const held = (await grantsOfCaller(ports.activity, call, grantOf)).filter(
    (grant) => accountMismatch(call, envelope, accountOf(grant)) === undefined,
  );
  if (!held.length)
    return {
      ignored:
        "no grant of this session (bg-<grantId>) or of this caller, in the call's account, covers the call's time",
    };
  return { grants: held.map((grant) => ({ grant, attribution: 'userid' as const })) };
}

/**
 * A profile-role session must be the grant's own: the session name break-glass opened (`sessionName`,
 * `bg-<grantId>`), and a session issuer (when the record names one) that is the grant's role under the
 * profile roles' path.
 */
function sessionMismatch(call: ParsedCall, grant: Grant): string | undefined {
  const session = grant.sessionName ?? sessionNameFor(grant.id);
  const arn = /\/([^/]+)$/.exec(call.identityArn)?.[1];
  if (call.identityArn && arn !== session) return `its session is ${arn ?? '?'}, not the grant's ${session}`;
  const issuer = (call.record.userIdentity as { sessionContext?: { sessionIssuer?: { arn?: unknown } } } | undefined)
    ?.sessionContext?.sessionIssuer?.arn;
  if (typeof issuer === 'string' && !issuer.endsWith(`:role${PROFILE_ROLE_PATH}${grant.targetName}`))
    return `its issuer ${issuer} is not the grant's profile role ${PROFILE_ROLE_PATH}${grant.targetName}`;
  return undefined;
}

/** Caller mode: the grants a session held whose window contains the call. */
export async function grantsOfCaller(
  activity: ActivityStore,
  call: ParsedCall,
  grantOf: (id: string) => Promise<Grant | undefined>,
): Promise<Grant[]> {
  const keys = [
    ...new Set([call.principalId, call.identityArn].filter((k): k is string => typeof k === 'string' && k.length > 0)),
  ];
  const found: Grant[] = [];
  for (const key of keys) {
    for (const candidate of await activity.sessionGrants(key, call.eventTime, SESSION_CANDIDATES)) {
      const grant = await grantOf(candidate.grantId);
      if (!grant || found.some((g) => g.id === grant.id)) continue;
      // The mapping is only a pointer: the grant itself says whose it is and when it ran.
      if ((grant.sessionUserId ?? grant.principalArn) !== key) continue;
      const start = grant.createdAt.replace(/\.\d{3}Z$/, 'Z');
      if (call.eventTime >= start && call.eventTime <= endSecondOf(grant)) found.push(grant);
    }
  }
  return found;
}

function describe(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error).slice(0, 300);
}

/** Short name of the requester: the session name or the user name. */
const who = (principalArn: string) => principalArn.split('/').pop() ?? principalArn;
const ascii = (text: string) => text.replace(/[^\x20-\x7e]/g, '?');

/** CRITICAL: calls the grant's session was allowed to make after the grant ended. */
export function afterEndAlert(grant: Grant, records: readonly ActivityRecord[]): Alert {
  const sorted = [...records].sort((a, b) => (a.eventTime < b.eventTime ? -1 : 1));
  const end = endSecondOf(grant);
  const subject = ascii(
    oneLine(
      `[break-glass CRITICAL] ${sorted.length} call(s) ALLOWED after ${grant.profile} of ${who(grant.principalArn)} ended`,
      100,
    ),
  );
  const shown = sorted.slice(0, 20);
  const body = [
    `Event:      ${ACTIVITY_AFTER_END} (CRITICAL)`,
    `Grant:      ${grant.id}`,
    `Who:        ${grant.principalArn}`,
    `Profile:    ${grant.profile} (owner: ${grant.owner})`,
    `Status:     ${grant.status}`,
    `Ended:      ${end}${grant.endedAt ? ` (${grant.status.toLowerCase()} at ${grant.endedAt})` : ' (expiry)'}`,
    `Policy:     ${grant.policyName} on ${grant.targetType} ${grant.targetName}`,
    '',
    'AWS allowed these calls after the grant ended (CloudTrail eventTime, no errorCode). Access outlived',
    'the grant: check that the policy is gone and that no session or credentials remain.',
    ...shown.map(
      (r) =>
        `  ${r.eventTime}  ${r.service.replace(/\.amazonaws\.com$/, '')}:${r.action}  ${oneLine(r.resources.join(', ') || '-', 300)}  from ${r.sourceIp ?? '?'}  [${r.eventId}]`,
    ),
    ...(sorted.length > shown.length
      ? [`  … and ${sorted.length - shown.length} more (GET /grants/${grant.id}/activity)`]
      : []),
  ].join('\n');
  return {
    subject,
    body,
    machine: {
      version: 1,
      eventType: ACTIVITY_AFTER_END,
      severity: 'CRITICAL',
      grant: {
        id: grant.id,
        profile: grant.profile,
        owner: grant.owner,
        principalArn: grant.principalArn,
        status: grant.status,
        expiresAt: grant.expiresAt,
        endedAt: grant.endedAt ?? null,
        endSecond: end,
      },
      calls: shown.map((r) => ({
        eventId: r.eventId,
        eventTime: r.eventTime,
        service: r.service,
        action: r.action,
        resources: r.resources,
        sourceIp: r.sourceIp ?? null,
        identity: r.identity,
        hash: r.hash,
      })),
      total: sorted.length,
    },
    attributes: {
      eventType: ACTIVITY_AFTER_END,
      profile: grant.profile,
      principal: grant.principalArn,
      severity: 'CRITICAL',
      grantId: grant.id,
      owner: grant.owner,
    },
  };
}

/** Caller mode: the mapping item for a grant — keyed by its `aws:userid`, or its ARN for an IAM user. */
export function sessionGrantOf(
  grant: Pick<Grant, 'id' | 'createdAt' | 'sessionUserId' | 'principalArn'>,
): SessionGrant {
  return { sessionKey: grant.sessionUserId ?? grant.principalArn, grantId: grant.id, createdAt: grant.createdAt };
}

/**
 * What activation must call (once the grant is recorded, before its policy is attached) for caller-mode
 * grants, so their calls can be attributed. Idempotent. Profile-role grants need nothing: their session
 * name (`bg-<grantId>`) names them.
 */
export async function registerGrantSession(
  activity: Pick<ActivityStore, 'registerSession'>,
  grant: Pick<Grant, 'id' | 'createdAt' | 'sessionUserId' | 'principalArn'>,
): Promise<void> {
  await activity.registerSession(sessionGrantOf(grant));
}
