/**
 * The activation's call sequence (issue #15, a leaner activation): in profile-role mode no read, one
 * record with its claims, one policy, one schedule, one activation record and one
 * alert; no lease, no freeze read, no read of the ACTIVE grants, no IAM read; and the same calls whether
 * 0 or 60 grants are ACTIVE. A refused claim is settled by reading only then.
 */
import { describe, expect, it, vi } from 'vitest';
import { type ActivationRules, activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { verifyChain } from '../../../functions/domain/audit-chain.js';
import {
  ConcurrentUpdateError,
  FrozenError,
  LimitExceededError,
  StepFailedError,
} from '../../../functions/domain/errors.js';
import type { Ports } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { ACCOUNT, fakePorts } from '../../support/fakes.js';

const rules: ActivationRules = { ...DEFAULT_RULES, maxActivePerPrincipal: 2 };
/** Three profile-role profiles eligible to Responder. */
const profiles = parseProfiles(
  {
    version: 1,
    profiles: ['demo', 'db', 'ops'].map((name) => ({
      name,
      description: `${name} access`,
      owner: 'platform@example.com',
      maxDurationMinutes: 120,
      maxActiveGrants: 100,
      eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
      statements: [{ actions: ['s3:GetObject'], resources: [`arn:aws:s3:::${name}/*`] }],
    })),
  },
  'test profiles',
);
const session = (name: string) => ({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/${name}` });
const body = (profile = 'demo') => ({ profile, reason: 'orders API returns 500s, need logs', durationMinutes: 30 });

/** Wraps every port method so that each call is counted as `port.method`. */
function counted(ports: ReturnType<typeof fakePorts>) {
  const calls = new Map<string, number>();
  const wrap = <T extends object>(name: string, port: T): T =>
    new Proxy(port, {
      get(target, key, receiver) {
        const value = Reflect.get(target, key, receiver);
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          calls.set(`${name}.${String(key)}`, (calls.get(`${name}.${String(key)}`) ?? 0) + 1);
          return value.apply(target, args);
        };
      },
    });
  const wrapped: Ports = {
    ...ports,
    store: wrap('store', ports.store),
    access: wrap('access', ports.access),
    scheduler: wrap('scheduler', ports.scheduler),
    notifier: wrap('notifier', ports.notifier),
    control: wrap('control', ports.control),
    locks: wrap('locks', ports.locks),
    alertLimiter: wrap('alertLimiter', ports.alertLimiter),
  };
  return { wrapped, calls };
}

describe('a lean activation', () => {
  it('makes the same five port calls with 0 or 60 ACTIVE grants: no lease, no freeze read, no ACTIVE query, no IAM read', async () => {
    // Prepare
    const ports = fakePorts();
    const { wrapped, calls } = counted(ports);
    // Act: the first activation on an empty store, then one after 60 others. The slot is picked at random:
    // the 60 take the lowest free slots, and the measured ones the highest, so that their first pick is free.
    const random = vi.spyOn(Math, 'random').mockReturnValue(0.999);
    await activateGrant(wrapped, profiles, { caller: session('first'), body: body() }, rules);
    const alone = new Map(calls);
    random.mockReturnValue(0);
    for (let i = 0; i < 60; i++)
      await activateGrant(ports, profiles, { caller: session(`p${i}`), body: body() }, rules);
    random.mockReturnValue(0.98);
    calls.clear();
    const { grant } = await activateGrant(wrapped, profiles, { caller: session('last'), body: body() }, rules);
    random.mockRestore();
    // Assess
    expect(grant.status).toBe('ACTIVE');
    expect([...ports.store.grants.values()].filter((g) => g.status === 'ACTIVE')).toHaveLength(62);
    const expected = new Map([
      ['store.create', 1],
      ['access.attach', 1],
      ['scheduler.schedule', 1],
      ['store.append', 1],
      ['notifier.publish', 1],
    ]);
    expect(alone).toEqual(expected);
    expect(calls).toEqual(expected);
  });

  it('reads the held slots only after its pick was refused, then takes a free one', async () => {
    // Prepare: slot 0 held by someone else
    const ports = fakePorts();
    const random = vi.spyOn(Math, 'random').mockReturnValue(0);
    await activateGrant(ports, profiles, { caller: session('bob'), body: body() }, rules);
    const { wrapped, calls } = counted(ports);
    // Act: the first pick is slot 0 again
    const { grant } = await activateGrant(wrapped, profiles, { caller: session('alice'), body: body() }, rules);
    random.mockRestore();
    // Assess: refused once (nothing written), one read, then slot 1
    expect(grant).toMatchObject({ status: 'ACTIVE', slot: 1 });
    expect(calls.get('store.create')).toBe(2);
    expect(calls.get('store.heldSlots')).toBe(1);
    expect((await ports.store.heldSlots('demo')).map((h) => h.slot).sort()).toEqual([0, 1]);
  });

  it('returns the ACTIVE grant of the same profile, and refuses past the cap, reading the person only then', async () => {
    // Prepare
    const ports = fakePorts();
    const { wrapped, calls } = counted(ports);
    const first = await activateGrant(ports, profiles, { caller: session('alice'), body: body() }, rules);
    // Act
    const again = await activateGrant(wrapped, profiles, { caller: session('alice'), body: body() }, rules);
    // Assess
    expect(again).toMatchObject({ existing: true, grant: { id: first.grant.id } });
    expect(calls.get('store.personHolds')).toBe(1);
    expect(calls.get('access.attach')).toBeUndefined();
    await activateGrant(ports, profiles, { caller: session('alice'), body: body('db') }, rules);
    const third = await activateGrant(ports, profiles, { caller: session('alice'), body: body('ops') }, rules).catch(
      (e: unknown) => e,
    );
    expect(third).toBeInstanceOf(LimitExceededError);
    expect((third as Error).message).toContain('the limit is 2');
  });

  it('refuses a profile frozen after the activation started, as DENIED, from the condition of the record', async () => {
    // Prepare: the freeze is not read first; it is a condition of the record
    const ports = fakePorts();
    await ports.control.setFreeze({ all: false, profiles: ['demo'], reason: 'incident 42', by: 'security' }, 0);
    const { wrapped, calls } = counted(ports);
    // Act
    const error = await activateGrant(wrapped, profiles, { caller: session('alice'), body: body() }, rules).catch(
      (e: unknown) => e,
    );
    // Assess: refused, recorded as DENIED, nothing attached, no holds left
    expect(error).toBeInstanceOf(FrozenError);
    expect((error as Error).message).toContain('incident 42');
    const grants = [...ports.store.grants.values()];
    expect(grants.map((g) => g.status)).toEqual(['DENIED']);
    expect(ports.access.policies.size).toBe(0);
    expect(calls.get('control.freezeState')).toBe(1);
    expect(await ports.store.personHolds(grants[0]!.person!)).toEqual({ grants: [], byProfile: {} });
    expect(await ports.store.heldSlots('demo')).toEqual([]);
  });
});

describe('recording a failure', () => {
  it('does not write it twice when the first write landed but answered ConcurrentUpdateError (an SDK retry refused)', async () => {
    // Prepare: the attach fails; the FAILED record lands, then its "retry" is refused
    const ports = fakePorts();
    ports.access.failAttach = new Error('IAM is down');
    const append = ports.store.append.bind(ports.store);
    let tripped = false;
    ports.store.append = async (grant, event, changes) => {
      const written = await append(grant, event, changes);
      if (!tripped && event.type === 'ACTIVATION_FAILED') {
        tripped = true;
        throw new ConcurrentUpdateError('the retry of a write that landed');
      }
      return written;
    };
    // Act
    const error = await activateGrant(ports, profiles, { caller: session('alice'), body: body() }, rules).catch(
      (e: unknown) => e,
    );
    // Assess: one ACTIVATION_FAILED, the chain intact, the holds released
    expect(error).toBeInstanceOf(StepFailedError);
    const [grant] = [...ports.store.grants.values()];
    expect(grant!.status).toBe('FAILED');
    expect(ports.store.types(grant!.id)).toEqual(['REQUESTED', 'ACTIVATION_FAILED']);
    expect(verifyChain(grant!, await ports.store.events(grant!.id))).toMatchObject({ ok: true });
    expect(await ports.store.personHolds(grant!.person!)).toEqual({ grants: [], byProfile: {} });
  });
});
