/**
 * Concurrent activations from many roles, then the expiry of every one, against the emulator.
 * Afterwards every grant has its full, intact event chain, no break-glass policy is left on any
 * role, and every alert was published exactly once.
 *
 * Two sizes run it: a small one in the main suite (`test/integration/handlers/concurrent-activations.test.ts`)
 * and the full 200 in `npm run test:load`. Nothing here depends on how fast the machine is: the
 * work is bounded by counts (rounds of retries), never by a clock.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { expect, vi } from 'vitest';
import { ENV } from '../../functions/config/env.js';
import { verifyChain } from '../../functions/domain/audit-chain.js';
import {
  apiEvent,
  inlinePolicies,
  parse,
  publishedMessages,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from './emulator.js';

export interface LoadShape {
  /** Roles the grants land on. */
  readonly roles: number;
  /** People (sessions) per role, each activating once. */
  readonly perRole: number;
}

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

export interface LoadWorld {
  readonly world: TestWorld;
  readonly roleNames: readonly string[];
  readonly create: Api;
  readonly expire: (event: { grantId: string }, context: Context) => Promise<{ outcome: string }>;
}

/** Seeds one profile eligible to `shape.roles` roles and loads the handlers. */
export async function setUpLoad(endpoint: string, shape: LoadShape, prefix: string): Promise<LoadWorld> {
  const roles = (suffix: string) => Array.from({ length: shape.roles }, (_, i) => `${prefix}${i}-${suffix}`);
  const world = await setUpWorld(endpoint, {
    roles,
    profiles: (suffix) => [
      {
        name: 'load',
        description: 'load test',
        owner: 'load@example.com',
        maxDurationMinutes: 60,
        maxActiveGrants: 1000,
        eligible: roles(suffix).map((r) => `arn:aws:iam::123456789012:role/${r}`),
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::load/*'] }],
        // Many roles, each receiving its callers' policies: caller mode, with its IAM size check under the lease.
        grantTo: 'caller',
      },
    ],
  });
  // Many simulated Lambdas share this one process's connection pool (one each in AWS), and moto on two cores is
  // the bottleneck: give queued requests and the wait for a role's lease room. These bound hangs, not speed.
  process.env[ENV.awsTimeoutMs] = '60000';
  process.env[ENV.leaseWaitMs] = '60000';
  const create = (await import('../../functions/handlers/create-grant.js')).handler;
  const expire = (await import('../../functions/handlers/expire-grant.js')).handler;
  return { world, roleNames: roles(world.suffix), create, expire };
}

/** Runs the scenario and asserts its invariants. */
export async function runLoad({ world, roleNames, create, expire }: LoadWorld, shape: LoadShape): Promise<void> {
  // Prepare
  const identities = await Promise.all(
    roleNames.flatMap((role) => Array.from({ length: shape.perRole }, (_, p) => sessionOf(world, role, `person${p}`))),
  );
  // Act: all at once. A 503 is retried, as a responder or the CLI would; every other answer must be a 201.
  // (moto answers some concurrent TransactWriteItems with a 500 — it deep-copies the table per
  // transaction, unguarded — which the API turns into a clear 503, before or after recording.)
  const activate = (identity: { userArn: string; caller: string }) =>
    create(
      apiEvent({
        identity,
        body: { profile: 'load', reason: 'load test: the whole fleet is paging', durationMinutes: 5 },
      }),
      {} as Context,
    );
  let results = await Promise.all(identities.map(activate));
  const granted = new Map<string, { id: string; expiresAt: string; policyName: string }>();
  const failedIds: string[] = [];
  let waiting = identities;
  for (let round = 0; round < 50 && waiting.length; round++) {
    const retry: typeof identities = [];
    results.forEach((res, i) => {
      if (res.statusCode === 201) granted.set(waiting[i]!.userArn, parse(res).grant);
      else {
        expect(res.statusCode, res.body).toBe(503);
        const id = /Grant ([0-9a-f-]{36})/.exec(parse(res).error.message)?.[1];
        if (id) failedIds.push(id);
        retry.push(waiting[i]!);
      }
    });
    waiting = retry;
    results = await Promise.all(waiting.map(activate));
  }
  // Assess: every person holds one grant; every refused attempt is a complete FAILED record
  expect(waiting).toEqual([]);
  const grants = [...granted.values()];
  expect(new Set(grants.map((g) => g.id)).size).toBe(shape.roles * shape.perRole);
  for (const id of failedIds) {
    const items = await tableItems(world, id);
    expect(items.find((i) => i.sk === 'GRANT')!.status).toBe('FAILED');
    expect(items.filter((i) => i.sk.startsWith('EVENT#')).map((e) => e.type)).toEqual([
      'REQUESTED',
      'ACTIVATION_FAILED',
    ]);
  }
  const attached = await Promise.all(roleNames.map((role) => inlinePolicies(world, { role })));
  expect(attached.reduce((n, p) => n + Object.keys(p).length, 0)).toBe(shape.roles * shape.perRole);

  // Act: the expiry of every grant, as the schedules would deliver it (several at once)
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(Math.max(...grants.map((g) => Date.parse(g.expiresAt))) + 1000));
  // A delivery that fails (moto's 500s again) is delivered again, as Lambda's asynchronous retries would.
  const deliver = async (grantId: string) => {
    for (let attempt = 1; ; attempt++) {
      try {
        return await expire({ grantId }, {} as Context);
      } catch (error) {
        if (attempt >= 20) throw error;
        await new Promise((r) => setTimeout(r, 100 * Math.min(attempt, 10)));
      }
    }
  };
  const outcomes = await Promise.all(grants.map((g) => deliver(g.id)));
  vi.useRealTimers();
  expect(outcomes.filter((o) => o.outcome !== 'expired')).toEqual([]);

  // Assess: no policy anywhere; full, intact chain per grant; one ACTIVATED and one EXPIRED alert per grant
  const left = await Promise.all(roleNames.map((role) => inlinePolicies(world, { role })));
  expect(left.flatMap((p) => Object.keys(p))).toEqual([]);
  const stored = await Promise.all(grants.map((g) => tableItems(world, g.id)));
  let failureEvents = 0;
  for (const items of stored) {
    const record = items.find((i) => i.sk === 'GRANT')!;
    const events = items.filter((i) => i.sk.startsWith('EVENT#'));
    expect(record.status).toBe('EXPIRED');
    // Between ACTIVATED and EXPIRED only a recorded failure may stand (a delivery that failed and was retried).
    const types = events.map((e) => e.type as string);
    expect(types.slice(0, 2)).toEqual(['REQUESTED', 'ACTIVATED']);
    expect(types.at(-1)).toBe('EXPIRED');
    expect(types.slice(2, -1).filter((t) => !t.endsWith('_FAILED'))).toEqual([]);
    failureEvents += types.length - 3;
    expect(verifyChain(record, events)).toMatchObject({ ok: true });
  }
  const sequences = stored.map((items) => items.find((i) => i.sk === 'GRANT')!.sequence as number);
  expect(new Set(sequences).size).toBe(grants.length);
  const alerts = (await publishedMessages(world)).filter((m) => m.attributes.profile === 'load');
  expect(alerts.filter((a) => a.attributes.eventType === 'ACTIVATION_FAILED')).toHaveLength(failedIds.length);
  const counts = new Map<string, number>();
  for (const a of alerts)
    counts.set(
      `${a.attributes.grantId}/${a.attributes.eventType}`,
      (counts.get(`${a.attributes.grantId}/${a.attributes.eventType}`) ?? 0) + 1,
    );
  for (const g of grants) {
    expect(counts.get(`${g.id}/ACTIVATED`), g.id).toBe(1);
    expect(counts.get(`${g.id}/EXPIRED`), g.id).toBe(1);
  }
  // + one ACTIVATION_FAILED per refused attempt, + one per recorded failure of a delivery
  expect(alerts).toHaveLength(2 * grants.length + failedIds.length + failureEvents);
}
