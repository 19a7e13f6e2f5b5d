/**
 * Action logging against moto's DynamoDB with the real adapters: many calls over 50 grants,
 * delivered in SQS-sized batches by concurrent workers, with redelivered duplicates, must end with
 * every call stored exactly once and every summary counter exact.
 *
 * Size: `BREAKGLASS_ACTIVITY_CALLS` over `BREAKGLASS_ACTIVITY_GRANTS` (default 500 over 10 — about four
 * requests to moto per call — what `npm test` runs); `npm run test:load` (vitest.load.config.ts) runs the
 * full 10,000 over 50 (alone: it took 17 minutes here and moto grew to ~15 GB of memory).
 * moto serializes item operations (sandbox/moto-server.py), so the conditional writes are sound here.
 *
 * moto's TransactWriteItems deep-copies the whole table before every transaction (its rollback
 * backup, `moto/dynamodb/models/__init__.py`), so one table of thousands of calls costs time in the
 * square of the calls. The load test therefore spreads its grants over {@link SHARDS} tables of the
 * same schema (two grants each): every grant still sees all its calls concurrently, and the
 * summary item of each grant is still contended by every worker.
 */

import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoActivityStore } from '../../../functions/adapters/dynamodb-activity.adapter.js';
import { DynamoGrantStore } from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { GSI, KEY_ATTRIBUTES } from '../../../functions/adapters/table-schema.js';
import { verifyActivity } from '../../../functions/domain/activity.js';
import {
  type CaptureInput,
  type CaptureResult,
  captureActivity,
  registerGrantSession,
} from '../../../functions/domain/activity-capture.js';
import { ValidationError } from '../../../functions/domain/errors.js';
import type { Grant } from '../../../functions/domain/grant.js';
import type { ActivityStore, GrantStore } from '../../../functions/domain/ports.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import { HANG_GUARD_MS } from '../../../vitest.config.js';
import {
  assumedRoleIdentity,
  createUserDenied,
  getObject,
  PROFILE_ROLE,
  profileSession,
  ssoSession,
  stopInstances,
  viaEventBridge,
} from '../../support/cloudtrail-fixtures.js';
import { apiEvent, parse, setUpWorld, type TestWorld } from '../../support/emulator.js';
import { MemoryNotifier } from '../../support/fakes.js';

const CALLS = Number(process.env.BREAKGLASS_ACTIVITY_CALLS ?? 500);
/** A hang guard that grows with the size asked for (10,000 calls outlast the suite's 15-minute guard on a busy 2-core machine). */
const GUARD_MS = Math.max(HANG_GUARD_MS, CALLS * 360);
const GRANTS = Number(process.env.BREAKGLASS_ACTIVITY_GRANTS ?? 10);
const BATCH = 10; // the SQS event source's default batch size
const WORKERS = 16;
const CREATED = '2026-11-24T10:00:00.000Z';
const EXPIRES = '2026-11-24T12:00:00Z';
const REQUESTER = 'arn:aws:sts::123456789012:assumed-role/Responder/alice';
const SHARDS = Math.min(25, Math.ceil(GRANTS / 2));

let world: TestWorld;
let client: DynamoDBClient;
let grants: DynamoGrantStore;
let activity: DynamoActivityStore;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  client = new DynamoDBClient({
    ...emulatorConfig(world.endpoint),
    requestHandler: { requestTimeout: 120_000, throwOnRequestTimeout: true },
  });
  grants = new DynamoGrantStore({ tableName: world.tableName, awsSdkV3Client: client });
  activity = new DynamoActivityStore({ tableName: world.tableName, awsSdkV3Client: client });
});

/** A table of the stack's schema (the keys and indexes `table-schema.ts` declares). */
async function createTable(name: string): Promise<void> {
  await client.send(
    new CreateTableCommand({
      TableName: name,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: KEY_ATTRIBUTES.map((a) => ({ AttributeName: a, AttributeType: 'S' as const })),
      KeySchema: [
        { AttributeName: 'pk', KeyType: 'HASH' },
        { AttributeName: 'sk', KeyType: 'RANGE' },
      ],
      GlobalSecondaryIndexes: Object.entries(GSI).map(([index, k]) => ({
        IndexName: index,
        KeySchema: [
          { AttributeName: k.partitionKey, KeyType: 'HASH' as const },
          { AttributeName: k.sortKey, KeyType: 'RANGE' as const },
        ],
        Projection: { ProjectionType: 'ALL' as const },
      })),
    }),
  );
}

