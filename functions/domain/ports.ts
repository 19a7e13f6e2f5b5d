/**
 * The ports the use cases need. Adapters in `functions/adapters/` implement them over AWS;
 * unit tests implement them in memory.
 */

import type { ActivityRecord, ActivitySummary } from './activity.js';
import type { Alert } from './alert.js';
import type { AuditEvent, EventType, NewAuditEvent } from './audit-event.js';
import type { Grant, GrantStatus } from './grant.js';
import type { AcknowledgedRisk } from './risk.js';

export interface GrantPage {
  readonly grants: readonly Grant[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextToken?: string;
}

/** A client's Idempotency-Key, scoped to its principal, and what it was first used for. */
export interface IdempotencyRecord {
  /** Hash of principal ARN and key. */
  readonly key: string;
  readonly grantId: string;
  /** Hash of the request body: the same key with another request is refused. */
  readonly fingerprint: string;
}

/** The fields a lifecycle step may change on a grant. */
export type GrantChanges = Partial<
  Pick<
    Grant,
    | 'status'
    | 'endedAt'
    | 'endedBy'
    | 'endReason'
    | 'expiresAt'
    | 'extensions'
    | 'durationMinutes'
    | 'reviewState'
    | 'reviewOutcome'
    | 'reviewedBy'
    | 'reviewedAt'
    | 'credentialsIssued'
    | 'policyDocument'
  >
>;

/** Conditions `GrantStore.append` adds to its transaction. */
export interface AppendOptions {
  /** The kill switch as stored must not freeze the grant's profile (nor everything). */
  readonly unlessFrozen?: boolean;
}

export interface GrantStore {
  /**
   * Writes a new grant and its first event atomically, giving the grant the next ledger
   * number and sealing the event (`sealEvent`). Fails if the id exists. With an idempotency
   * record, writes it in the same transaction. Returns the grant as written.
   * @throws IdempotencyReplayError when that key was already used (carrying the first grant's id).
   */
  create(
    grant: Grant,
    event: NewAuditEvent,
    idempotency?: IdempotencyRecord,
    claims?: ActivationClaims,
  ): Promise<Grant>;
  /**
   * The grants a person holds claims for (PENDING or ACTIVE activations), all and by profile.
   * One read of one small item; only read when a claim was refused, to say why.
   */
  personHolds(person: string): Promise<PersonHolds>;
  /**
   * Adds the person's holds for an ACTIVE grant that lacks them (one recorded before holds existed), on the
   * condition, in the same transaction, that the grant is still ACTIVE: an end that lands first releases
   * nothing this then adds back. Idempotent. Answers whether holds were missing and added.
   */
  backfillHolds(grant: Grant): Promise<boolean>;
  /**
   * The holds of several persons at once (as `personHolds`, strongly consistent; persons with no item are absent):
   * the sweeper reads them all before backfilling, so a sweep over grants that have their holds writes nothing and
   * costs one read per 100 persons instead of one transaction per grant.
   */
  personHoldsMany(persons: readonly string[]): Promise<Map<string, PersonHolds>>;
  /** The profile's claimed slots. One strongly consistent query (at most `maxActiveGrants` small items). */
  heldSlots(profile: string): Promise<HeldSlot[]>;
  /** Frees a slot if `grantId` still holds it (no-op otherwise). */
  releaseSlot(profile: string, slot: number, grantId: string): Promise<void>;
  /** The record of an idempotency key, if it was used. */
  idempotency(key: string): Promise<IdempotencyRecord | undefined>;
  /**
   * Appends an event (sealed onto the grant's chain) and applies `changes` to the grant
   * atomically, on the condition that the stored grant still has `grant.version` and
   * `grant.lastHash`. A change to an ending status (EXPIRED, REVOKED, FAILED) then frees the
   * grant's slot (best effort; the sweeper reclaims what is left) and, in the same transaction, the
   * person's holds on it (`ActivationClaims`). Returns the grant as written.
   * With `unlessFrozen`, the kill switch as stored is a condition of the same transaction (neither
   * everything nor the grant's profile frozen): the activation marks its grant ACTIVE this way, so a
   * freeze that lands while it is in flight stops it.
   * @throws ConcurrentUpdateError when the stored version differs.
   * @throws ClaimRefusedError (`frozen`) when `unlessFrozen` and the profile is frozen.
   */
  append(grant: Grant, event: NewAuditEvent, changes?: GrantChanges, options?: AppendOptions): Promise<Grant>;
  /**
   * Marks an ACTIVE grant as ending (`endingSince`, kept if already set) and moves its version on, whatever
   * version the caller read: a write in flight that read the grant before (a CREDENTIALS_ISSUED, an extension)
   * then conflicts and reads the mark. Not conditional on the version, so no writer can outrace it.
   * @returns the grant as stored after the mark, or undefined when it is not ACTIVE (or absent).
   */
  markEnding(grantId: string, at: string): Promise<Grant | undefined>;
  get(id: string): Promise<Grant | undefined>;
  /**
   * Several grants by id, strongly consistent, read 100 at a time (the sweeper: one read per 100 policies or slots,
   * not one per grant). Ids with no grant are absent from the map.
   */
  getMany(ids: readonly string[]): Promise<Map<string, Grant>>;
  /** Events of one grant, oldest first. */
  events(id: string): Promise<AuditEvent[]>;
  /** Every ACTIVE grant (for limits and revoke-all). */
  active(): Promise<Grant[]>;
  /** Grants newest first, optionally of one status. @throws ValidationError on a bad token. */
  list(query: { status?: GrantStatus; limit: number; nextToken?: string }): Promise<GrantPage>;
}

/**
 * What an activation claims in the same transaction as its first record (`GrantStore.create`), so
 * that every limit is a condition on a small item, checked atomically with the write, instead of a
 * read of the ACTIVE grants first (a cost that grew with them) under a lease:
 *
 * - the profile slot `slot` (its item must not exist: one grant per slot, so per profile role);
 * - the person's holds (`grant.person`): none of this profile, fewer than `maxActive` in all;
 * - the kill switch's stored state must not freeze the profile (configuration is checked before);
 * - the idempotency record, when there is one, must not exist.
 *
 * A refused condition throws `ClaimRefusedError` naming the claims refused, and writes nothing.
 * The holds are released in the same transaction as the write that ends the grant (`append`).
 */
export interface ActivationClaims {
  readonly slot: number;
  readonly maxActive: number;
}

/** The grants (ids) a person's holds name: all of them, and per profile. */
export interface PersonHolds {
  readonly grants: readonly string[];
  readonly byProfile: Readonly<Record<string, readonly string[]>>;
}

/** A profile slot and the grant holding it. */
export interface HeldSlot {
  readonly slot: number;
  readonly grantId: string;
  /** When it was claimed (ISO). */
  readonly at: string;
}

/** Temporary credentials of a profile role session. The secret parts are never stored or logged. */
export interface VendedCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
  /** ISO 8601. */
  readonly expiration: string;
}

