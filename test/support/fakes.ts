/** In-memory implementations of the ports, with the same semantics as the adapters. */

import {
  type ActivityRecord,
  type ActivitySummary,
  activitySortKey,
  emptySummary,
  summaryIncrements,
} from '../../functions/domain/activity.js';
import type { Alert } from '../../functions/domain/alert.js';
import { sealEvent } from '../../functions/domain/audit-chain.js';
import type { AuditEvent, NewAuditEvent } from '../../functions/domain/audit-event.js';
import {
  BusyError,
  type ClaimName,
  ClaimRefusedError,
  ConcurrentUpdateError,
  IdempotencyReplayError,
  ValidationError,
} from '../../functions/domain/errors.js';
import { claimScope, type Grant, type GrantStatus, grantPerson } from '../../functions/domain/grant.js';
import type {
  AccessManager,
  ActivationClaims,
  ActivityPage,
  ActivityStore,
  AlertAdmission,
  AlertLimiter,
  AppendOptions,
  AuditLog,
  AuditQuery,
  ControlStore,
  EventPage,
  ExpiryScheduler,
  FreezeState,
  GrantPage,
  GrantStore,
  HeldSlot,
  IdempotencyRecord,
  LeaseLock,
  Notifier,
  PersonHolds,
  PolicyTarget,
  Ports,
  SessionGrant,
} from '../../functions/domain/ports.js';
import { type ProfileSet, parseProfiles } from '../../functions/domain/profile.js';
import { risksByProfile } from '../../functions/domain/risk.js';

export class MemoryStore implements GrantStore {
  readonly grants = new Map<string, Grant>();
  readonly eventLog = new Map<string, AuditEvent[]>();
  failNext: Partial<Record<'create' | 'append' | 'markEnding', Error>> = {};

  readonly keys = new Map<string, IdempotencyRecord>();
  async idempotency(key: string): Promise<IdempotencyRecord | undefined> {
    return this.keys.get(key);
  }

  /** The kill switch whose stored state an activation's claims check (as the adapter's ConditionCheck does). */
  constructor(readonly control?: MemoryControl) {}

  private sequence = 0;
  async create(
    grant: Grant,
    event: NewAuditEvent,
    idempotency?: IdempotencyRecord,
    claims?: ActivationClaims,
  ): Promise<Grant> {
    this.trip('create');
    // As DynamoGrantStore: the ledger number is taken before the write, so a refused write leaves a gap.
    const sequence = ++this.sequence;
    if (this.grants.has(grant.id)) throw new ConcurrentUpdateError('exists');
    // As DynamoGrantStore: every condition of the one transaction, all or nothing.
    const refused: ClaimName[] = [];
    const person = grantPerson(grant);
    const scope = claimScope(grant.profile, grant.account);
    const slotKey = `${scope}#${claims?.slot}`;
    if (claims) {
      const freeze = this.control?.state;
      if (freeze && (freeze.all || freeze.profiles.includes(grant.profile))) refused.push('frozen');
    }
    if (idempotency) {
      const prior = this.keys.get(idempotency.key);
      if (prior && !claims) throw new IdempotencyReplayError('used', prior.grantId);
      if (prior) refused.push('idempotency');
    }
    if (claims) {
      const holds = this.holds.get(person);
      if (holds?.get(scope)?.size || (holds?.get('')?.size ?? 0) >= claims.maxActive) refused.push('person');
      if (this.slots.has(slotKey)) refused.push('slot');
    }
    if (refused.length) throw new ClaimRefusedError(`Refused: ${refused.join(', ')}`, refused);
    if (idempotency) this.keys.set(idempotency.key, idempotency);
    if (claims) {
      const holds = this.holds.get(person) ?? new Map<string, Set<string>>();
      this.holds.set(person, holds);
      for (const set of ['', scope]) holds.set(set, (holds.get(set) ?? new Set()).add(grant.id));
      this.slots.set(slotKey, { slot: claims.slot, grantId: grant.id, at: grant.createdAt });
    }
    const numbered = { ...grant, sequence, eventCount: 0 };
    const first = sealEvent(numbered, event);
    const stored: Grant = { ...numbered, eventCount: 1, lastHash: first.hash };
    this.grants.set(grant.id, stored);
    this.eventLog.set(grant.id, [first]);
    return stored;
  }

