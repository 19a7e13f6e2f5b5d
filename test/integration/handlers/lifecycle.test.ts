/**
 * The handlers, with real SDK clients, against moto over HTTP. Each test asserts the state
 * that results in IAM, DynamoDB, SNS and Scheduler, not merely that a call was made.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
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
  userIdentity,
} from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let create: Api, revoke: Api, getOne: Api, list: Api, profiles: Api;
let expire: (event: { grantId?: unknown }, context: Context) => Promise<{ outcome: string }>;
const ctx = {} as Context;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  // The handlers read the environment at import (cold start), so import after seeding.
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler;
  getOne = (await import('../../../functions/handlers/get-grant.js')).handler;
  list = (await import('../../../functions/handlers/list-grants.js')).handler;
  profiles = (await import('../../../functions/handlers/list-profiles.js')).handler;
  expire = (await import('../../../functions/handlers/expire-grant.js')).handler;
});

afterEach(() => vi.useRealTimers());

async function activate(session: string, body: Record<string, unknown> = {}) {
  const identity = await sessionOf(world, world.responderRole, session);
  const res = await create(
    apiEvent({
      identity,
      body: { profile: 'demo', reason: 'payments are timing out, need logs', durationMinutes: 15, ...body },
    }),
    ctx,
  );
  return { res, identity, grant: parse(res).grant };
}

describe('activation against the emulator', () => {
  it('attaches a guarded inline policy, records the grant and events, schedules expiry and publishes the alert', async () => {
    // Act
    const { res, identity, grant } = await activate('alice', { ticket: 'INC-42' });
    // Assess: the response
    expect(res.statusCode).toBe(201);
    expect(grant).toMatchObject({
      status: 'ACTIVE',
      profile: 'demo',
      principalArn: identity.userArn,
      ticket: 'INC-42',
      policyName: `breakglass-${grant.id}`,
    });
    // IAM: the policy on the role, with both guards
    const policies = await inlinePolicies(world, { role: world.responderRole });
    expect(policies[grant.policyName]!.Statement).toEqual([
      {
        Sid: 'ReadLogs',
        Effect: 'Allow',
        Action: ['s3:GetObject'],
        Resource: ['arn:aws:s3:::incident-logs/*'],
        Condition: {
          DateLessThan: { 'aws:CurrentTime': grant.expiresAt },
          StringLike: { 'aws:userid': identity.caller },
        },
      },
      // Self-protection closes every policy, bound to the same session: break-glass's metric namespace, then its resources.
      {
        Sid: 'BreakGlassMetricsProtection',
        Effect: 'Deny',
        Action: ['cloudwatch:PutMetricData'],
        Resource: ['*'],
        Condition: {
          StringEquals: { 'cloudwatch:namespace': 'BreakGlass' },
          StringLike: { 'aws:userid': identity.caller },
        },
      },
      {
        Sid: 'BreakGlassSelfProtection',
        Effect: 'Deny',
        Action: ['*'],
        Resource: world.protectedResources,
        Condition: { StringLike: { 'aws:userid': identity.caller } },
      },
    ]);
    // DynamoDB: the grant and its events
    const items = await tableItems(world, grant.id);
    expect(items.find((i) => i.sk === 'GRANT')).toMatchObject({
      status: 'ACTIVE',
      eventCount: 2,
      reason: 'payments are timing out, need logs',
    });
    expect(items.filter((i) => i.sk.startsWith('EVENT#')).map((i) => [i.seq, i.type, i.actor])).toEqual([
      [1, 'REQUESTED', identity.userArn],
      [2, 'ACTIVATED', identity.userArn],
    ]);
    // Scheduler: a one-time schedule at the expiry, deleting itself, with retries
    const schedule = (await schedules(world)).find((s) => s.Name === grant.id)!;
    expect(schedule).toMatchObject({
      ScheduleExpression: `at(${grant.expiresAt.replace('Z', '')})`,
      ScheduleExpressionTimezone: 'UTC',
      ActionAfterCompletion: 'DELETE',
      FlexibleTimeWindow: { Mode: 'OFF' },
      Target: {
        Arn: world.expiryFunctionArn,
        RoleArn: world.schedulerRoleArn,
        Input: JSON.stringify({ grantId: grant.id }),
        RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86400 },
      },
    });
    // SNS: a readable alert with filterable attributes
    const alert = (await publishedMessages(world)).find((m) => m.attributes.grantId === grant.id)!;
    expect(alert.subject).toBe(
      '[break-glass WARNING] alice activated demo for 15m: INC-42 payments are timing out, need logs',
    );
    expect(alert.attributes).toMatchObject({
      eventType: 'ACTIVATED',
      profile: 'demo',
      principal: identity.userArn,
      severity: 'WARNING',
    });
    expect(alert.message).toContain('payments are timing out, need logs');
    expect(alert.message).toContain(`Expires:    ${grant.expiresAt}`);
    expect(alert.message).toContain(`breakglass revoke ${grant.id}`);
    expect(alert.message.split('\n')[0]).toBe('Event:      ACTIVATED (WARNING)');
    expect(alert.forms.email).toBe(alert.message);
    expect(JSON.parse(alert.forms.https!)).toMatchObject({
      version: '1.0',
      source: 'custom',
      content: { textType: 'client-markdown', title: alert.subject },
    });
    expect(JSON.parse(alert.forms.sqs!)).toMatchObject({
      eventType: 'ACTIVATED',
      grant: { id: grant.id, ticket: 'INC-42', owner: 'platform@example.com' },
    });
    expect(alert.attributes.owner).toBe('platform@example.com');
  });

  it('attaches to an IAM user without a session guard', async () => {
    const identity = await userIdentity(world);
    const res = await create(
      apiEvent({
        identity,
        body: { profile: 'demo', reason: 'payments are timing out, need logs', durationMinutes: 5 },
      }),
      ctx,
    );
    expect(res.statusCode).toBe(201);
    const policies = await inlinePolicies(world, { user: world.user });
    const grant = parse(res).grant;
    expect(policies[grant.policyName]!.Statement[0]!.Condition).toEqual({
      DateLessThan: { 'aws:CurrentTime': grant.expiresAt },
    });
  });

  it('records and announces a denied attempt, and attaches nothing', async () => {
    const identity = await sessionOf(world, `Intern-${world.suffix}`, 'mallory');
    const res = await create(
      apiEvent({ identity, body: { profile: 'demo', reason: 'I would like to look around', durationMinutes: 5 } }),
      ctx,
    );
    expect(res.statusCode).toBe(403);
    expect(parse(res).error.code).toBe('NotEligible');
    expect(await inlinePolicies(world, { role: `Intern-${world.suffix}` })).toEqual({});
    const denied = parse(await list(apiEvent({ identity, query: { status: 'DENIED' } }), ctx)).grants;
    expect(denied.map((g: { principalArn: string }) => g.principalArn)).toContain(identity.userArn);
    const alert = (await publishedMessages(world)).find((m) => m.attributes.principal === identity.userArn)!;
    expect(alert.attributes).toMatchObject({ eventType: 'DENIED', severity: 'WARNING' });
    expect(alert.subject).toBe('[break-glass WARNING] mallory was DENIED demo for 5m: I would like to look around');
  });

  it.each([
    ['malformed JSON', { rawBody: '{"profile": ' }, 400, 'ValidationError'],
    ['an array body', { rawBody: '[]' }, 400, 'ValidationError'],
    ['no body', {}, 400, 'ValidationError'],
    ['a short reason', { body: { profile: 'demo', reason: 'help', durationMinutes: 5 } }, 400, 'ValidationError'],
    [
      'an unknown profile',
      { body: { profile: 'root', reason: 'payments are timing out', durationMinutes: 5 } },
      404,
      'ProfileNotFound',
    ],
    [
      'an oversized body',
      { rawBody: JSON.stringify({ profile: 'demo', reason: 'x'.repeat(20_000) }) },
      413,
      'PayloadTooLarge',
    ],
  ])('answers %s with a %d and a message, changing nothing', async (_name, input, status, code) => {
    const identity = await sessionOf(world, world.responderRole, 'carol');
    const before = Object.keys(await inlinePolicies(world, { role: world.responderRole })).length;
    const res = await create(apiEvent({ identity, ...input }), ctx);
    expect(res.statusCode).toBe(status);
    expect(parse(res).error).toMatchObject({ code, message: expect.any(String) });
    expect(res.body).not.toMatch(/\bat .*\.ts:\d+/);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).toHaveLength(before);
  });

  it('answers 401 when API Gateway reports no IAM principal', async () => {
    const res = await create(
      apiEvent({ identity: null, body: { profile: 'demo', reason: 'payments are timing out', durationMinutes: 5 } }),
      ctx,
    );
    expect(res.statusCode).toBe(401);
  });
});

describe('expiry against the emulator', () => {
  it('detaches the policy at expiry, marks EXPIRED, publishes, and a second delivery changes nothing', async () => {
    const { grant } = await activate('dave', { durationMinutes: 1 });
    // Scheduler fires at expiresAt: move the clock there.
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.parse(grant.expiresAt) + 1000));
    expect((await expire({ grantId: grant.id }, ctx)).outcome).toBe('expired');
    expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);
    const items = await tableItems(world, grant.id);
    expect(items.find((i) => i.sk === 'GRANT')).toMatchObject({ status: 'EXPIRED' });
    expect(items.filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'EXPIRED',
    ]);
    const alerts = (await publishedMessages(world)).filter((m) => m.attributes.grantId === grant.id);
    expect(alerts.map((a) => a.attributes.eventType)).toEqual(['ACTIVATED', 'EXPIRED']);

    expect((await expire({ grantId: grant.id }, ctx)).outcome).toBe('already-ended');
    expect(await tableItems(world, grant.id)).toHaveLength(items.length);
    expect((await publishedMessages(world)).filter((m) => m.attributes.grantId === grant.id)).toHaveLength(2);
  });

  it('rejects a malformed scheduler event', async () => {
    await expect(expire({ grantId: '../x' }, ctx)).rejects.toThrow(/grant id must be a UUID/);
  });
});

describe('revocation against the emulator', () => {
  it('lets the requester revoke: policy and schedule gone, REVOKED recorded and announced', async () => {
    const { grant, identity } = await activate('erin');
    const res = await revoke(
      apiEvent({ identity, pathParameters: { id: grant.id }, body: { reason: 'service restored' } }),
      ctx,
    );
    expect(res.statusCode).toBe(200);
    expect(parse(res).grant).toMatchObject({
      status: 'REVOKED',
      endedBy: identity.userArn,
      endReason: 'service restored',
    });
    expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);
    expect((await schedules(world)).map((s) => s.Name)).not.toContain(grant.id);
    expect((await tableItems(world, grant.id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'REVOKED',
    ]);
    expect(
      (await publishedMessages(world))
        .filter((m) => m.attributes.grantId === grant.id)
        .map((m) => m.attributes.eventType),
    ).toEqual(['ACTIVATED', 'REVOKED']);
    // The schedule is gone, but a late delivery would still be harmless.
    expect((await expire({ grantId: grant.id }, ctx)).outcome).toBe('already-ended');
  });

  it("lets security revoke anyone's grant and refuses a colleague with 403", async () => {
    const { grant } = await activate('frank');
    const colleague = await sessionOf(world, world.responderRole, 'grace');
    const refused = await revoke(
      apiEvent({ identity: colleague, pathParameters: { id: grant.id }, body: { reason: 'taking over' } }),
      ctx,
    );
    expect(refused.statusCode).toBe(403);
    expect(await inlinePolicies(world, { role: world.responderRole })).toHaveProperty(grant.policyName);

    const security = await sessionOf(world, world.securityRole, 'sam');
    const res = await revoke(
      apiEvent({
        identity: security,
        pathParameters: { id: grant.id },
        body: { reason: 'not justified by the incident' },
      }),
      ctx,
    );
    expect(res.statusCode).toBe(200);
    expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);

    const again = await revoke(
      apiEvent({ identity: security, pathParameters: { id: grant.id }, body: { reason: 'twice' } }),
      ctx,
    );
    expect(again.statusCode).toBe(409);
  });

  it('answers 400 for an id that is not a UUID and 404 for an unknown one', async () => {
    const identity = await sessionOf(world, world.responderRole, 'heidi');
    expect(
      (
        await revoke(
          apiEvent({ identity, pathParameters: { id: 'arn:aws:iam::1:role/x' }, body: { reason: 'done' } }),
          ctx,
        )
      ).statusCode,
    ).toBe(400);
    expect(
      (
        await revoke(
          apiEvent({
            identity,
            pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
            body: { reason: 'done' },
          }),
          ctx,
        )
      ).statusCode,
    ).toBe(404);
  });
});

describe('queries against the emulator', () => {
  it('returns a grant with its events oldest first', async () => {
    const { grant, identity } = await activate('ivan');
    const res = await getOne(apiEvent({ identity, pathParameters: { id: grant.id } }), ctx);
    expect(res.statusCode).toBe(200);
    const body = parse(res);
    expect(body.grant.id).toBe(grant.id);
    expect(body.events.map((e: { seq: number; type: string }) => [e.seq, e.type])).toEqual([
      [1, 'REQUESTED'],
      [2, 'ACTIVATED'],
    ]);
  });

  it('lists grants newest first, filtered by status, one page at a time', async () => {
    const identity = await sessionOf(world, world.responderRole, 'judy');
    const a = (await activate('judy')).grant;
    await new Promise((r) => setTimeout(r, 5));
    const b = (await activate('judy-2')).grant;
    const first = parse(await list(apiEvent({ identity, query: { status: 'active', limit: '1' } }), ctx));
    expect(first.grants.map((g: { id: string }) => g.id)).toEqual([b.id]);
    expect(first.nextToken).toEqual(expect.any(String));
    const second = parse(
      await list(apiEvent({ identity, query: { status: 'ACTIVE', limit: '1', nextToken: first.nextToken } }), ctx),
    );
    expect(second.grants.map((g: { id: string }) => g.id)).toEqual([a.id]);
    expect(second.grants.every((g: { status: string }) => g.status === 'ACTIVE')).toBe(true);

    const all = parse(await list(apiEvent({ identity, query: { limit: '100' } }), ctx)).grants as Array<{
      createdAt: string;
    }>;
    expect(all.map((g) => g.createdAt)).toEqual([...all.map((g) => g.createdAt)].sort().reverse());

    expect((await list(apiEvent({ identity, query: { status: 'BOGUS' } }), ctx)).statusCode).toBe(400);
    expect((await list(apiEvent({ identity, query: { nextToken: 'bm90LWEta2V5' } }), ctx)).statusCode).toBe(400);
    expect(
      (await list(apiEvent({ identity, query: { status: 'ACTIVE', nextToken: first.nextToken.slice(0, -2) } }), ctx))
        .statusCode,
    ).toBe(400);
    expect((await list(apiEvent({ identity, query: { limit: '0' } }), ctx)).statusCode).toBe(400);
  });

  it('lists only the profiles the caller may activate', async () => {
    const responder = await sessionOf(world, world.responderRole, 'kim');
    const intern = await sessionOf(world, `Intern-${world.suffix}`, 'leo');
    expect(
      parse(await profiles(apiEvent({ identity: responder }), ctx)).profiles.map((p: { name: string }) => p.name),
    ).toEqual(['demo', 'db']);
    expect(parse(await profiles(apiEvent({ identity: intern }), ctx)).profiles).toEqual([]);
  });
});

describe('extension and kill switch against the emulator', () => {
  let extend: Api, killSwitch: Api;
  beforeAll(async () => {
    extend = (await import('../../../functions/handlers/extend-grant.js')).handler;
    killSwitch = (await import('../../../functions/handlers/kill-switch.js')).handler;
  });
  const route = (method: string, resource: string, event: APIGatewayProxyEvent) => ({
    ...event,
    httpMethod: method,
    resource,
  });

  it('extends: the policy condition, the schedule and the record move together', async () => {
    const { grant, identity } = await activate('mona', { durationMinutes: 10 });
    const res = await extend(
      apiEvent({
        identity,
        pathParameters: { id: grant.id },
        body: { minutes: 15, reason: 'replication still catching up' },
      }),
      ctx,
    );
    expect(res.statusCode).toBe(200);
    const extended = parse(res).grant;
    expect(Date.parse(extended.expiresAt) - Date.parse(grant.expiresAt)).toBe(15 * 60_000);
    const policy = (await inlinePolicies(world, { role: world.responderRole }))[grant.policyName]!;
    expect(policy.Statement[0]!.Condition.DateLessThan['aws:CurrentTime']).toBe(extended.expiresAt);
    const schedule = (await schedules(world)).find((s) => s.Name === grant.id)!;
    expect(schedule.ScheduleExpression).toBe(`at(${extended.expiresAt.replace('Z', '')})`);
    expect(schedule.Target?.Input).toBe(JSON.stringify({ grantId: grant.id }));
    expect((await tableItems(world, grant.id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'EXTENDED',
    ]);
  });

  it('freezes a profile (423 for activations, recorded), then revokes everything and unfreezes', async () => {
    const security = await sessionOf(world, world.securityRole, 'sam');
    const responder = await sessionOf(world, world.responderRole, 'nina');
    const refused = await killSwitch(
      route('POST', '/freeze', apiEvent({ identity: responder, body: { reason: 'I want to freeze' } })),
      ctx,
    );
    expect(refused.statusCode).toBe(403);

    const frozen = await killSwitch(
      route('POST', '/freeze', apiEvent({ identity: security, body: { profile: 'demo', reason: 'suspected misuse' } })),
      ctx,
    );
    expect(frozen.statusCode).toBe(200);
    expect(parse(frozen).freeze).toMatchObject({ all: false, profiles: ['demo'] });
    const attempt = await create(
      apiEvent({
        identity: responder,
        body: { profile: 'demo', reason: 'payments are timing out, need logs', durationMinutes: 5 },
      }),
      ctx,
    );
    expect(attempt.statusCode).toBe(423);
    expect(parse(attempt).error.code).toBe('Frozen');
    const alerts = await publishedMessages(world);
    expect(alerts.some((m) => m.attributes.eventType === 'FROZEN' && m.attributes.severity === 'CRITICAL')).toBe(true);
    expect(
      alerts.some((m) => m.attributes.eventType === 'DENIED' && m.attributes.principal === responder.userArn),
    ).toBe(true);

    const all = await killSwitch(
      route('POST', '/revoke-all', apiEvent({ identity: security, body: { reason: 'containment' } })),
      ctx,
    );
    expect(all.statusCode).toBe(200);
    expect(parse(all).failed).toBe(0);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).toEqual([]);
    const active = parse(await list(apiEvent({ identity: security, query: { status: 'ACTIVE' } }), ctx)).grants;
    expect(active).toEqual([]);

    const unfrozen = await killSwitch(
      route('POST', '/unfreeze', apiEvent({ identity: security, body: { profile: 'demo', reason: 'review done' } })),
      ctx,
    );
    expect(parse(unfrozen).freeze.profiles).toEqual([]);
    expect(
      (
        await create(
          apiEvent({
            identity: responder,
            body: { profile: 'demo', reason: 'payments are timing out, need logs', durationMinutes: 5 },
          }),
          ctx,
        )
      ).statusCode,
    ).toBe(201);
  });
});
