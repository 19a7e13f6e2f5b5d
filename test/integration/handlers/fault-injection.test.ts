/**
 * Fault injection: each AWS call of activation, extension, revocation and expiry fails (server
 * error, throttle or timeout) through a proxy in front of moto, and the invariants are checked
 * on the emulator's state afterwards:
 * - no policy attached without a record; no ACTIVE record without a policy and a schedule;
 * - no event lost (every failure is an event); an alert for every failure;
 * - the API answers with a clear error, never a bare 500.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { ENV } from '../../../functions/config/env.js';
import {
  apiEvent,
  inlinePolicies,
  parse,
  publishedMessages,
  schedules,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';
import { type FaultProxy, type FaultRule, startFaultProxy } from '../../support/fault-proxy.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let proxy: FaultProxy;
let create: Api, revoke: Api, extend: Api;
let expire: (event: { grantId: string }, context: Context) => Promise<{ outcome: string }>;
const ctx = {} as Context;
let n = 0;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  proxy = await startFaultProxy(world.endpoint);
  // The handlers go through the proxy, with short timeouts; assertions read moto directly.
  process.env.AWS_ENDPOINT_URL = proxy.endpoint;
  process.env[ENV.awsTimeoutMs] = '2000'; // wide of any real call here, even on a starved machine; held calls still time out
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler;
  extend = (await import('../../../functions/handlers/extend-grant.js')).handler;
  expire = (await import('../../../functions/handlers/expire-grant.js')).handler;
});
afterEach(() => {
  proxy.clear();
  vi.useRealTimers();
});
afterAll(async () => proxy?.close());

async function activate(minutes = 20) {
  const identity = await sessionOf(world, world.responderRole, `s${++n}`);
  const res = await create(
    apiEvent({
      identity,
      body: { profile: 'demo', reason: 'fault injection: orders API is down', durationMinutes: minutes },
    }),
    ctx,
  );
  return { res, identity };
}

/** The invariants, on moto's state, for every grant this test world holds. */
async function assertInvariants(): Promise<void> {
  const policies = await inlinePolicies(world, { role: world.responderRole });
  const liveSchedules = new Set((await schedules(world)).map((s) => s.Name));
  const grantIds = new Set<string>();
  for (const name of Object.keys(policies)) {
    const id = name.replace('breakglass-', '');
    grantIds.add(id);
    const grant = (await tableItems(world, id)).find((i) => i.sk === 'GRANT');
    expect(grant, `policy ${name} has no record`).toBeDefined();
  }
  const active = await world.ddb.send(
    new (await import('@aws-sdk/client-dynamodb')).QueryCommand({
      TableName: world.tableName,
      IndexName: 'byStatus',
      KeyConditionExpression: '#s = :a',
      ExpressionAttributeNames: { '#s': 'status' },
      ExpressionAttributeValues: { ':a': { S: 'ACTIVE' } },
    }),
  );
  for (const item of active.Items ?? []) {
    const id = item.id!.S!;
    expect(policies, `ACTIVE grant ${id} has no policy`).toHaveProperty(`breakglass-${id}`);
    expect(liveSchedules.has(id), `ACTIVE grant ${id} has no schedule`).toBe(true);
  }
}