  /** person → set name (`''`: every grant; else a profile) → grant ids, as the adapter's `PERSON#` item. */
  readonly holds = new Map<string, Map<string, Set<string>>>();
  async personHolds(person: string): Promise<PersonHolds> {
    const holds = this.holds.get(person);
    const byProfile = Object.fromEntries(
      [...(holds ?? [])].filter(([name, ids]) => name && ids.size).map(([name, ids]) => [name, [...ids]]),
    );
    return { grants: [...(holds?.get('') ?? [])], byProfile };
  }

  async personHoldsMany(persons: readonly string[]): Promise<Map<string, PersonHolds>> {
    const found = new Map<string, PersonHolds>();
    for (const person of persons) if (this.holds.has(person)) found.set(person, await this.personHolds(person));
    return found;
  }

  async backfillHolds(grant: Grant): Promise<boolean> {
    if (this.grants.get(grant.id)?.status !== 'ACTIVE') return false;
    const person = grantPerson(grant);
    const holds = this.holds.get(person) ?? new Map<string, Set<string>>();
    this.holds.set(person, holds);
    if (holds.get('')?.has(grant.id)) return false;
    for (const set of ['', claimScope(grant.profile, grant.account)])
      holds.set(set, (holds.get(set) ?? new Set()).add(grant.id));
    return true;
  }

  /** `<profile>#<slot>` → holder. */
  readonly slots = new Map<string, HeldSlot>();
  async heldSlots(profile: string): Promise<HeldSlot[]> {
    return [...this.slots.entries()].filter(([k]) => k.startsWith(`${profile}#`)).map(([, v]) => v);
  }
  async releaseSlot(profile: string, slot: number, grantId: string): Promise<void> {
    if (this.slots.get(`${profile}#${slot}`)?.grantId === grantId) this.slots.delete(`${profile}#${slot}`);
  }

  async append(
    grant: Grant,
    event: NewAuditEvent,
    changes: Partial<Grant> = {},
    options: AppendOptions = {},
  ): Promise<Grant> {
    this.trip('append');
    // As DynamoGrantStore: the stored kill switch is a condition of the same write.
    const freeze = this.control?.state;
    if (options.unlessFrozen && freeze && (freeze.all || freeze.profiles.includes(grant.profile)))
      throw new ClaimRefusedError('Refused: frozen', ['frozen']);
    const stored = this.grants.get(grant.id);
    if (!stored || stored.version !== grant.version || stored.lastHash !== grant.lastHash)
      throw new ConcurrentUpdateError('version changed');
    const sealed = sealEvent(grant, event);
    // As DynamoGrantStore: only `changes` (an undefined one leaves the field as it was) and the counters are written.
    const defined = Object.fromEntries(Object.entries(changes).filter(([, v]) => v !== undefined));
    const next = { ...grant, ...defined, version: stored.version + 1, eventCount: sealed.seq, lastHash: sealed.hash };
    this.grants.set(grant.id, {
      ...stored,
      ...defined,
      version: next.version,
      eventCount: next.eventCount,
      lastHash: next.lastHash,
    });
    this.eventLog.get(grant.id)!.push(sealed);
    if (
      changes.status &&
      ['EXPIRED', 'REVOKED', 'FAILED'].includes(changes.status) &&
      (grant.status === 'PENDING' || grant.status === 'ACTIVE')
    )
      for (const ids of this.holds.get(grantPerson(grant))?.values() ?? []) ids.delete(grant.id);
    if (grant.slot !== undefined && changes.status && ['EXPIRED', 'REVOKED', 'FAILED'].includes(changes.status))
      await this.releaseSlot(claimScope(grant.profile, grant.account), grant.slot, grant.id);
    return next;
  }

