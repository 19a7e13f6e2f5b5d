/**
 * Turns an audit event into an alert people can read in a mailbox and machines can filter:
 * a one-line subject, a plain-text body, and message attributes for SNS filter policies.
 */
import { severityOf, type EventType, type NewAuditEvent, type Severity } from './audit-event.js';
import type { Grant } from './grant.js';

export interface Alert {
  /** At most 100 printable ASCII characters (SNS e-mail subject limit). */
  readonly subject: string;
  readonly body: string;
  readonly attributes: {
    readonly eventType: EventType;
    readonly profile: string;
    readonly principal: string;
    readonly severity: Severity;
    readonly grantId: string;
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
  ALERT_FAILED: (w, p) => `an alert about ${p} of ${w} was not delivered`,
};

/** Printable, single-line, bounded: user text can never break the alert's format. */
export function oneLine(text: string, max: number): string {
  const flat = text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]+/g, ' ').trim();
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
  const severity = severityOf(event.type);
  const tag = severity === 'INFO' ? '[break-glass]' : `[break-glass ${severity}]`;
  const subjectCore = `${tag} ${HEADLINE[event.type](who(grant.principalArn), grant.profile)}` +
    (event.type === 'ACTIVATED' || event.type === 'DENIED' ? ` for ${grant.durationMinutes}m` : '') +
    (grant.ticket ? `: ${grant.ticket}` : '');
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
    `By:         ${event.actor}`,
  ];
  if (event.reason && event.reason !== grant.reason) lines.push(`Note:       ${oneLine(event.reason, 1000)}`);
  for (const [key, value] of Object.entries(event.details ?? {})) lines.push(`${`${key}:`.padEnd(12)}${oneLine(value, 500)}`);
  if (grant.status === 'ACTIVE') {
    lines.push('', `To revoke now: POST /grants/${grant.id}/revoke {"reason": "..."}`);
  }
  return {
    subject,
    body: lines.join('\n'),
    attributes: {
      eventType: event.type,
      profile: grant.profile,
      principal: grant.principalArn,
      severity,
      grantId: grant.id,
    },
  };
}
