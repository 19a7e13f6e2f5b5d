import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { composeAlert } from '../../../functions/domain/alert.js';
import {
  ForbiddenError,
  FrozenError,
  LimitExceededError,
  StepFailedError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { revokeAll, setFreeze } from '../../../functions/domain/kill-switch.js';
import { ALICE, ALICE_ID, BOB, BOB_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const security = ['arn:aws:iam::123456789012:role/Security'];
const profiles = testProfiles({ maxDurationMinutes: 60, maxTotalMinutes: 90, maxExtensions: 2 });
const reason = 'checkout is failing for all users';
const alice = { arn: ALICE, userId: ALICE_ID };

async function activated(minutes = 30) {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: alice,
    body: { profile: 'demo', reason, durationMinutes: minutes },
  });
  return { ports, grant };
}

describe('extendGrant', () => {
  it('moves the policy condition, the schedule and the record together, and announces', async () => {
    const { ports, grant } = await activated();
    const extended = await extendGrant(ports, profiles, {
      grantId: grant.id,
      caller: alice,
      body: { minutes: 20, reason: 'failover still running, need more time' },
    });
    expect(extended).toMatchObject({
      expiresAt: '2026-11-24T10:50:00Z',
      extensions: 1,
      durationMinutes: 50,
      status: 'ACTIVE',
    });
    const policy = JSON.parse(ports.access.policies.get(`role/Responder/${grant.policyName}`)!);
    expect(policy.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe('2026-11-24T10:50:00Z');
    expect(policy.Statement[0].Condition.StringLike['aws:userid']).toBe(ALICE_ID);
    expect(ports.scheduler.schedules.get(grant.id)!.expiresAt).toBe('2026-11-24T10:50:00Z');
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXTENDED']);
    const attached = ports.access.policies.get(`role/Responder/${grant.policyName}`)!;
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details).toEqual({
      from: '2026-11-24T10:30:00Z',
      to: '2026-11-24T10:50:00Z',
      minutes: '20',
      policySha256: createHash('sha256').update(attached).digest('hex'),
    });
    expect(extended.policyDocument).toBe(attached);
    expect(ports.notifier.alerts.at(-1)!.attributes.eventType).toBe('EXTENDED');
  });

  it('refuses to go past the profile total, saying how much room is left', async () => {
    const { ports, grant } = await activated(60);
    await expect(
      extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: alice,
        body: { minutes: 31, reason: 'failover still running, need more time' },
      }),
    ).rejects.toThrowError(/at most 30 more minute/);
    expect(ports.scheduler.schedules.get(grant.id)!.expiresAt).toBe('2026-11-24T11:00:00Z');
  });

  it('refuses more extensions than the profile allows', async () => {
    const { ports, grant } = await activated(10);
    const body = { minutes: 5, reason: 'failover still running, need more time' };
    await extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body });
    await extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body });
    await expect(extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body })).rejects.toBeInstanceOf(
      LimitExceededError,
    );
  });

  it('lets only the requester extend, only while ACTIVE and not in the last seconds', async () => {
    const { ports, grant } = await activated();
    const body = { minutes: 5, reason: 'failover still running, need more time' };
    await expect(
      extendGrant(ports, profiles, { grantId: grant.id, caller: { arn: BOB, userId: BOB_ID }, body }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    ports.clock.advance(30 * 60_000 - 10_000);
    await expect(extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body })).rejects.toThrowError(
      /too soon to extend/,
    );
    await expect(
      extendGrant(ports, profiles, { grantId: grant.id, caller: alice, body: { minutes: 0, reason: 'x' } }),
    ).rejects.toBeInstanceOf(ValidationError);
  });

  it('restores the old policy when the schedule cannot be moved', async () => {
    const { ports, grant } = await activated();
    ports.scheduler.failReschedule = new Error('scheduler down');
    const error = await extendGrant(ports, profiles, {
      grantId: grant.id,
      caller: alice,
      body: { minutes: 10, reason: 'failover still running, need more time' },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    const policy = JSON.parse(ports.access.policies.get(`role/Responder/${grant.policyName}`)!);
    expect(policy.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe('2026-11-24T10:30:00Z');
    expect(ports.store.grants.get(grant.id)!.expiresAt).toBe('2026-11-24T10:30:00Z');
    expect(ports.store.types(grant.id).at(-1)).toBe('EXTEND_FAILED');
  });

  it('puts the old expiry back everywhere when the record cannot be written', async () => {
    const { ports, grant } = await activated();
    ports.store.failNext.append = new Error('DynamoDB unavailable');
    await expect(
      extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: alice,
        body: { minutes: 10, reason: 'failover still running, need more time' },
      }),
    ).rejects.toBeInstanceOf(StepFailedError);
    expect(ports.scheduler.schedules.get(grant.id)!.expiresAt).toBe('2026-11-24T10:30:00Z');
    expect(
      JSON.parse(ports.access.policies.get(`role/Responder/${grant.policyName}`)!).Statement[0].Condition.DateLessThan[
        'aws:CurrentTime'
      ],
    ).toBe('2026-11-24T10:30:00Z');
  });
});