export interface CredentialRequest {
  readonly roleArn: string;
  readonly sessionName: string;
  readonly sourceIdentity: string;
  readonly durationSeconds: number;
}

/** STS AssumeRole into a profile role (the credential function only). */
export interface CredentialVendor {
  assume(request: CredentialRequest): Promise<VendedCredentials>;
}

/** A query over the audit events of all grants; every filter is optional. Times are ISO 8601 (UTC). */
export interface AuditQuery {
  readonly requester?: string;
  readonly profile?: string;
  readonly eventType?: EventType;
  readonly from: string;
  readonly to: string;
  readonly limit: number;
  readonly nextToken?: string;
}

export interface EventPage {
  /** Newest first. */
  readonly events: readonly AuditEvent[];
  readonly nextToken?: string;
}

/** The read side auditors and the review check use: served by indexes, never by a table scan. */
export interface AuditLog {
  /** @throws ValidationError on a token that is not one this query issued. */
  queryEvents(query: AuditQuery): Promise<EventPage>;
  /** Grants whose review is due and that ended before `endedBefore`, oldest first, at most `limit`. */
  reviewsDue(endedBefore: string, limit: number): Promise<Grant[]>;
}

/** The IAM entity (role or user) holding a grant's inline policy. */
export interface PolicyTarget {
  readonly type: 'role' | 'user';
  readonly name: string;
  /**
   * The account the entity is in: absent (or the hub's own) for the hub; a spoke account's id
   * for a spoke, which the adapter reaches through that account's manager role (`accounts.ts`).
   */
  readonly account?: string;
}

