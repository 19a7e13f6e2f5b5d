/**
 * Turns an audit event into an alert people can read in a mailbox and machines can filter:
 * a one-line subject, a plain-text body, and message attributes for SNS filter policies.
 */
import { type EventType, type NewAuditEvent, type Severity, severityOf } from './audit-event.js';
import type { Grant } from './grant.js';
import { clip } from './requests.js';
import type { AcknowledgedRisk } from './risk.js';

/** Events about the system rather than one grant (the kill switch). */
export type ControlEventType = 'FROZEN' | 'UNFROZEN' | 'REVIEW_OVERDUE' | 'DRILL_FAILED';

/**
 * Action logging's alerts about one grant (`activity-capture.ts`, `activity-summary.ts`): a call AWS
 * allowed after the grant ended (CRITICAL), and the end-of-grant summary of what was done (INFO, or
 * WARNING when calls were denied).
 */
export const ACTIVITY_EVENT_TYPES = ['ACTIVITY_AFTER_END', 'ACTIVITY_SUMMARY'] as const;
export type ActivityEventType = (typeof ACTIVITY_EVENT_TYPES)[number];

export interface Alert {
  /** At most 100 printable ASCII characters (SNS e-mail subject limit). */
  readonly subject: string;
  /** Plain text, for e-mail and SMS. */
  readonly body: string;
  /** AWS Chatbot custom-notification form, for chat channels (HTTPS subscriptions). */
  readonly chat?: unknown;
  /** Structured form for machines (SQS, Lambda subscriptions). */
  readonly machine?: Record<string, unknown>;
  /** SNS message attributes, for subscription filter policies. */
  readonly attributes: {
    readonly eventType: EventType | ControlEventType | ActivityEventType;
    readonly profile: string;
    readonly principal: string;
    readonly severity: Severity;
    readonly grantId: string;
    readonly owner?: string;
    /** The AWS account the grant is in (hub or spoke), for filter policies such as `{"account": ["210987654321"]}`. */
    readonly account?: string;
    /**
     * The profile's acknowledged risk classes, sent as an SNS `String.Array`, so that a filter
     * policy such as `{"risks": ["code-execution"]}` matches any grant whose profile carries that
     * class (SNS matches a String.Array attribute when any element matches; see
     * https://docs.aws.amazon.com/sns/latest/dg/example-filter-policies.html). Absent when none.
     */
    readonly risks?: readonly string[];
    /**
     * `"true"` on every alert about what a drill (its runner, or break-glass itself) does with the drill's
     * grant, so a subscription can take drills only (`{"drill": ["true"]}`) or leave them out
     * (`{"drill": [{"exists": false}]}`). A failed drill's alert (DRILL_FAILED), and anyone else's action
     * on a drill's grant (e.g. CREDENTIALS_DENIED), do not carry it: those are for everyone.
     */
    readonly drill?: 'true';
  };
}

/** Subject lines, e.g. "alice activated demo for 30m" or "demo of alice expired". */
const HEADLINE: Record<EventType, (who: string, profile: string) => string> = {
  REQUESTED: (w, p) => `${w} requested ${p}`,
  DENIED: (w, p) => `${w} was DENIED ${p}`,
  ACTIVATED: (w, p) => `${w} activated ${p}`,
  ACTIVATION_FAILED: (w, p) => `${w} FAILED to activate ${p}`,
  ROLLBACK_FAILED: (w, p) => `ROLLBACK FAILED: ${p} of ${w} may remain attached`,
  EXPIRED: (w, p) => `${p} of ${w} expired`,
  EXPIRY_FAILED: (w, p) => `EXPIRY FAILED: ${p} of ${w} still attached`,
  REVOKED: (w, p) => `${p} of ${w} revoked`,
  REVOKE_FAILED: (w, p) => `REVOKE FAILED: ${p} of ${w} still attached`,
  EXTENDED: (w, p) => `${w} extended ${p}`,
  SWEPT: (w, p) => `SWEEPER removed ${p} of ${w}: access outlived its record`,
  SCHEDULE_REPAIRED: (w, p) => `sweeper re-created the expiry of ${p} of ${w}`,
  EXTEND_FAILED: (w, p) => `${w} FAILED to extend ${p}`,
  ALERT_FAILED: (w, p) => `an alert about ${p} of ${w} was not delivered`,
  REVIEWED: (w, p) => `review of ${p} of ${w}`,
  CREDENTIALS_ISSUED: (w, p) => `${w} took credentials for ${p}`,
  CREDENTIALS_DENIED: (w, p) => `${w} was REFUSED credentials for ${p}`,
};

/** Events whose subject names the actor (who took or was refused the session), not the requester. */
const ACTOR_HEADLINE = new Set<EventType>(['CREDENTIALS_ISSUED', 'CREDENTIALS_DENIED']);

/**
 * Characters that break or disguise a line: C0/C1 controls (CR, LF, NEL, VT, FF, escape
 * sequences), line and paragraph separators (U+2028, U+2029), and format characters such as bidi
 * overrides, which can reorder text in a mail client (the zero-width joiner of emoji excepted).
 */
