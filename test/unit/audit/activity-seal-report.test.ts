/**
 * The audit report and the review's seal: from the export alone (the REVIEWED event's `activityDigest`
 * and the grant's `ACTIVITY#`/`CALL#` items, their hashes recomputed from content), a call removed,
 * rewritten or slipped in after the review is a HIGH ACTIVITY_CHANGED_AFTER_REVIEW finding.
 */
import { describe, expect, it } from 'vitest';
import { type ActivityRecord, activityHash, activitySeal } from '../../../functions/domain/activity.js';
import { type GrantPlan, writeExportFixture } from '../../support/export-fixture.js';
import { audit, ofCode, tempDir } from './support.js';

type Change = 'none' | 'remove' | 'remove-all' | 'rewrite-content' | 'rewrite-with-hash' | 'late';

/** One reviewed grant with two calls sealed by its review, then the export's calls changed as told. */
async function reportWith(change: Change) {
  let calls: ActivityRecord[] = [];
  let reviewedAt = '';
  const f = await writeExportFixture({
    dir: tempDir(),
    grants: 2,
    plan: (index, p): GrantPlan => {
      if (index !== 0) return p;
      const at = (minutes: number) =>
        new Date(p.createdAt.getTime() + minutes * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      calls = ['GetObject', 'StopInstances'].map((action, i) => {
        const content = {
          grantId: p.id,
          eventId: `e-${i}`,
          eventTime: at(i + 1),
          capturedAt: at(i + 3),
          account: '123456789012',
          region: 'us-east-1',
          service: action === 'GetObject' ? 's3.amazonaws.com' : 'ec2.amazonaws.com',
          action,
          resources: [],
          attribution: 'session',
          afterEnd: false,
        };
        return { ...content, hash: activityHash(content) } as unknown as ActivityRecord;
      });
      const plan: GrantPlan = {
        ...p,
        outcome: 'EXPIRED',
        durationMinutes: 30,
        extensions: 0,
        endOffsetSeconds: 5,
        review: 'justified',
        reviewAfterSeconds: 3_600,
        reviewDetails: activitySeal(p.id, calls),
      };
      reviewedAt = new Date(p.createdAt.getTime() + 30 * 60_000 + 5_000 + 3_600_000).toISOString();
      return plan;
    },
    extraItems: () => {
      let stored = [...calls];
      if (change === 'remove') stored = stored.slice(0, 1);
      if (change === 'rewrite-content') stored = [stored[0]!, { ...stored[1]!, action: 'DescribeInstances' }];
      if (change === 'rewrite-with-hash') {
        const { hash: _h, ...content } = { ...stored[1]!, action: 'DescribeInstances', readOnly: true };
        stored = [stored[0]!, { ...content, hash: activityHash(content) } as unknown as ActivityRecord];
      }
      if (change === 'late') {
        const { hash: _h, ...content } = {
          ...stored[1]!,
          eventId: 'e-late',
          capturedAt: new Date(Date.parse(reviewedAt) + 60_000).toISOString(),
        };
        stored.push({ ...content, hash: activityHash(content) } as unknown as ActivityRecord);
      }
      const grantId = calls[0]!.grantId;
      if (change === 'remove-all') return []; // the export then holds no activity item at all
      return [
        { pk: `ACTIVITY#${grantId}`, sk: 'SUMMARY', calls: stored.length, writes: 1, denied: 0, afterEndAllowed: 0 },
        ...stored.map((r) => ({ pk: `ACTIVITY#${grantId}`, sk: `CALL#${r.eventTime}#${r.eventId}`, ...r })),
      ];
    },
  });
  const result = await audit(['report', f.prefixDir, '--as-of', '2026-12-01T00:00:00Z']);
  expect(result.json, result.stderr).toBeDefined();
  return { result, found: ofCode(result.json!, 'ACTIVITY_CHANGED_AFTER_REVIEW'), grantId: calls[0]!.grantId };
}

describe('the audit report checks the review seal', () => {
  it('raises nothing when the calls are those the review sealed', async () => {
    const { found } = await reportWith('none');
    expect(found).toEqual([]);
  });

  it('raises nothing for a call captured after the review (CloudTrail later still than the wait)', async () => {
    const { found } = await reportWith('late');
    expect(found).toEqual([]);
  });

  it.each([
    ['a call removed', 'remove', /2 call\(s\) sealed, 1 stored/],
    ['every activity item removed', 'remove-all', /2 call\(s\) sealed, 0 stored/],
    ['a call rewritten, its hash left as it was', 'rewrite-content', /2 call\(s\) sealed, 2 stored/],
    ['a call rewritten, its hash recomputed', 'rewrite-with-hash', /2 call\(s\) sealed, 2 stored/],
  ] as const)('raises a HIGH ACTIVITY_CHANGED_AFTER_REVIEW for %s', async (_name, change, message) => {
    const { result, found, grantId } = await reportWith(change);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatchObject({ severity: 'HIGH', grantId, message: expect.stringMatching(message) });
    expect(result.code).toBe(1);
  });
});
