/**
 * The review's seal checked on every read (`activity-seal.ts`): records against their hashes, their
 * summary and the digest the REVIEWED event sealed; calls captured after the review are counted, not a mismatch.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { activityHash } from '../../../functions/domain/activity.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import { checkActivityIntegrity } from '../../../functions/domain/activity-seal.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import { assumedRoleIdentity, getObject, stopInstances, viaEventBridge } from '../../support/cloudtrail-fixtures.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const reviewers = ['arn:aws:iam::123456789012:role/Security'];
const alice = assumedRoleIdentity({ role: 'Responder', roleId: ALICE_ID.split(':')[0]!, session: 'alice' });

async function usedGrant() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, testProfiles(), {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  const capture = {
    store: ports.store,
    activity: ports.activity,
    notifier: ports.notifier,
    clock: ports.clock,
    log: ports.log,
  };
  await captureActivity(capture, [
    { id: 'm-1', event: viaEventBridge(getObject(alice, '2026-11-24T10:01:00Z')) },
    { id: 'm-2', event: viaEventBridge(stopInstances(alice, '2026-11-24T10:02:00Z')) },
  ]);
  ports.clock.advance(30 * 60_000);
  await expireGrant(ports, grant.id);
  ports.clock.advance(SETTLE_MINUTES * 60_000);
  const verdict = async () =>
    checkActivityIntegrity(
      grant.id,
      await ports.store.events(grant.id),
      await ports.activity.summary(grant.id),
      await ports.activity.all(grant.id),
    );
  const review = () =>
    reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'compared the calls with the incident timeline' },
    });
  return { ports, grant, capture, verdict, review };
}

describe('checkActivityIntegrity', () => {
  it('before the review: checks the records against their summary only (not sealed)', async () => {
    const { verdict } = await usedGrant();
    expect(await verdict()).toEqual({ ok: true, sealed: false, calls: 2 });
  });

  it('after the review: matches the seal; a call captured later is counted as late, not a mismatch', async () => {
    const { ports, capture, verdict, review } = await usedGrant();
    const reviewed = await review();
    expect(await verdict()).toEqual({ ok: true, sealed: true, calls: 2, sealedAt: reviewed.reviewedAt, lateCalls: 0 });
    // CloudTrail delivers one more call, later than the review's wait.
    ports.clock.advance(60_000);
    await captureActivity(capture, [
      { id: 'm-3', event: viaEventBridge(getObject(alice, '2026-11-24T10:03:00Z', 'late-object')) },
    ]);
    expect(await verdict()).toMatchObject({ ok: true, sealed: true, calls: 3, lateCalls: 1 });
  });

  it('a record rewritten after the review, hash recomputed, breaks the seal', async () => {
    const { ports, grant, verdict, review } = await usedGrant();
    await review();
    const byKey = ports.activity.records.get(grant.id)!;
    const [key, write] = [...byKey.entries()].find(([, r]) => r.action === 'StopInstances')!;
    const rewritten = { ...write, action: 'DescribeInstances', readOnly: true };
    byKey.set(key, { ...rewritten, hash: activityHash(rewritten) });
    expect(await verdict()).toMatchObject({ ok: false, sealed: true, problem: expect.stringMatching(/review sealed/) });
  });

  it('a record rewritten after the review, hash left as it was, fails its own hash', async () => {
    const { ports, grant, verdict, review } = await usedGrant();
    await review();
    const byKey = ports.activity.records.get(grant.id)!;
    const [key, write] = [...byKey.entries()].find(([, r]) => r.action === 'StopInstances')!;
    byKey.set(key, { ...write, action: 'DescribeInstances' });
    expect(await verdict()).toMatchObject({
      ok: false,
      sealed: true,
      problem: expect.stringMatching(/was changed after it was written/),
    });
  });

  it('a record slipped in after the review, dated before it, breaks the seal', async () => {
    const { ports, grant, verdict, review } = await usedGrant();
    const reviewed = await review();
    const byKey = ports.activity.records.get(grant.id)!;
    const [, any] = [...byKey.entries()][0]!;
    const forged = { ...any, eventId: 'forged-1', capturedAt: reviewed.reviewedAt! };
    byKey.set('CALL#forged', { ...forged, hash: activityHash(forged) });
    const summary = ports.activity.summaries.get(grant.id)!;
    ports.activity.summaries.set(grant.id, { ...summary, calls: summary.calls + 1 });
    expect(await verdict()).toMatchObject({
      ok: false,
      sealed: true,
      problem: expect.stringMatching(/2 call\(s\) sealed, 3 stored/),
    });
  });
});