export interface AccessManager {
  /**
   * Characters (whitespace excluded, as IAM counts them) of the target's inline policies other
   * than `exceptPolicyName`: what counts against IAM's aggregate inline-policy limit.
   */
  inlinePolicyUsage(target: PolicyTarget, exceptPolicyName: string): Promise<number>;
  /** The inline policy's document (JSON, decoded), or undefined when the target has none by that name. */
  read(target: PolicyTarget, policyName: string): Promise<string | undefined>;
  /** Names of the target's inline policies that start with `prefix`. */
  listPolicies(target: PolicyTarget, prefix: string): Promise<string[]>;
  /** @throws PolicySizeLimitError when IAM refuses the size (LimitExceeded). */
  attach(target: PolicyTarget, policyName: string, document: string): Promise<void>;
  /** Removes the policy; `absent` when it was not there (idempotent). */
  detach(target: PolicyTarget, policyName: string): Promise<'detached' | 'absent'>;
}

export interface ExpiryScheduler {
  /** One-time schedule at `expiresAt` (ISO, whole seconds, UTC) that expires `grantId`. */
  schedule(name: string, expiresAt: string, grantId: string): Promise<void>;
  /** Whether the schedule exists (it deletes itself after firing). */
  exists(name: string): Promise<boolean>;
  /** Moves an existing schedule to a new `expiresAt`. */
  reschedule(name: string, expiresAt: string, grantId: string): Promise<void>;
  /** Deletes the schedule; `absent` when it did not exist (idempotent). */
  cancel(name: string): Promise<'deleted' | 'absent'>;
}

/** The kill switch: activations frozen for all profiles or for some. */
export interface FreezeState {
  readonly all: boolean;
  readonly profiles: readonly string[];
  /** Optimistic-locking counter; 0 when never set. */
  readonly version: number;
  readonly reason?: string;
  readonly by?: string;
  readonly at?: string;
}

export interface ControlStore {
  freezeState(): Promise<FreezeState>;
  /**
   * Writes the new state and its audit event atomically, on the condition that the stored
   * version is still `expectedVersion`. @throws ConcurrentUpdateError otherwise.
   */
  setFreeze(next: Omit<FreezeState, 'version'>, expectedVersion: number): Promise<FreezeState>;
}

/**
 * A short lease on a name, so that only one activation at a time checks and fills one IAM
 * entity's inline-policy budget.
 */
export interface LeaseLock {
  /** Runs `fn` holding the lease. @throws BusyError when it cannot be had in time. */
  withLease<T>(name: string, fn: () => Promise<T>): Promise<T>;
}

/** The table's exports (DynamoDB ExportTableToPointInTime), for the daily audit export. */
export interface ExportStatus {
  readonly exportArn: string;
  readonly prefix: string;
  readonly status: 'IN_PROGRESS' | 'COMPLETED' | 'FAILED' | string;
  readonly failure?: string;
}

export interface TableExporter {
  /** Starts an export of the whole table as of now into `prefix`; returns its ARN. */
  start(request: { prefix: string; clientToken: string }): Promise<{ exportArn: string }>;
  /** The table's exports of the last few days (at least the last two), with where they went and how they ended. */
  recent(): Promise<ExportStatus[]>;
}

export interface Notifier {
  publish(alert: Alert): Promise<void>;
}