/** The real adapters of several tables behind one port, routed by grant id. */
function sharded(
  shards: Array<{ grants: DynamoGrantStore; activity: DynamoActivityStore }>,
  shardOf: Map<string, number>,
): Pick<GrantStore, 'get'> & ActivityStore {
  const of = (grantId: string) => shards[shardOf.get(grantId) ?? 0]!;
  return {
    get: (id) => of(id).grants.get(id),
    record: (r) => of(r.grantId).activity.record(r),
    summary: (id) => of(id).activity.summary(id),
    page: (id, q) => of(id).activity.page(id, q),
    all: (id) => of(id).activity.all(id),
    registerSession: (e) => of(e.grantId).activity.registerSession(e),
    sessionGrants: () => Promise.resolve([]),
    announcedAt: (id) => of(id).activity.announcedAt(id),
    markAnnounced: (id, at) => of(id).activity.markAnnounced(id, at),
  };
}

let next = 0;
function uuid(prefix: string): string {
  next += 1;
  return `${prefix}-0000-4000-8000-${String(next).padStart(12, '0')}`;
}

async function addGrant(overrides: Partial<Grant> = {}, into: DynamoGrantStore = grants): Promise<Grant> {
  const id = overrides.id ?? uuid('0000aaaa');
  const grant: Grant = {
    id,
    profile: 'demo',
    owner: 'platform@example.com',
    principalArn: REQUESTER,
    targetType: 'role',
    targetName: PROFILE_ROLE,
    status: 'ACTIVE',
    reason: 'load test of action logging',
    durationMinutes: 120,
    createdAt: CREATED,
    expiresAt: EXPIRES,
    policyName: `breakglass-${id}`,
    scheduleName: `breakglass-${id}`,
    version: 1,
    eventCount: 0,
    ...overrides,
  };
  return into.create(grant, { type: 'REQUESTED', at: grant.createdAt, actor: grant.principalArn, outcome: 'SUCCESS' });
}

