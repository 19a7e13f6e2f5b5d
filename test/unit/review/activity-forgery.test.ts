/**
 * Hostile review (action logging): forged "CloudTrail" calls.
 *
 * The capture rule matched on `detail-type` and the identity in `detail` only, and the capture function
 * checked nothing but `detail-type`. `detail-type` is a free-form string anyone may send with
 * `events:PutEvents` (EventBridge API reference, PutEventsRequestEntry: DetailType "Free-form
 * detail-type"; the CDK docs give "AWS API Call via CloudTrail" as an example value), and the default
 * bus is not among the protected resources. So anyone in the account allowed `events:PutEvents` — an
 * eligible caller with their own permissions, or a grant whose profile allows it — could put calls on
 * *any* grant: fake writes under a colleague's grant (sealed into its REVIEWED event at review), or
 * fake CRITICAL `ACTIVITY_AFTER_END` alerts about ended grants, at PutEvents' rate.
 *
 * What a forger cannot choose is the source: "The `aws.` value prefix is service-reserved and cannot be
 * used as a value" (EventBridge API reference, PutEventsRequestEntry, Source), while CloudTrail's events
 * carry `source: aws.<service>` (EventBridge events reference, e.g. "AWS CloudTrail events": source
 * `aws.cloudtrail`). The rule now requires `source` prefix `aws.`, and the capture rejects any delivery
 * whose source does not start with `aws.` (a message sent straight to the queue).
 */
import { describe, expect, it } from 'vitest';
import { CLOUDTRAIL_DETAIL_TYPE } from '../../../functions/domain/activity.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { activityEventPattern } from '../../../infra/constructs/activity-capture.js';
import {
  ACCT,
  assumedRoleIdentity,
  PROFILE_ROLE,
  profileSession,
  stopInstances,
  viaEventBridge,
} from '../../support/cloudtrail-fixtures.js';
import { fakePorts, MemoryActivityStore } from '../../support/fakes.js';

/** The subset of EventBridge pattern matching the rule uses: exact strings, `prefix`, `wildcard`, `$or`. */
function matches(pattern: unknown, event: unknown): boolean {
  if (Array.isArray(pattern))
    return pattern.some((p) => {
      if (typeof event !== 'string') return false;
      if (typeof p === 'string') return p === event;
      if (p.prefix !== undefined) return event.startsWith(p.prefix);
      if (p.wildcard !== undefined)
        return new RegExp(
          `^${String(p.wildcard)
            .replace(/[.+?^${}()|[\]\\]/g, '\\$&')
            .replace(/\*/g, '.*')}$`,
        ).test(event);
      throw new Error(`unsupported ${JSON.stringify(p)}`);
    });
  return Object.entries(pattern as Record<string, unknown>).every(([key, sub]) => {
    if (key === '$or') return (sub as unknown[]).some((branch) => matches(branch, event));
    const value = (event as Record<string, unknown> | undefined)?.[key];
    return value !== undefined && matches(sub, value);
  });
}

const GRANT_ID = '0e5c7a5e-0000-4000-8000-000000000001';

/** What `aws events put-events` with a made-up source delivers: the shape of a real call, any source but `aws.*`. */
function forged(record: ReturnType<typeof stopInstances>) {
  return { ...viaEventBridge(record), source: 'com.example.forger' };
}

describe('forged CloudTrail calls', () => {
  it('the capture rule does not match a PutEvents event that copies a break-glass session call', () => {
    // Prepare
    const pattern = JSON.parse(
      JSON.stringify(activityEventPattern('aws', ACCT, { profileRoles: true, callerRoles: [], callerUsers: [] })),
    );
    const raw = { ...pattern, 'detail-type': pattern.detailType };
    delete raw.detailType;
    const call = stopInstances(
      assumedRoleIdentity({ ...profileSession(GRANT_ID), role: 'breakglass-demo-0' }),
      '2026-11-24T10:05:00Z',
    );

    // Act / Assess: the genuine delivery matches, the forged one does not.
    expect(matches(raw, viaEventBridge(call))).toBe(true);
    expect(forged(call)['detail-type']).toBe(CLOUDTRAIL_DETAIL_TYPE);
    expect(matches(raw, forged(call))).toBe(false);
  });

  it('the capture stores nothing and alerts nothing for a delivery whose source is not an AWS service', async () => {
    // Prepare: an ended grant, and a forged "allowed call after the end" naming its session.
    const ports = fakePorts();
    const activity = new MemoryActivityStore();
    const grant: Grant = {
      id: GRANT_ID,
      profile: 'demo',
      owner: 'platform@example.com',
      principalArn: `arn:aws:sts::${ACCT}:assumed-role/Responder/alice`,
      targetType: 'role',
      targetName: PROFILE_ROLE,
      status: 'EXPIRED',
      reason: 'orders API is failing',
      durationMinutes: 30,
      createdAt: '2026-11-24T10:00:00.250Z',
      expiresAt: '2026-11-24T10:30:00Z',
      endedAt: '2026-11-24T10:30:01.000Z',
      policyName: `breakglass-${GRANT_ID}`,
      scheduleName: `breakglass-${GRANT_ID}`,
      version: 1,
      eventCount: 0,
    };
    await ports.store.create(grant, { type: 'REQUESTED', at: grant.createdAt, actor: 'x', outcome: 'SUCCESS' });
    const call = stopInstances(assumedRoleIdentity(profileSession(GRANT_ID)), '2026-11-24T11:00:00Z');

    // Act
    const report = await captureActivity(
      { store: ports.store, activity, notifier: ports.notifier, clock: ports.clock, log: ports.log },
      [{ id: 'msg-1', event: forged(call) }],
    );

    // Assess
    expect(report.results.map((r) => r.outcome)).toEqual(['rejected']);
    expect(await activity.all(GRANT_ID)).toEqual([]);
    expect(ports.notifier.alerts).toEqual([]);
  });
});
