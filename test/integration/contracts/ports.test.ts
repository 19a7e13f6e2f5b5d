/**
 * Contract tests: the in-memory fakes the domain tests use (`test/support/fakes.ts`) and the
 * DynamoDB adapters pass one suite, so a fake cannot quietly behave otherwise than the adapter
 * the Lambdas run. Each test gets a fresh store (for DynamoDB, a fresh table in the emulator with
 * the stack's keys and indexes) and asserts what the port promises in `functions/domain/ports.ts`.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { describe, expect, inject, it } from 'vitest';
import { DynamoAlertLimiter } from '../../../functions/adapters/dynamodb-alert-limiter.adapter.js';
import { DynamoAuditLog } from '../../../functions/adapters/dynamodb-audit-log.adapter.js';
import {
  DynamoControlStore,
  DynamoGrantStore,
  DynamoLeaseLock,
} from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { verifyChain } from '../../../functions/domain/audit-chain.js';
import type { EventType, NewAuditEvent } from '../../../functions/domain/audit-event.js';
import {
  BusyError,
  ClaimRefusedError,
  ConcurrentUpdateError,
  IdempotencyReplayError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import type { Grant, GrantStatus } from '../../../functions/domain/grant.js';
import type {
  AlertLimiter,
  AuditLog,
  AuditQuery,
  ControlStore,
  GrantStore,
  LeaseLock,
} from '../../../functions/domain/ports.js';
import { emulatorConfig, tableDefinition } from '../../../sandbox/seed.js';
import {
  ALICE,
  BOB,
  MALLORY,
  MemoryAlertLimiter,
  MemoryAuditLog,
  MemoryControl,
  MemoryLock,
  MemoryStore,
} from '../../support/fakes.js';

/** One implementation of every port under contract, over one fresh store. */
interface Implementation {
  readonly store: GrantStore;
  readonly control: ControlStore;
  /** A lease lock that gives up after `waitMs`. */
  readonly locks: (waitMs: number) => LeaseLock;
  readonly limiter: (windowSeconds: number) => AlertLimiter;
  readonly audit: AuditLog;
}

function fake(): Promise<Implementation> {
  const control = new MemoryControl();
  const store = new MemoryStore(control);
  return Promise.resolve({
    store,
    control,
    locks: (waitMs) => new MemoryLock(waitMs),
    limiter: (windowSeconds) => new MemoryAlertLimiter(windowSeconds),
    audit: new MemoryAuditLog(store),
  });
}

/** A new table with the stack's keys and indexes (`table-schema.ts`, as `sandbox/seed.ts` creates it). */
async function dynamo(): Promise<Implementation> {
  const client = new DynamoDBClient(emulatorConfig(inject('motoEndpoint')));
  const tableName = `contract-${randomBytes(4).toString('hex')}`;
  await client.send(new CreateTableCommand(tableDefinition(tableName)));
  const options = { tableName, awsSdkV3Client: client };
  return {
    store: new DynamoGrantStore(options),
    control: new DynamoControlStore(options),
    // A lease that outlives any pause of a starved machine: only the wait is under test.
    locks: (waitMs) => new DynamoLeaseLock({ ...options, waitMs, leaseMs: 10 * 60_000 }),
    limiter: (windowSeconds) => new DynamoAlertLimiter({ ...options, windowSeconds }),
    audit: new DynamoAuditLog(options),
  };
}

const T0 = Date.parse('2026-11-24T10:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();

function newGrant(extra: Partial<Grant> = {}): Grant {
  const id = randomUUID();
  return {
    id,
    profile: 'demo',
    owner: 'platform@example.com',
    principalArn: ALICE,
    targetType: 'role',
    targetName: 'Responder',
    status: 'PENDING',
    reason: 'orders API returns 500s, need logs',
    durationMinutes: 30,
    createdAt: at(0),
    expiresAt: at(30),
    policyName: `breakglass-${id}`,
    scheduleName: id,
    version: 0,
    eventCount: 0,
    ...extra,
  };
}

const event = (type: EventType, when: string, actor = ALICE): NewAuditEvent => ({
  type,
  at: when,
  actor,
  outcome: 'SUCCESS',
});

/** Every page of a paged read, following the tokens. */
async function allPages<T>(
  read: (nextToken?: string) => Promise<{ items: readonly T[]; nextToken?: string }>,
): Promise<T[]> {
  const out: T[] = [];
  let token: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const page = await read(token);
    out.push(...page.items);
    token = page.nextToken;
    if (!token) return out;
  }
  throw new Error('more than 100 pages: the tokens do not advance');
}

