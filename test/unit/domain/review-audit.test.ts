import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { verifyChain } from '../../../functions/domain/audit-chain.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  InvalidTransitionError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import type { Grant } from '../../../functions/domain/grant.js';
import type { AuditLog } from '../../../functions/domain/ports.js';
import { MAX_UNFILTERED_DAYS, parseAuditQuery } from '../../../functions/domain/query-audit.js';
import { checkOverdueReviews } from '../../../functions/domain/review-check.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import { ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const reviewers = ['arn:aws:iam::123456789012:role/Security'];
const notes = 'compared with the incident timeline';

async function expiredGrant() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  ports.clock.advance(30 * 60_000);
  await expireGrant(ports, grant.id, 'system:expiry');
  ports.clock.advance(SETTLE_MINUTES * 60_000); // a review waits for CloudTrail's late deliveries
  return { ports, grant: (await ports.store.get(grant.id))! };
}

describe('reviewGrant', () => {
  it('records the outcome on an ended grant and keeps its chain intact', async () => {
    // Prepare
    const { ports, grant } = await expiredGrant();
    expect(grant.reviewState).toBe('DUE');
    // Act
    const reviewed = await reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'justified', notes },
    });
    // Assess
    expect(reviewed).toMatchObject({ reviewState: 'DONE', reviewOutcome: 'justified', reviewedBy: SECURITY });
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRED', 'REVIEWED']);
    expect(verifyChain(reviewed, await ports.store.events(grant.id))).toMatchObject({ ok: true, events: 4 });
    expect(ports.notifier.alerts.at(-1)!.attributes).toMatchObject({ eventType: 'REVIEWED', severity: 'INFO' });
  });

  it('makes a failed activation whose policy could not be taken back due for review, and reviewable', async () => {
    // Prepare: the policy is attached, scheduling fails, and so does the rollback's detach.
    const ports = fakePorts();
    ports.scheduler.failSchedule = new Error('Scheduler down');
    ports.access.failDetach = new Error('IAM down');
    await expect(
      activateGrant(ports, profiles, {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { profile: 'demo', reason: 'checkout is failing for all users' },
      }),
    ).rejects.toThrow();
    const [failed] = [...ports.store.grants.values()];
    expect(failed).toMatchObject({ status: 'FAILED', reviewState: 'DUE' });
    expect(ports.store.types(failed!.id)).toEqual(['REQUESTED', 'ACTIVATION_FAILED', 'ROLLBACK_FAILED']);
    ports.clock.advance(SETTLE_MINUTES * 60_000);
    // Act + Assess
    await expect(
      reviewGrant(ports, reviewers, {
        grantId: failed!.id,
        caller: { arn: SECURITY },
        body: { outcome: 'justified', notes },
      }),
    ).resolves.toMatchObject({ reviewState: 'DONE' });
  });

  it('does not ask for a review of a failed activation that was rolled back', async () => {
    const ports = fakePorts();
    ports.scheduler.failSchedule = new Error('Scheduler down');
    await expect(
      activateGrant(ports, profiles, {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { profile: 'demo', reason: 'checkout is failing for all users' },
      }),
    ).rejects.toThrow();
    const [failed] = [...ports.store.grants.values()];
    expect(failed!.reviewState).toBeUndefined();
    await expect(
      reviewGrant(ports, reviewers, {
        grantId: failed!.id,
        caller: { arn: SECURITY },
        body: { outcome: 'justified', notes },
      }),
    ).rejects.toThrow(/only grants that gave access/);
  });

  it('refuses the requester under another role with the same session name (two-person rule)', async () => {
    const { ports, grant } = await expiredGrant();
    const alsoAlice = 'arn:aws:sts::123456789012:assumed-role/Security/Alice@example.com';
    await expect(
      reviewGrant(ports, reviewers, {
        grantId: grant.id,
        caller: { arn: alsoAlice },
        body: { outcome: 'justified', notes },
      }),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('refuses non-reviewers, grants still ACTIVE and a second review', async () => {
    const { ports, grant } = await expiredGrant();
    const bob = 'arn:aws:sts::123456789012:assumed-role/Responder/bob';
    await expect(
      reviewGrant(ports, reviewers, { grantId: grant.id, caller: { arn: bob }, body: { outcome: 'justified', notes } }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await reviewGrant(ports, reviewers, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { outcome: 'unjustified', notes },
    });
    await expect(
      reviewGrant(ports, reviewers, {
        grantId: grant.id,
        caller: { arn: SECURITY },
        body: { outcome: 'justified', notes },
      }),
    ).rejects.toBeInstanceOf(InvalidTransitionError);
    const fresh = fakePorts();
    const { grant: active } = await activateGrant(fresh, profiles, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'checkout is failing for all users' },
    });
    await expect(
      reviewGrant(fresh, reviewers, {
        grantId: active.id,
        caller: { arn: SECURITY },
        body: { outcome: 'justified', notes },
      }),
    ).rejects.toThrow(/only grants that gave access and have ended/);
  });

  it('answers a lost race with the review that won', async () => {
    const { ports, grant } = await expiredGrant();
    const original = ports.store.append.bind(ports.store);
    ports.store.append = async (g, e, c) => {
      ports.store.append = original;
      await original(
        g,
        { ...e, details: { outcome: 'justified', notes: 'the other reviewer' } },
        { ...c, reviewedBy: 'arn:aws:sts::123456789012:assumed-role/Security/sue' },
      );
      throw new ConcurrentUpdateError('lost');
    };
    await expect(
      reviewGrant(ports, reviewers, {
        grantId: grant.id,
        caller: { arn: SECURITY },
        body: { outcome: 'justified', notes },
      }),
    ).rejects.toThrow(/reviewed by .*sue/);
  });
});

