/**
 * DENIED attempts are all recorded, but their alerts are rate-limited per caller: the first,
 * then at most one per window, which counts those held back. One caller's flood never
 * silences alerts about another, nor about anything but DENIED.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { ALICE, ALICE_ID, fakePorts, MALLORY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const reason = 'orders API returns 500s, need logs';
const mallory = { arn: MALLORY, userId: 'AROAEXAMPLEINTERN123:mallory' };
const eve = { arn: 'arn:aws:sts::123456789012:assumed-role/Intern/eve', userId: 'AROAEXAMPLEINTERN123:eve' };

async function deny(ports: ReturnType<typeof fakePorts>, caller = mallory): Promise<string> {
  const error = await activateGrant(ports, profiles, {
    caller,
    body: { profile: 'demo', reason, durationMinutes: 30 },
  }).catch((e) => e);
  return error.grantId;
}

const denials = (ports: ReturnType<typeof fakePorts>) =>
  ports.notifier.alerts.filter((a) => a.attributes.eventType === 'DENIED');

describe('rate limit on DENIED alerts', () => {
  it('records every attempt, announces the first, and counts the rest in the next alert after the window', async () => {
    // Prepare
    const ports = fakePorts();
    // Act: a burst of 20 inside one window
    const ids: string[] = [];
    for (let i = 0; i < 20; i++) {
      ids.push(await deny(ports));
      ports.clock.advance(5_000);
    }
    // Assess: all 20 recorded, 1 announced, the other 19 marked as not announced
    expect(ids.map((id) => ports.store.grants.get(id)!.status)).toEqual(Array(20).fill('DENIED'));
    expect(denials(ports)).toHaveLength(1);
    expect(denials(ports)[0]!.body).toMatch(/^Limit: {6}one DENIED alert per caller and profile per 5 min/m);
    expect(ports.store.eventLog.get(ids[0]!)![0]!.details).toEqual({
      why: expect.any(String),
      alertWindowSeconds: '300',
    });
    for (const id of ids.slice(1))
      expect(ports.store.eventLog.get(id)![0]!.details!.alert).toMatch(/^not announced: rate limit/);

    // Act: the window has passed since the first alert (20 × 5 s = 100 s; 200 s more)
    ports.clock.advance(200_000);
    const next = await deny(ports);
    // Assess: one summary alert counting the 19
    expect(denials(ports)).toHaveLength(2);
    const summary = denials(ports)[1]!;
    expect(summary.subject).toMatch(/was DENIED demo for 30m \(\+19 more\)/);
    expect(summary.body).toContain(
      'Suppressed: 19 more denied attempt(s) by this caller on this profile since 2026-11-24T10:00:00.000Z',
    );
    expect(ports.store.eventLog.get(next)![0]!.details).toMatchObject({
      alertsSuppressed: '19',
      suppressedSince: '2026-11-24T10:00:00.000Z',
    });
    expect((summary.machine as { details: Record<string, string> }).details.alertsSuppressed).toBe('19');

    // And the window restarts at the summary.
    ports.clock.advance(1_000);
    await deny(ports);
    expect(denials(ports)).toHaveLength(2);
  });

  it("never lets one caller's flood hold back alerts about another caller, or other alerts", async () => {
    const ports = fakePorts();
    for (let i = 0; i < 10; i++) await deny(ports, mallory);
    await deny(ports, eve);
    const { grant } = await activateGrant(ports, profiles, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason },
    });
    expect(denials(ports).map((a) => a.attributes.principal)).toEqual([MALLORY, eve.arn]);
    expect(
      ports.notifier.alerts.filter((a) => a.attributes.eventType === 'ACTIVATED').map((a) => a.attributes.grantId),
    ).toEqual([grant.id]);
  });

  it('keys on the authenticated ARN and the deployed profile only, not on anything else in the body', async () => {
    const ports = fakePorts();
    await deny(ports, mallory);
    // Varying the reason, ticket or duration does not earn a fresh alert.
    await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'demo', reason: 'something else entirely', ticket: 'INC-9', durationMinutes: 5 },
    }).catch(() => undefined);
    expect(denials(ports)).toHaveLength(1);
    // Another profile does (a decoy on one profile must not silence a denial on another).
    await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'db', reason: 'something else entirely', ticket: 'INC-9' },
    }).catch(() => undefined);
    expect(denials(ports).map((a) => a.attributes.profile)).toEqual(['demo', 'db']);
    // A profile that is not deployed is refused before any denial is recorded, so it mints no key.
    await activateGrant(ports, profiles, { caller: mallory, body: { profile: 'no-such-profile', reason } }).catch(
      () => undefined,
    );
    expect([...ports.alertLimiter.state.keys()].sort()).toEqual([`denied/${MALLORY}/db`, `denied/${MALLORY}/demo`]);
  });

  it('announces every attempt if the limiter cannot answer (fails open)', async () => {
    const ports = fakePorts();
    ports.alertLimiter.fail = new Error('DynamoDB throttled');
    await deny(ports);
    await deny(ports);
    expect(denials(ports)).toHaveLength(2);
    expect(ports.store.grants.size).toBe(2);
  });

  it('announces a held-back attempt anyway when it could not be recorded', async () => {
    const ports = fakePorts();
    await deny(ports);
    ports.store.failNext.create = new Error('DynamoDB unavailable');
    await deny(ports);
    expect(ports.store.grants.size).toBe(1);
    expect(denials(ports)).toHaveLength(2);
  });

  it('applies to denials by a freeze too (eligible callers)', async () => {
    const ports = fakePorts();
    ports.control.state = { all: true, profiles: [], version: 1, by: 'sec', reason: 'incident' };
    const alice = { arn: ALICE, userId: ALICE_ID };
    for (let i = 0; i < 3; i++)
      await activateGrant(ports, profiles, { caller: alice, body: { profile: 'demo', reason } }).catch(() => undefined);
    expect(ports.store.grants.size).toBe(3);
    expect(denials(ports)).toHaveLength(1);
  });
});
