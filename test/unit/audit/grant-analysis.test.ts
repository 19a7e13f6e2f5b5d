import { describe, expect, it } from 'vitest';
import { type AuditPolicy, analyseGrant, recordMismatches, replayEvents } from '../../../audit/grant-analysis.js';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { reviewGrant } from '../../../functions/domain/review-grant.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { sweep } from '../../../functions/domain/sweep.js';
import { ALICE, ALICE_ID, BOB, BOB_ID, fakePorts, MALLORY, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const policy = (asOf: string, overrides: Partial<AuditPolicy> = {}): AuditPolicy => ({
  lateSeconds: 300,
  reviewDays: 3,
  asOf: new Date(asOf),
  snapshotAt: new Date(asOf),
  ticketRequired: (name) => profiles.profiles.find((p) => p.name === name)?.ticket.required,
  ...overrides,
});
const alice = { arn: ALICE, userId: ALICE_ID };
const body = (extra: object = {}) => ({
  profile: 'demo',
  reason: 'checkout is failing for all users',
  durationMinutes: 30,
  ...extra,
});

/** Every kind of grant the use cases write, through the in-memory store that mirrors the adapter. */
async function everyKindOfGrant() {
  const ports = fakePorts();
  const ids: Record<string, string> = {};
  // Activated, extended, expired 10 minutes late, reviewed.
  ids.expired = (await activateGrant(ports, profiles, { caller: alice, body: body() })).grant.id;
  ports.clock.advance(5 * 60_000);
  await extendGrant(ports, profiles, {
    grantId: ids.expired,
    caller: alice,
    body: { minutes: 20, reason: 'failover still running, need more time' },
  });
  // Revoked by its requester right after activation, 30 minutes early, with an alert that failed on the way.
  ids.revoked = (
    await activateGrant(ports, profiles, {
      caller: { arn: BOB, userId: BOB_ID },
      body: body({ profile: 'db', ticket: 'INC-42' }),
    })
  ).grant.id;
  ports.notifier.fail = new Error('SNS is down');
  await revokeGrant(ports, [], { grantId: ids.revoked, caller: { arn: BOB }, body: { reason: 'service restored' } });
  ports.notifier.fail = undefined;
  // Denied: not eligible.
  ids.denied = await activateGrant(ports, profiles, {
    caller: { arn: MALLORY, userId: 'AROAM:mallory' },
    body: body(),
  }).then(
    () => 'not denied',
    (e: { grantId: string }) => e.grantId,
  );
  // Failed: the policy could not be attached.
  ports.access.failAttach = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
  await activateGrant(ports, profiles, { caller: { arn: BOB, userId: BOB_ID }, body: body() }).catch(() => undefined);
  ids.failed = [...ports.store.grants.values()].at(-1)!.id;
  ports.access.failAttach = undefined;
  // Stuck PENDING (its first write landed, nothing after), then closed by the sweeper.
  const stuck: Grant = {
    ...[...ports.store.grants.values()].at(-1)!,
    id: '00000000-0000-4000-8000-0000000000ff',
    status: 'PENDING',
    expiresAt: '2026-11-24T11:05:00Z',
    endedAt: undefined,
    policyName: 'breakglass-00000000-0000-4000-8000-0000000000ff',
    scheduleName: '00000000-0000-4000-8000-0000000000ff',
    version: 0,
    eventCount: 0,
  };
  const pending = await ports.store.create(stuck, {
    type: 'REQUESTED',
    at: ports.clock.now().toISOString(),
    actor: BOB,
    reason: stuck.reason,
    outcome: 'SUCCESS',
    details: { expiresAt: stuck.expiresAt },
  });
  ids.swept = pending.id;
  ports.clock.advance(45 * 60_000); // 10:50: the extended grant (to 10:50) is not due; the PENDING one is stale
  await sweep(ports, []);
  ports.clock.advance(10 * 60_000); // 11:00: ten minutes after its expiry
  await expireGrant(ports, ids.expired);
  ports.clock.advance(SETTLE_MINUTES * 60_000); // 11:15: a review waits for CloudTrail's late deliveries
  await reviewGrant(ports, ['arn:aws:iam::123456789012:role/Security'], {
    grantId: ids.expired,
    caller: { arn: SECURITY },
    body: { outcome: 'unjustified', notes: 'compared with the incident timeline' },
  });
  return { ports, ids };
}

describe('analyseGrant', () => {
  it('finds no broken chain and no record mismatch in anything the use cases write', async () => {
    const { ports } = await everyKindOfGrant();
    const statuses = [...ports.store.grants.values()].map((g) => g.status).sort();
    expect(statuses).toEqual(['DENIED', 'EXPIRED', 'FAILED', 'FAILED', 'REVOKED']);
    for (const grant of ports.store.grants.values()) {
      const { findings, chainOk } = analyseGrant(
        grant,
        await ports.store.events(grant.id),
        policy('2026-11-24T12:00:00Z'),
      );
      expect(chainOk).toBe(true);
      expect(findings.filter((f) => f.code === 'RECORD_MISMATCH' || f.code === 'CHAIN_BROKEN')).toEqual([]);
    }
  });

  it('measures lateness from the extended expiry, and the review from the record', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const expired = ports.store.grants.get(ids.expired!)!;
    const { row, findings } = analyseGrant(
      expired,
      await ports.store.events(expired.id),
      policy('2026-11-24T12:00:00Z'),
    );
    expect(row).toMatchObject({
      status: 'EXPIRED',
      plannedEnd: '2026-11-24T10:50:00Z',
      actualEnd: '2026-11-24T11:00:00.000Z',
      lateSeconds: 600,
      review: 'unjustified',
      reviewedBy: SECURITY,
      chain: 'ok',
      events: 5,
    });
    expect(findings.map((f) => f.code)).toEqual(['LATE_REVOCATION']);

    const revoked = ports.store.grants.get(ids.revoked!)!;
    const analysed = analyseGrant(revoked, await ports.store.events(revoked.id), policy('2026-11-24T12:00:00Z'));
    expect(analysed.row).toMatchObject({
      status: 'REVOKED',
      lateSeconds: -1800,
      review: 'unreviewed',
      ticket: 'INC-42',
    });
    expect(analysed.findings).toEqual([]); // ended two hours ago: not overdue yet

    const later = analyseGrant(revoked, await ports.store.events(revoked.id), policy('2026-11-28T12:00:00Z'));
    expect(later.findings).toEqual([
      expect.objectContaining({ code: 'REVIEW_OVERDUE', grantId: revoked.id, principal: BOB }),
    ]);
  });

  it('labels grants that need no review, those still open, and a swept activation as due', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const label = async (id: string) =>
      analyseGrant(ports.store.grants.get(id)!, await ports.store.events(id), policy('2026-11-24T12:00:00Z')).row
        .review;
    expect(await label(ids.denied!)).toBe('not needed');
    expect(await label(ids.failed!)).toBe('not needed');
    // An activation the sweeper had to close may have had its policy attached: its review is due.
    expect(await label(ids.swept!)).toBe('unreviewed');
    const open = { ...ports.store.grants.get(ids.revoked!)!, status: 'ACTIVE' as const, reviewState: undefined };
    expect(analyseGrant(open, [], policy('2026-11-24T12:00:00Z')).row.review).toBe('not yet due');
  });

  it('requires a ticket only of activated grants whose profile requires one', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const revoked = ports.store.grants.get(ids.revoked!)!;
    const { ticket: _ticket, ...withoutTicket } = revoked;
    const events = await ports.store.events(revoked.id);
    const analysed = analyseGrant(withoutTicket, events, policy('2026-11-24T12:00:00Z'));
    expect(analysed.findings.map((f) => f.code)).toContain('MISSING_TICKET');
    expect(
      analyseGrant(
        withoutTicket,
        events,
        policy('2026-11-24T12:00:00Z', { ticketRequired: () => undefined }),
      ).findings.map((f) => f.code),
    ).not.toContain('MISSING_TICKET');
  });
});