/** The verdict on one alert: send it now (saying how many were held back), or count it. */
export type AlertAdmission =
  | {
      readonly announce: true;
      /** Alerts held back under this key since the last one sent, and when that one went. */
      readonly suppressed: number;
      readonly since?: string;
      readonly windowSeconds: number;
    }
  | { readonly announce: false; readonly windowSeconds: number };

/**
 * Rate limit for alerts an outsider can trigger at will (DENIED attempts): per key, the first
 * alert goes out, then at most one per window, which counts those held back meanwhile. Race-safe:
 * of concurrent calls within a window, exactly one is told to announce.
 */
export interface AlertLimiter {
  admit(key: string, at: Date): Promise<AlertAdmission>;
}

export interface Clock {
  now(): Date;
}

/** Everything a use case may touch. */
export interface Ports {
  readonly store: GrantStore;
  readonly access: AccessManager;
  readonly scheduler: ExpiryScheduler;
  readonly notifier: Notifier;
  readonly control: ControlStore;
  readonly locks: LeaseLock;
  /** Per-caller rate limit on DENIED alerts (every attempt is still recorded). */
  readonly alertLimiter: AlertLimiter;
  readonly clock: Clock;
  /**
   * The escalation risks a profile acknowledges (`acknowledgedRisks`), by profile name, as the
   * deployed profile file says; empty for a profile it no longer has. Alerts name them.
   */
  readonly profileRisks: (profile: string) => readonly AcknowledgedRisk[];
  /** The hub's own account (`ACCOUNT_ID`): alert subjects name a grant's account only when it is another (a spoke). */
  readonly hubAccount?: string;
  readonly newId: () => string;
  /** Where use cases report what they could not record anywhere else. */
  readonly log: Pick<Console, 'error' | 'warn' | 'info'>;
  /** Action logging: activation registers a caller-mode grant's session (`registerGrantSession`). */
  readonly activity: Pick<ActivityStore, 'registerSession'>;
}

/** A page of a grant's activity, newest call first. */
export interface ActivityPage {
  readonly activity: readonly ActivityRecord[];
  /** Opaque cursor for the next page; absent on the last page. */
  readonly nextToken?: string;
}

/**
 * Caller mode: which grants a session (`aws:userid`, or an IAM user's ARN) held, so a call it made
 * can be tied to the grant whose window contains it. Written once per grant by activation
 * ({@link ActivityStore.registerSession}); the window is re-read from the grant itself, so an
 * extension needs no update here.
 */
export interface SessionGrant {
  /** `sessionUserId` of the grant (`AROA…:<session>`), or its `principalArn` when it has none (IAM users). */
  readonly sessionKey: string;
  readonly grantId: string;
  readonly createdAt: string;
}

/** Action logging (`activity.ts`): append-only, one record per CloudTrail event per grant. */
export interface ActivityStore {
  /**
   * Stores the record unless one with its `eventId` is already stored for the grant, and counts it
   * in the grant's summary in the same transaction: `duplicate` changes nothing.
   */
  record(record: ActivityRecord): Promise<'stored' | 'duplicate'>;
  /** The grant's summary (zeros when it has no activity). */
  summary(grantId: string): Promise<ActivitySummary>;
  /** Newest first. @throws ValidationError on a token not issued for this grant. */
  page(grantId: string, query: { limit: number; nextToken?: string }): Promise<ActivityPage>;
  /** Every record of a grant (for verification and sealing), oldest first. */
  all(grantId: string): Promise<ActivityRecord[]>;
  /** Caller mode: remembers that `sessionKey` held `grantId` from `createdAt` (idempotent). */
  registerSession(entry: SessionGrant): Promise<void>;
  /** Caller mode: grants the session held that started at or before `at`, newest first, at most `limit`. */
  sessionGrants(sessionKey: string, at: string, limit: number): Promise<SessionGrant[]>;
  /** When the grant's end-of-grant activity summary was announced (`activity-summary.ts`); undefined: not yet. */
  announcedAt(grantId: string): Promise<string | undefined>;
  /** Records that it was announced (the first time wins; idempotent). */
  markAnnounced(grantId: string, at: string): Promise<void>;
}
