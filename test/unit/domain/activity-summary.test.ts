/**
 * The end of a grant, for action logging: one ACTIVITY_SUMMARY alert once CloudTrail has had time to
 * deliver (counts, write actions by name, denied attempts, digest), and the review sealing the
 * activity digest into the grant's audit chain.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { activityDigest } from '../../../functions/domain/activity.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import { announceActivitySummaries, SETTLE_MINUTES, writesByName } from '../../../functions/domain/activity-summary.js';
import { ACTIVITY_EVENT_TYPES } from '../../../functions/domain/alert.js';
import { verifyChain } from '../../../functions/domain/audit-chain.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import {
  assumedRoleIdentity,
  createUserDenied,
  getObject,
  stopInstances,
  viaEventBridge,
} from '../../support/cloudtrail-fixtures.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const reviewers = ['arn:aws:iam::123456789012:role/Security'];

/** A caller-mode grant of alice, with a read, two writes and a denied attempt captured, then expired. */
async function usedAndExpired() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  const alice = assumedRoleIdentity({ role: 'Responder', roleId: ALICE_ID.split(':')[0]!, session: 'alice' });
  const calls = [
    getObject(alice, '2026-11-24T10:01:00Z'),
    stopInstances(alice, '2026-11-24T10:02:00Z'),
    stopInstances(alice, '2026-11-24T10:03:00Z'),
    createUserDenied(alice, '2026-11-24T10:04:00Z'),
  ];
  const capture = {
    store: ports.store,
    activity: ports.activity,
    notifier: ports.notifier,
    clock: ports.clock,
    log: ports.log,
  };
  const report = await captureActivity(
    capture,
    calls.map((c, i) => ({ id: `m-${i}`, event: viaEventBridge(c) })),
  );
  expect(report.results.map((r) => r.outcome)).toEqual(['stored', 'stored', 'stored', 'stored']);
  ports.clock.advance(30 * 60_000);
  await expireGrant(ports, grant.id, 'system:expiry');
  return { ports, grant: (await ports.store.get(grant.id))!, capture };
}

describe('the end-of-grant activity summary', () => {
  it('waits for CloudTrail to settle, then announces once: counts, writes by name, denied attempts, digest', async () => {
    // Prepare
    const { ports, grant } = await usedAndExpired();
    const before = ports.notifier.alerts.length;
    // Act: right after the end, nothing yet
    ports.clock.advance((SETTLE_MINUTES - 1) * 60_000);
    expect((await announceActivitySummaries(ports)).announced).toEqual([]);
    ports.clock.advance(2 * 60_000);
    const report = await announceActivitySummaries(ports);
    // Assess
    expect(report).toEqual({ announced: [grant.id], failed: [] });
    const alerts = ports.notifier.alerts.slice(before);
    expect(alerts).toHaveLength(1);
    const alert = alerts[0]!;
    expect(alert.attributes).toMatchObject({ eventType: 'ACTIVITY_SUMMARY', severity: 'WARNING', grantId: grant.id });
    expect(alert.subject).toContain('4 calls, 3 writes, 1 denied');
    expect(alert.body).toContain('2 x ec2:StopInstances');
    expect(alert.body).toContain('iam:CreateUser');
    expect(alert.body).toMatch(
      /Denied attempts:\n {2}2026-11-24T10:04:00Z {2}iam\.amazonaws\.com|Denied attempts:\n {2}2026-11-24T10:04:00Z {2}iam:CreateUser/,
    );
    const records = await ports.activity.all(grant.id);
    expect(alert.machine).toMatchObject({
      digest: { calls: 4, root: activityDigest(grant.id, records).root, consistent: true },
    });
    // Once: the next run announces nothing.
    ports.clock.advance(5 * 60_000);
    expect((await announceActivitySummaries(ports)).announced).toEqual([]);
    expect(ports.notifier.alerts.length).toBe(before + 1);
  });

  it('says NO_ACTIVITY in words when the access was never used, at INFO', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
    });
    ports.clock.advance(30 * 60_000);
    await expireGrant(ports, grant.id, 'system:expiry');
    ports.clock.advance(20 * 60_000);
    await announceActivitySummaries(ports);
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.attributes).toMatchObject({ eventType: 'ACTIVITY_SUMMARY', severity: 'INFO' });
    expect(alert.body).toContain('never used');
  });

  it('retries on the next run when the alert cannot be published', async () => {
    const { ports, grant } = await usedAndExpired();
    ports.clock.advance(20 * 60_000);
    ports.notifier.fail = new Error('SNS down');
    expect(await announceActivitySummaries(ports)).toEqual({ announced: [], failed: [grant.id] });
    expect(await ports.activity.announcedAt(grant.id)).toBeUndefined();
    ports.notifier.fail = undefined;
    expect((await announceActivitySummaries(ports)).announced).toEqual([grant.id]);
  });

  it('counts writes by name, leaving read-only calls out', () => {
    const base = { service: 'ec2.amazonaws.com', readOnly: false } as const;
    expect(
      writesByName([
        { ...base, action: 'StopInstances' },
        { ...base, action: 'StopInstances' },
        { ...base, action: 'DescribeInstances', readOnly: true },
        { service: 's3.amazonaws.com', action: 'PutObject' },
      ] as never),
    ).toEqual([
      { action: 'ec2:StopInstances', count: 2 },
      { action: 's3:PutObject', count: 1 },
    ]);
  });

  it('names both action-logging alert types in alert.ts', () => {
    expect([...ACTIVITY_EVENT_TYPES]).toEqual(['ACTIVITY_AFTER_END', 'ACTIVITY_SUMMARY']);
  });
});

describe('the review seals the activity into the chain', () => {
  it('records the activity digest in the REVIEWED event, and a record changed later no longer matches it', async () => {
    // Prepare
    const { ports, grant } = await usedAndExpired();
    ports.clock.advance(SETTLE_MINUTES * 60_000); // a review waits for CloudTrail's late deliveries
    // Act
    const reviewed = await reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'compared the calls with the incident timeline' },
    });
    // Assess
    const events = await ports.store.events(grant.id);
    expect(verifyChain(reviewed, events)).toMatchObject({ ok: true });
    const sealed = events.at(-1)!;
    expect(sealed.type).toBe('REVIEWED');
    const records = await ports.activity.all(grant.id);
    expect(sealed.details).toMatchObject({
      activityCalls: '4',
      activityDigest: activityDigest(grant.id, records).root,
    });
    expect(sealed.details?.activityProblem).toBeUndefined();
    // Tampering: one record's action rewritten (hash recomputed by the tamperer) changes the digest.
    const byKey = ports.activity.records.get(grant.id)!;
    const [key, first] = [...byKey.entries()][0]!;
    byKey.set(key, { ...first, action: 'ListBuckets', hash: 'f'.repeat(64) });
    expect(activityDigest(grant.id, await ports.activity.all(grant.id)).root).not.toBe(sealed.details?.activityDigest);
  });

  it('records the problem when the records do not match their summary at review', async () => {
    const { ports, grant } = await usedAndExpired();
    const byKey = ports.activity.records.get(grant.id)!;
    byKey.delete([...byKey.keys()][0]!); // a record removed behind the summary's back
    ports.clock.advance(SETTLE_MINUTES * 60_000);
    await reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes: 'compared the calls with the incident timeline' },
    });
    const sealed = (await ports.store.events(grant.id)).at(-1)!;
    expect(sealed.details).toMatchObject({ activityCalls: '3' });
    expect(sealed.details?.activityProblem).toMatch(/summary counts 4 calls but 3 records exist/);
  });
});