  async markEnding(grantId: string, at: string): Promise<Grant | undefined> {
    this.trip('markEnding');
    const stored = this.grants.get(grantId);
    if (stored?.status !== 'ACTIVE') return undefined;
    const next = { ...stored, endingSince: stored.endingSince ?? at, version: stored.version + 1 };
    this.grants.set(grantId, next);
    return next;
  }

  async get(id: string): Promise<Grant | undefined> {
    return this.grants.get(id);
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Grant>> {
    return new Map(ids.flatMap((id) => (this.grants.has(id) ? [[id, this.grants.get(id)!] as const] : [])));
  }

  async events(id: string): Promise<AuditEvent[]> {
    return [...(this.eventLog.get(id) ?? [])];
  }

  async active(): Promise<Grant[]> {
    return [...this.grants.values()].filter((g) => g.status === 'ACTIVE');
  }

  /** Newest first, paged like DynamoGrantStore: the token names the page's last grant and the query it belongs to. */
  async list(query: { status?: GrantStatus; limit: number; nextToken?: string }): Promise<GrantPage> {
    const all = [...this.grants.values()]
      .filter((g) => !query.status || g.status === query.status)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || (a.id < b.id ? 1 : -1));
    let from = 0;
    if (query.nextToken !== undefined) {
      const cursor = decodeFakeToken(query.nextToken, query.status ?? '*');
      from = all.findIndex(
        (g) => g.createdAt < cursor.createdAt || (g.createdAt === cursor.createdAt && g.id < cursor.id),
      );
      if (from < 0) from = all.length;
    }
    const page = all.slice(from, from + query.limit);
    const last = page.at(-1);
    return {
      grants: page,
      ...(last && from + query.limit < all.length
        ? { nextToken: encodeFakeToken({ q: query.status ?? '*', createdAt: last.createdAt, id: last.id }) }
        : {}),
    };
  }

  types(id: string): string[] {
    return (this.eventLog.get(id) ?? []).map((e) => e.type);
  }

  private trip(op: 'create' | 'append' | 'markEnding'): void {
    const error = this.failNext[op];
    if (error) {
      delete this.failNext[op];
      throw error;
    }
  }
}

const encodeFakeToken = (cursor: object): string => Buffer.from(JSON.stringify(cursor)).toString('base64url');

/** A token this fake issued for the query `q`, else ValidationError (as the adapters refuse one). */
function decodeFakeToken(token: string, q: string): { createdAt: string; id: string } {
  let parsed: { q?: unknown; createdAt?: unknown; id?: unknown } | null;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('nextToken is not a token this API issued');
  }
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    parsed.q !== q ||
    typeof parsed.createdAt !== 'string' ||
    typeof parsed.id !== 'string'
  ) {
    throw new ValidationError('nextToken is not a token for this query');
  }
  return parsed as { createdAt: string; id: string };
}

/** The audit read side over a MemoryStore, with the semantics of DynamoAuditLog. */
export class MemoryAuditLog implements AuditLog {
  constructor(private readonly store: MemoryStore) {}

  async queryEvents(query: AuditQuery): Promise<EventPage> {
    const q = JSON.stringify([query.requester, query.profile, query.eventType, query.from, query.to]);
    const all = [...this.store.eventLog.values()]
      .flat()
      .filter(
        (e) =>
          (query.requester === undefined || e.requester === query.requester) &&
          (query.profile === undefined || e.profile === query.profile) &&
          (query.eventType === undefined || e.type === query.eventType),
      )
      .filter((e) => e.at >= query.from && e.at <= query.to)
      .sort(
        (a, b) => b.at.localeCompare(a.at) || (a.grantId < b.grantId ? 1 : a.grantId > b.grantId ? -1 : b.seq - a.seq),
      );
    let from = 0;
    if (query.nextToken !== undefined) {
      const cursor = decodeFakeToken(query.nextToken, q);
      from = all.findIndex((e) => `${e.grantId}#${e.seq}` === cursor.id) + 1;
      if (from === 0) throw new ValidationError('nextToken is not a token for this query');
    }
    const events = all.slice(from, from + query.limit);
    const last = events.at(-1);
    return {
      events,
      ...(last && from + query.limit < all.length
        ? { nextToken: encodeFakeToken({ q, createdAt: last.at, id: `${last.grantId}#${last.seq}` }) }
        : {}),
    };
  }

