/**
 * Audit events: the append-only log of everything that happens to a grant. The code only
 * ever appends; it never updates or deletes an event.
 */
export const EVENT_TYPES = [
  'REQUESTED',
  'DENIED',
  'ACTIVATED',
  'ACTIVATION_FAILED',
  'ROLLBACK_FAILED',
  'EXPIRED',
  'EXPIRY_FAILED',
  'REVOKED',
  'REVOKE_FAILED',
  'EXTENDED',
  'EXTEND_FAILED',
  'SWEPT',
  'SCHEDULE_REPAIRED',
  'ALERT_FAILED',
  'REVIEWED',
  'CREDENTIALS_ISSUED',
  'CREDENTIALS_DENIED',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export type Severity = 'INFO' | 'WARNING' | 'CRITICAL';

export interface AuditEvent {
  readonly grantId: string;
  /** 1-based, gap-free position in the grant's log. */
  readonly seq: number;
  readonly type: EventType;
  readonly at: string;
  /** Who caused it: a principal ARN, or `system:expiry` for the scheduler. */
  readonly actor: string;
  readonly reason?: string;
  readonly outcome: 'SUCCESS' | 'FAILURE';
  readonly requestId?: string;
  /** Free-form facts: the step that failed, the error name, the expiry, the policy name. */
  readonly details?: Readonly<Record<string, string>>;
  /** The grant's requester and profile, and the event's UTC day: what the audit indexes serve. */
  readonly requester: string;
  readonly profile: string;
  readonly day: string;
  /** Hash of the previous event (the grant's anchor for the first): see `audit-chain.ts`. */
  readonly prevHash: string;
  /** SHA-256 over the canonical JSON of every other stored attribute. */
  readonly hash: string;
}

/** The event as a use case composes it; the store seals it (`sealEvent`) with its place, indexes and hashes. */
export type NewAuditEvent = Omit<AuditEvent, 'grantId' | 'seq' | 'requester' | 'profile' | 'day' | 'prevHash' | 'hash'>;

/** How loudly each event type is announced. */
export function severityOf(type: EventType): Severity {
  switch (type) {
    case 'ROLLBACK_FAILED':
    case 'EXPIRY_FAILED':
    case 'REVOKE_FAILED':
      return 'CRITICAL';
    case 'EXTENDED':
    case 'EXTEND_FAILED':
    case 'CREDENTIALS_DENIED':
    case 'SCHEDULE_REPAIRED':
      return 'WARNING';
    case 'SWEPT':
      return 'CRITICAL';
    case 'REVIEWED':
      return 'INFO';
    case 'DENIED':
    case 'ACTIVATION_FAILED':
    case 'ALERT_FAILED':
    case 'ACTIVATED':
      return 'WARNING';
    default:
      return 'INFO';
  }
}
