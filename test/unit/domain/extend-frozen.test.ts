/** A freeze refuses extensions too: 423, the refused attempt recorded on the grant and announced, nothing moved. */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { FrozenError } from '../../../functions/domain/errors.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { setFreeze } from '../../../functions/domain/kill-switch.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles({ maxDurationMinutes: 60, maxTotalMinutes: 90, maxExtensions: 2 });
const alice = { arn: ALICE, userId: ALICE_ID };
const more = { minutes: 10, reason: 'failover still running, need more time' };

async function activated() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: alice,
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  return { ports, grant };
}

describe('extendGrant under a freeze', () => {
  it.each([
    ['all profiles', { profile: undefined }],
    ['this profile', { profile: 'demo' }],
  ])(
    'refuses with 423 when security froze %s, records EXTEND_FAILED (Freeze) and announces it',
    async (_name, scope) => {
      // Prepare
      const { ports, grant } = await activated();
      await setFreeze(
        ports,
        profiles,
        ['arn:aws:iam::123456789012:role/Security'],
        { caller: { arn: SECURITY }, body: { ...scope, reason: 'suspected compromise' } },
        true,
      );
      const policyBefore = ports.access.policies.get(`role/Responder/${grant.policyName}`);
      // Act
      const error = await extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: alice,
        body: more,
        requestId: 'req-9',
      }).catch((e) => e);
      // Assess
      expect(error).toBeInstanceOf(FrozenError);
      expect(error.statusCode).toBe(423);
      expect(error.grantId).toBe(grant.id);
      expect(error.message).toMatch(
        /Extensions of "demo" are frozen by .*suspected compromise.*still expires at 2026-11-24T10:30:00Z/,
      );
      const stored = ports.store.grants.get(grant.id)!;
      expect(stored).toMatchObject({ status: 'ACTIVE', expiresAt: '2026-11-24T10:30:00Z', extensions: 0 });
      expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXTEND_FAILED']);
      expect(ports.store.eventLog.get(grant.id)!.at(-1)).toMatchObject({
        actor: ALICE,
        requestId: 'req-9',
        outcome: 'FAILURE',
        reason: more.reason,
        details: { step: 'Freeze', why: expect.stringMatching(/^extensions are frozen by/), minutes: '10' },
      });
      expect(ports.access.policies.get(`role/Responder/${grant.policyName}`)).toBe(policyBefore);
      expect(ports.scheduler.schedules.get(grant.id)!.expiresAt).toBe('2026-11-24T10:30:00Z');
      const alert = ports.notifier.alerts.at(-1)!;
      expect(alert.attributes).toMatchObject({ eventType: 'EXTEND_FAILED', severity: 'WARNING', grantId: grant.id });
      expect(alert.subject).toBe('[break-glass WARNING] alice was REFUSED an extension of demo (frozen)');
    },
  );

  it('refuses when FROZEN_PROFILES names the profile', async () => {
    const { ports, grant } = await activated();
    await expect(
      extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body: more }, { frozenByConfig: ['demo'] }),
    ).rejects.toThrowError(/frozen by configuration/);
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXTEND_FAILED']);
  });

  it('extends again once unfrozen, and a freeze of another profile does not apply', async () => {
    const { ports, grant } = await activated();
    ports.control.state = { all: false, profiles: ['db'], version: 1 };
    const extended = await extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body: more });
    expect(extended).toMatchObject({ expiresAt: '2026-11-24T10:40:00Z', extensions: 1 });
  });

  it('records nothing on the grant for a caller who is not its requester', async () => {
    const { ports, grant } = await activated();
    ports.control.state = { all: true, profiles: [], version: 1 };
    await expect(
      extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: { arn: 'arn:aws:sts::123456789012:assumed-role/Responder/bob' },
        body: more,
      }),
    ).rejects.toThrowError(/Only the requester/);
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED']);
  });
});