describe('kill switch', () => {
  it('freezes one profile: activations get 423, are recorded and announced, other profiles still work', async () => {
    const ports = fakePorts();
    const state = await setFreeze(
      ports,
      profiles,
      security,
      { caller: { arn: SECURITY }, body: { profile: 'demo', reason: 'suspected credential leak' } },
      true,
    );
    expect(state).toMatchObject({ all: false, profiles: ['demo'], by: SECURITY, version: 1 });
    expect(ports.notifier.alerts.at(-1)!.attributes).toMatchObject({
      eventType: 'FROZEN',
      severity: 'CRITICAL',
      profile: 'demo',
    });
    const error = await activateGrant(ports, profiles, { caller: alice, body: { profile: 'demo', reason } }).catch(
      (e) => e,
    );
    expect(error).toBeInstanceOf(FrozenError);
    expect(error.statusCode).toBe(423);
    expect(ports.store.grants.get(error.grantId)!.status).toBe('DENIED');
    expect(ports.notifier.alerts.at(-1)!.attributes.eventType).toBe('DENIED');
    expect(ports.access.policies.size).toBe(0);
    const db = await activateGrant(ports, profiles, {
      caller: alice,
      body: { profile: 'db', reason, ticket: 'INC-1' },
    });
    expect(db.grant.status).toBe('ACTIVE');
  });

  it('freezes everything, and unfreezes', async () => {
    const ports = fakePorts();
    await setFreeze(
      ports,
      profiles,
      security,
      { caller: { arn: SECURITY }, body: { reason: 'incident under review' } },
      true,
    );
    await expect(
      activateGrant(ports, profiles, { caller: alice, body: { profile: 'db', reason, ticket: 'INC-1' } }),
    ).rejects.toBeInstanceOf(FrozenError);
    await setFreeze(
      ports,
      profiles,
      security,
      { caller: { arn: SECURITY }, body: { reason: 'review complete' } },
      false,
    );
    expect(
      (await activateGrant(ports, profiles, { caller: alice, body: { profile: 'db', reason, ticket: 'INC-1' } })).grant
        .status,
    ).toBe('ACTIVE');
  });

  it('honours a freeze set by configuration', async () => {
    const ports = fakePorts();
    await expect(
      activateGrant(
        ports,
        profiles,
        { caller: alice, body: { profile: 'demo', reason } },
        { frozenByConfig: ['*'], maxActivePerPrincipal: 3, protectedResources: [] },
      ),
    ).rejects.toThrowError(/frozen by configuration/);
  });

  it('refuses the kill switch to anyone but security', async () => {
    const ports = fakePorts();
    await expect(
      setFreeze(ports, profiles, security, { caller: { arn: ALICE }, body: { reason: 'nope nope' } }, true),
    ).rejects.toBeInstanceOf(ForbiddenError);
    await expect(
      revokeAll(ports, security, { caller: { arn: ALICE }, body: { reason: 'nope nope' } }),
    ).rejects.toBeInstanceOf(ForbiddenError);
  });

  it('revokes every active grant and reports each result', async () => {
    const ports = fakePorts();
    const a = (await activateGrant(ports, profiles, { caller: alice, body: { profile: 'demo', reason } })).grant;
    const b = (
      await activateGrant(ports, profiles, { caller: { arn: BOB, userId: BOB_ID }, body: { profile: 'demo', reason } })
    ).grant;
    const results = await revokeAll(ports, security, { caller: { arn: SECURITY }, body: { reason: 'containment' } });
    expect(results.map((r) => [r.id, r.outcome]).sort()).toEqual(
      [
        [a.id, 'revoked'],
        [b.id, 'revoked'],
      ].sort(),
    );
    expect(ports.access.policies.size).toBe(0);
    expect(ports.store.grants.get(a.id)!.endReason).toBe('revoke-all: containment');
  });
});