describe.each([
  ['fake', fake],
  ['dynamodb (emulator)', dynamo],
] as const)('ports contract: %s', (_name, make) => {
  describe('GrantStore', () => {
    it('numbers grants from one ledger, seals the first event on the anchor, and returns the grant as stored', async () => {
      // Prepare
      const { store } = await make();
      // Act
      const first = await store.create(newGrant(), event('REQUESTED', at(0)));
      const second = await store.create(newGrant({ principalArn: BOB }), event('REQUESTED', at(1), BOB));
      // Assess
      expect(second.sequence).toBe(first.sequence! + 1);
      expect(first).toMatchObject({ eventCount: 1, version: 0 });
      expect(await store.get(first.id)).toEqual(first);
      const events = await store.events(first.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({
        grantId: first.id,
        seq: 1,
        type: 'REQUESTED',
        requester: ALICE,
        profile: 'demo',
        day: '2026-11-24',
        hash: first.lastHash,
      });
      expect(verifyChain(first, events).ok).toBe(true);
      expect(await store.get(randomUUID())).toBeUndefined();
    });

    it('refuses a second grant with the same id (ConcurrentUpdateError), keeps the first, and leaves a gap in the ledger', async () => {
      const { store } = await make();
      const grant = newGrant();
      const first = await store.create(grant, event('REQUESTED', at(0)));
      await expect(
        store.create({ ...grant, reason: 'another request entirely' }, event('REQUESTED', at(1))),
      ).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await store.get(grant.id)).toEqual(first);
      expect(await store.events(grant.id)).toHaveLength(1);
      // The refused write took a number (DynamoDB increments the counter before the transaction).
      const next = await store.create(newGrant(), event('REQUESTED', at(2)));
      expect(next.sequence).toBe(first.sequence! + 2);
    });

    it('replays an idempotency key: the second create is refused with the first grant id and writes nothing', async () => {
      const { store } = await make();
      const record = { key: `k-${randomUUID()}`, grantId: '', fingerprint: 'f1' };
      const first = await store.create(newGrant(), event('REQUESTED', at(0)), { ...record, grantId: 'first' });
      expect(await store.idempotency(record.key)).toEqual({ ...record, grantId: 'first' });
      const second = newGrant();
      const error = await store
        .create(second, event('REQUESTED', at(1)), { ...record, grantId: second.id, fingerprint: 'f2' })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(IdempotencyReplayError);
      expect((error as IdempotencyReplayError).grantId).toBe('first');
      expect(await store.get(second.id)).toBeUndefined();
      expect(await store.get(first.id)).toEqual(first);
      expect(await store.idempotency('k-unused')).toBeUndefined();
    });

    it('appends on the stored version only: a stale grant is refused (ConcurrentUpdateError) and nothing is written', async () => {
      const { store } = await make();
      const created = await store.create(newGrant(), event('REQUESTED', at(0)));
      // Act
      const active = await store.append(created, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
      // Assess
      expect(active).toMatchObject({ status: 'ACTIVE', version: 1, eventCount: 2 });
      expect(await store.get(created.id)).toEqual(active);
      await expect(store.append(created, event('REVOKED', at(5)), { status: 'REVOKED' })).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      // Same version, another head: refused too (the chain can only grow from its real head).
      await expect(
        store.append({ ...active, lastHash: '0'.repeat(64) }, event('REVOKED', at(5)), { status: 'REVOKED' }),
      ).rejects.toBeInstanceOf(ConcurrentUpdateError);
      await expect(store.append({ ...active, id: randomUUID() }, event('REVOKED', at(5)))).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      expect(await store.get(created.id)).toEqual(active);
      const events = await store.events(created.id);
      expect(events.map((e) => e.type)).toEqual(['REQUESTED', 'ACTIVATED']);
      expect(verifyChain(active, events).ok).toBe(true);
    });

    it('writes only the changes and the counters: other fields of the grant passed in, and undefined changes, leave the stored grant as it was', async () => {
      const { store } = await make();
      const created = await store.create(newGrant(), event('REQUESTED', at(0)));
      const ended = await store.append(created, event('EXPIRED', at(30)), { status: 'EXPIRED', endedAt: at(30) });
      // Act: a caller's copy with an edited reason, and a change that is undefined
      const next = await store.append({ ...ended, reason: 'edited in memory only' }, event('REVIEWED', at(40), BOB), {
        reviewState: 'DONE',
        endedAt: undefined,
      });
      // Assess
      const stored = (await store.get(created.id))!;
      expect(stored).toMatchObject({
        reason: created.reason,
        endedAt: at(30),
        reviewState: 'DONE',
        version: 2,
        eventCount: 3,
        lastHash: next.lastHash,
      });
      expect(next.endedAt).toBe(at(30));
    });

    it('claims in the record: refuses a held slot, a second grant of one profile per person, the cap, and a frozen profile, writing nothing', async () => {
      // Prepare: fresh claims never read the store first; each refusal names the claim (ClaimRefusedError). The
      // adapter relies on TransactWriteItems being all-or-none, with one CancellationReason per action in request
      // order (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
      const { store, control } = await make();
      const claim = (slot: number, extra: Partial<Grant> = {}) =>
        store.create(newGrant({ person: ALICE, slot, ...extra }), event('REQUESTED', at(0)), undefined, {
          slot,
          maxActive: 2,
        });
      const refusal = (p: Promise<unknown>) =>
        p.then(
          () => 'granted',
          (e: unknown) => (e instanceof ClaimRefusedError ? [...e.refused].sort() : e),
        );
      // Act / Assess: a first claim, then each condition on its own
      const first = await claim(0);
      expect(await refusal(claim(0, { person: BOB }))).toEqual(['slot']);
      expect(await refusal(claim(1))).toEqual(['person']); // same person, same profile
      await claim(1, { profile: 'db' });
      expect(await refusal(claim(2, { profile: 'other' }))).toEqual(['person']); // the cap (2)
      expect(await store.personHolds(ALICE)).toEqual({
        grants: expect.arrayContaining([first.id]),
        byProfile: { demo: [first.id], db: [expect.any(String)] },
      });
      await control.setFreeze({ all: false, profiles: ['demo'] }, 0);
      expect(await refusal(claim(3, { person: BOB }))).toEqual(['frozen']);
      expect(await refusal(claim(3, { person: BOB, profile: 'db' }))).toBe('granted');
      // Nothing of a refused claim was written: BOB holds only his `db` grant, slot 3 of demo is free
      expect((await store.personHolds(BOB)).byProfile).toEqual({ db: [expect.any(String)] });
      expect((await store.heldSlots('demo')).map((s) => s.slot)).toEqual([0]);
    });

    it('keys slots and the one-per-profile hold by profile and account (claimScope)', async () => {
      // Prepare
      const { store } = await make();
      const claims = { slot: 0, maxActive: 3 };
      const make1 = (account?: string) =>
        store.create(
          newGrant({ person: ALICE, slot: 0, ...(account ? { account } : {}) }),
          event('REQUESTED', at(0)),
          undefined,
          claims,
        );
      // Act: slot 0 of demo, by the same person, in no account, in one account and in another
      const grants = [await make1(), await make1('210987654321'), await make1('111122223333')];
      // Assess
      expect(grants).toHaveLength(3);
      expect((await store.heldSlots('demo@210987654321')).map((s) => s.grantId)).toEqual([grants[1]!.id]);
      expect(Object.keys((await store.personHolds(ALICE)).byProfile).sort()).toEqual([
        'demo',
        'demo@111122223333',
        'demo@210987654321',
      ]);
    });

    it('backfills the holds of an ACTIVE grant that lacks them, once, and never those of an ended one', async () => {
      // Prepare: grants recorded without claims (as before holds existed)
      const { store } = await make();
      const created = await store.create(newGrant({ person: ALICE }), event('REQUESTED', at(0)));
      const active = await store.append(created, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
      const other = await store.create(newGrant({ person: BOB }), event('REQUESTED', at(0)));
      const ended = await store.append(
        await store.append(other, event('ACTIVATED', at(0)), { status: 'ACTIVE' }),
        event('REVOKED', at(1)),
        { status: 'REVOKED', endedAt: at(1) },
      );
      // Act / Assess
      expect(await store.backfillHolds(active)).toBe(true);
      expect(await store.backfillHolds(active)).toBe(false);
      expect(await store.personHolds(ALICE)).toEqual({ grants: [active.id], byProfile: { demo: [active.id] } });
      expect(await store.backfillHolds(ended)).toBe(false);
      expect((await store.personHolds(BOB)).grants).toEqual([]);
    });

    it('reads many grants and persons’ holds at once, beyond one batch of 100, as get and personHolds do', async () => {
      // Prepare: 105 grants, two of them ACTIVE with their holds (ALICE, BOB); MALLORY holds nothing
      const { store } = await make();
      const grants: Grant[] = [];
      for (let i = 0; i < 105; i++) grants.push(await store.create(newGrant(), event('REQUESTED', at(0))));
      for (const [grant, person] of [
        [grants[0]!, ALICE],
        [grants[1]!, BOB],
      ] as const) {
        const active = await store.append({ ...grant, person }, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
        await store.backfillHolds({ ...active, person });
      }
      const ids = grants.map((g) => g.id);
      // Act
      const found = await store.getMany([...ids, randomUUID(), ids[0]!]);
      const holds = await store.personHoldsMany([ALICE, BOB, MALLORY, ALICE]);
      // Assess: every grant once, as get reads it; an unknown id absent
      expect([...found.keys()].sort()).toEqual([...ids].sort());
      for (const id of [ids[0]!, ids[104]!]) expect(found.get(id)).toEqual(await store.get(id));
      expect([...holds.keys()].sort()).toEqual([ALICE, BOB].sort());
      expect(holds.get(ALICE)).toEqual(await store.personHolds(ALICE));
      expect(holds.get(BOB)!.grants).toEqual([grants[1]!.id]);
      expect(await store.getMany([])).toEqual(new Map());
    });

    it('marks an ACTIVE grant ending whatever version was read: a write that read before conflicts, the mark is kept', async () => {
      // Prepare: an ACTIVE grant, read by a writer that has not written yet
      const { store } = await make();
      const created = await store.create(newGrant(), event('REQUESTED', at(0)));
      const active = await store.append(created, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
      // Act
      const marked = await store.markEnding(active.id, at(1));
      const again = await store.markEnding(active.id, at(2));
      // Assess: marked once (the first time kept), the version moved on, no event written
      expect(marked).toMatchObject({ endingSince: at(1), version: active.version + 1, status: 'ACTIVE' });
      expect(again).toMatchObject({ endingSince: at(1), version: active.version + 2 });
      expect(await store.get(active.id)).toEqual(again);
      expect(await store.events(active.id)).toHaveLength(2);
      await expect(store.append(active, event('CREDENTIALS_ISSUED', at(1)))).rejects.toBeInstanceOf(
        ConcurrentUpdateError,
      );
      // A grant that is not ACTIVE is not marked
      expect(await store.markEnding(randomUUID(), at(3))).toBeUndefined();
      const ended = await store.append(again!, event('REVOKED', at(3)), { status: 'REVOKED' });
      expect(await store.markEnding(ended.id, at(4))).toBeUndefined();
      expect((await store.get(ended.id))!.version).toBe(ended.version);
    });

    it('refuses the ACTIVE mark of a frozen profile when asked (unlessFrozen), writing nothing', async () => {
      // Prepare: the kill switch as a ConditionCheck of the append's transaction (TransactWriteItems: all or
      // none, CancellationReasons in request order).
      const { store, control } = await make();
      const grant = await store.create(newGrant(), event('REQUESTED', at(0)));
      await control.setFreeze({ all: false, profiles: ['demo'] }, 0);
      // Act
      const refused = await store
        .append(grant, event('ACTIVATED', at(1)), { status: 'ACTIVE' }, { unlessFrozen: true })
        .catch((e: unknown) => e);
      // Assess
      expect(refused).toBeInstanceOf(ClaimRefusedError);
      expect((refused as ClaimRefusedError).refused).toEqual(['frozen']);
      expect(await store.get(grant.id)).toMatchObject({ status: 'PENDING', version: grant.version });
      expect((await store.events(grant.id)).map((e) => e.type)).toEqual(['REQUESTED']);
      // Without the option, or for another profile, the append goes through
      const other = await store.create(newGrant({ profile: 'db' }), event('REQUESTED', at(0)));
      await expect(
        store.append(other, event('ACTIVATED', at(1)), { status: 'ACTIVE' }, { unlessFrozen: true }),
      ).resolves.toMatchObject({ status: 'ACTIVE' });
    });

    it('releases the person’s holds in the write that ends the grant, so the next claim succeeds', async () => {
      // Prepare
      const { store } = await make();
      const claims = { slot: 0, maxActive: 1 };
      const grant = await store.create(
        newGrant({ person: ALICE, slot: 0 }),
        event('REQUESTED', at(0)),
        undefined,
        claims,
      );
      const active = await store.append(grant, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
      // Act
      await store.append(active, event('EXPIRED', at(30)), { status: 'EXPIRED', endedAt: at(30) });
      // Assess: no holds left, and the same person may hold the same profile again
      expect(await store.personHolds(ALICE)).toEqual({ grants: [], byProfile: {} });
      const again = await store.create(
        newGrant({ person: ALICE, slot: 0 }),
        event('REQUESTED', at(31)),
        undefined,
        claims,
      );
      expect((await store.personHolds(ALICE)).grants).toEqual([again.id]);
    });

    it('lists ACTIVE grants in active(), and no others', async () => {
      const { store } = await make();
      const a = await store.create(newGrant(), event('REQUESTED', at(0)));
      const b = await store.create(newGrant({ createdAt: at(1) }), event('REQUESTED', at(1)));
      const activeA = await store.append(a, event('ACTIVATED', at(0)), { status: 'ACTIVE' });
      await store.append(b, event('DENIED', at(1)), { status: 'DENIED' });
      expect((await store.active()).map((g) => g.id)).toEqual([a.id]);
      await store.append(activeA, event('REVOKED', at(5)), { status: 'REVOKED', endedAt: at(5) });
      expect(await store.active()).toEqual([]);
    });

    it('pages grants newest first with opaque tokens, per status or all, every grant exactly once', async () => {
      const { store } = await make();
      const statuses = ['ACTIVE', 'DENIED', 'ACTIVE', 'EXPIRED', 'ACTIVE'] as const satisfies readonly GrantStatus[];
      const ids: string[] = [];
      for (const [i, status] of statuses.entries()) {
        const g = await store.create(newGrant({ createdAt: at(i) }), event('REQUESTED', at(i)));
        await store.append(g, event(status === 'ACTIVE' ? 'ACTIVATED' : status, at(i)), { status });
        ids.push(g.id);
      }
      const newestFirst = [...ids].reverse();
      // Act
      const all = await allPages(async (nextToken) => {
        const page = await store.list({ limit: 2, ...(nextToken ? { nextToken } : {}) });
        expect(page.grants.length).toBeLessThanOrEqual(2);
        return { items: page.grants, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
      });
      const active = await allPages(async (nextToken) => {
        const page = await store.list({ status: 'ACTIVE', limit: 1, ...(nextToken ? { nextToken } : {}) });
        return { items: page.grants, ...(page.nextToken ? { nextToken: page.nextToken } : {}) };
      });
      // Assess
      expect(all.map((g) => g.id)).toEqual(newestFirst);
      expect(active.map((g) => g.id)).toEqual(
        newestFirst.filter((_, i) => statuses[statuses.length - 1 - i] === 'ACTIVE'),
      );
      const first = await store.list({ limit: 5 });
      expect(first.grants.map((g) => g.id)).toEqual(newestFirst);
      const one = await store.list({ limit: 1 });
      expect(one.nextToken).toEqual(expect.any(String));
      expect(one.nextToken).toMatch(/^[A-Za-z0-9_-]+$/); // what GET /grants accepts back (query-grants.ts)
    });

    it('refuses a token it did not issue, or one issued for another status filter, with ValidationError', async () => {
      const { store } = await make();
      for (const i of [0, 1, 2]) await store.create(newGrant({ createdAt: at(i) }), event('REQUESTED', at(i)));
      const { nextToken } = await store.list({ limit: 1 });
      expect(nextToken).toBeDefined();
      await expect(store.list({ limit: 1, nextToken: 'bm90LWEtdG9rZW4' })).rejects.toBeInstanceOf(ValidationError);
      await expect(
        store.list({ limit: 1, nextToken: Buffer.from('{"pk":1}').toString('base64url') }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(store.list({ status: 'PENDING', limit: 1, nextToken: nextToken! })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });
  });

  describe('ControlStore', () => {
    it('starts unfrozen at version 0, and sets the freeze on the expected version only', async () => {
      const { control } = await make();
      expect(await control.freezeState()).toEqual({ all: false, profiles: [], version: 0 });
      const frozen = await control.setFreeze(
        { all: false, profiles: ['demo'], reason: 'suspected misuse', by: ALICE, at: at(0) },
        0,
      );
      expect(frozen).toEqual({
        all: false,
        profiles: ['demo'],
        reason: 'suspected misuse',
        by: ALICE,
        at: at(0),
        version: 1,
      });
      expect(await control.freezeState()).toEqual(frozen);
      await expect(control.setFreeze({ all: true, profiles: [] }, 0)).rejects.toBeInstanceOf(ConcurrentUpdateError);
      await expect(control.setFreeze({ all: true, profiles: [] }, 2)).rejects.toBeInstanceOf(ConcurrentUpdateError);
      expect(await control.freezeState()).toEqual(frozen);
      const all = await control.setFreeze({ all: true, profiles: [], reason: 'incident over', by: BOB, at: at(9) }, 1);
      expect(all.version).toBe(2);
      expect(await control.freezeState()).toEqual(all);
    });
  });

  describe('LeaseLock', () => {
    it('runs one holder of a name at a time, and returns what each one returns', async () => {
      const { locks } = await make();
      const lock = locks(10 * 60_000);
      let inside = 0;
      let most = 0;
      const hold = async (n: number) => {
        inside++;
        most = Math.max(most, inside);
        await new Promise((r) => setTimeout(r, 20));
        inside--;
        return n;
      };
      const results = await Promise.all([1, 2, 3].map((n) => lock.withLease('role/Responder', () => hold(n))));
      expect(results).toEqual([1, 2, 3]);
      expect(most).toBe(1);
    });

    it('answers BusyError without running when the name stays held past the wait, and frees it when the holder ends, even by throwing', async () => {
      const { locks } = await make();
      const lock = locks(300);
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let started!: () => void;
      const holding = new Promise<void>((r) => (started = r));
      // Prepare: a holder that keeps the lease until released
      const first = lock.withLease('role/Responder', async () => {
        started();
        await held;
        throw new Error('the holder failed');
      });
      await holding;
      // Act: a second caller waits 300 ms, in vain
      let ran = false;
      const busy = await lock.withLease('role/Responder', async () => (ran = true)).catch((e: unknown) => e);
      // Assess
      expect(busy).toBeInstanceOf(BusyError);
      expect(ran).toBe(false);
      expect(await lock.withLease('role/Other', async () => 'other name')).toBe('other name');
      release();
      await expect(first).rejects.toThrow('the holder failed');
      expect(await lock.withLease('role/Responder', async () => 'after')).toBe('after');
    });
  });

  describe('AlertLimiter', () => {
    it('announces the first alert of a key, then one per window counting those held back, each key on its own', async () => {
      const { limiter } = await make();
      const limit = limiter(60);
      const t = (seconds: number) => new Date(T0 + seconds * 1000);
      expect(await limit.admit('denied/a', t(0))).toEqual({ announce: true, suppressed: 0, windowSeconds: 60 });
      expect(await limit.admit('denied/a', t(1))).toEqual({ announce: false, windowSeconds: 60 });
      expect(await limit.admit('denied/b', t(1))).toEqual({ announce: true, suppressed: 0, windowSeconds: 60 });
      expect(await limit.admit('denied/a', t(59))).toEqual({ announce: false, windowSeconds: 60 });
      // Exactly one window after the last alert: announced, with the two held back since it.
      expect(await limit.admit('denied/a', t(60))).toEqual({
        announce: true,
        suppressed: 2,
        since: t(0).toISOString(),
        windowSeconds: 60,
      });
      expect(await limit.admit('denied/a', t(61))).toEqual({ announce: false, windowSeconds: 60 });
      expect(await limit.admit('denied/a', t(200))).toEqual({
        announce: true,
        suppressed: 1,
        since: t(60).toISOString(),
        windowSeconds: 60,
      });
    });

    it('with a window of 0 announces every alert', async () => {
      const { limiter } = await make();
      const limit = limiter(0);
      for (const s of [0, 0, 1]) expect((await limit.admit('denied/a', new Date(T0 + s * 1000))).announce).toBe(true);
    });

    it('of concurrent calls within a window, tells exactly one to announce and counts the rest', async () => {
      const { limiter } = await make();
      const limit = limiter(300);
      const now = new Date(T0);
      const verdicts = await Promise.all(Array.from({ length: 6 }, () => limit.admit('denied/flood', now)));
      expect(verdicts.filter((v) => v.announce)).toHaveLength(1);
      expect(await limit.admit('denied/flood', new Date(T0 + 300_000))).toMatchObject({
        announce: true,
        suppressed: 5,
      });
    });
  });

  describe('AuditLog', () => {
    /** Three grants by two people over two days, with events at distinct times. */
    async function history(store: GrantStore) {
      const day1 = '2026-11-24T';
      const day2 = '2026-11-25T';
      const a = await store.create(
        newGrant({ createdAt: `${day1}09:00:00.000Z` }),
        event('REQUESTED', `${day1}09:00:00.000Z`),
      );
      const a2 = await store.append(a, event('ACTIVATED', `${day1}09:00:01.000Z`), { status: 'ACTIVE' });
      await store.append(a2, event('EXPIRED', `${day1}09:30:00.000Z`, 'system:expiry'), {
        status: 'EXPIRED',
        endedAt: `${day1}09:30:00.000Z`,
        reviewState: 'DUE',
      });
      const b = await store.create(
        newGrant({ principalArn: BOB, profile: 'db', createdAt: `${day1}23:50:00.000Z` }),
        event('REQUESTED', `${day1}23:50:00.000Z`, BOB),
      );
      const b2 = await store.append(b, event('ACTIVATED', `${day1}23:50:01.000Z`, BOB), { status: 'ACTIVE' });
      await store.append(b2, event('REVOKED', `${day2}00:10:00.000Z`, BOB), {
        status: 'REVOKED',
        endedAt: `${day2}00:10:00.000Z`,
        reviewState: 'DUE',
      });
      const c = await store.create(
        newGrant({ principalArn: MALLORY, createdAt: `${day2}08:00:00.000Z` }),
        event('DENIED', `${day2}08:00:00.000Z`, MALLORY),
      );
      await store.append(c, event('ALERT_FAILED', `${day2}08:00:01.000Z`, 'system:notifier'), {});
      return { a: a.id, b: b.id, c: c.id };
    }
    const range = { from: '2026-11-24T00:00:00.000Z', to: '2026-11-25T23:59:59.999Z' };
    const page = (audit: AuditLog, query: Omit<AuditQuery, 'limit' | 'from' | 'to'>, limit: number) =>
      allPages(async (nextToken) => {
        const p = await audit.queryEvents({ ...range, ...query, limit, ...(nextToken ? { nextToken } : {}) });
        expect(p.events.length).toBeLessThanOrEqual(limit);
        return { items: p.events.map((e) => `${e.type}@${e.at}`), ...(p.nextToken ? { nextToken: p.nextToken } : {}) };
      });

    it('answers each filter newest first, the same in one page or many', async () => {
      const { store, audit } = await make();
      await history(store);
      const everything = [
        'ALERT_FAILED@2026-11-25T08:00:01.000Z',
        'DENIED@2026-11-25T08:00:00.000Z',
        'REVOKED@2026-11-25T00:10:00.000Z',
        'ACTIVATED@2026-11-24T23:50:01.000Z',
        'REQUESTED@2026-11-24T23:50:00.000Z',
        'EXPIRED@2026-11-24T09:30:00.000Z',
        'ACTIVATED@2026-11-24T09:00:01.000Z',
        'REQUESTED@2026-11-24T09:00:00.000Z',
      ];
      expect(await page(audit, {}, 100)).toEqual(everything);
      expect(await page(audit, {}, 3)).toEqual(everything);
      expect(await page(audit, { requester: BOB }, 1)).toEqual([
        'REVOKED@2026-11-25T00:10:00.000Z',
        'ACTIVATED@2026-11-24T23:50:01.000Z',
        'REQUESTED@2026-11-24T23:50:00.000Z',
      ]);
      expect(await page(audit, { profile: 'demo', eventType: 'ACTIVATED' }, 1)).toEqual([
        'ACTIVATED@2026-11-24T09:00:01.000Z',
      ]);
      expect(await page(audit, { requester: ALICE, profile: 'db' }, 10)).toEqual([]);
      expect(await page(audit, { eventType: 'DENIED' }, 10)).toEqual(['DENIED@2026-11-25T08:00:00.000Z']);
      const narrow = await audit.queryEvents({
        from: '2026-11-24T09:00:01.000Z',
        to: '2026-11-24T09:30:00.000Z',
        limit: 10,
      });
      expect(narrow.events.map((e) => e.type)).toEqual(['EXPIRED', 'ACTIVATED']);
    });

    it('refuses a token it did not issue, or one from another query, with ValidationError', async () => {
      const { store, audit } = await make();
      await history(store);
      const first = await audit.queryEvents({ ...range, requester: BOB, limit: 1 });
      expect(first.nextToken).toBeDefined();
      await expect(
        audit.queryEvents({ ...range, requester: BOB, limit: 1, nextToken: 'bm90LWEtdG9rZW4' }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(
        audit.queryEvents({ ...range, requester: ALICE, limit: 1, nextToken: first.nextToken! }),
      ).rejects.toBeInstanceOf(ValidationError);
      await expect(audit.queryEvents({ ...range, limit: 1, nextToken: first.nextToken! })).rejects.toBeInstanceOf(
        ValidationError,
      );
    });

    it('gives the grants whose review is due and that ended before the cutoff, oldest first, at most the limit', async () => {
      const { store, audit } = await make();
      const { a, b } = await history(store);
      // A reviewed grant is no longer due.
      const done = await store.create(
        newGrant({ createdAt: '2026-11-24T05:00:00.000Z' }),
        event('REQUESTED', '2026-11-24T05:00:00.000Z'),
      );
      await store.append(done, event('EXPIRED', '2026-11-24T05:30:00.000Z', 'system:expiry'), {
        status: 'EXPIRED',
        endedAt: '2026-11-24T05:30:00.000Z',
        reviewState: 'DONE',
      });
      expect((await audit.reviewsDue('2026-11-26T00:00:00.000Z', 10)).map((g) => g.id)).toEqual([a, b]);
      expect((await audit.reviewsDue('2026-11-26T00:00:00.000Z', 1)).map((g) => g.id)).toEqual([a]);
      expect((await audit.reviewsDue('2026-11-25T00:10:00.000Z', 10)).map((g) => g.id)).toEqual([a]); // strictly before
      expect(await audit.reviewsDue('2026-11-24T09:30:00.000Z', 10)).toEqual([]);
      const [due] = await audit.reviewsDue('2026-11-26T00:00:00.000Z', 1);
      expect(due).toEqual(await store.get(a));
    });
  });
});
