/**
 * Hostile review (drills): every alert about a drill's grant carried `drill = "true"`, and docs/drills.md
 * tells subscribers to take "everything but drills" with `{"drill": [{"exists": false}]}`. So someone else
 * reaching for a drill grant's session (CREDENTIALS_DENIED, "a security event, not only an access-log
 * line": issue-credentials.ts) was announced only to the drill queue, which the drill function reads and
 * deletes: security never saw it. The attribute now marks only what the drill itself (its runner) and
 * break-glass (`system:…`) do with the grant; anyone else's action on it goes to every subscriber.
 * Fails before the fix (the attribute was set from `grant.drill` alone), passes after.
 */
import { describe, expect, it } from 'vitest';
import { composeAlert } from '../../../functions/domain/alert.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { ACCOUNT, MALLORY } from '../../support/fakes.js';

const RUNNER = `arn:aws:sts::${ACCOUNT}:assumed-role/Security/sam`;
const ID = '00000000-0000-4000-8000-000000000042';
const drillGrant: Grant = {
  id: ID,
  profile: 'drill',
  owner: 'security@example.com',
  principalArn: RUNNER,
  targetType: 'role',
  targetName: 'breakglass-drill-0',
  status: 'ACTIVE',
  reason: 'Break-glass drill d-1 (revoke)',
  durationMinutes: 15,
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: '2026-11-24T10:15:00Z',
  policyName: `breakglass-${ID}`,
  scheduleName: `breakglass-${ID}`,
  version: 3,
  eventCount: 3,
  drill: true,
};

describe("alerts about a drill's grant", () => {
  it("the drill's own lifecycle stays in the drill queue; someone else's attempt on the grant reaches every subscriber", () => {
    // Prepare
    const own = { at: '2026-11-24T10:00:01.000Z', outcome: 'SUCCESS' as const };
    // Act
    const activated = composeAlert(drillGrant, { ...own, type: 'ACTIVATED', actor: RUNNER });
    const expired = composeAlert(drillGrant, { ...own, type: 'EXPIRED', actor: 'system:expiry' });
    const probed = composeAlert(drillGrant, {
      type: 'CREDENTIALS_DENIED',
      at: '2026-11-24T10:00:05.000Z',
      actor: MALLORY,
      outcome: 'FAILURE',
      details: { step: 'Requester', why: 'not the requesting person' },
    });
    // Assess
    expect(activated.attributes.drill).toBe('true');
    expect(expired.attributes.drill).toBe('true');
    expect(probed.attributes.drill).toBeUndefined();
    expect(probed.attributes.eventType).toBe('CREDENTIALS_DENIED');
  });
});
