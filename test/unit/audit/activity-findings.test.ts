/**
 * The audit report and action logging: per-grant activity columns and the findings
 * ACTIVITY_AFTER_EXPIRY, DENIED_ATTEMPTS_IN_GRANT and NO_ACTIVITY, judged only when the export
 * holds action logging's items.
 */
import { describe, expect, it } from 'vitest';
import { type AuditPolicy, analyseGrant } from '../../../audit/grant-analysis.js';
import { CSV_HEADER, csvGrantRecord } from '../../../audit/writers.js';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const policy = (overrides: Partial<AuditPolicy> = {}): AuditPolicy => ({
  lateSeconds: 300,
  reviewDays: 3,
  asOf: new Date('2026-11-24T12:00:00Z'),
  snapshotAt: new Date('2026-11-24T12:00:00Z'),
  ticketRequired: (name) => profiles.profiles.find((p) => p.name === name)?.ticket.required,
  ...overrides,
});

async function expired() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  ports.clock.advance(30 * 60_000);
  await expireGrant(ports, grant.id, 'system:expiry');
  return { record: ports.store.grants.get(grant.id)!, events: await ports.store.events(grant.id) };
}

const codes = (a: ReturnType<typeof analyseGrant>) => a.findings.map((f) => f.code);

describe('activity in the audit report', () => {
  it('adds the activity columns, and flags calls allowed after the end and denied calls', async () => {
    const { record, events } = await expired();
    const summary = {
      calls: 12,
      writes: 4,
      denied: 2,
      afterEndAllowed: 1,
      firstCallAt: '2026-11-24T10:01:00Z',
      lastCallAt: '2026-11-24T10:31:00Z',
    };
    const analysed = analyseGrant(record, events, policy({ activityLogged: true }), summary);
    expect(analysed.row).toMatchObject({
      activityCalls: 12,
      activityWrites: 4,
      activityDenied: 2,
      activityAfterEnd: 1,
      firstCall: '2026-11-24T10:01:00Z',
      lastCall: '2026-11-24T10:31:00Z',
    });
    expect(codes(analysed).sort()).toEqual(['ACTIVITY_AFTER_EXPIRY', 'DENIED_ATTEMPTS_IN_GRANT']);
    expect(analysed.findings.find((f) => f.code === 'ACTIVITY_AFTER_EXPIRY')).toMatchObject({
      severity: 'HIGH',
      count: 1,
    });
    expect(CSV_HEADER).toContain(
      'activity_calls,activity_writes,activity_denied,activity_after_end_allowed,first_call,last_call',
    );
    expect(csvGrantRecord(analysed.row)).toMatch(/,12,4,2,1,2026-11-24T10:01:00Z,2026-11-24T10:31:00Z\s*$/);
  });

  it('finds NO_ACTIVITY for a grant that gave access and was never used', async () => {
    const { record, events } = await expired();
    const analysed = analyseGrant(record, events, policy({ activityLogged: true }), undefined);
    expect(codes(analysed)).toEqual(['NO_ACTIVITY']);
    expect(analysed.row.activityCalls).toBe(0);
  });

  it("does not find NO_ACTIVITY for a drill's grant (its calls are evaluated, never made), but still flags its calls", async () => {
    // Prepare: the same expired grant, recorded as a drill's (the fact the drill use case sets on the grant).
    const { record, events } = await expired();
    const drill = { ...record, drill: true };
    // Act
    const unused = analyseGrant(drill, events, policy({ activityLogged: true }), undefined);
    const used = analyseGrant(drill, events, policy({ activityLogged: true }), {
      calls: 1,
      denied: 1,
      afterEndAllowed: 1,
    });
    // Assess: the profile name alone does not exempt a grant; the drill fact does.
    expect(record.profile).toBe(drill.profile);
    expect(codes(analyseGrant(record, events, policy({ activityLogged: true }), undefined))).toEqual(['NO_ACTIVITY']);
    expect(codes(unused)).toEqual([]);
    expect(codes(used).sort()).toEqual(['ACTIVITY_AFTER_EXPIRY', 'DENIED_ATTEMPTS_IN_GRANT']);
  });

  it('judges no activity when the export holds no action logging at all (not deployed)', async () => {
    const { record, events } = await expired();
    const analysed = analyseGrant(record, events, policy(), undefined);
    expect(codes(analysed)).toEqual([]);
    expect(analysed.row.activityCalls).toBeNull();
  });
});
