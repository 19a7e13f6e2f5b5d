/** In-memory implementations of the ports, with the same semantics as the adapters. */
import type { AuditEvent, NewAuditEvent } from '../../functions/domain/audit-event.js';
import type { Alert } from '../../functions/domain/alert.js';
import { sealEvent } from '../../functions/domain/audit-chain.js';
import { ConcurrentUpdateError, IdempotencyReplayError } from '../../functions/domain/errors.js';
import type { Grant, GrantStatus } from '../../functions/domain/grant.js';
import type { AccessManager, AlertAdmission, AlertLimiter, ControlStore, ExpiryScheduler, FreezeState, GrantPage, GrantStore, IdempotencyRecord, LeaseLock, Notifier, PolicyTarget, Ports } from '../../functions/domain/ports.js';
import { parseProfiles, type ProfileSet } from '../../functions/domain/profile.js';
import { risksByProfile } from '../../functions/domain/risk.js';

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
      return { announce: true, suppressed: item?.suppressed ?? 0, ...(item?.lastAlertAt !== undefined ? { since: new Date(item.lastAlertAt).toISOString() } : {}), windowSeconds: this.windowSeconds };
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
  const ports = {
    store: new MemoryStore(),
    access: new MemoryAccess(),
    scheduler: new MemoryScheduler(),
    notifier: new MemoryNotifier(),
    control: new MemoryControl(),
    locks: new MemoryLock(),
    alertLimiter: new MemoryAlertLimiter(),
    clock: new ManualClock(),
    // What the test profiles acknowledge; a test about risks replaces it with its own profiles'.
    profileRisks: risksByProfile(testProfiles().profiles),
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
