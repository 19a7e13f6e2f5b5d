import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import {
  NotEligibleError,
  ProfileNotFoundError,
  StepFailedError,
  UnauthenticatedError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { ALICE, ALICE_ID, fakePorts, MALLORY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const body = (extra: Record<string, unknown> = {}) => ({
  profile: 'demo',
  reason: 'orders API returns 500s, need logs',
  durationMinutes: 30,
  ...extra,
});
const alice = { arn: ALICE, userId: ALICE_ID };

describe('activateGrant', () => {
  it('records, attaches, schedules, activates and announces', async () => {
    // Prepare
    const ports = fakePorts();
    // Act
    const { grant, warnings } = await activateGrant(ports, profiles, {
      caller: alice,
      body: body(),
      requestId: 'req-1',
    });
    // Assess
    expect(grant).toMatchObject({
      status: 'ACTIVE',
      profile: 'demo',
      principalArn: ALICE,
      targetType: 'role',
      targetName: 'Responder',
      expiresAt: '2026-11-24T10:30:00Z',
      policyName: `breakglass-${grant.id}`,
    });
    expect(warnings).toEqual([]);
    const policy = JSON.parse(ports.access.policies.get(`role/Responder/breakglass-${grant.id}`)!);
    expect(policy.Statement[0].Condition).toEqual({
      DateLessThan: { 'aws:CurrentTime': '2026-11-24T10:30:00Z' },
      StringLike: { 'aws:userid': ALICE_ID },
    });
    expect(ports.scheduler.schedules.get(grant.id)).toEqual({ expiresAt: '2026-11-24T10:30:00Z', grantId: grant.id });
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED']);
    expect(ports.store.eventLog.get(grant.id)![0]).toMatchObject({
      actor: ALICE,
      requestId: 'req-1',
      reason: 'orders API returns 500s, need logs',
    });
    expect(ports.notifier.alerts.map((a) => a.attributes.eventType)).toEqual(['ACTIVATED']);
    expect(ports.notifier.alerts[0]!.subject).toBe(
      '[break-glass WARNING] alice activated demo for 30m: orders API returns 500s, need logs',
    );
  });

  it('defaults the duration to an hour, capped by the profile maximum', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, {
      caller: alice,
      body: body({ durationMinutes: undefined, profile: 'db', ticket: 'INC-1' }),
    });
    expect(grant.durationMinutes).toBe(30);
  });

  it('returns 403, records and announces DENIED when the caller is not eligible', async () => {
    const ports = fakePorts();
    const error = await activateGrant(ports, profiles, {
      caller: { arn: MALLORY, userId: 'AROAM:mallory' },
      body: body(),
    }).catch((e) => e);
    expect(error).toBeInstanceOf(NotEligibleError);
    expect(error.statusCode).toBe(403);
    const denied = ports.store.grants.get(error.grantId)!;
    expect(denied).toMatchObject({ status: 'DENIED', principalArn: MALLORY, profile: 'demo' });
    expect(ports.store.types(denied.id)).toEqual(['DENIED']);
    expect(ports.notifier.alerts[0]!.attributes).toMatchObject({
      eventType: 'DENIED',
      severity: 'WARNING',
      principal: MALLORY,
    });
    expect(ports.access.policies.size).toBe(0);
  });

  it('denies a root or federated caller the same way', async () => {
    const ports = fakePorts();
    await expect(
      activateGrant(ports, profiles, { caller: { arn: 'arn:aws:iam::123456789012:root' }, body: body() }),
    ).rejects.toBeInstanceOf(NotEligibleError);
    expect([...ports.store.grants.values()][0]!.status).toBe('DENIED');
  });

  it.each([
    [{ profile: 'nope' }, ProfileNotFoundError, /No profile named "nope"/],
    [{ reason: '  short   ' }, ValidationError, /at least 10 characters/],
    [{ reason: 'aaaaaaaaaaaaaaaa' }, ValidationError, /not repeat a few characters/],
    [{ reason: `${'x'.repeat(1001)}abcd` }, ValidationError, /at most 1000/],
    [{ durationMinutes: 0 }, ValidationError, /between 1 and 120/],
    [{ durationMinutes: 121 }, ValidationError, /between 1 and 120/],
    [{ durationMinutes: 1.5 }, ValidationError, /whole number/],
    [{ durationMinutes: '30' }, ValidationError, /durationMinutes must be a number/],
    [{ profile: 'db' }, ValidationError, /requires a ticket matching/],
    [{ profile: 'db', ticket: 'JIRA-1', durationMinutes: 10 }, ValidationError, /ticket must match/],
    [{ principal: ALICE }, ValidationError, /unknown field\(s\): "principal"/],
  ] as const)('rejects %j with a clear 4xx', async (extra, type, message) => {
    const ports = fakePorts();
    const error = await activateGrant(ports, profiles, { caller: alice, body: body(extra) }).catch((e) => e);
    expect(error).toBeInstanceOf(type);
    expect(error.statusCode).toBeGreaterThanOrEqual(400);
    expect(error.statusCode).toBeLessThan(500);
    expect(error.message).toMatch(message);
    expect(ports.store.grants.size).toBe(0);
    expect(ports.access.policies.size).toBe(0);
  });

  it('refuses an assumed-role caller whose session id is missing or does not match the ARN', async () => {
    const ports = fakePorts();
    await expect(activateGrant(ports, profiles, { caller: { arn: ALICE }, body: body() })).rejects.toBeInstanceOf(
      UnauthenticatedError,
    );
    await expect(
      activateGrant(ports, profiles, { caller: { arn: ALICE, userId: 'AROAEXAMPLE:bob' }, body: body() }),
    ).rejects.toBeInstanceOf(UnauthenticatedError);
    expect(ports.access.policies.size).toBe(0);
  });

  it('attaches to the user itself, without a session guard, for an IAM user', async () => {
    const ports = fakePorts();
    const set = testProfiles({ eligible: ['arn:aws:iam::123456789012:user/bob'] });
    const { grant } = await activateGrant(ports, set, {
      caller: { arn: 'arn:aws:iam::123456789012:user/bob', userId: 'AIDABOB' },
      body: body(),
    });
    const policy = JSON.parse(ports.access.policies.get(`user/bob/${grant.policyName}`)!);
    expect(policy.Statement[0].Condition.StringLike).toBeUndefined();
  });

  it('rolls back and records FAILED when the attach fails', async () => {
    const ports = fakePorts();
    ports.access.failAttach = Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    const error = await activateGrant(ports, profiles, { caller: alice, body: body() }).catch((e) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.code).toBe('AttachPolicyFailed');
    const [grant] = [...ports.store.grants.values()];
    expect(grant!.status).toBe('FAILED');
    expect(ports.store.types(grant!.id)).toEqual(['REQUESTED', 'ACTIVATION_FAILED']);
    expect(ports.store.eventLog.get(grant!.id)![1]!.details).toMatchObject({
      step: 'AttachPolicy',
      error: 'Throttling: Rate exceeded',
    });
    expect(ports.scheduler.schedules.size).toBe(0);
    expect(ports.notifier.alerts.map((a) => a.attributes.eventType)).toEqual(['ACTIVATION_FAILED']);
  });

  it('detaches the policy and records FAILED when the schedule cannot be created', async () => {
    const ports = fakePorts();
    ports.scheduler.failSchedule = new Error('scheduler down');
    const error = await activateGrant(ports, profiles, { caller: alice, body: body() }).catch((e) => e);
    expect(error.code).toBe('ScheduleExpiryFailed');
    expect(ports.access.policies.size).toBe(0);
    const [grant] = [...ports.store.grants.values()];
    expect(grant!.status).toBe('FAILED');
    expect(ports.notifier.alerts.map((a) => a.attributes.eventType)).toEqual(['ACTIVATION_FAILED']);
  });

  it('records ROLLBACK_FAILED, critically, when the policy cannot be taken back', async () => {
    const ports = fakePorts();
    ports.scheduler.failSchedule = new Error('scheduler down');
    ports.access.failDetach = new Error('iam down');
    await activateGrant(ports, profiles, { caller: alice, body: body() }).catch(() => undefined);
    const [grant] = [...ports.store.grants.values()];
    expect(ports.store.types(grant!.id)).toEqual(['REQUESTED', 'ACTIVATION_FAILED', 'ROLLBACK_FAILED']);
    expect(ports.notifier.alerts.map((a) => a.attributes.severity)).toEqual(['WARNING', 'CRITICAL']);
  });

  it('withdraws the access when the activation cannot be recorded', async () => {
    const ports = fakePorts();
    ports.store.failNext.append = new Error('DynamoDB unavailable');
    const error = await activateGrant(ports, profiles, { caller: alice, body: body() }).catch((e) => e);
    expect(error.code).toBe('RecordActivationFailed');
    expect(ports.access.policies.size).toBe(0);
    expect(ports.scheduler.schedules.size).toBe(0);
    const [grant] = [...ports.store.grants.values()];
    expect(grant!.status).toBe('FAILED');
  });

  it('keeps the access but warns and records ALERT_FAILED when SNS refuses', async () => {
    const ports = fakePorts();
    ports.notifier.fail = new Error('sns down');
    const { grant, warnings } = await activateGrant(ports, profiles, { caller: alice, body: body() });
    expect(grant.status).toBe('ACTIVE');
    expect(warnings[0]).toMatch(/security has not been notified/);
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'ALERT_FAILED']);
  });
});
