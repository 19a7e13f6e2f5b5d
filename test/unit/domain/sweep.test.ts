import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { describeSweepFailure, sweep, sweepMetrics, sweepTargets } from '../../../functions/domain/sweep.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

/** An error as the SDK raises it for a service error code. */
const awsError = (name: string, message: string) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: name === 'AccessDenied' ? 403 : 400 } });

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
    expect(report.removed.map((r) => r.policyName).sort()).toEqual([
      'breakglass-0f8fad5b-d9cb-469f-a165-70867728950e',
      'breakglass-backdoor',
    ]);
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
    expect(report.removed).toEqual([
      { target: 'role/Responder', policyName: grant.policyName, why: `grant ${grant.id} is REVOKED` },
    ]);
    expect(ports.store.types(grant.id).at(-1)).toBe('SWEPT');
  });

  it('records no removal for a policy gone between the listing and the detach (its grant ended and removed it)', async () => {
    // Prepare: the revoked grant's policy is listed, then its own end removes it before the sweeper detaches it
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, { caller: { arn: ALICE, userId: ALICE_ID }, body });
    await revokeGrant(ports, [], { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'done here' } });
    const listPolicies = ports.access.listPolicies.bind(ports.access);
    ports.access.listPolicies = async () => [grant.policyName];
    // Act
    const report = await sweep(ports, [target]);
    ports.access.listPolicies = listPolicies;
    // Assess: nothing removed, nothing recorded or announced about it
    expect(report).toMatchObject({ policies: 1, removed: [], errors: [] });
    expect(ports.store.types(grant.id)).not.toContain('SWEPT');
    expect(ports.notifier.alerts.map((a) => a.attributes.eventType)).not.toContain('SWEPT');
  });

  it('reads the grants it checks in one batch and writes holds only where they are missing', async () => {
    // Prepare: three ACTIVE grants of three persons; one person's holds lost (a grant recorded before holds)
    const ports = fakePorts();
    const sessions = ['alice', 'bob', 'carol'].map((s) => ({
      arn: `arn:aws:sts::123456789012:assumed-role/Responder/${s}`,
      userId: `AROAEXAMPLE:${s}`,
    }));
    const grants = [];
    for (const caller of sessions) grants.push((await activateGrant(ports, profiles, { caller, body })).grant);
    ports.store.holds.delete(sessions[1]!.arn);
    const calls: string[] = [];
    for (const method of ['get', 'getMany', 'personHoldsMany', 'backfillHolds'] as const) {
      const original = ports.store[method].bind(ports.store) as (...args: unknown[]) => Promise<unknown>;
      Object.assign(ports.store, {
        [method]: (...args: unknown[]) => {
          calls.push(method);
          return original(...args);
        },
      });
    }
    // Act
    const report = await sweep(ports, [target]);
    // Assess: one batched read of the policies' grants, one of the holds, one write for the grant missing its hold
    expect(report).toMatchObject({ policies: 3, removed: [], holdsBackfilled: 1, errors: [] });
    expect(calls.sort()).toEqual(['backfillHolds', 'getMany', 'personHoldsMany']);
    expect((await ports.store.personHolds(sessions[1]!.arn)).grants).toEqual([grants[1]!.id]);
  });

  it('expires an ACTIVE grant whose expiry never came, and re-creates a missing schedule', async () => {
    const ports = fakePorts();
    const late = (
      await activateGrant(ports, profiles, {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { ...body, durationMinutes: 5 },
      })
    ).grant;
    const lost = (
      await activateGrant(ports, profiles, {
        caller: { arn: 'arn:aws:sts::123456789012:assumed-role/Responder/bob', userId: 'AROAEXAMPLE:bob' },
        body: { ...body, durationMinutes: 60 },
      })
    ).grant;
    ports.scheduler.schedules.clear();
    ports.clock.advance(7 * 60_000);
    const report = await sweep(ports, [target]);
    expect(report.expired).toEqual([late.id]);
    expect(report.schedulesRepaired).toEqual([lost.id]);
    expect(ports.store.grants.get(late.id)!.status).toBe('EXPIRED');
    expect(ports.store.eventLog.get(late.id)!.at(-1)).toMatchObject({
      type: 'EXPIRED',
      actor: 'system:sweeper',
      details: { lateBySeconds: '120' },
    });
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
    const set = testProfiles({
      eligible: [
        'arn:aws:iam::123456789012:role/Responder',
        'arn:aws:sts::123456789012:assumed-role/Medic/alice',
        'arn:aws:iam::123456789012:user/ops/bob',
        'arn:aws:iam::123456789012:role/Team*',
      ],
    });
    expect(sweepTargets(set)).toEqual([
      { type: 'role', name: 'Responder' },
      { type: 'role', name: 'Medic' },
      { type: 'user', name: 'bob' },
    ]);
  });
});