/** A time inside the window, spread over its two hours, whole seconds. */
const timeAt = (i: number) =>
  new Date(Date.parse(CREATED) + 1_000 + ((i * 7919) % (119 * 60)) * 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z');

describe('action logging against the emulator', () => {
  it(
    `captures ${CALLS} calls over ${GRANTS} concurrent grants, with redeliveries, none lost or duplicated, counters exact`,
    async () => {
      // Prepare: the grants, the calls (reads, writes, denials, and 3 allowed calls after one grant ended), and redelivered copies.
      const shards: Array<{ grants: DynamoGrantStore; activity: DynamoActivityStore }> = [];
      for (let t = 0; t < SHARDS; t++) {
        const tableName = `${world.tableName}-load${t}`;
        await createTable(tableName);
        shards.push({
          grants: new DynamoGrantStore({ tableName, awsSdkV3Client: client }),
          activity: new DynamoActivityStore({ tableName, awsSdkV3Client: client }),
        });
      }
      const shardOf = new Map<string, number>();
      const all: Grant[] = [];
      for (let g = 0; g < GRANTS; g++) {
        const grant = await addGrant(
          g === 0 ? { status: 'EXPIRED', expiresAt: '2026-11-24T10:30:00Z', endedAt: '2026-11-24T10:30:01.000Z' } : {},
          shards[g % SHARDS]!.grants,
        );
        shardOf.set(grant.id, g % SHARDS);
        all.push(grant);
      }
      const store = sharded(shards, shardOf);
      const expected = new Map(
        all.map((g) => [
          g.id,
          { ids: new Set<string>(), calls: 0, writes: 0, denied: 0, afterEndAllowed: 0, first: '9999', last: '' },
        ]),
      );
      const records: Array<
        ReturnType<typeof getObject> | ReturnType<typeof stopInstances> | ReturnType<typeof createUserDenied>
      > = [];
      for (let i = 0; i < CALLS; i++) {
        const grant = all[i % GRANTS]!;
        const identity = assumedRoleIdentity(profileSession(grant.id));
        const at =
          grant === all[0]
            ? i < GRANTS * 3
              ? `2026-11-24T10:4${i / GRANTS}:00Z`
              : timeAt(i).replace(/T1[01]:\d\d/, `T10:1${String(i % 10)}`)
            : timeAt(i);
        const eventId = `e${String(i).padStart(7, '0')}-0000-4000-8000-000000000000`;
        const kind = i % 7 === 0 ? 'denied' : i % 3 === 0 ? 'write' : 'read';
        const record =
          kind === 'denied'
            ? createUserDenied(identity, at, eventId)
            : kind === 'write'
              ? stopInstances(identity, at, eventId)
              : getObject(identity, at, eventId);
        records.push(record);
        const e = expected.get(grant.id)!;
        e.ids.add(eventId);
        e.calls += 1;
        e.writes += kind === 'read' ? 0 : 1;
        e.denied += kind === 'denied' ? 1 : 0;
        e.afterEndAllowed += at > '2026-11-24T10:30:00Z' && grant === all[0] && kind !== 'denied' ? 1 : 0;
        if (at < e.first) e.first = at;
        if (at > e.last) e.last = at;
      }
      const duplicates = records.filter((_, i) => i % 10 === 3);
      const deliveries: CaptureInput[] = [...records, ...duplicates].map((r, i) => ({
        id: `m${i}`,
        event: viaEventBridge(r),
      }));
      // A fixed shuffle: copies arrive in other batches, in any order.
      for (let i = deliveries.length - 1; i > 0; i--) {
        const j = (i * 2654435761) % (i + 1);
        [deliveries[i], deliveries[j]] = [deliveries[j]!, deliveries[i]!];
      }
      const batches: CaptureInput[][] = [];
      for (let i = 0; i < deliveries.length; i += BATCH) batches.push(deliveries.slice(i, i + BATCH));

      // Act: WORKERS concurrent "Lambdas", each taking the next batch.
      const notifier = new MemoryNotifier();
      const ports = {
        store,
        activity: store,
        notifier,
        clock: { now: () => new Date('2026-11-24T12:20:00Z') },
        log: { info: () => {}, warn: () => {}, error: (...a: unknown[]) => console.error(...a) },
      };
      const results: CaptureResult[] = [];
      let cursor = 0;
      await Promise.all(
        Array.from({ length: WORKERS }, async () => {
          while (cursor < batches.length) {
            const batch = batches[cursor++]!;
            results.push(...(await captureActivity(ports, batch)).results);
          }
        }),
      );

      // Assess: outcomes, then every grant's records and summary straight from the table.
      const outcomes: Record<string, number> = {};
      for (const r of results) outcomes[r.outcome] = (outcomes[r.outcome] ?? 0) + 1;
      expect(outcomes).toEqual({ stored: CALLS, duplicate: duplicates.length });
      for (const grant of all) {
        const e = expected.get(grant.id)!;
        const stored = await store.all(grant.id);
        expect(stored).toHaveLength(e.calls);
        expect(new Set(stored.map((r) => r.eventId))).toEqual(e.ids);
        const summary = await store.summary(grant.id);
        expect(summary).toEqual({
          grantId: grant.id,
          calls: e.calls,
          writes: e.writes,
          denied: e.denied,
          afterEnd:
            e.afterEndAllowed + (grant === all[0] ? [...stored].filter((r) => r.afterEnd && r.errorCode).length : 0),
          afterEndAllowed: e.afterEndAllowed,
          firstCallAt: e.first,
          lastCallAt: e.last,
        });
        expect(verifyActivity(summary, stored)).toMatchObject({ ok: true, calls: e.calls });
      }
      expect(expected.get(all[0]!.id)!.afterEndAllowed).toBeGreaterThan(0);
      expect(notifier.alerts.length).toBeGreaterThan(0);
      expect(
        notifier.alerts.every((a) => a.attributes.grantId === all[0]!.id && a.attributes.severity === 'CRITICAL'),
      ).toBe(true);
    },
    GUARD_MS,
  );

  it('pages a grant newest first through the real adapter, and refuses a token for another grant', async () => {
    const grant = await addGrant();
    const other = await addGrant();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    const ports = {
      store: grants,
      activity,
      notifier: new MemoryNotifier(),
      clock: { now: () => new Date('2026-11-24T11:00:00Z') },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    await captureActivity(
      ports,
      Array.from({ length: 40 }, (_, i) => ({ id: `p${i}`, event: viaEventBridge(getObject(identity, timeAt(i))) })),
    );
    await captureActivity(
      ports,
      [1, 2].map((i) => ({
        id: `o${i}`,
        event: viaEventBridge(getObject(assumedRoleIdentity(profileSession(other.id)), timeAt(i))),
      })),
    );
    const seen: string[] = [];
    let token: string | undefined;
    do {
      const page = await activity.page(grant.id, { limit: 17, ...(token ? { nextToken: token } : {}) });
      seen.push(...page.activity.map((a) => `${a.eventTime}#${a.eventId}`));
      token = page.nextToken;
    } while (token);
    expect(seen).toHaveLength(40);
    expect(seen).toEqual([...seen].sort().reverse());
    const foreign = (await activity.page(other.id, { limit: 1 })).nextToken!;
    await expect(activity.page(grant.id, { limit: 5, nextToken: foreign })).rejects.toThrow(ValidationError);
  });

  it('keeps activity items out of every index: none carries an index key attribute', async () => {
    const grant = await addGrant();
    const ports = {
      store: grants,
      activity,
      notifier: new MemoryNotifier(),
      clock: { now: () => new Date('2026-11-24T11:00:00Z') },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    const identity = assumedRoleIdentity(profileSession(grant.id));
    await captureActivity(ports, [{ id: 'k', event: viaEventBridge(createUserDenied(identity, timeAt(1))) }]);
    await registerGrantSession(activity, {
      id: grant.id,
      createdAt: grant.createdAt,
      principalArn: grant.principalArn,
      sessionUserId: 'AROAEXAMPLE:alice',
    });
    const { QueryCommand } = await import('@aws-sdk/client-dynamodb');
    const { unmarshall } = await import('@aws-sdk/util-dynamodb');
    const items = [];
    for (const pk of [`ACTIVITY#${grant.id}`, 'SESSION#AROAEXAMPLE:alice']) {
      const { Items } = await world.ddb.send(
        new QueryCommand({
          TableName: world.tableName,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': { S: pk } },
        }),
      );
      items.push(...(Items ?? []).map((i) => unmarshall(i)));
    }
    expect(items.map((i) => i.sk as string).sort()).toEqual([
      expect.stringMatching(/^CALL#/),
      expect.stringMatching(/^GRANT#/),
      'SUMMARY',
    ]);
    const indexKeys = KEY_ATTRIBUTES.filter((k) => k !== 'pk' && k !== 'sk');
    for (const item of items) expect(Object.keys(item).filter((k) => indexKeys.includes(k))).toEqual([]);
  });
});

describe('handlers against the emulator', () => {
  it('capture-activity takes an SQS batch (acknowledging malformed bodies) and get-activity serves it to the requester only', async () => {
    // Prepare: a caller-mode Identity Center grant registered for attribution, and the handlers' environment.
    const identity = assumedRoleIdentity(ssoSession);
    const grant = await addGrant({
      principalArn: identity.arn,
      targetName: ssoSession.role,
      sessionUserId: identity.principalId,
    });
    await registerGrantSession(activity, grant);
    const capture = await import('../../../functions/handlers/capture-activity.js');
    const read = await import('../../../functions/handlers/get-activity.js');
    const call = stopInstances(identity, '2026-11-24T10:20:00Z');
    const sqs = {
      Records: [
        { messageId: 'a', body: JSON.stringify(viaEventBridge(call)) },
        { messageId: 'b', body: '{not json' },
        { messageId: 'c', body: JSON.stringify(viaEventBridge(call)) },
      ],
    };
    // Act
    const answer = await capture.lambdaHandler(sqs as never);
    const mine = await read.handler(
      apiEvent({
        identity: { userArn: identity.arn, caller: identity.principalId },
        pathParameters: { id: grant.id },
        query: { limit: '10' },
      }),
      {} as never,
    );
    const theirs = await read.handler(
      apiEvent({
        identity: { userArn: 'arn:aws:sts::123456789012:assumed-role/Intern/mallory', caller: 'AROAINTERN:mallory' },
        pathParameters: { id: grant.id },
      }),
      {} as never,
    );
    const badToken = await read.handler(
      apiEvent({
        identity: { userArn: identity.arn, caller: identity.principalId },
        pathParameters: { id: grant.id },
        query: { nextToken: 'eyJway' },
      }),
      {} as never,
    );
    // Assess
    expect(answer).toEqual({ batchItemFailures: [] });
    expect(mine.statusCode).toBe(200);
    const body = parse(mine);
    expect(body.activity).toHaveLength(1);
    expect(body.activity[0]).toMatchObject({ action: 'StopInstances', attribution: 'userid', grantId: grant.id });
    expect(body.summary).toMatchObject({ calls: 1, writes: 1, denied: 0 });
    expect(theirs.statusCode).toBe(403);
    expect(badToken.statusCode).toBe(400);
  });
});
