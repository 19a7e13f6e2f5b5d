/**
 * Caller text against the emulator: lone surrogates and control characters are refused (400)
 * before anything is stored or published; a denied attempt keeps only a ticket its profile
 * accepts; alerts published to SNS carry caller text on one line; a freeze refuses extensions.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
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

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const ctx = {} as Context;
const reason = 'payments are timing out, need logs';
let world: TestWorld;
let create: Api, extend: Api, revoke: Api, killSwitch: Api;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'), {
    profiles: (suffix) => [
      {
        name: 'loose',
        description: 'no ticket pattern',
        owner: 'platform@example.com',
        maxDurationMinutes: 60,
        eligible: [`arn:aws:iam::123456789012:role/Responder-${suffix}`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::loose/*'] }],
      },
      {
        name: 'frz',
        description: 'frozen during the test',
        owner: 'platform@example.com',
        maxDurationMinutes: 60,
        maxExtensions: 3,
        maxTotalMinutes: 120,
        eligible: [`arn:aws:iam::123456789012:role/Responder-${suffix}`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::frz/*'] }],
      },
    ],
  });
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  extend = (await import('../../../functions/handlers/extend-grant.js')).handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler;
  killSwitch = (await import('../../../functions/handlers/kill-switch.js')).handler;
});

async function grantItems(): Promise<number> {
  const { ScanCommand } = await import('@aws-sdk/client-dynamodb');
  const { Items } = await world.ddb.send(
    new ScanCommand({
      TableName: world.tableName,
      FilterExpression: 'sk = :g',
      ExpressionAttributeValues: { ':g': { S: 'GRANT' } },
      ConsistentRead: true,
    }),
  );
  return Items?.length ?? 0;
}

describe('caller text against the emulator', () => {
  it.each([
    [
      'an eligible caller, lone surrogate in the reason',
      'Responder',
      { profile: 'demo', reason: `${reason} \ud800` },
      /body\.reason is not well-formed Unicode/,
    ],
    [
      'an ineligible caller, lone surrogate in the reason',
      'Intern',
      { profile: 'demo', reason: `${reason} \udfff` },
      /body\.reason is not well-formed Unicode/,
    ],
    [
      'an ineligible caller, lone surrogate in the ticket',
      'Intern',
      { profile: 'demo', reason, ticket: 'INC-1\ud800' },
      /body\.ticket is not well-formed/,
    ],
    [
      'an ineligible caller, newline in the ticket',
      'Intern',
      { profile: 'demo', reason, ticket: 'INC-1\nStatus:     REVOKED' },
      /ticket must be one line/,
    ],
    [
      'an eligible caller, U+2028 in the ticket of a profile without a pattern',
      'Responder',
      { profile: 'loose', reason, ticket: 'CHG-1\u2028Status: REVOKED' },
      /ticket must be one line/,
    ],
  ])('answers %s with 400 ValidationError, storing and publishing nothing', async (_name, role, body, message) => {
    // Prepare
    const identity = await sessionOf(
      world,
      role === 'Intern' ? `Intern-${world.suffix}` : world.responderRole,
      `t${Math.random().toString(36).slice(2, 8)}`,
    );
    const grantsBefore = await grantItems();
    const alertsBefore = (await publishedMessages(world)).length;
    // Act: the JSON text carries the lone surrogate as an escape ("\ud800"), as a hostile client would send it
    const event = apiEvent({ identity, body });
    expect(event.body).toMatch(/\\u(d8|df)|\\n|\u2028/);
    const res = await create(event, ctx);
    // Assess
    expect(res.statusCode).toBe(400);
    expect(parse(res).error).toMatchObject({ code: 'ValidationError', message: expect.stringMatching(message) });
    expect(await grantItems()).toBe(grantsBefore);
    expect((await publishedMessages(world)).length).toBe(alertsBefore);
  });

  it('refuses a lone surrogate on revoke with 400 and leaves the grant ACTIVE', async () => {
    const identity = await sessionOf(world, world.responderRole, 'rita');
    const created = parse(
      await create(apiEvent({ identity, body: { profile: 'demo', reason, durationMinutes: 5 } }), ctx),
    ).grant;
    const res = await revoke(
      apiEvent({ identity, pathParameters: { id: created.id }, body: { reason: 'done here \ud800' } }),
      ctx,
    );
    expect(res.statusCode).toBe(400);
    expect((await tableItems(world, created.id)).find((i) => i.sk === 'GRANT')!.status).toBe('ACTIVE');
  });

  it('records a denied attempt without a ticket its profile refuses, says so, and publishes it on one line', async () => {
    const identity = await sessionOf(world, `Intern-${world.suffix}`, 'ivan');
    const res = await create(
      apiEvent({
        identity,
        body: { profile: 'db', reason: `${reason}\r\nStatus:     REVOKED`, ticket: 'phish: http://evil.example' },
      }),
      ctx,
    );
    expect(res.statusCode).toBe(403);
    const alert = (await publishedMessages(world)).find(
      (m) => m.attributes.eventType === 'DENIED' && m.attributes.principal === identity.userArn,
    )!;
    const items = await tableItems(world, alert.attributes.grantId!);
    const stored = items.find((i) => i.sk === 'GRANT')!;
    expect(stored.status).toBe('DENIED');
    expect(stored.ticket).toBeUndefined();
    // The reason is stored verbatim (auditors see what was sent)…
    expect(stored.reason).toBe(`${reason}\r\nStatus:     REVOKED`);
    expect(items.find((i) => i.sk.startsWith('EVENT#'))!.details.ticketDropped).toMatch(
      /^the ticket given was not kept: ticket must match/,
    );
    // …and every published form renders it on one line.
    const lines = alert.message.split('\n');
    expect(lines.filter((l) => l.startsWith('Status:'))).toEqual(['Status:     DENIED']);
    expect(lines.filter((l) => l.startsWith('Ticket:'))).toEqual(['Ticket:     (none)']);
    expect(alert.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    const chat = JSON.parse(alert.forms.https!).content.description as string;
    expect(chat.split('\n').some((l) => l.startsWith('Status:'))).toBe(false);
    expect(JSON.parse(alert.forms.sqs!).grant.reason).toBe(`${reason} Status: REVOKED`);
  });

  it('refuses an extension of a frozen profile with 423, records and announces it, and moves nothing', async () => {
    // Prepare
    const identity = await sessionOf(world, world.responderRole, 'fred');
    const security = await sessionOf(world, world.securityRole, 'sam');
    const grant = parse(
      await create(apiEvent({ identity, body: { profile: 'frz', reason, durationMinutes: 10 } }), ctx),
    ).grant;
    const route = (resource: string, event: APIGatewayProxyEvent) => ({ ...event, httpMethod: 'POST', resource });
    expect(
      (
        await killSwitch(
          route('/freeze', apiEvent({ identity: security, body: { profile: 'frz', reason: 'suspected misuse' } })),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
    const policyBefore = (await inlinePolicies(world, { role: world.responderRole }))[grant.policyName];
    // Act
    const res = await extend(
      apiEvent({
        identity,
        pathParameters: { id: grant.id },
        body: { minutes: 15, reason: 'replication still catching up' },
      }),
      ctx,
    );
    // Assess
    expect(res.statusCode).toBe(423);
    expect(parse(res).error).toMatchObject({
      code: 'Frozen',
      message: expect.stringMatching(/Extensions of "frz" are frozen by .*suspected misuse/),
    });
    const items = await tableItems(world, grant.id);
    expect(items.find((i) => i.sk === 'GRANT')).toMatchObject({
      status: 'ACTIVE',
      expiresAt: grant.expiresAt,
      extensions: 0,
    });
    const events = items.filter((i) => i.sk.startsWith('EVENT#'));
    expect(events.map((e) => e.type)).toEqual(['REQUESTED', 'ACTIVATED', 'EXTEND_FAILED']);
    expect(events[2]!.details).toMatchObject({ step: 'Freeze', minutes: '15' });
    expect((await inlinePolicies(world, { role: world.responderRole }))[grant.policyName]).toEqual(policyBefore);
    expect((await schedules(world)).find((s) => s.Name === grant.id)!.ScheduleExpression).toBe(
      `at(${grant.expiresAt.replace('Z', '')})`,
    );
    const alert = (await publishedMessages(world)).find(
      (m) => m.attributes.grantId === grant.id && m.attributes.eventType === 'EXTEND_FAILED',
    )!;
    expect(alert.subject).toBe('[break-glass WARNING] fred was REFUSED an extension of frz (frozen)');

    // Unfrozen, the same extension goes through.
    expect(
      (
        await killSwitch(
          route('/unfreeze', apiEvent({ identity: security, body: { profile: 'frz', reason: 'review done' } })),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
    expect(
      (
        await extend(
          apiEvent({
            identity,
            pathParameters: { id: grant.id },
            body: { minutes: 15, reason: 'replication still catching up' },
          }),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
  });
});