async function eventsOf(id: string): Promise<string[]> {
  return (await tableItems(world, id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type);
}
const grantIdIn = (message: string) =>
  /Grant ([0-9a-f-]{36})/.exec(message)?.[1] ?? /grant ([0-9a-f-]{36})/.exec(message)?.[1];

describe('activation under faults', () => {
  const cases: Array<{ rule: FaultRule; code: string }> = [
    { rule: { action: 'iam:PutRolePolicy', mode: 'error' }, code: 'AttachPolicyFailed' },
    { rule: { action: 'iam:ListRolePolicies', mode: 'timeout' }, code: 'AttachPolicyFailed' },
    { rule: { action: 'scheduler:CreateSchedule', mode: 'error' }, code: 'ScheduleExpiryFailed' },
    { rule: { action: 'scheduler:CreateSchedule', mode: 'throttle' }, code: 'ScheduleExpiryFailed' },
    { rule: { action: 'scheduler:CreateSchedule', mode: 'timeout' }, code: 'ScheduleExpiryFailed' },
    // The ACTIVE write fails through every SDK attempt; DynamoDB still takes the FAILED record.
    {
      rule: { action: 'dynamodb:TransactWriteItems', mode: 'error', match: '{"S":"ACTIVATED"}' },
      code: 'RecordActivationFailed',
    },
  ];
  it.each(cases)(
    '$rule.action failing ($rule.mode) ends FAILED with nothing attached, recorded and announced',
    async ({ rule, code }) => {
      proxy.inject(rule);
      const { res } = await activate();
      proxy.clear();
      expect(res.statusCode).toBe(503);
      const error = parse(res).error;
      expect(error.code).toBe(code);
      const id = grantIdIn(error.message)!;
      expect((await tableItems(world, id)).find((i) => i.sk === 'GRANT')!.status).toBe('FAILED');
      expect(await eventsOf(id)).toEqual(['REQUESTED', 'ACTIVATION_FAILED']);
      expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(`breakglass-${id}`);
      expect(
        (await publishedMessages(world)).filter((m) => m.attributes.grantId === id).map((m) => m.attributes.eventType),
      ).toEqual(['ACTIVATION_FAILED']);
      await assertInvariants();
    },
  );

  it('retries IAM throttling with backoff and succeeds when it clears', async () => {
    proxy.inject({ action: 'iam:PutRolePolicy', mode: 'throttle', times: 2 });
    const { res } = await activate();
    expect(res.statusCode).toBe(201);
    expect(proxy.calls.filter((c) => c === 'iam:PutRolePolicy').length).toBeGreaterThanOrEqual(3);
    await assertInvariants();
  });

  it('keeps the access, warns and records ALERT_FAILED when SNS fails', async () => {
    proxy.inject({ action: 'sns:Publish', mode: 'error' });
    const { res } = await activate();
    expect(res.statusCode).toBe(201);
    const body = parse(res);
    expect(body.warnings[0]).toMatch(/security has not been notified/);
    expect(await eventsOf(body.grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'ALERT_FAILED']);
    await assertInvariants();
  });
});

describe('revocation, extension and expiry under faults', () => {
  it('revoke: a failed detach keeps the grant ACTIVE (503, REVOKE_FAILED); a failed schedule delete still revokes', async () => {
    const { res, identity } = await activate();
    const grant = parse(res).grant;
    proxy.inject({ action: 'iam:DeleteRolePolicy', mode: 'error' });
    const failed = await revoke(
      apiEvent({ identity, pathParameters: { id: grant.id }, body: { reason: 'done now' } }),
      ctx,
    );
    proxy.clear();
    expect(failed.statusCode).toBe(503);
    expect(parse(failed).error.code).toBe('DetachPolicyFailed');
    expect(await eventsOf(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'REVOKE_FAILED']);
    await assertInvariants();

    proxy.inject({ action: 'scheduler:DeleteSchedule', mode: 'timeout' });
    const ok = await revoke(
      apiEvent({ identity, pathParameters: { id: grant.id }, body: { reason: 'done now' } }),
      ctx,
    );
    expect(ok.statusCode).toBe(200);
    expect(await eventsOf(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'REVOKE_FAILED', 'REVOKED']);
    expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);
    expect((await expire({ grantId: grant.id }, ctx)).outcome).toBe('already-ended');
  });

  it.each([['iam:PutRolePolicy'], ['scheduler:UpdateSchedule'], ['dynamodb:TransactWriteItems']])(
    'extend: %s failing keeps the old expiry everywhere and alerts',
    async (action) => {
      const { res, identity } = await activate();
      const grant = parse(res).grant;
      proxy.inject({ action, mode: 'error' });
      const failed = await extend(
        apiEvent({
          identity,
          pathParameters: { id: grant.id },
          body: { minutes: 10, reason: 'replication still catching up' },
        }),
        ctx,
      );
      proxy.clear();
      expect(failed.statusCode).toBe(503);
      expect((await tableItems(world, grant.id)).find((i) => i.sk === 'GRANT')!.expiresAt).toBe(grant.expiresAt);
      const policy = (await inlinePolicies(world, { role: world.responderRole }))[grant.policyName]!;
      expect(policy.Statement[0]!.Condition.DateLessThan['aws:CurrentTime']).toBe(grant.expiresAt);
      expect((await schedules(world)).find((s) => s.Name === grant.id)!.ScheduleExpression).toBe(
        `at(${grant.expiresAt.replace('Z', '')})`,
      );
      // With DynamoDB itself failing, the failure cannot be written to the table; the alert still goes out.
      expect((await eventsOf(grant.id)).at(-1)).toBe(action.startsWith('dynamodb:') ? 'ACTIVATED' : 'EXTEND_FAILED');
      expect(
        (await publishedMessages(world)).some(
          (m) => m.attributes.grantId === grant.id && m.attributes.eventType === 'EXTEND_FAILED',
        ),
      ).toBe(true);
      await assertInvariants();
    },
  );

  it('expiry: a failed detach is recorded (EXPIRY_FAILED, CRITICAL) and rethrown for a retry, which then succeeds', async () => {
    const { res } = await activate(1);
    const grant = parse(res).grant;
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.parse(grant.expiresAt) + 1000));
    proxy.inject({ action: 'iam:DeleteRolePolicy', mode: 'error' });
    await expect(expire({ grantId: grant.id }, ctx)).rejects.toThrow();
    proxy.clear();
    expect((await tableItems(world, grant.id)).find((i) => i.sk === 'GRANT')!.status).toBe('ACTIVE');
    expect(await eventsOf(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRY_FAILED']);
    expect(
      (await publishedMessages(world)).find(
        (m) => m.attributes.grantId === grant.id && m.attributes.eventType === 'EXPIRY_FAILED',
      )!.attributes.severity,
    ).toBe('CRITICAL');
    expect((await expire({ grantId: grant.id }, ctx)).outcome).toBe('expired');
    expect(await eventsOf(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRY_FAILED', 'EXPIRED']);
    expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);
  });
});
