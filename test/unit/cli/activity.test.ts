/**
 * `breakglass activity`: the table from the API, and `--from-cloudtrail` over a mocked CloudTrail
 * (LookupEvents is not modelled by the emulator): paced at two requests per second, as the
 * CloudTrail API Reference limits LookupEvents ("two per second, per account, per Region"), retried
 * when throttled, filtered to the grant's own session, and printed in the same shape.
 */

import { CloudTrailClient, LookupEventsCommand } from '@aws-sdk/client-cloudtrail';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { activityFromCloudTrail, LOOKUP_SPACING_MS, sessionOfGrant } from '../../../cli/activity.js';
import { run } from '../../../cli/breakglass.js';
import {
  assumedRoleIdentity,
  createUserDenied,
  getObject,
  profileSession,
  ssoSession,
  stopInstances,
} from '../../support/cloudtrail-fixtures.js';

const trail = mockClient(CloudTrailClient);
const GRANT = '00000000-0000-4000-8000-0000000000aa';
const grant = {
  id: GRANT,
  principalArn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
  targetType: 'role',
  targetName: 'bg-demo',
  createdAt: '2026-11-24T10:00:00.100Z',
  expiresAt: '2026-11-24T10:30:00Z',
  status: 'EXPIRED',
  endedAt: '2026-11-24T10:30:01.000Z',
};
const asEvent = (record: { eventID: string; eventTime: string }) => ({
  EventId: record.eventID,
  Username: `bg-${GRANT}`,
  EventTime: new Date(record.eventTime),
  CloudTrailEvent: JSON.stringify(record),
});

function clock() {
  let t = Date.parse('2026-11-24T12:00:00Z');
  const requests: number[] = [];
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
    requests,
    tick: () => requests.push(t),
  };
}

beforeEach(() => trail.reset());
afterEach(() => vi.unstubAllGlobals());

