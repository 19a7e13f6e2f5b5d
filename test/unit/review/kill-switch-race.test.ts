/** Hostile review MEDIUM-3: a freeze plus revoke-all during an activation in flight stops that activation. */
import { describe, expect, it } from 'vitest';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { FrozenError } from '../../../functions/domain/errors.js';
import { revokeAll, setFreeze } from '../../../functions/domain/kill-switch.js';
import type { PolicyTarget } from '../../../functions/domain/ports.js';
import { ALICE, ALICE_ID, fakePorts, MemoryAccess, SECURITY, testProfiles } from '../../support/fakes.js';

describe('kill switch vs an activation in flight', () => {
  it('an activation whose claims passed before the freeze is rolled back: FAILED, no policy, no schedule, 423', async () => {
    // Prepare
    const ports = fakePorts();
    const profiles = testProfiles();
    const security = ['arn:aws:sts::*:assumed-role/Security/*'];
    const access = new MemoryAccess();
    let results: Awaited<ReturnType<typeof revokeAll>> | undefined;
    const attach = access.attach.bind(access);
    access.attach = async (target: PolicyTarget, name: string, doc: string) => {
      // Security pulls the kill switch while this activation is between its record and its attach
      const all = { ...ports, access };
      const body = { reason: 'incident: stop all' };
      await setFreeze(all, profiles, security, { caller: { arn: SECURITY }, body }, true);
      results = await revokeAll(all, security, { caller: { arn: SECURITY }, body });
      return attach(target, name, doc);
    };

    // Act
    const attempt = activateGrant(
      { ...ports, access },
      profiles,
      { caller: { arn: ALICE, userId: ALICE_ID }, body: { profile: 'demo', reason: 'prod is down, need access' } },
      DEFAULT_RULES,
    );

    // Assess
    const error = await attempt.catch((e: unknown) => e);
    expect(error).toBeInstanceOf(FrozenError);
    expect(results).toEqual([]); // revoke-all saw nothing ACTIVE: the activation's own ACTIVE mark is refused instead
    const id = (error as FrozenError).grantId!;
    const grant = await ports.store.get(id);
    expect(grant?.status).toBe('FAILED');
    expect(access.policies.size).toBe(0);
    expect(ports.scheduler.schedules.size).toBe(0);
    const failed = (await ports.store.events(id)).find((e) => e.type === 'ACTIVATION_FAILED');
    expect(JSON.stringify(failed)).toContain('frozen');
  });
});