const LINE_BREAKING = /[\p{Cc}\p{Zl}\p{Zp}\p{Cf}]/gu;

/**
 * Printable, single-line, bounded: user text can never add a line to, or break, an alert's
 * format. Lone surrogates (never accepted, but the text may predate that rule) become U+FFFD,
 * and a cut never splits a surrogate pair.
 */
export function oneLine(text: string, max: number): string {
  const flat = text
    .replace(/\p{Cs}/gu, '\ufffd')
    .replace(LINE_BREAKING, (c) => (c === '\u200d' ? c : ' '))
    .replace(/\s+/g, ' ')
    .trim();
  return flat.length > max ? `${clip(flat, max - 1)}…` : flat;
}

function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Short name of the requester: the session name or the user name. */
function who(principalArn: string): string {
  return principalArn.split('/').pop() ?? principalArn;
}

/** Event details composed into dedicated lines of a DENIED alert rather than listed raw. */
const DENIAL_KEYS = new Set(['alertsSuppressed', 'suppressedSince', 'alertWindowSeconds']);

/**
 * Composes the alert. Every text that varies (reason, ticket, notes, details, even ARNs) goes
 * through {@link oneLine} in every form (subject, body, chat, machine), so none can add a line.
 * `risks` are the escalation risks the grant's profile acknowledges: the subject names their
 * classes, the body gives one line each with its justification.
 */