describe('checkOverdueReviews', () => {
  it('announces only grants past the deadline, one alert per profile', async () => {
    const { ports, grant } = await expiredGrant();
    const due: Grant[] = [grant];
    const audit: AuditLog = {
      queryEvents: async () => ({ events: [] }),
      reviewsDue: async (before) => due.filter((g) => g.endedAt! < before),
    };
    const check = { audit, notifier: ports.notifier, clock: ports.clock, log: ports.log };
    expect((await checkOverdueReviews(check, 3)).overdue).toBe(0);
    ports.clock.advance(3 * 86_400_000 + 1000);
    const report = await checkOverdueReviews(check, 3);
    expect(report).toEqual({ overdue: 1, profiles: ['demo'] });
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.attributes).toMatchObject({
      eventType: 'REVIEW_OVERDUE',
      profile: 'demo',
      owner: 'platform@example.com',
    });
    expect(alert.body).toContain(grant.id);
  });

  it('names at most 50 grants per alert (SNS limits a message to 256 KB) and counts the rest', async () => {
    const { ports, grant } = await expiredGrant();
    const many = Array.from({ length: 120 }, (_, i) => ({
      ...grant,
      id: `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
    }));
    const audit: AuditLog = { queryEvents: async () => ({ events: [] }), reviewsDue: async () => many };
    await checkOverdueReviews({ audit, notifier: ports.notifier, clock: ports.clock, log: ports.log });
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.subject).toMatch(/120 demo grant\(s\) unreviewed/);
    expect(alert.body.match(/^- /gm)).toHaveLength(50);
    expect(alert.body).toContain('… and 70 more');
    expect(Buffer.byteLength(JSON.stringify(alert))).toBeLessThan(64 * 1024);
  });

  it('fails the run when the reminder cannot be published', async () => {
    const { ports, grant } = await expiredGrant();
    ports.notifier.fail = new Error('SNS down');
    const audit: AuditLog = { queryEvents: async () => ({ events: [] }), reviewsDue: async () => [grant] };
    await expect(
      checkOverdueReviews({ audit, notifier: ports.notifier, clock: ports.clock, log: ports.log }),
    ).rejects.toThrow(/could not be published/);
  });
});

describe('parseAuditQuery', () => {
  const now = new Date('2026-11-24T12:00:00.000Z');
  it('defaults an unfiltered query to the last 7 days and a filtered one to all time', () => {
    expect(parseAuditQuery({}, now)).toMatchObject({
      from: '2026-11-17T12:00:00.000Z',
      to: now.toISOString(),
      limit: 25,
    });
    expect(parseAuditQuery({ profile: 'demo', eventType: 'denied' }, now)).toMatchObject({
      profile: 'demo',
      eventType: 'DENIED',
      from: '1970-01-01T00:00:00.000Z',
    });
  });
  it('normalises dates and refuses what it cannot serve from an index', () => {
    expect(parseAuditQuery({ from: '2026-11-01', to: '2026-11-02T10:00:00+01:00' }, now)).toMatchObject({
      from: '2026-11-01T00:00:00.000Z',
      to: '2026-11-02T09:00:00.000Z',
    });
    expect(parseAuditQuery({ from: '2026-11-01', to: '2026-11-02' }, now)).toMatchObject({
      to: '2026-11-02T23:59:59.999Z',
    });
    expect(() => parseAuditQuery({ from: '2026-01-01' }, now)).toThrow(`at most ${MAX_UNFILTERED_DAYS} days`);
    expect(() => parseAuditQuery({ eventType: 'DROP TABLE' }, now)).toThrow(ValidationError);
    expect(() => parseAuditQuery({ profile: 'Demo/../x' }, now)).toThrow(ValidationError);
    expect(() => parseAuditQuery({ limit: '0' }, now)).toThrow(ValidationError);
    expect(() => parseAuditQuery({ nextToken: 'a b' }, now)).toThrow(ValidationError);
  });
});
