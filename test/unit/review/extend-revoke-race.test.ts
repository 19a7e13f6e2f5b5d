/**
 * Hostile review (extension): a revoke that lands while an extension is between its read and its
 * re-attach must stay revoked. Before the fix the extension's failure path (`undo`) put the *old*
 * policy back without looking at the grant again: a REVOKED grant kept working policy (expiry in the
 * future, no schedule left to remove it) until the sweeper's next run.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { InvalidTransitionError } from '../../../functions/domain/errors.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import type { PolicyTarget } from '../../../functions/domain/ports.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const security = ['arn:aws:iam::123456789012:role/Security'];

async function activeGrant() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  return { ports, grant };
}

describe('extension racing a revoke', () => {
  it('a revoke completed between the extension read and its re-attach leaves no policy behind', async () => {
    // Prepare: security revokes (detach, REVOKED, schedule deleted) after the extension read the
    // grant ACTIVE and before its PutRolePolicy; the extension's reschedule then finds no schedule.
    const { ports, grant } = await activeGrant();
    const attach = ports.access.attach.bind(ports.access);
    let raced = false;
    ports.access.attach = async (target: PolicyTarget, name: string, doc: string) => {
      if (!raced) {
        raced = true;
        await revokeGrant(ports, security, {
          grantId: grant.id,
          caller: { arn: SECURITY },
          body: { reason: 'suspected abuse of the grant' },
        });
      }
      return attach(target, name, doc);
    };

    // Act
    const error = await extendGrant(ports, profiles, {
      grantId: grant.id,
      caller: { arn: ALICE },
      body: { minutes: 30, reason: 'replica still catching up' },
    }).catch((e: unknown) => e);

    // Assess
    expect(raced).toBe(true);
    expect(ports.store.grants.get(grant.id)!.status).toBe('REVOKED');
    expect(ports.scheduler.schedules.size).toBe(0);
    // The revoked grant's policy must not be back on the role (before the fix: the old policy, still
    // valid for ~30 minutes, was re-attached by the extension's undo).
    expect([...ports.access.policies.keys()]).toEqual([]);
    expect(error).toBeInstanceOf(InvalidTransitionError);
  });

  it('an extension whose re-attach fails after a revoke does not restore the old policy either', async () => {
    // Prepare: the revoke lands, then the extension's PutRolePolicy fails (throttled): its undo
    // must not put the old policy back on a REVOKED grant.
    const { ports, grant } = await activeGrant();
    const attach = ports.access.attach.bind(ports.access);
    let calls = 0;
    ports.access.attach = async (target: PolicyTarget, name: string, doc: string) => {
      calls += 1;
      if (calls === 1) {
        await revokeGrant(ports, security, {
          grantId: grant.id,
          caller: { arn: SECURITY },
          body: { reason: 'suspected abuse of the grant' },
        });
        throw new Error('Throttling: Rate exceeded');
      }
      return attach(target, name, doc);
    };

    // Act
    await extendGrant(ports, profiles, {
      grantId: grant.id,
      caller: { arn: ALICE },
      body: { minutes: 30, reason: 'replica still catching up' },
    }).catch(() => undefined);

    // Assess
    expect(ports.store.grants.get(grant.id)!.status).toBe('REVOKED');
    expect([...ports.access.policies.keys()]).toEqual([]);
  });
});
