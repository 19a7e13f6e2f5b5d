/**
 * Hostile review (review flow), kept as `it.fails`: the review seals the activity digest "chosen over
 * the expiry because it comes days after the end, when CloudTrail's delivery is complete"
 * (docs/action-logging.md), but nothing makes it come after: a grant is reviewable the second it ends.
 * CloudTrail hands events to EventBridge "on a best effort basis" (activity-summary.ts waits
 * SETTLE_MINUTES for that reason), so a review in the first minutes — a friendly reviewer, or the
 * requester under another session name (docs/security.md, Trust model) — seals a digest without the
 * grant's last calls, and the reviewer judged without seeing them.
 * Fix: refuse the review (409, "activity still arriving; retry after <time>") until SETTLE_MINUTES after
 * the grant's end, the same wait the end-of-grant summary keeps. Fixed: `reviewGrant` refuses it with an
 * InvalidTransitionError (409) naming the time from which the review is possible (`ACTIVITY_SETTLE_MINUTES`).
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { InvalidTransitionError } from '../../../functions/domain/errors.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

describe('the review seal', () => {
  it(`is refused until ${SETTLE_MINUTES} minutes after the grant ended (CloudTrail still delivering)`, async () => {
    // Prepare: alice's grant, revoked by herself a minute in.
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, testProfiles(), {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'checkout is failing for all users' },
    });
    ports.clock.advance(60_000);
    await revokeGrant(ports, [], { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'done' } });
    ports.clock.advance(30_000);
    // Act
    const early = await reviewGrant(ports, ['arn:aws:iam::123456789012:role/Security'], {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'looked fine, nothing in the activity' },
    }).catch((e: unknown) => e);
    // Assess: a 409 that says from when the review is possible; then, settled, it is.
    expect(early).toBeInstanceOf(InvalidTransitionError);
    const ended = Date.parse(ports.store.grants.get(grant.id)!.endedAt!);
    const from = new Date(Math.floor(ended / 1000) * 1000 + SETTLE_MINUTES * 60_000).toISOString();
    expect((early as Error).message).toContain(`can be reviewed from ${from}`);
    expect(ports.store.grants.get(grant.id)!.reviewState).toBe('DUE');
    ports.clock.advance(SETTLE_MINUTES * 60_000 - 30_000);
    const settled = await reviewGrant(ports, ['arn:aws:iam::123456789012:role/Security'], {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'looked fine, nothing in the activity' },
    });
    expect(settled.reviewState).toBe('DONE');
  });
});