  async reviewsDue(endedBefore: string, limit: number): Promise<Grant[]> {
    return [...this.store.grants.values()]
      .filter((g) => g.reviewState === 'DUE' && g.endedAt !== undefined && g.endedAt < endedBefore)
      .sort((a, b) => a.endedAt!.localeCompare(b.endedAt!))
      .slice(0, limit);
  }
}

export class MemoryAccess implements AccessManager {
  readonly policies = new Map<string, string>();
  failAttach?: Error;
  failDetach?: Error;
  detachCalls = 0;

  key(target: PolicyTarget, name: string): string {
    return `${target.type}/${target.name}/${name}`;
  }
  async read(target: PolicyTarget, name: string): Promise<string | undefined> {
    return this.policies.get(this.key(target, name));
  }
  async listPolicies(target: PolicyTarget, prefix: string): Promise<string[]> {
    const start = `${target.type}/${target.name}/`;
    return [...this.policies.keys()].filter((k) => k.startsWith(start + prefix)).map((k) => k.slice(start.length));
  }
  async inlinePolicyUsage(target: PolicyTarget, except: string): Promise<number> {
    const prefix = `${target.type}/${target.name}/`;
    return [...this.policies.entries()]
      .filter(([k]) => k.startsWith(prefix) && k !== prefix + except)
      .reduce((n, [, doc]) => n + doc.replace(/\s/g, '').length, 0);
  }
  async attach(target: PolicyTarget, name: string, document: string): Promise<void> {
    if (this.failAttach) throw this.failAttach;
    this.policies.set(this.key(target, name), document);
  }
  async detach(target: PolicyTarget, name: string): Promise<'detached' | 'absent'> {
    this.detachCalls += 1;
    if (this.failDetach) throw this.failDetach;
    return this.policies.delete(this.key(target, name)) ? 'detached' : 'absent';
  }
}

export class MemoryScheduler implements ExpiryScheduler {
  readonly schedules = new Map<string, { expiresAt: string; grantId: string }>();
  failSchedule?: Error;
  async schedule(name: string, expiresAt: string, grantId: string): Promise<void> {
    if (this.failSchedule) throw this.failSchedule;
    this.schedules.set(name, { expiresAt, grantId });
  }
  failReschedule?: Error;
  async exists(name: string): Promise<boolean> {
    return this.schedules.has(name);
  }
  async reschedule(name: string, expiresAt: string, grantId: string): Promise<void> {
    if (this.failReschedule) throw this.failReschedule;
    if (!this.schedules.has(name)) throw new Error(`no schedule ${name}`);
    this.schedules.set(name, { expiresAt, grantId });
  }
  async cancel(name: string): Promise<'deleted' | 'absent'> {
    return this.schedules.delete(name) ? 'deleted' : 'absent';
  }
}

export class MemoryControl implements ControlStore {
  state: FreezeState = { all: false, profiles: [], version: 0 };
  async freezeState(): Promise<FreezeState> {
    return this.state;
  }
  async setFreeze(next: Omit<FreezeState, 'version'>, expectedVersion: number): Promise<FreezeState> {
    if (this.state.version !== expectedVersion) throw new ConcurrentUpdateError('changed');
    this.state = { ...next, version: expectedVersion + 1 };
    return this.state;
  }
}

/**
 * One holder per name at a time, like the DynamoDB lease: a caller waits its turn for at most
 * `waitMs` (DynamoLeaseLock's default), then gets BusyError without running.
 */
