/** In-memory implementations of the ports, with the same semantics as the adapters. */
import type { AuditEvent, NewAuditEvent } from '../../functions/domain/audit-event.js';
import type { Alert } from '../../functions/domain/alert.js';
import { sealEvent } from '../../functions/domain/audit-chain.js';
import { ConcurrentUpdateError, IdempotencyReplayError } from '../../functions/domain/errors.js';
import type { Grant, GrantStatus } from '../../functions/domain/grant.js';
import { activitySortKey, emptySummary, summaryIncrements, type ActivityRecord, type ActivitySummary } from '../../functions/domain/activity.js';
import { ValidationError } from '../../functions/domain/errors.js';
import type { ActivityPage, ActivityStore, SessionGrant } from '../../functions/domain/ports.js';
import type { AccessManager, ControlStore, ExpiryScheduler, FreezeState, GrantPage, GrantStore, IdempotencyRecord, LeaseLock, Notifier, PolicyTarget, Ports } from '../../functions/domain/ports.js';
import { parseProfiles, type ProfileSet } from '../../functions/domain/profile.js';

export class MemoryStore implements GrantStore {
  readonly grants = new Map<string, Grant>();
  readonly eventLog = new Map<string, AuditEvent[]>();
  failNext: Partial<Record<'create' | 'append', Error>> = {};

  readonly keys = new Map<string, IdempotencyRecord>();
  async idempotency(key: string): Promise<IdempotencyRecord | undefined> {
    return this.keys.get(key);
  }

  private sequence = 0;
  async create(grant: Grant, event: NewAuditEvent, idempotency?: IdempotencyRecord): Promise<Grant> {
    this.trip('create');
    if (this.grants.has(grant.id)) throw new ConcurrentUpdateError('exists');
    if (idempotency) {
      const prior = this.keys.get(idempotency.key);
      if (prior) throw new IdempotencyReplayError('used', prior.grantId);
      this.keys.set(idempotency.key, idempotency);
    }
    const numbered = { ...grant, sequence: ++this.sequence, eventCount: 0 };
    const first = sealEvent(numbered, event);
    const stored: Grant = { ...numbered, eventCount: 1, lastHash: first.hash };
    this.grants.set(grant.id, stored);
    this.eventLog.set(grant.id, [first]);
    return stored;
  }

  async append(grant: Grant, event: NewAuditEvent, changes: Partial<Grant> = {}): Promise<Grant> {
    this.trip('append');
    const stored = this.grants.get(grant.id);
    if (!stored || stored.version !== grant.version || stored.lastHash !== grant.lastHash) throw new ConcurrentUpdateError('version changed');
    const sealed = sealEvent(grant, event);
    const next = { ...grant, ...changes, version: stored.version + 1, eventCount: sealed.seq, lastHash: sealed.hash };
    this.grants.set(grant.id, next);
    this.eventLog.get(grant.id)!.push(sealed);
    return next;
  }

  async get(id: string): Promise<Grant | undefined> {
    return this.grants.get(id);
  }

  async events(id: string): Promise<AuditEvent[]> {
    return [...(this.eventLog.get(id) ?? [])];
  }

  async active(): Promise<Grant[]> {
    return [...this.grants.values()].filter((g) => g.status === 'ACTIVE');
  }

  async list(query: { status?: GrantStatus; limit: number }): Promise<GrantPage> {
    const all = [...this.grants.values()].filter((g) => !query.status || g.status === query.status).sort((a, b) => b.createdAt.localeCompare(a.createdAt));
    return { grants: all.slice(0, query.limit) };
  }

  types(id: string): string[] {
    return (this.eventLog.get(id) ?? []).map((e) => e.type);
  }

  private trip(op: 'create' | 'append'): void {
    const error = this.failNext[op];
    if (error) {
      delete this.failNext[op];
      throw error;
    }
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
  async listPolicies(target: PolicyTarget, prefix: string): Promise<string[]> {
    const start = `${target.type}/${target.name}/`;
    return [...this.policies.keys()].filter((k) => k.startsWith(start + prefix)).map((k) => k.slice(start.length));
  }
  async inlinePolicyUsage(target: PolicyTarget, except: string): Promise<number> {
    const prefix = `${target.type}/${target.name}/`;
    return [...this.policies.entries()].filter(([k]) => k.startsWith(prefix) && k !== prefix + except).reduce((n, [, doc]) => n + doc.replace(/\s/g, '').length, 0);
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

/** One holder per name at a time, like the DynamoDB lease. */
export class MemoryLock implements LeaseLock {
  private readonly tails = new Map<string, Promise<unknown>>();
  async withLease<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(name) ?? Promise.resolve();
    const run = previous.then(fn, fn);
    this.tails.set(name, run.catch(() => undefined));
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
  const ports = {
    store: new MemoryStore(),
    access: new MemoryAccess(),
    scheduler: new MemoryScheduler(),
    notifier: new MemoryNotifier(),
    control: new MemoryControl(),
    locks: new MemoryLock(),
    clock: new ManualClock(),
    newId: () => `00000000-0000-4000-8000-${String(++n).padStart(12, '0')}`,
    log: { error: () => {}, warn: () => {}, info: () => {} },
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
      this.summaries.set(record.grantId, { ...s, calls: s.calls + inc.calls, writes: s.writes + inc.writes, denied: s.denied + inc.denied, afterEnd: s.afterEnd + inc.afterEnd, afterEndAllowed: s.afterEndAllowed + inc.afterEndAllowed });
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
      if (!t || t.grantId !== grantId || typeof t.sk !== 'string') throw new ValidationError("nextToken is not a token for this grant's activity");
      start = keys.findIndex((k) => k < (t.sk as string));
      if (start < 0) start = keys.length;
    }
    const slice = keys.slice(start, start + query.limit);
    const more = start + query.limit < keys.length;
    return {
      activity: slice.map((k) => this.records.get(grantId)!.get(k)!),
      ...(more ? { nextToken: Buffer.from(JSON.stringify({ grantId, sk: slice[slice.length - 1] })).toString('base64url') } : {}),
    };
  }

  async all(grantId: string): Promise<ActivityRecord[]> {
    return [...(this.records.get(grantId)?.entries() ?? [])].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, r]) => r);
  }

  async registerSession(entry: SessionGrant): Promise<void> {
    if (!this.sessions.some((s) => s.sessionKey === entry.sessionKey && s.grantId === entry.grantId)) this.sessions.push(entry);
  }

  async sessionGrants(sessionKey: string, at: string, limit: number): Promise<SessionGrant[]> {
    return this.sessions
      .filter((s) => s.sessionKey === sessionKey && s.createdAt.slice(0, 19) <= at.slice(0, 19))
      .sort((a, b) => (a.createdAt < b.createdAt ? 1 : -1))
      .slice(0, limit);
  }
}