describe('sweep with a failing step', () => {
  /** One of each kind of work: an orphan policy (1), an overdue and a schedule-less grant (2), a stuck activation (3). */
  async function world() {
    const ports = fakePorts();
    await ports.access.attach(target, 'breakglass-backdoor', '{}');
    const late = (
      await activateGrant(ports, profiles, {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { ...body, durationMinutes: 5 },
      })
    ).grant;
    const lost = (
      await activateGrant(ports, profiles, {
        caller: { arn: 'arn:aws:sts::123456789012:assumed-role/Responder/bob', userId: 'AROAEXAMPLE:bob' },
        body: { ...body, durationMinutes: 60 },
      })
    ).grant;
    ports.scheduler.schedules.delete(lost.scheduleName);
    const original = ports.store.append.bind(ports.store);
    ports.store.append = async () => {
      throw new Error('DynamoDB unavailable');
    };
    await activateGrant(ports, profiles, {
      caller: { arn: 'arn:aws:sts::123456789012:assumed-role/Responder/carol', userId: 'AROAEXAMPLE:carol' },
      body,
    }).catch(() => undefined);
    ports.store.append = original;
    const stuck = [...ports.store.grants.values()].find((g) => g.status === 'PENDING')!;
    ports.clock.advance(7 * 60_000);
    return { ports, late, lost, stuck };
  }

  it('does every other step when listing policies is denied, and names the failed step', async () => {
    // Prepare: IAM refuses ListRolePolicies (AccessDenied) on the one target
    const { ports, late, lost, stuck } = await world();
    ports.access.listPolicies = async () => {
      throw awsError(
        'AccessDenied',
        'User: arn:aws:sts::123456789012:assumed-role/sweeper is not authorized to perform: iam:ListRolePolicies',
      );
    };

    // Act
    const report = await sweep(ports, [target]);

    // Assess: step 1 failed and left the orphan; steps 2 and 3 did their work
    expect(report.failedSteps).toEqual(['policies']);
    expect(report.errors).toEqual([
      'policies: role/Responder: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/sweeper is not authorized to perform: iam:ListRolePolicies',
    ]);
    expect(ports.access.policies.has('role/Responder/breakglass-backdoor')).toBe(true);
    expect(report.expired).toEqual([late.id]);
    expect(ports.store.grants.get(late.id)!.status).toBe('EXPIRED');
    expect(report.schedulesRepaired).toEqual([lost.id]);
    expect(ports.scheduler.schedules.has(lost.scheduleName)).toBe(true);
    expect(report.closed).toEqual([stuck.id]);
    expect(ports.store.grants.get(stuck.id)!.status).toBe('FAILED');
    expect(sweepMetrics(report)).toEqual({
      SweepSucceeded: 0,
      SweeperOrphansRemoved: 0,
      SchedulesRepaired: 1,
      SweeperStepFailures: 1,
    });
    expect(describeSweepFailure(report)).toBe(
      'Sweep failed in step policies (1 failure: role/Responder: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/sweeper is not authorized to perform: iam:ListRolePolicies); the other steps were done',
    );
  });

  it('does every other step when reading the ACTIVE grants is throttled', async () => {
    const { ports, late, lost, stuck } = await world();
    ports.store.active = async () => {
      throw awsError('ThrottlingException', 'Rate exceeded');
    };

    const report = await sweep(ports, [target]);

    expect(report.failedSteps).toEqual(['grants']);
    expect(report.errors).toEqual(['grants: ThrottlingException: Rate exceeded']);
    expect(report.removed.map((r) => r.policyName)).toEqual(['breakglass-backdoor']);
    expect(ports.access.policies.has('role/Responder/breakglass-backdoor')).toBe(false);
    expect(ports.store.grants.get(late.id)!.status).toBe('ACTIVE');
    expect(ports.scheduler.schedules.has(lost.scheduleName)).toBe(false);
    expect(report.closed).toEqual([stuck.id]);
    expect(sweepMetrics(report)).toEqual({
      SweepSucceeded: 0,
      SweeperOrphansRemoved: 1,
      SchedulesRepaired: 0,
      SweeperStepFailures: 1,
    });
  });

  it('counts every failure and names every failed step, in step order', async () => {
    const { ports, stuck } = await world();
    ports.scheduler.exists = async () => {
      throw awsError('AccessDeniedException', 'not authorized to perform: scheduler:GetSchedule');
    };
    ports.store.list = async () => {
      throw awsError('ThrottlingException', 'Rate exceeded');
    };
    ports.access.detach = async () => {
      throw awsError('AccessDenied', 'not authorized to perform: iam:DeleteRolePolicy');
    };

    const report = await sweep(ports, [target]);

    // The orphan's detach, the overdue grant's expiry (its detach), the lost schedule's check, and the PENDING listing.
    expect(report.failedSteps).toEqual(['policies', 'grants', 'activations']);
    expect(report.errors).toHaveLength(4);
    expect(ports.store.grants.get(stuck.id)!.status).toBe('PENDING');
    expect(sweepMetrics(report)).toMatchObject({ SweepSucceeded: 0, SweeperStepFailures: 4 });
    expect(describeSweepFailure(report)).toMatch(
      /^Sweep failed in steps policies \(1 failure: breakglass-backdoor: AccessDenied: .*\), grants \(2 failures: .*\), activations \(1 failure: ThrottlingException: Rate exceeded\); the other steps were done$/,
    );
  });

  it('reports success when nothing failed', async () => {
    const { ports } = await world();
    const report = await sweep(ports, [target]);
    expect(report.failedSteps).toEqual([]);
    expect(sweepMetrics(report)).toEqual({
      SweepSucceeded: 1,
      SweeperOrphansRemoved: 1,
      SchedulesRepaired: 1,
      SweeperStepFailures: 0,
    });
  });
});