describe('activity --from-cloudtrail', () => {
  it("looks up the bg-<grantId> session in the window, two requests per second at most, and keeps only the grant's own calls", async () => {
    // Prepare: three pages; the second throttled once; another role's session of the same name in the middle.
    const mine = assumedRoleIdentity(profileSession(GRANT));
    const impostor = assumedRoleIdentity({ role: 'Developer', roleId: 'AROADEV', session: `bg-${GRANT}` });
    const c = clock();
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    trail
      .on(LookupEventsCommand)
      .callsFakeOnce(() => {
        c.tick();
        return {
          Events: [
            asEvent(getObject(mine, '2026-11-24T10:05:00Z')),
            asEvent(getObject(impostor, '2026-11-24T10:06:00Z')),
          ],
          NextToken: 'p2',
        };
      })
      .callsFakeOnce(() => {
        c.tick();
        throw throttled;
      })
      .callsFakeOnce(() => {
        c.tick();
        return { Events: [asEvent(createUserDenied(mine, '2026-11-24T10:07:00Z'))], NextToken: 'p3' };
      })
      .callsFakeOnce(() => {
        c.tick();
        return { Events: [asEvent(stopInstances(mine, '2026-11-24T10:40:00Z'))] };
      });
    // Act
    const answer = await activityFromCloudTrail(grant, {
      regions: ['us-east-1'],
      now: c.now,
      sleep: c.sleep,
      clientFor: (region) => new CloudTrailClient({ region }),
    });
    // Assess: the request, the pacing, the records.
    const calls = trail.commandCalls(LookupEventsCommand).map((x) => x.args[0].input);
    expect(calls[0]).toMatchObject({
      LookupAttributes: [{ AttributeKey: 'Username', AttributeValue: `bg-${GRANT}` }],
      StartTime: new Date('2026-11-24T10:00:00Z'),
      EndTime: new Date('2026-11-24T10:45:00Z'),
      MaxResults: 50,
    });
    expect(calls.map((x) => x.NextToken)).toEqual([undefined, 'p2', 'p2', 'p3']);
    for (let i = 1; i < c.requests.length; i++)
      expect(c.requests[i]! - c.requests[i - 1]!).toBeGreaterThanOrEqual(LOOKUP_SPACING_MS);
    expect(answer.activity.map((r) => [r.eventTime, r.action, r.afterEnd])).toEqual([
      ['2026-11-24T10:40:00Z', 'StopInstances', true],
      ['2026-11-24T10:07:00Z', 'CreateUser', false],
      ['2026-11-24T10:05:00Z', 'GetObject', false],
    ]);
    expect(answer.summary).toMatchObject({ calls: 3, writes: 2, denied: 1, afterEnd: 1, afterEndAllowed: 1 });
  });

  it("caller mode looks up the requester's own session name and keeps only its aws:userid", () => {
    const sso = assumedRoleIdentity(ssoSession);
    expect(
      sessionOfGrant({ ...grant, principalArn: sso.arn, targetName: ssoSession.role, sessionUserId: sso.principalId }),
    ).toEqual({ session: 'alice@example.com', mode: 'userid' });
    expect(sessionOfGrant(grant)).toEqual({ session: `bg-${GRANT}`, mode: 'session' });
  });

  it('prints the same table from CloudTrail as from the API', async () => {
    const mine = assumedRoleIdentity(profileSession(GRANT));
    trail.on(LookupEventsCommand).resolves({
      Events: [asEvent(stopInstances(mine, '2026-11-24T10:40:00Z')), asEvent(getObject(mine, '2026-11-24T10:05:00Z'))],
    });
    const answer = await activityFromCloudTrail(grant, {
      regions: ['us-east-1'],
      now: clock().now,
      sleep: async () => {},
      clientFor: (region) => new CloudTrailClient({ region }),
    });
    vi.stubGlobal('fetch', async (url: URL) => {
      const path = new URL(url).pathname;
      const body = path.endsWith('/activity')
        ? { activity: answer.activity, summary: answer.summary }
        : { grant, events: [] };
      return new Response(JSON.stringify(body), { status: 200 });
    });
    const outputs: Record<string, string[]> = { api: [], trail: [] };
    const io = (into: string[]) => ({
      out: (t: string) => void into.push(t),
      err: () => {},
      isTTY: false,
      now: clock().now,
      sleep: async () => {},
      env: { BREAKGLASS_CONFIG: '/nonexistent' },
    });
    const base = ['--endpoint', 'http://127.0.0.1:9/', '--principal', grant.principalArn];
    expect(await run(['activity', GRANT, ...base], io(outputs.api!))).toBe(0);
    expect(
      await run(['activity', GRANT, '--from-cloudtrail', '--regions', 'us-east-1', ...base], io(outputs.trail!)),
    ).toBe(0);
    const table = (lines: string[]) => lines.join('\n').split('\n').slice(1); // the first line names the source
    expect(table(outputs.trail!)).toEqual(table(outputs.api!));
    expect(outputs.api!.join('\n')).toMatch(
      /2026-11-24T10:40:00Z\s+ec2:StopInstances\s+W\s+OK\s+-\s+AFTER END, ALLOWED/,
    );
    expect(outputs.api!.join('\n')).toMatch(
      /Summary: 2 call\(s\), 1 write\(s\), 0 denied, 1 after the end \(1 allowed\)/,
    );
  });

  it('has --help, and asks for a region rather than guessing one (event history is per Region)', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const io = {
      out: (t: string) => void out.push(t),
      err: (t: string) => void err.push(t),
      isTTY: false,
      now: () => 0,
      sleep: async () => {},
      env: { BREAKGLASS_CONFIG: '/nonexistent' },
    };
    expect(await run(['activity', '--help'], io)).toBe(0);
    expect(out.join('\n')).toMatch(/^Usage: breakglass activity/);
    vi.stubGlobal('fetch', async () => new Response(JSON.stringify({ grant, events: [] }), { status: 200 }));
    expect(
      await run(
        [
          'activity',
          GRANT,
          '--from-cloudtrail',
          '--endpoint',
          'http://127.0.0.1:9/',
          '--principal',
          grant.principalArn,
        ],
        io,
      ),
    ).toBe(2);
    expect(err.join('\n')).toMatch(/--from-cloudtrail needs a region/);
  });
});
