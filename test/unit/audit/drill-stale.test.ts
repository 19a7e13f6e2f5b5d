/** DRILL_STALE: the last drill older than the configured period, or none although a drill profile is deployed. */
import { describe, expect, it } from 'vitest';
import { staleDrill } from '../../../audit/report.js';
import { parseProfiles } from '../../../functions/domain/profile.js';

const at = new Date('2026-12-01T00:00:00Z');
const drillProfiles = parseProfiles({
  version: 1,
  profiles: [
    {
      name: 'drill',
      description: 'drill',
      owner: 'security@example.com',
      maxDurationMinutes: 15,
      drill: true,
      statements: [{ actions: ['sqs:GetQueueAttributes'], resources: ['arn:aws:sqs:us-east-1:123456789012:t'] }],
    },
  ],
});

describe('staleDrill', () => {
  it('finds a last drill older than the period, with its id and age, and none within it', () => {
    const old = { id: 'd1', outcome: 'PASSED', finishedAt: '2026-10-01T00:00:00Z' };
    const stale = staleDrill(old, at, 32, undefined);
    expect(stale).toMatchObject({ code: 'DRILL_STALE', severity: 'MEDIUM' });
    expect(stale!.message).toContain('d1');
    expect(stale!.message).toContain('61 days');
    expect(staleDrill({ ...old, finishedAt: '2026-11-20T00:00:00Z' }, at, 32, undefined)).toBeUndefined();
  });

  it('finds no drill at all only when the profiles have a drill profile', () => {
    expect(staleDrill(undefined, at, 32, drillProfiles)?.message).toContain('No drill on record');
    expect(staleDrill(undefined, at, 32, undefined)).toBeUndefined();
  });
});
