/**
 * Acknowledged risks against the emulator: `GET /profiles` lists them, and an activation of a
 * risk-acknowledging profile publishes an alert naming them, with the `risks` message attribute
 * as a String.Array (the type SNS filter policies match element by element).
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { apiEvent, parse, publishedMessages, sessionOf, setUpWorld, type TestWorld } from '../../support/emulator.js';
import { motoData } from '../../support/moto-data.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let create: Api, profiles: Api;
const ctx = {} as Context;
const WHY = 'redeploys the orders hotfix Lambda when the pipeline is down';

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'), {
    profiles: (suffix) => [
      {
        name: 'hotfix',
        description: 'deploy the orders hotfix',
        owner: 'orders@example.com',
        maxDurationMinutes: 60,
        eligible: [`arn:aws:iam::123456789012:role/Responder-${suffix}`],
        statements: [
          {
            actions: ['lambda:UpdateFunctionCode'],
            resources: ['arn:aws:lambda:us-east-1:123456789012:function:orders-hotfix'],
          },
        ],
        acknowledgedRisks: { 'code-execution': WHY },
      },
    ],
  });
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  profiles = (await import('../../../functions/handlers/list-profiles.js')).handler;
});

/** moto's record of the attributes as published, with their SNS data types. */
async function rawAttributes(): Promise<Array<Record<string, { Type: string; Value: string }>>> {
  const data = await motoData<{ sns: { Topic: Array<{ arn: string; sent_notifications: unknown[][] }> } }>(
    world.endpoint,
  );
  return (data.sns.Topic.find((t) => t.arn === world.topicArn)?.sent_notifications ?? []).map(
    (n) => (n[3] ?? {}) as Record<string, { Type: string; Value: string }>,
  );
}

describe('acknowledged risks against the emulator', () => {
  it('GET /profiles lists each profile with its acknowledged risks', async () => {
    const responder = await sessionOf(world, world.responderRole, 'kim');
    const listed = parse(await profiles(apiEvent({ identity: responder }), ctx)).profiles as Array<{
      name: string;
      acknowledgedRisks: unknown;
    }>;
    expect(listed.map((p) => [p.name, p.acknowledgedRisks])).toEqual([
      ['demo', []],
      ['db', []],
      ['hotfix', [{ riskClass: 'code-execution', justification: WHY }]],
    ]);
  });

  it('publishes the activation alert with the classes in subject and body and a String.Array risks attribute', async () => {
    // Act
    const identity = await sessionOf(world, world.responderRole, 'ana');
    const res = await create(
      apiEvent({
        identity,
        body: { profile: 'hotfix', reason: 'orders API returns 500s, hotfix needed', durationMinutes: 15 },
      }),
      ctx,
    );
    expect(res.statusCode).toBe(201);
    const grantId = parse(res).grant.id as string;
    // Assess
    const messages = await publishedMessages(world);
    const index = messages.findIndex((m) => m.attributes.grantId === grantId && m.attributes.eventType === 'ACTIVATED');
    expect(index).toBeGreaterThanOrEqual(0);
    const alert = messages[index]!;
    expect(alert.subject).toContain('activated hotfix for 15m [risks: code-execution]');
    expect(alert.message.split('\n')).toContain(`Risk:       code-execution: ${WHY}`);
    expect((await rawAttributes())[index]!.risks).toEqual({ Type: 'String.Array', Value: '["code-execution"]' });
    // A profile without acknowledged risks sends no risks attribute.
    const plain = await create(
      apiEvent({
        identity: await sessionOf(world, world.responderRole, 'bo'),
        body: { profile: 'demo', reason: 'payments are timing out, need logs', durationMinutes: 15 },
      }),
      ctx,
    );
    const plainId = parse(plain).grant.id as string;
    const after = await publishedMessages(world);
    const plainIndex = after.findIndex(
      (m) => m.attributes.grantId === plainId && m.attributes.eventType === 'ACTIVATED',
    );
    expect(plainIndex).toBeGreaterThanOrEqual(0);
    expect((await rawAttributes())[plainIndex]!.risks).toBeUndefined();
  });
});
