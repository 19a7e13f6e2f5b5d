/**
 * Turns an audit event into an alert people can read in a mailbox and machines can filter:
 * a one-line subject, a plain-text body, and message attributes for SNS filter policies.
 */
import { severityOf, type EventType, type NewAuditEvent, type Severity } from './audit-event.js';
import type { Grant } from './grant.js';

/** Events about the system rather than one grant (the kill switch). */
export type ControlEventType = 'FROZEN' | 'UNFROZEN' | 'REVIEW_OVERDUE';

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
    readonly eventType: EventType | ControlEventType;
    readonly profile: string;
    readonly principal: string;
    readonly severity: Severity;
    readonly grantId: string;
    readonly owner?: string;
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
};

/** Printable, single-line, bounded: user text can never break the alert's format. */
export function oneLine(text: string, max: number): string {
  // Control characters, line separators and bidi overrides (which can disguise text in a mail client) become spaces.
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u200e\u200f\u202a-\u202e\u2066-\u2069]/g, ' ').replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function ascii(text: string): string {
  return text.replace(/[^\x20-\x7e]/g, '?');
}

/** Short name of the requester: the session name or the user name. */
function who(principalArn: string): string {
  return principalArn.split('/').pop() ?? principalArn;
}

export function composeAlert(grant: Grant, event: NewAuditEvent): Alert {
  // An access judged unjustified is news for security, not a routine notice.
  const unjustified = event.type === 'REVIEWED' && event.details?.outcome === 'unjustified';
  const severity = unjustified ? 'WARNING' : severityOf(event.type);
  const tag = severity === 'INFO' ? '[break-glass]' : `[break-glass ${severity}]`;
  const subjectCore = `${tag} ${HEADLINE[event.type](who(grant.principalArn), grant.profile)}` +
    (event.type === 'ACTIVATED' || event.type === 'DENIED' ? ` for ${grant.durationMinutes}m` : '') +
    (event.type === 'REVIEWED' ? `: ${unjustified ? 'UNJUSTIFIED' : 'justified'}` : '') +
    (grant.ticket ? `: ${grant.ticket}` : '') +
    (event.type === 'ACTIVATED' || event.type === 'DENIED' ? `${grant.ticket ? ' ' : ': '}${oneLine(grant.reason, 100)}` : '');
  const subject = ascii(oneLine(subjectCore, 100));

  const lines = [
    `Event:      ${event.type} (${severity})`,
    `Grant:      ${grant.id}`,
    `Who:        ${grant.principalArn}`,
    `Profile:    ${grant.profile} (owner: ${grant.owner})`,
    `Status:     ${grant.status}`,
    `Reason:     ${oneLine(grant.reason, 1000)}`,
    `Ticket:     ${grant.ticket ?? '(none)'}`,
    `Created:    ${grant.createdAt}`,
    `Expires:    ${grant.expiresAt}`,
    `Policy:     ${grant.policyName} on ${grant.targetType} ${grant.targetName}`,
    ...(grant.grants ? [`Grants:     ${grant.grants}`] : []),
    `By:         ${event.actor}`,
    ...(grant.lastHash ? [`Chain:      ledger #${grant.sequence ?? '?'}, ${grant.eventCount} events, head ${grant.lastHash}`] : []),
  ];
  if (event.reason && event.reason !== grant.reason) lines.push(`Note:       ${oneLine(event.reason, 1000)}`);
  for (const [key, value] of Object.entries(event.details ?? {})) lines.push(`${`${key}:`.padEnd(12)}${oneLine(value, 500)}`);
  const revoke = grant.status === 'ACTIVE' ? `breakglass revoke ${grant.id} --reason "..."   (or POST /grants/${grant.id}/revoke)` : undefined;
  if (revoke) lines.push('', `To revoke now: ${revoke}`);
  const machine = {
    version: 1,
    eventType: event.type,
    severity,
    at: event.at,
    actor: event.actor,
    ...(event.details ? { details: event.details } : {}),
    grant: {
      id: grant.id, profile: grant.profile, owner: grant.owner, principalArn: grant.principalArn, status: grant.status,
      reason: grant.reason, ticket: grant.ticket ?? null, createdAt: grant.createdAt, expiresAt: grant.expiresAt,
      policyName: grant.policyName, target: `${grant.targetType}/${grant.targetName}`, grants: grant.grants ?? null,
    },
    // The chain head as this alert leaves: subscribers' copies anchor the audit trail outside the table.
    ...(grant.lastHash ? { chain: { sequence: grant.sequence ?? null, eventCount: grant.eventCount, head: grant.lastHash } } : {}),
  };
  const chat = {
    version: '1.0',
    source: 'custom',
    id: `${grant.id}-${event.type}`,
    content: {
      textType: 'client-markdown',
      title: subject,
      description: [
        `*${event.type}* (${severity}) · *${grant.profile}* (owner ${grant.owner}) · \`${grant.principalArn}\``,
        `Reason: ${oneLine(grant.reason, 500)}`,
        `Ticket: ${grant.ticket ?? 'none'} · Expires: ${grant.expiresAt}`,
        ...(grant.grants ? [`Grants: ${oneLine(grant.grants, 500)}`] : []),
      ].join('\n'),
      ...(revoke ? { nextSteps: [`Revoke: \`${revoke}\``] } : {}),
      keywords: [event.type, grant.profile, severity],
    },
    metadata: { threadId: grant.id, summary: subject, eventType: event.type, relatedResources: [grant.principalArn] },
  };
  return {
    subject,
    body: lines.join('\n'),
    chat,
    machine,
    attributes: {
      eventType: event.type,
      profile: grant.profile,
      principal: grant.principalArn,
      severity,
      grantId: grant.id,
      owner: grant.owner,
    },
  };
}