export class MemoryLock implements LeaseLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  constructor(readonly waitMs = 8_000) {}
  async withLease<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    let timer: NodeJS.Timeout | undefined;
    const turn = new Promise<'turn' | 'busy'>((resolve) => {
      timer = setTimeout(() => resolve('busy'), this.waitMs);
      previous.then(
        () => resolve('turn'),
        () => resolve('turn'),
      );
    });
    const run = turn.then((outcome) => {
      clearTimeout(timer);
      if (outcome === 'busy') throw new BusyError(`Too many activations at once on ${name}`);
      return fn();
    });
    // The next caller's turn comes when this one has run, or has given up waiting (it then holds nothing).
    this.tails.set(
      name,
      turn
        .then((outcome) => (outcome === 'busy' ? previous : run))
        .then(
          () => undefined,
          () => undefined,
        ),
    );
    return run;
  }
}

export class MemoryNotifier implements Notifier {
  readonly alerts: Alert[] = [];
  fail?: Error;
  async publish(alert: Alert): Promise<void> {
    if (this.fail) throw this.fail;
    this.alerts.push(alert);
  }
}

/** Same rule as `DynamoAlertLimiter`: one alert per key, then one per window counting the rest. */
export class MemoryAlertLimiter implements AlertLimiter {
  readonly state = new Map<string, { lastAlertAt?: number; suppressed: number }>();
  fail?: Error;
  constructor(public windowSeconds = 300) {}
  async admit(key: string, at: Date): Promise<AlertAdmission> {
    if (this.fail) throw this.fail;
    const item = this.state.get(key);
    if (item?.lastAlertAt === undefined || item.lastAlertAt <= at.getTime() - this.windowSeconds * 1000) {
      this.state.set(key, { lastAlertAt: at.getTime(), suppressed: 0 });
      return {
        announce: true,
        suppressed: item?.suppressed ?? 0,
        ...(item?.lastAlertAt !== undefined ? { since: new Date(item.lastAlertAt).toISOString() } : {}),
        windowSeconds: this.windowSeconds,
      };
    }
    item.suppressed += 1;
    return { announce: false, windowSeconds: this.windowSeconds };
  }
}

export class ManualClock {
  constructor(public current = new Date('2026-11-24T10:00:00.000Z')) {}
  now(): Date {
    return new Date(this.current);
  }
  advance(ms: number): void {
    this.current = new Date(this.current.getTime() + ms);
  }
}

export function fakePorts() {
  let n = 0;
  const control = new MemoryControl();
  const ports = {
    store: new MemoryStore(control),
    access: new MemoryAccess(),
    scheduler: new MemoryScheduler(),
    notifier: new MemoryNotifier(),
    control,
    locks: new MemoryLock(),
    alertLimiter: new MemoryAlertLimiter(),
    clock: new ManualClock(),
    // What the test profiles acknowledge; a test about risks replaces it with its own profiles'.
    profileRisks: risksByProfile(testProfiles().profiles),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    log: { error: () => {}, warn: () => {}, info: () => {} },
    activity: new MemoryActivityStore(),
  } satisfies Ports;
  return ports;
}

export const ACCOUNT = '123456789012';
export const ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`;
export const ALICE_ID = 'AROAEXAMPLEROLEID1234:alice';
export const BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/bob`;
export const BOB_ID = 'AROAEXAMPLEROLEID1234:bob';
export const SECURITY = `arn:aws:sts::${ACCOUNT}:assumed-role/Security/sam`;
export const MALLORY = `arn:aws:sts::${ACCOUNT}:assumed-role/Intern/mallory`;

export function testProfiles(overrides: Record<string, unknown> = {}): ProfileSet {
  return parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'demo',
        description: 'demo access',
        owner: 'platform@example.com',
        maxDurationMinutes: 120,
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [{ sid: 'Read', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
        grantTo: 'caller',
        ...overrides,
      },
      {
        name: 'db',
        description: 'db access',
        owner: 'dba@example.com',
        maxDurationMinutes: 30,
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        ticket: { required: true, pattern: '^INC-[0-9]+$' },
        statements: [{ actions: ['rds:RebootDBInstance'], resources: ['arn:aws:rds:us-east-1:123456789012:db:prod'] }],
        grantTo: 'caller',
      },
    ],
  });
}

