/**
 * Caller mode: activation registers the grant's session (`aws:userid`) before its policy exists, so
 * the capture can tie the caller's calls to the grant; profile-role grants need no registration
 * (their session name, `bg-<grantId>`, names them).
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import { assumedRoleIdentity, getObject, viaEventBridge } from '../../support/cloudtrail-fixtures.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const alice = { arn: ALICE, userId: ALICE_ID };
const body = { profile: 'demo', reason: 'orders API returns 500s, need logs', durationMinutes: 30 };

describe('activation and action logging (caller mode)', () => {
  it("registers the grant's aws:userid, and the capture then attributes the caller's calls to the grant", async () => {
    // Prepare
    const ports = fakePorts();
    // Act
    const { grant } = await activateGrant(ports, profiles, { caller: alice, body, requestId: 'r-1' });
    // Assess: the mapping item the capture reads
    expect(ports.activity.sessions).toEqual([{ sessionKey: ALICE_ID, grantId: grant.id, createdAt: grant.createdAt }]);
    const identity = assumedRoleIdentity({ role: 'Responder', roleId: ALICE_ID.split(':')[0]!, session: 'alice' });
    const call = getObject(identity, '2026-11-24T10:05:00Z');
    const report = await captureActivity(
      { store: ports.store, activity: ports.activity, notifier: ports.notifier, clock: ports.clock, log: ports.log },
      [{ id: 'm-1', event: viaEventBridge(call) }],
    );
    expect(report.results).toEqual([{ id: 'm-1', outcome: 'stored', grantIds: [grant.id] }]);
    expect((await ports.activity.summary(grant.id)).calls).toBe(1);
  });

  it('rolls the activation back when the session cannot be registered: no policy without attribution', async () => {
    const ports = fakePorts();
    ports.activity.registerSession = async () => {
      throw new Error('table unavailable');
    };
    const error = await activateGrant(ports, profiles, { caller: alice, body, requestId: 'r-2' }).catch((e) => e);
    expect(error).toBeInstanceOf(Error);
    expect(ports.access.policies.size).toBe(0);
    const [failed] = await ports.store.list({ limit: 10 }).then((p) => p.grants);
    expect(failed?.status).toBe('FAILED');
  });
});
