/**
 * What the compliance report can find, and how serious each kind is. A finding names the
 * grant (or the principal, or the data file) and says, in one sentence, what to do about it.
 */

/** HIGH findings make the command exit 1: the trail or the policy was broken. */
export type FindingSeverity = 'HIGH' | 'MEDIUM' | 'LOW';

/** Every finding code, with its severity and the heading the Markdown report gives it. */
export const FINDING_CODES = {
  CHAIN_BROKEN: { severity: 'HIGH', title: 'Audit chains that fail verification' },
  LEDGER_GAP: { severity: 'HIGH', title: 'Ledger numbers with no grant' },
  LEDGER_AHEAD: { severity: 'HIGH', title: 'Grants numbered beyond the ledger counter' },
  LEDGER_DUPLICATE: { severity: 'HIGH', title: 'Ledger numbers held by more than one grant' },
  ORPHAN_EVENTS: { severity: 'HIGH', title: 'Events whose grant record is missing' },
  RECORD_MISMATCH: { severity: 'HIGH', title: 'Grant records that disagree with their own (verified) events' },
  MANIFEST_MISMATCH: { severity: 'HIGH', title: 'Export files missing, added or altered' },
  LATE_REVOCATION: { severity: 'HIGH', title: 'Access that outlived its expiry' },
  ACTIVITY_AFTER_EXPIRY: { severity: 'HIGH', title: 'Calls AWS allowed after a grant ended' },
  ACTIVITY_CHANGED_AFTER_REVIEW: {
    severity: 'HIGH',
    title: 'Activity records that no longer match the digest their review sealed',
  },
  REVIEW_OVERDUE: { severity: 'MEDIUM', title: 'Reviews overdue' },
  DRILL_STALE: { severity: 'MEDIUM', title: 'Drills older than the configured period' },
  MISSING_TICKET: { severity: 'MEDIUM', title: 'Activations without a required ticket' },
  DENIED_ATTEMPTS_IN_GRANT: { severity: 'MEDIUM', title: "Calls denied during a grant (beyond its profile's scope)" },
  DENIED_ATTEMPTS: { severity: 'LOW', title: 'Denied attempts per principal' },
  RISK_ACKNOWLEDGED: { severity: 'LOW', title: 'Activations of profiles with acknowledged escalation risks' },
  NO_ACTIVITY: { severity: 'LOW', title: 'Access granted and never used' },
} as const satisfies Record<string, { severity: FindingSeverity; title: string }>;

/** A finding code: `CHAIN_BROKEN`, `LEDGER_GAP`, … */
export type FindingCode = keyof typeof FINDING_CODES;
/** The codes in the order the report lists them (most serious first). */
export const FINDING_CODE_LIST = Object.keys(FINDING_CODES) as FindingCode[];

/** One finding, as the JSON report carries it. */
export interface Finding {
  readonly code: FindingCode;
  readonly severity: FindingSeverity;
  /** The grant concerned, when there is one. */
  readonly grantId?: string;
  /** The principal concerned (the requester, or the one denied). */
  readonly principal?: string;
  /** The grant's ledger number, when known. */
  readonly sequence?: number;
  /** For CHAIN_BROKEN: the event where the chain first breaks (0 = the grant record itself). */
  readonly seq?: number;
  /** The data file concerned (MANIFEST_MISMATCH). */
  readonly file?: string;
  /** A count, where the finding is one (DENIED_ATTEMPTS, ORPHAN_EVENTS, LEDGER_GAP). */
  readonly count?: number;
  /** A sentence a person can act on. */
  readonly message: string;
}

/** Builds a finding with the severity its code carries. */
export function finding(code: FindingCode, fields: Omit<Finding, 'code' | 'severity'>): Finding {
  return { code, severity: FINDING_CODES[code].severity, ...fields };
}
