import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { sweep, sweepTargets } from '../../../functions/domain/sweep.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const target = { type: 'role' as const, name: 'Responder' };
const body = { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 };

describe('sweep', () => {
  it('leaves a healthy ACTIVE grant alone', async () => {
    const ports = fakePorts();
    await activateGrant(ports, profiles, { caller: { arn: ALICE, userId: ALICE_ID }, body });
    const report = await sweep(ports, [target]);
    expect(report).toMatchObject({ policies: 1, removed: [], expired: [], schedulesRepaired: [] });
    expect(ports.access.policies.size).toBe(1);
  });

  it('removes a policy put by hand with our prefix, and alerts', async () => {
    const ports = fakePorts();
    await ports.access.attach(target, 'breakglass-0f8fad5b-d9cb-469f-a165-70867728950e', '{}');
    await ports.access.attach(target, 'breakglass-backdoor', '{}');
    await ports.access.attach(target, 'ops-baseline', '{}');
    const report = await sweep(ports, [target]);
    expect(report.removed.map((r) => r.policyName).sort()).toEqual(['breakglass-0f8fad5b-d9cb-469f-a165-70867728950e', 'breakglass-backdoor']);
    expect([...ports.access.policies.keys()]).toEqual(['role/Responder/ops-baseline']);
    expect(ports.notifier.alerts.map((a) => a.attributes.eventType)).toEqual(['SWEPT', 'SWEPT']);
    expect(ports.notifier.alerts[0]!.attributes.severity).toBe('CRITICAL');
  });

  it('removes the policy of a grant that is no longer ACTIVE (a failed detach), recording SWEPT', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, { caller: { arn: ALICE, userId: ALICE_ID }, body });
    const policy = ports.access.policies.get(`role/Responder/${grant.policyName}`)!;
    await revokeGrant(ports, [], { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'done here' } });
    await ports.access.attach(target, grant.policyName, policy); // as if the detach had been lost
    const report = await sweep(ports, [target]);
    expect(report.removed).toEqual([{ target: 'role/Responder', policyName: grant.policyName, why: `grant ${grant.id} is REVOKED` }]);
    expect(ports.store.types(grant.id).at(-1)).toBe('SWEPT');
  });

  it('expires an ACTIVE grant whose expiry never came, and re-creates a missing schedule', async () => {
    const ports = fakePorts();
    const late = (await activateGrant(ports, profiles, { caller: { arn: ALICE, userId: ALICE_ID }, body: { ...body, durationMinutes: 5 } })).grant;
    const lost = (await activateGrant(ports, profiles, { caller: { arn: 'arn:aws:sts::123456789012:assumed-role/Responder/bob', userId: 'AROAEXAMPLE:bob' }, body: { ...body, durationMinutes: 60 } })).grant;
    ports.scheduler.schedules.clear();
    ports.clock.advance(7 * 60_000);
    const report = await sweep(ports, [target]);
    expect(report.expired).toEqual([late.id]);
    expect(report.schedulesRepaired).toEqual([lost.id]);
    expect(ports.store.grants.get(late.id)!.status).toBe('EXPIRED');
    expect(ports.store.eventLog.get(late.id)!.at(-1)).toMatchObject({ type: 'EXPIRED', actor: 'system:sweeper', details: { lateBySeconds: '120' } });
    expect(ports.scheduler.schedules.get(lost.id)!.expiresAt).toBe(lost.expiresAt);
    expect(ports.store.types(lost.id).at(-1)).toBe('SCHEDULE_REPAIRED');
    expect(ports.access.policies.has(`role/Responder/${late.policyName}`)).toBe(false);
  });

  it('closes an activation that never finished (PENDING past the in-flight window) as FAILED', async () => {
    const ports = fakePorts();
    // The ACTIVE write fails; so does (below) the FAILED write: the record is left PENDING.
    const original = ports.store.append.bind(ports.store);
    let failing = true;
    ports.store.append = async (...args) => {
      if (failing) throw new Error('DynamoDB unavailable');
      return original(...args);
    };
    await activateGrant(ports, profiles, { caller: { arn: ALICE, userId: ALICE_ID }, body }).catch(() => undefined);
    const [grant] = [...ports.store.grants.values()];
    expect(grant!.status).toBe('PENDING');
    expect(ports.access.policies.size).toBe(0);
    failing = false;
    expect((await sweep(ports, [target])).closed).toEqual([]); // still in flight
    ports.clock.advance(3 * 60_000);
    const report = await sweep(ports, [target]);
    expect(report.closed).toEqual([grant!.id]);
    expect(ports.store.grants.get(grant!.id)).toMatchObject({ status: 'FAILED', reviewState: 'DUE' });
    expect(ports.store.types(grant!.id)).toEqual(['REQUESTED', 'SWEPT']);
  });

  it('sweeps the roles and users the profiles name literally', () => {
    const set = testProfiles({ eligible: ['arn:aws:iam::123456789012:role/Responder', 'arn:aws:sts::123456789012:assumed-role/Medic/alice', 'arn:aws:iam::123456789012:user/ops/bob', 'arn:aws:iam::123456789012:role/Team*'] });
    expect(sweepTargets(set)).toEqual([
      { type: 'role', name: 'Responder' },
      { type: 'role', name: 'Medic' },
      { type: 'user', name: 'bob' },
    ]);
  });
});