describe('limits', () => {
  it('returns the existing grant instead of stacking a second policy', async () => {
    const { ports, grant } = await activated();
    const again = await activateGrant(ports, profiles, { caller: alice, body: { profile: 'demo', reason } });
    expect(again.existing).toBe(true);
    expect(again.grant.id).toBe(grant.id);
    expect(again.warnings[0]).toMatch(/extend/);
    expect(ports.access.policies.size).toBe(1);
  });

  it('caps active grants per profile and per principal', async () => {
    const capped = testProfiles({ maxActiveGrants: 1 });
    const ports = fakePorts();
    await activateGrant(ports, capped, { caller: alice, body: { profile: 'demo', reason } });
    await expect(
      activateGrant(ports, capped, { caller: { arn: BOB, userId: BOB_ID }, body: { profile: 'demo', reason } }),
    ).rejects.toThrowError(/already has 1 ACTIVE grants/);
    await expect(
      activateGrant(
        ports,
        capped,
        { caller: alice, body: { profile: 'db', reason, ticket: 'INC-2' } },
        { frozenByConfig: [], maxActivePerPrincipal: 1, protectedResources: [] },
      ),
    ).rejects.toThrowError(/You already hold 1 ACTIVE grants/);
  });
});

describe('MFA and alerts', () => {
  it('requires an MFA session, no older than the profile says, on every statement', async () => {
    const mfa = testProfiles({ mfa: { required: true, maxAgeSeconds: 3600 } });
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, mfa, { caller: alice, body: { profile: 'demo', reason } });
    const policy = JSON.parse(ports.access.policies.get(`role/Responder/${grant.policyName}`)!);
    expect(policy.Statement[0].Condition).toMatchObject({
      Bool: { 'aws:MultiFactorAuthPresent': 'true' },
      NumericLessThan: { 'aws:MultiFactorAuthAge': '3600' },
    });
  });

  it('writes an alert a person can act on, in text, chat and machine forms', async () => {
    const { grant } = await activated();
    const alert = composeAlert(
      { ...grant, ticket: 'INC-1234' },
      { type: 'ACTIVATED', at: grant.createdAt, actor: ALICE, outcome: 'SUCCESS' },
    );
    expect(alert.subject).toBe(
      '[break-glass WARNING] alice activated demo for 30m: INC-1234 checkout is failing for all users',
    );
    expect(alert.body).toContain('Grants:     Allow s3:GetObject on arn:aws:s3:::logs/*');
    expect(alert.body).toContain(`breakglass revoke ${grant.id}`);
    expect(alert.body).toContain('owner: platform@example.com');
    expect(alert.attributes.owner).toBe('platform@example.com');
    expect(alert.chat).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: alert.subject },
    });
    expect(alert.machine).toMatchObject({
      eventType: 'ACTIVATED',
      grant: { id: grant.id, owner: 'platform@example.com' },
    });
  });

  it('keeps control characters and newlines in a reason out of the subject', () => {
    const alert = composeAlert(
      {
        id: 'g',
        profile: 'demo',
        owner: 'o',
        principalArn: ALICE,
        targetType: 'role',
        targetName: 'R',
        status: 'ACTIVE',
        reason: 'line1\r\nSubject: fake\u0000 \u202e',
        durationMinutes: 5,
        createdAt: 'c',
        expiresAt: 'e',
        policyName: 'p',
        scheduleName: 's',
        version: 1,
        eventCount: 1,
      },
      { type: 'ACTIVATED', at: 'c', actor: ALICE, outcome: 'SUCCESS' },
    );
    expect(alert.subject).toMatch(/^[\x20-\x7e]+$/);
    expect(alert.subject.length).toBeLessThanOrEqual(100);
    expect(alert.body.split('\n').find((l) => l.startsWith('Reason:'))).toBe('Reason:     line1 Subject: fake');
  });
});