/** Action logging in memory: the adapter's dedupe, counters and newest-first pages with grant-bound tokens. */
export class MemoryActivityStore implements ActivityStore {
  /** grantId → sort key → record. */
  readonly records = new Map<string, Map<string, ActivityRecord>>();
  readonly summaries = new Map<string, ActivitySummary>();
  readonly sessions: SessionGrant[] = [];
  failRecord?: Error;
  readonly announced = new Map<string, string>();

  async announcedAt(grantId: string): Promise<string | undefined> {
    return this.announced.get(grantId);
  }

  async markAnnounced(grantId: string, at: string): Promise<void> {
    if (!this.announced.has(grantId)) this.announced.set(grantId, at);
  }

  async record(record: ActivityRecord): Promise<'stored' | 'duplicate'> {
    if (this.failRecord) throw this.failRecord;
    const byKey = this.records.get(record.grantId) ?? new Map<string, ActivityRecord>();
    this.records.set(record.grantId, byKey);
    const key = activitySortKey(record);
    const duplicate = byKey.has(key);
    if (!duplicate) {
      byKey.set(key, record);
      const s = this.summaries.get(record.grantId) ?? emptySummary(record.grantId);
      const inc = summaryIncrements(record);
      this.summaries.set(record.grantId, {
        ...s,
        calls: s.calls + inc.calls,
        writes: s.writes + inc.writes,
        denied: s.denied + inc.denied,
        afterEnd: s.afterEnd + inc.afterEnd,
        afterEndAllowed: s.afterEndAllowed + inc.afterEndAllowed,
      });
    }
    const s = this.summaries.get(record.grantId)!;
    this.summaries.set(record.grantId, {
      ...s,
      firstCallAt: !s.firstCallAt || record.eventTime < s.firstCallAt ? record.eventTime : s.firstCallAt,
      lastCallAt: !s.lastCallAt || record.eventTime > s.lastCallAt ? record.eventTime : s.lastCallAt,
    });
    return duplicate ? 'duplicate' : 'stored';
  }

  async summary(grantId: string): Promise<ActivitySummary> {
    return this.summaries.get(grantId) ?? emptySummary(grantId);
  }

  async page(grantId: string, query: { limit: number; nextToken?: string }): Promise<ActivityPage> {
    const keys = [...(this.records.get(grantId)?.keys() ?? [])].sort().reverse();
    let start = 0;
    if (query.nextToken) {
      let after: unknown;
      try {
        after = JSON.parse(Buffer.from(query.nextToken, 'base64url').toString('utf8'));
      } catch {
        throw new ValidationError('nextToken is not a token this API issued');
      }
      const t = after as { grantId?: unknown; sk?: unknown } | null;
      if (!t || t.grantId !== grantId || typeof t.sk !== 'string')
        throw new ValidationError("nextToken is not a token for this grant's activity");
      start = keys.findIndex((k) => k < (t.sk as string));
      if (start < 0) start = keys.length;
    }
    const slice = keys.slice(start, start + query.limit);
    const more = start + query.limit < keys.length;
    return {
      activity: slice.map((k) => this.records.get(grantId)!.get(k)!),
      ...(more
        ? { nextToken: Buffer.from(JSON.stringify({ grantId, sk: slice[slice.length - 1] })).toString('base64url') }
        : {}),
    };
  }

  async all(grantId: string): Promise<ActivityRecord[]> {
    return [...(this.records.get(grantId)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  }

  async registerSession(entry: SessionGrant): Promise<void> {
    if (!this.sessions.some((s) => s.sessionKey === entry.sessionKey && s.grantId === entry.grantId))
      this.sessions.push(entry);
  }

  async sessionGrants(sessionKey: string, at: string, limit: number): Promise<SessionGrant[]> {
    return this.sessions
      .filter((s) => s.sessionKey === sessionKey && s.createdAt.slice(0, 19) <= at.slice(0, 19))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, limit);
  }
}
