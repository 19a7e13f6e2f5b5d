/**
 * The per-caller rate limit on DENIED alerts, against the emulator's DynamoDB and SNS: every
 * attempt recorded, exactly one immediate alert per caller under concurrency, the limiter's
 * item as stored, and the summary after the window.
 */

import { GetItemCommand, QueryCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { alertLimitKey, DynamoAlertLimiter } from '../../../functions/adapters/dynamodb-alert-limiter.adapter.js';
import { TTL_ATTRIBUTE } from '../../../functions/adapters/table-schema.js';
import { apiEvent, parse, publishedMessages, sessionOf, setUpWorld, type TestWorld } from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const ctx = {} as Context;
const reason = 'payments are timing out, need logs';
let world: TestWorld;
let create: Api;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
});

async function limiterItem(key: string): Promise<Record<string, any> | undefined> {
  const { Item } = await world.ddb.send(
    new GetItemCommand({
      TableName: world.tableName,
      Key: { pk: { S: alertLimitKey(key).pk }, sk: { S: 'STATE' } },
      ConsistentRead: true,
    }),
  );
  return Item ? unmarshall(Item) : undefined;
}

async function deniedEventsOf(arn: string): Promise<Array<Record<string, any>>> {
  const { Items } = await world.ddb.send(
    new QueryCommand({
      TableName: world.tableName,
      IndexName: 'eventsByRequester',
      KeyConditionExpression: 'requester = :r',
      ExpressionAttributeValues: { ':r': { S: arn } },
    }),
  );
  return (Items ?? []).map((i) => unmarshall(i)).filter((e) => e.type === 'DENIED');
}

const deniedAlertsOf = async (arn: string) =>
  (await publishedMessages(world)).filter((m) => m.attributes.eventType === 'DENIED' && m.attributes.principal === arn);

describe('DENIED alerts against the emulator', () => {
  it('records every one of concurrent denials, and sends exactly one immediate alert per caller', async () => {
    // Prepare: two ineligible callers, attacking at once
    const mallory = await sessionOf(world, `Intern-${world.suffix}`, 'mallory');
    const eve = await sessionOf(world, `Intern-${world.suffix}`, 'eve');
    const n = 12;
    // Act
    const responses = await Promise.all([
      ...Array.from({ length: n }, () =>
        create(apiEvent({ identity: mallory, body: { profile: 'demo', reason, durationMinutes: 5 } }), ctx),
      ),
      create(apiEvent({ identity: eve, body: { profile: 'db', reason, ticket: 'INC-7' } }), ctx),
    ]);
    // Assess
    expect(responses.map((r) => r.statusCode)).toEqual(Array(n + 1).fill(403));
    const events = await deniedEventsOf(mallory.userArn);
    expect(events).toHaveLength(n);
    expect(events.filter((e) => e.details?.alert?.startsWith('not announced'))).toHaveLength(n - 1);
    expect(events.filter((e) => e.details?.alertWindowSeconds === '300')).toHaveLength(1);
    expect(await deniedAlertsOf(mallory.userArn)).toHaveLength(1);
    // Mallory's flood did not hold back the alert about Eve.
    const eveAlerts = await deniedAlertsOf(eve.userArn);
    expect(eveAlerts).toHaveLength(1);
    expect(eveAlerts[0]!.subject).toMatch(/eve was DENIED db/);
    // The limiter's item: keyed by a hash of the authenticated ARN, counting the held-back alerts, with a TTL.
    const item = (await limiterItem(`denied/${mallory.userArn}/demo`))!;
    expect(item).toMatchObject({ limitKey: `denied/${mallory.userArn}/demo`, suppressed: n - 1 });
    expect(item.pk).toMatch(/^ALERTLIMIT#[0-9a-f]{64}$/);
    expect(item[TTL_ATTRIBUTE]).toBeGreaterThan(Math.floor(item.lastAlertAt / 1000) + 300);
  });

  it('sends a summary after the window counting what was held back, and never more than one per window (adapter, explicit clock)', async () => {
    // Prepare
    const limiter = new DynamoAlertLimiter({
      tableName: world.tableName,
      awsSdkV3Client: world.ddb,
      windowSeconds: 300,
    });
    const key = `denied/arn:aws:sts::123456789012:assumed-role/Intern-${world.suffix}/window`;
    const t0 = Date.parse('2026-11-24T10:00:00.000Z');
    const at = (seconds: number) => new Date(t0 + seconds * 1000);
    // Act + Assess
    expect(await limiter.admit(key, at(0))).toEqual({ announce: true, suppressed: 0, windowSeconds: 300 });
    for (const s of [1, 60, 299])
      expect(await limiter.admit(key, at(s))).toEqual({ announce: false, windowSeconds: 300 });
    expect((await limiterItem(key))!.suppressed).toBe(3);
    expect(await limiter.admit(key, at(300))).toEqual({
      announce: true,
      suppressed: 3,
      since: '2026-11-24T10:00:00.000Z',
      windowSeconds: 300,
    });
    expect(await limiterItem(key)).toMatchObject({ suppressed: 0, lastAlertAt: t0 + 300_000 });
    expect(await limiter.admit(key, at(301))).toEqual({ announce: false, windowSeconds: 300 });
    // Concurrent claims after the next window: exactly one wins, the rest are counted.
    const results = await Promise.all(Array.from({ length: 16 }, () => limiter.admit(key, at(700))));
    const winners = results.filter((r) => r.announce);
    expect(winners).toEqual([{ announce: true, suppressed: 1, since: '2026-11-24T10:05:00.000Z', windowSeconds: 300 }]);
    expect((await limiterItem(key))!.suppressed).toBe(15);
  });

  it('announces the next denial after the window with the count, end to end', async () => {
    // The window is measured by the Lambda's clock; here the stored item is aged as a window's passing would.
    const oscar = await sessionOf(world, `Intern-${world.suffix}`, 'oscar');
    for (let i = 0; i < 3; i++)
      expect((await create(apiEvent({ identity: oscar, body: { profile: 'demo', reason } }), ctx)).statusCode).toBe(
        403,
      );
    const item = (await limiterItem(`denied/${oscar.userArn}/demo`))!;
    expect(item.suppressed).toBe(2);
    await world.ddb.send(
      new UpdateItemCommand({
        TableName: world.tableName,
        Key: { pk: { S: item.pk }, sk: { S: 'STATE' } },
        UpdateExpression: 'SET lastAlertAt = :old',
        ExpressionAttributeValues: { ':old': { N: String(item.lastAlertAt - 301_000) } },
      }),
    );
    const res = await create(apiEvent({ identity: oscar, body: { profile: 'demo', reason } }), ctx);
    expect(res.statusCode).toBe(403);
    expect(parse(res).error.code).toBe('NotEligible');
    const alerts = await deniedAlertsOf(oscar.userArn);
    expect(alerts).toHaveLength(2);
    expect(alerts[1]!.subject).toMatch(/oscar was DENIED demo for \d+m \(\+2 more\)/);
    expect(alerts[1]!.message).toMatch(
      /^Suppressed: 2 more denied attempt\(s\) by this caller on this profile since /m,
    );
    expect(JSON.parse(alerts[1]!.forms.sqs!).details).toMatchObject({ alertsSuppressed: '2' });
    expect(await deniedEventsOf(oscar.userArn)).toHaveLength(4);
  });
});
