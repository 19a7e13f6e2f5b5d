/**
 * Hostile review (action logging, integrity): the review seals the grant's activity digest into its
 * chain, and docs/action-logging.md says "A record changed or removed after the review no longer matches
 * the sealed digest". True, but nothing ever compares: `GET /grants/{id}/activity` serves the records and
 * the summary as stored, `GET /grants/{id}` verifies the event chain only, and the audit report reads the
 * summary's counters only (audit/grant-analysis.ts). Record hashes are plain SHA-256 of the content, so
 * whoever can write `ACTIVITY#…` items (the residual risk of docs/security.md: a compromised function
 * role, or an administrator with table rights) removes a call — say the `iam:CreateAccessKey` — recomputes
 * nothing but the summary's count, and every reader sees a clean record.
 *
 * Kept as `it.fails` (it fails on the current code). Fix: `getActivity` (and the report, from the export's
 * REVIEWED event and ACTIVITY items) recompute `activityDigest` over the records and compare it with the
 * REVIEWED event's `activityDigest`/`activityCalls`, answering `integrity: {ok: false, problem}` (and a
 * HIGH `ACTIVITY_SEAL_BROKEN` finding) on a mismatch — the same check `verifyChain` does for events.
 * Fixed: `checkActivityIntegrity` (functions/domain/activity-seal.ts) behind `integrity` of the activity route and
 * `integrity.activity` of `GET /grants/{id}`; the report's finding is `ACTIVITY_CHANGED_AFTER_REVIEW`.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import { getActivity } from '../../../functions/domain/activity-query.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import { assumedRoleIdentity, getObject, stopInstances, viaEventBridge } from '../../support/cloudtrail-fixtures.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const reviewers = ['arn:aws:iam::123456789012:role/Security'];

describe('the sealed activity digest', () => {
  it('a call removed after the review (summary adjusted) shows when the activity is read', async () => {
    // Prepare: alice's grant makes two calls, expires, and is reviewed (the seal covers 2 calls).
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
    });
    const alice = assumedRoleIdentity({ role: 'Responder', roleId: ALICE_ID.split(':')[0]!, session: 'alice' });
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
    ports.clock.advance(SETTLE_MINUTES * 60_000); // a review waits for CloudTrail's late deliveries
    await reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'compared the calls with the incident timeline' },
    });
    const sealed = (await ports.store.events(grant.id)).at(-1)!;
    expect(sealed.details).toMatchObject({ activityCalls: '2' });

    // Act: the write is removed and the summary made to agree (what a table writer can do).
    const byKey = ports.activity.records.get(grant.id)!;
    const write = [...byKey.entries()].find(([, r]) => r.action === 'StopInstances')!;
    byKey.delete(write[0]);
    const summary = ports.activity.summaries.get(grant.id)!;
    ports.activity.summaries.set(grant.id, { ...summary, calls: 1, writes: 0, lastCallAt: '2026-11-24T10:01:00Z' });
    const answer = await getActivity(
      ports,
      { security: reviewers, reviewers },
      { grantId: grant.id, caller: { arn: SECURITY }, query: {} },
    );

    // Assess: the reader is told the records no longer match what the review sealed.
    expect(answer.activity).toHaveLength(1);
    expect(answer.integrity).toEqual(
      expect.objectContaining({
        ok: false,
        sealed: true,
        problem: expect.stringMatching(/2 call\(s\) sealed, 1 stored/),
      }),
    );
  });
});
