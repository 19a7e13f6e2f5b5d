/**
 * What one sweep costs in AWS calls, counted by a proxy in front of the emulator, for 10 and then 30 ACTIVE
 * grants: the DynamoDB and IAM calls do not grow with the grants (the grants named by the listed policies, the
 * persons' holds and the held slots' grants are read 100 at a time; no write when nothing is wrong); only the
 * expiry schedule is checked once per grant. Before, every sweep sent one GetItem per policy and per held slot
 * and one conditional transaction per ACTIVE grant (the holds backfill), which the emulator pays with a copy of
 * the whole table: the sweep grew as N². Counts, never time.
 */
import { DeleteItemCommand } from '@aws-sdk/client-dynamodb';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CallCounter, startCountingProxy } from '../../../bench/counting-proxy.js';
import { DynamoGrantStore } from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { grantPerson } from '../../../functions/domain/grant.js';
import type { SweepReport } from '../../../functions/domain/sweep.js';
import { apiEvent, inlinePolicies, sessionOf, setUpWorld, type TestWorld } from '../../support/emulator.js';

let world: TestWorld;
let proxy: CallCounter;
let create: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let sweep: () => Promise<SweepReport>;
let store: DynamoGrantStore;
let activated = 0;

beforeAll(async () => {
  proxy = await startCountingProxy(inject('motoEndpoint'));
  world = await setUpWorld(proxy.endpoint, {
    profiles: (suffix) => [
      {
        name: 'roles',
        description: 'profile roles (each holds several grants)',
        owner: 'platform@example.com',
        maxDurationMinutes: 60,
        maxActiveGrants: 30,
        eligible: [`arn:aws:iam::123456789012:role/Responder-${suffix}`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::sweep-calls/*'] }],
      },
    ],
  });
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  sweep = (await import('../../../functions/handlers/sweep.js')).lambdaHandler;
  store = new DynamoGrantStore({ tableName: world.tableName, awsSdkV3Client: world.ddb });
});

afterAll(async () => {
  await proxy?.close();
});

/** Activates grants of `roles` (each by another session: one person each) until `total` are ACTIVE. */
async function activateUpTo(total: number): Promise<void> {
  for (; activated < total; activated++) {
    const res = await create(
      apiEvent({
        identity: await sessionOf(world, world.responderRole, `sweep-calls-${activated}`),
        body: { profile: 'roles', reason: 'grants for the sweeper call count', durationMinutes: 60 },
      }),
      {} as Context,
    );
    expect(res.statusCode).toBe(201);
  }
}

/** One sweep, and its AWS calls by action. */
async function countedSweep(): Promise<{ report: SweepReport; calls: Record<string, number> }> {
  proxy.reset();
  const report = await sweep();
  return { report, calls: Object.fromEntries(proxy.counts) };
}

const sum = (calls: Record<string, number>, service: string) =>
  Object.entries(calls)
    .filter(([action]) => action.startsWith(`${service}:`))
    .reduce((n, [, v]) => n + v, 0);

describe('sweeper AWS calls (emulator, counted)', () => {
  it('reads in batches and writes nothing for healthy grants: DynamoDB and IAM calls do not grow from 10 to 30 grants', async () => {
    // Prepare: 10 ACTIVE grants, each on its own profile role
    await activateUpTo(10);

    // Act
    const ten = await countedSweep();
    await activateUpTo(30);
    const thirty = await countedSweep();

    // Assess: every policy seen, nothing removed, nothing to backfill
    expect([ten.report.policies, thirty.report.policies]).toEqual([10, 30]);
    expect([ten.report.activeGrants, thirty.report.activeGrants]).toEqual([10, 30]);
    for (const { report } of [ten, thirty]) {
      expect(report.removed).toEqual([]);
      expect(report.holdsBackfilled).toBeUndefined();
      expect(report.errors).toEqual([]);
    }
    // No per-grant DynamoDB call: no GetItem, no transaction; the batched reads and queries are as many for 30 as for 10.
    for (const { calls } of [ten, thirty]) {
      expect(calls['dynamodb:GetItem']).toBeUndefined();
      expect(calls['dynamodb:TransactWriteItems']).toBeUndefined();
      // one read of the policies' grants, one of the persons' holds, one of the held slots' grants
      expect(calls['dynamodb:BatchGetItem']).toBe(3);
    }
    expect(sum(thirty.calls, 'dynamodb')).toBe(sum(ten.calls, 'dynamodb'));
    // IAM: one listing per target (the profile's roles and the caller-mode entities), whatever the grants.
    expect(sum(thirty.calls, 'iam')).toBe(sum(ten.calls, 'iam'));
    expect(sum(thirty.calls, 'iam')).toBe(thirty.report.targets);
    // Scheduler: one GetSchedule per ACTIVE grant (the only per-grant call left).
    expect([ten.calls['scheduler:GET /schedules'], thirty.calls['scheduler:GET /schedules']]).toEqual([10, 30]);
  });

  it('still backfills the holds a grant lacks: one conditional write for that grant only, and its person holds it again', async () => {
    // Prepare: 30 ACTIVE grants with their holds; one person's holds item removed (a grant recorded before holds)
    await activateUpTo(30);
    const [victim] = await store.active();
    const person = grantPerson(victim!);
    await world.ddb.send(
      new DeleteItemCommand({
        TableName: world.tableName,
        Key: { pk: { S: `PERSON#${person}` }, sk: { S: 'HOLDS' } },
      }),
    );
    expect((await store.personHolds(person)).grants).toEqual([]);

    // Act
    const { report, calls } = await countedSweep();

    // Assess
    expect(report.holdsBackfilled).toBe(1);
    expect(calls['dynamodb:TransactWriteItems']).toBe(1);
    expect((await store.personHolds(person)).grants).toEqual([victim!.id]);
    // The grant's policy is untouched, and the next sweep writes nothing.
    expect(Object.keys(await inlinePolicies(world, { role: victim!.targetName }))).toContain(victim!.policyName);
    const again = await countedSweep();
    expect(again.report.holdsBackfilled).toBeUndefined();
    expect(again.calls['dynamodb:TransactWriteItems']).toBeUndefined();
  });

  it('removes an orphan found among many healthy policies, read in the same batch', async () => {
    // Prepare: a grant revoked in the table while its policy stays (a lost detach)
    const [grant] = await store.active();
    await store.append(
      grant!,
      { type: 'REVOKED', at: new Date().toISOString(), actor: 'test', outcome: 'SUCCESS' },
      {
        status: 'REVOKED',
        endedAt: new Date().toISOString(),
      },
    );

    // Act
    const { report, calls } = await countedSweep();

    // Assess
    expect(report.removed).toEqual([
      { target: `role/${grant!.targetName}`, policyName: grant!.policyName, why: `grant ${grant!.id} is REVOKED` },
    ]);
    const left = Object.keys(await inlinePolicies(world, { role: grant!.targetName }));
    expect(left).not.toContain(grant!.policyName);
    // the other grants' policies on that role stay
    expect(left.length).toBeGreaterThan(0);
    expect(calls['dynamodb:GetItem']).toBeUndefined();
    expect(calls['iam:DeleteRolePolicy']).toBe(1);
    expect(report.policies).toBe(30);
  });
});