describe('replayEvents', () => {
  it('closes a PENDING grant swept by the sweeper as FAILED at the sweep', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const events = await ports.store.events(ids.swept!);
    expect(events.map((e) => e.type)).toEqual(['REQUESTED', 'SWEPT']);
    expect(replayEvents(events)).toEqual({
      status: 'FAILED',
      endedAt: events[1]!.at,
      expiresAt: '2026-11-24T11:05:00Z',
      reviewState: 'DUE',
    });
  });

  it('names every field where an edited record departs from its events', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const grant = ports.store.grants.get(ids.expired!)!;
    const edited = {
      ...grant,
      status: 'REVOKED',
      endedAt: '2026-11-24T10:49:00.000Z',
      reviewState: 'DUE',
      reviewOutcome: undefined,
    };
    expect(recordMismatches(edited, replayEvents(await ports.store.events(grant.id)))).toEqual([
      'status is "REVOKED" but the events say "EXPIRED"',
      'endedAt is "2026-11-24T10:49:00.000Z" but the events say "2026-11-24T11:00:00.000Z"',
      'reviewState is "DUE" but the events say "DONE"',
      'reviewOutcome is (absent) but the events say "unjustified"',
    ]);
  });

  it('checks every review fact against the REVIEWED event: reviewer, time, outcome and state', async () => {
    const { ports, ids } = await everyKindOfGrant();
    const grant = ports.store.grants.get(ids.expired!)!;
    const events = await ports.store.events(grant.id);
    const reviewed = events.find((e) => e.type === 'REVIEWED')!;
    expect(recordMismatches(grant, replayEvents(events))).toEqual([]);

    // Someone rewrote who reviewed the grant, and when.
    const edited = {
      ...grant,
      reviewedBy: 'arn:aws:sts::123456789012:assumed-role/Security/someone-else',
      reviewedAt: '2026-11-24T11:30:00.000Z',
    };
    expect(recordMismatches(edited, replayEvents(events))).toEqual([
      `reviewedBy is "arn:aws:sts::123456789012:assumed-role/Security/someone-else" but the events say "${reviewed.actor}"`,
      `reviewedAt is "2026-11-24T11:30:00.000Z" but the events say "${reviewed.at}"`,
    ]);

    // A record marked reviewed with no REVIEWED event behind it.
    const revoked = ports.store.grants.get(ids.revoked!)!;
    const claimed = {
      ...revoked,
      reviewState: 'DONE',
      reviewOutcome: 'justified',
      reviewedBy: SECURITY,
      reviewedAt: '2026-11-24T12:00:00.000Z',
    };
    expect(recordMismatches(claimed, replayEvents(await ports.store.events(revoked.id)))).toEqual([
      'reviewState is "DONE" but the events say "DUE"',
      'reviewOutcome is "justified" but the events say (absent)',
      `reviewedBy is "${SECURITY}" but the events say (absent)`,
      'reviewedAt is "2026-11-24T12:00:00.000Z" but the events say (absent)',
    ]);

    // The report names it, in one RECORD_MISMATCH finding.
    const { findings } = analyseGrant(edited, events, policy('2026-11-24T12:00:00Z'));
    expect(findings.filter((f) => f.code === 'RECORD_MISMATCH')).toEqual([
      expect.objectContaining({
        grantId: grant.id,
        message: expect.stringContaining(
          'reviewedBy is "arn:aws:sts::123456789012:assumed-role/Security/someone-else"',
        ),
      }),
    ]);
  });
});