export function composeAlert(
  grant: Grant,
  event: NewAuditEvent,
  risks: readonly AcknowledgedRisk[] = [],
  hubAccount?: string,
): Alert {
  // An access judged unjustified is news for security, not a routine notice.
  const unjustified = event.type === 'REVIEWED' && event.details?.outcome === 'unjustified';
  const severity = unjustified ? 'WARNING' : severityOf(event.type);
  const tag = `[break-glass${grant.drill ? ' DRILL' : ''}${severity === 'INFO' ? '' : ` ${severity}`}]`;
  const line = (text: string | undefined, max = 1000) => oneLine(text ?? '', max);
  const reason = line(grant.reason);
  const ticket = grant.ticket ? line(grant.ticket, 200) : undefined;
  const details = Object.fromEntries(
    Object.entries(event.details ?? {}).map(([key, value]) => [key, line(value, 500)]),
  );
  const principal = line(grant.principalArn, 300);
  // An extension refused by a freeze is a refusal, not a failure of AWS.
  const refused = event.type === 'EXTEND_FAILED' && details.step === 'Freeze';
  const actorHeadline = ACTOR_HEADLINE.has(event.type) && event.actor !== grant.principalArn;
  const headline = refused
    ? `${who(grant.principalArn)} was REFUSED an extension of ${grant.profile} (frozen)`
    : actorHeadline
      ? HEADLINE[event.type](who(event.actor), `${grant.profile} of ${who(grant.principalArn)}`)
      : HEADLINE[event.type](who(grant.principalArn), grant.profile);
  const suppressed = event.type === 'DENIED' && details.alertsSuppressed ? Number(details.alertsSuppressed) : 0;
  const riskClasses = risks.map((r) => r.riskClass);
  const account = grant.account ? line(grant.account, 12) : undefined;
  const alias = grant.accountAlias ? line(grant.accountAlias, 100) : undefined;
  const where = account ? `${account}${alias ? ` (${alias})` : ''}` : undefined;
  const subjectCore =
    `${tag} ${headline}` +
    // The subject names a spoke's account; the body, machine form and attributes name every grant's.
    (account && account !== hubAccount ? ` in ${account}${alias ? ` ${alias}` : ''}` : '') +
    (event.type === 'ACTIVATED' || event.type === 'DENIED' ? ` for ${grant.durationMinutes}m` : '') +
    (riskClasses.length ? ` [risks: ${riskClasses.join(', ')}]` : '') +
    (suppressed ? ` (+${suppressed} more)` : '') +
    (event.type === 'REVIEWED' ? `: ${unjustified ? 'UNJUSTIFIED' : 'justified'}` : '') +
    (ticket ? `: ${ticket}` : '') +
    (event.type === 'ACTIVATED' || event.type === 'DENIED'
      ? `${ticket ? ' ' : ': '}${oneLine(grant.reason, 100)}`
      : '');
  const subject = ascii(oneLine(subjectCore, 100));

  const lines = [
    `Event:      ${event.type} (${severity})`,
    `Grant:      ${grant.id}`,
    `Who:        ${principal}`,
    `Profile:    ${grant.profile} (owner: ${line(grant.owner, 200)})`,
    `Status:     ${grant.status}`,
    `Reason:     ${reason}`,
    `Ticket:     ${ticket ?? '(none)'}`,
    `Created:    ${grant.createdAt}`,
    `Expires:    ${grant.expiresAt}`,
    `Policy:     ${grant.policyName} on ${grant.targetType} ${line(grant.targetName, 200)}`,
    ...(where ? [`Account:    ${where}`] : []),
    ...(grant.grants ? [`Grants:     ${line(grant.grants)}`] : []),
    ...risks.map((r) => `Risk:       ${r.riskClass}: ${line(r.justification, 500)}`),
    `By:         ${line(event.actor, 300)}`,
    ...(grant.lastHash
      ? [`Chain:      ledger #${grant.sequence ?? '?'}, ${grant.eventCount} events, head ${grant.lastHash}`]
      : []),
  ];
  if (event.reason && event.reason !== grant.reason) lines.push(`Note:       ${line(event.reason)}`);
  for (const [key, value] of Object.entries(details))
    if (!(event.type === 'DENIED' && DENIAL_KEYS.has(key))) lines.push(`${`${key}:`.padEnd(12)}${value}`);
  const denialNote = event.type === 'DENIED' ? denialLines(principal, details, suppressed) : [];
  lines.push(...denialNote);
  const revoke =
    grant.status === 'ACTIVE'
      ? `breakglass revoke ${grant.id} --reason "..."   (or POST /grants/${grant.id}/revoke)`
      : undefined;
  if (revoke) lines.push('', `To revoke now: ${revoke}`);
  const machine = {
    version: 1,
    eventType: event.type,
    severity,
    at: event.at,
    actor: line(event.actor, 300),
    ...(event.details ? { details } : {}),
    grant: {
      id: grant.id,
      profile: grant.profile,
      owner: line(grant.owner, 200),
      principalArn: principal,
      status: grant.status,
      reason,
      ticket: ticket ?? null,
      createdAt: grant.createdAt,
      expiresAt: grant.expiresAt,
      policyName: grant.policyName,
      target: `${grant.targetType}/${line(grant.targetName, 200)}`,
      account: account ?? null,
      accountAlias: alias ?? null,
      grants: grant.grants ? line(grant.grants) : null,
      acknowledgedRisks: risks.map((r) => ({ riskClass: r.riskClass, justification: line(r.justification, 500) })),
    },
    // The chain head as this alert leaves: subscribers' copies anchor the audit trail outside the table.
    ...(grant.lastHash
      ? { chain: { sequence: grant.sequence ?? null, eventCount: grant.eventCount, head: grant.lastHash } }
      : {}),
  };
  const chat = {
    version: '1.0',
    source: 'custom',
    id: `${grant.id}-${event.type}`,
    content: {
      textType: 'client-markdown',
      title: subject,
      description: [
        `*${event.type}* (${severity}) · *${grant.profile}* (owner ${line(grant.owner, 200)}) · \`${principal}\``,
        `Reason: ${line(grant.reason, 500)}`,
        `Ticket: ${ticket ?? 'none'} · Expires: ${grant.expiresAt}`,
        ...(where ? [`Account: ${where}`] : []),
        ...(grant.grants ? [`Grants: ${line(grant.grants, 500)}`] : []),
        ...(riskClasses.length ? [`Acknowledged risks: ${riskClasses.join(', ')}`] : []),
        ...(refused && details.why ? [`Refused: ${details.why}`] : []),
        ...denialNote.map((l) => l.replace(/^[A-Za-z]+:\s+/, '')),
      ].join('\n'),
      ...(revoke ? { nextSteps: [`Revoke: \`${revoke}\``] } : {}),
      keywords: [event.type, grant.profile, severity],
    },
    metadata: { threadId: grant.id, summary: subject, eventType: event.type, relatedResources: [principal] },
  };
  return {
    subject,
    body: lines.join('\n'),
    chat,
    machine,
    attributes: {
      eventType: event.type,
      profile: grant.profile,
      principal,
      severity,
      grantId: grant.id,
      owner: grant.owner,
      ...(account ? { account } : {}),
      ...(riskClasses.length ? { risks: riskClasses } : {}),
      // Only what the drill itself (its runner) and break-glass (`system:…`) do with a drill's grant: someone
      // else reaching for it (e.g. CREDENTIALS_DENIED) must reach the subscribers that leave drills out.
      ...(grant.drill && (event.actor === grant.principalArn || event.actor.startsWith('system:'))
        ? { drill: 'true' as const }
        : {}),
    },
  };
}

/** What a DENIED alert says about the per-caller, per-profile rate limit: the count it summarises, and what happens next. */
function denialLines(principal: string, details: Record<string, string>, suppressed: number): string[] {
  const window = Number(details.alertWindowSeconds);
  if (!Number.isFinite(window) || window <= 0) return [];
  const minutes = window % 60 === 0 ? `${window / 60} min` : `${window} s`;
  return [
    ...(suppressed
      ? [
          `Suppressed: ${suppressed} more denied attempt(s) by this caller on this profile since ${details.suppressedSince ?? '?'}, recorded but not announced one by one`,
        ]
      : []),
    `Limit:      one DENIED alert per caller and profile per ${minutes}; further attempts are recorded and counted in the next alert. All of them: GET /audit?eventType=DENIED&requester=${encodeURIComponent(principal)}`,
  ];
}
