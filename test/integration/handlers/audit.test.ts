/**
 * The auditors' side against the emulator: post-incident review (two-person rule), the
 * hash chain seen through GET /grants/{id}, GET /audit over the indexes, the daily
 * overdue-review check, and the daily export into the audit bucket.
 */

import { DescribeExportCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, inject, it, vi } from 'vitest';
import { SETTLE_MINUTES } from '../../../functions/domain/activity-summary.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import {
  apiEvent,
  parse,
  publishedMessages,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let create: Api, revoke: Api, review: Api, getOne: Api, audit: Api;
let _expire: (event: { grantId?: unknown }, context: Context) => Promise<{ outcome: string }>;
let checkReviews: () => Promise<{ overdue: number; profiles: readonly string[] }>;
let exportTable: () => Promise<{ exportArn: string; prefix: string }>;
const ctx = {} as Context;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler;
  review = (await import('../../../functions/handlers/review-grant.js')).handler;
  getOne = (await import('../../../functions/handlers/get-grant.js')).handler;
  audit = (await import('../../../functions/handlers/query-audit.js')).handler;
  _expire = (await import('../../../functions/handlers/expire-grant.js')).handler;
  checkReviews = (await import('../../../functions/handlers/check-reviews.js')).lambdaHandler;
  exportTable = (await import('../../../functions/handlers/export-table.js')).lambdaHandler;
});
afterEach(() => vi.useRealTimers());

const responder = (session: string) => sessionOf(world, world.responderRole, session);
const security = (session: string) => sessionOf(world, world.securityRole, session);

async function activate(session: string, minutes = 15, profile = 'demo', extra: Record<string, unknown> = {}) {
  const identity = await responder(session);
  const res = await create(
    apiEvent({
      identity,
      body: { profile, reason: 'checkout fails for every customer', durationMinutes: minutes, ...extra },
    }),
    ctx,
  );
  expect(res.statusCode, res.body).toBe(201);
  return { identity, grant: parse(res).grant };
}

async function revoked(session: string) {
  const { identity, grant } = await activate(session);
  const res = await revoke(
    apiEvent({ identity, pathParameters: { id: grant.id }, body: { reason: 'incident resolved' } }),
    ctx,
  );
  expect(res.statusCode, res.body).toBe(200);
  return { identity, grant: parse(res).grant };
}

/** Moves the clock past the wait a review keeps after a grant's end (CloudTrail's late deliveries); afterEach restores it. */
function settled(grant: { endedAt?: string; expiresAt: string }) {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(new Date(Date.parse(grant.endedAt ?? grant.expiresAt) + SETTLE_MINUTES * 60_000 + 1_000));
}

const reviewBody = (outcome = 'justified') => ({
  outcome,
  notes: 'checked the incident timeline and the CloudTrail events',
});

describe('post-incident review against the emulator', () => {
  it("records a reviewer's outcome as a REVIEWED event, marks the grant DONE and announces it", async () => {
    const { grant } = await revoked('rita');
    // Right after the end: 409, saying from when the review is possible.
    const early = await review(
      apiEvent({ identity: await security('sam'), pathParameters: { id: grant.id }, body: reviewBody('unjustified') }),
      ctx,
    );
    expect(early.statusCode).toBe(409);
    expect(parse(early).error.message).toMatch(/activity is still arriving.*can be reviewed from \d{4}-\d\d-\d\dT/);
    settled(grant);
    const res = await review(
      apiEvent({ identity: await security('sam'), pathParameters: { id: grant.id }, body: reviewBody('unjustified') }),
      ctx,
    );
    expect(res.statusCode, res.body).toBe(200);
    const items = await tableItems(world, grant.id);
    expect(items.find((i) => i.sk === 'GRANT')).toMatchObject({
      reviewState: 'DONE',
      reviewOutcome: 'unjustified',
      reviewedBy: expect.stringContaining('/sam'),
    });
    const last = items.filter((i) => i.sk.startsWith('EVENT#')).at(-1)!;
    expect(last).toMatchObject({ type: 'REVIEWED', details: { outcome: 'unjustified', notes: reviewBody().notes } });
    const alert = (await publishedMessages(world)).find(
      (m) => m.attributes.grantId === grant.id && m.attributes.eventType === 'REVIEWED',
    )!;
    expect(alert.attributes.severity).toBe('WARNING');
    expect(alert.subject).toMatch(/UNJUSTIFIED/);
  });

  it('enforces the two-person rule, reviewer configuration, ended grants and a single review', async () => {
    const { identity, grant } = await revoked('ralph');
    const as = async (who: { userArn: string; caller: string }, body: unknown = reviewBody(), id = grant.id) =>
      review(apiEvent({ identity: who, pathParameters: { id }, body }), ctx);
    // The requester, even through the reviewers' role under the same name, is refused.
    expect((await as(identity)).statusCode).toBe(403);
    const sameperson = await as(await security('ralph'));
    expect(sameperson.statusCode).toBe(403);
    expect(parse(sameperson).error.message).toMatch(/Two-person rule/);
    // Someone who is not a reviewer.
    expect((await as(await responder('bob'))).statusCode).toBe(403);
    // Bad bodies are 400s with a message.
    expect(
      parse(await as(await security('sam'), { outcome: 'fine', notes: 'checked everything carefully' })).error.message,
    ).toMatch(/outcome must be/);
    expect(parse(await as(await security('sam'), { outcome: 'justified', notes: 'ok' })).error.message).toMatch(
      /notes must be at least/,
    );
    // An ACTIVE grant is not reviewed yet.
    const active = await activate('rosa');
    expect((await as(await security('sam'), reviewBody(), active.grant.id)).statusCode).toBe(409);
    // Once only.
    settled(grant);
    expect((await as(await security('sam'))).statusCode).toBe(200);
    const again = await as(await security('sue'));
    expect(again.statusCode).toBe(409);
    expect(parse(again).error.message).toMatch(/already reviewed/);
    expect((await tableItems(world, grant.id)).filter((i) => i.type === 'REVIEWED')).toHaveLength(1);
  });
});

describe('hash chain against the emulator', () => {
  it('reports an intact chain, and the first break after an event is edited in the table', async () => {
    const { grant } = await revoked('chloe');
    const intact = parse(
      await getOne(apiEvent({ identity: await security('sam'), pathParameters: { id: grant.id } }), ctx),
    );
    expect(intact.integrity).toMatchObject({ ok: true, events: 3 });
    expect(intact.events.map((e: { prevHash: string; hash: string }) => e.prevHash).slice(1)).toEqual(
      intact.events.map((e: { hash: string }) => e.hash).slice(0, 2),
    );

    // Someone with write access to the table rewrites the reason of the ACTIVATED event.
    await world.ddb.send(
      new UpdateItemCommand({
        TableName: world.tableName,
        Key: { pk: { S: `GRANT#${grant.id}` }, sk: { S: 'EVENT#000002' } },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': { S: 'routine maintenance' } },
      }),
    );
    const broken = parse(
      await getOne(apiEvent({ identity: await security('sam'), pathParameters: { id: grant.id } }), ctx),
    );
    expect(broken.integrity).toEqual({
      ok: false,
      seq: 2,
      problem: 'event 2 was changed after it was written',
      // The grant's action log (none here: no call was made), checked beside the chain.
      activity: { ok: true, sealed: false, calls: 0 },
    });
  });

  it('detects a changed reason on the grant record itself', async () => {
    const { grant } = await revoked('carl');
    await world.ddb.send(
      new UpdateItemCommand({
        TableName: world.tableName,
        Key: { pk: { S: `GRANT#${grant.id}` }, sk: { S: 'GRANT' } },
        UpdateExpression: 'SET reason = :r',
        ExpressionAttributeValues: { ':r': { S: 'routine maintenance' } },
      }),
    );
    const broken = parse(
      await getOne(apiEvent({ identity: await security('sam'), pathParameters: { id: grant.id } }), ctx),
    );
    expect(broken.integrity).toMatchObject({ ok: false, seq: 1 });
  });

  it('numbers every grant from one ledger counter', async () => {
    const a = (await activate('lena')).grant;
    const b = (await activate('lars')).grant;
    expect(b.sequence).toBe(a.sequence + 1);
  });
});

describe('GET /audit against the emulator', () => {
  it('serves requester, profile, type and time filters newest first, one page at a time', async () => {
    const { identity, grant } = await revoked('quinn');
    await activate('quinn', 10, 'db', { ticket: 'INC-42' });
    const query = async (q: Record<string, string>) => {
      const res = await audit(apiEvent({ identity: await security('sam'), query: q }), ctx);
      return { status: res.statusCode, body: parse(res) };
    };
    const mine = await query({ requester: identity.userArn });
    expect(mine.status).toBe(200);
    expect(mine.body.events.map((e: { type: string }) => e.type).sort()).toEqual([
      'ACTIVATED',
      'ACTIVATED',
      'REQUESTED',
      'REQUESTED',
      'REVOKED',
    ]);
    expect(mine.body.events).toHaveLength(5);
    expect(mine.body.events.every((e: { requester: string }) => e.requester === identity.userArn)).toBe(true);
    const ats = mine.body.events.map((e: { at: string }) => e.at);
    expect([...ats].sort().reverse()).toEqual(ats);

    const revokedOnly = await query({ requester: identity.userArn, eventType: 'revoked' });
    expect(revokedOnly.body.events.map((e: { grantId: string; type: string }) => [e.grantId, e.type])).toEqual([
      [grant.id, 'REVOKED'],
    ]);
    const dbOnly = await query({ requester: identity.userArn, profile: 'db' });
    expect(new Set(dbOnly.body.events.map((e: { profile: string }) => e.profile))).toEqual(new Set(['db']));
    const byType = await query({ eventType: 'REVOKED', from: new Date(Date.now() - 3_600_000).toISOString() });
    expect(byType.body.events.some((e: { grantId: string }) => e.grantId === grant.id)).toBe(true);
    expect(byType.body.events.every((e: { type: string }) => e.type === 'REVOKED')).toBe(true);

    // Pages of one: the same events, no duplicates, then no token.
    const seen: string[] = [];
    let token: string | undefined;
    for (let page = 0; page < 10; page++) {
      const res = await query({ requester: identity.userArn, limit: '2', ...(token ? { nextToken: token } : {}) });
      seen.push(...res.body.events.map((e: { grantId: string; seq: number }) => `${e.grantId}/${e.seq}`));
      token = res.body.nextToken;
      if (!token) break;
    }
    expect(seen).toEqual(mine.body.events.map((e: { grantId: string; seq: number }) => `${e.grantId}/${e.seq}`));

    // No filter: today's events through the per-day index, paginated across the day.
    const today = await query({ limit: '3' });
    expect(today.body.events).toHaveLength(3);
    expect(today.body.nextToken).toBeDefined();
    const next = await query({ limit: '3', nextToken: today.body.nextToken });
    expect(next.status).toBe(200);
    expect(next.body.events.map((e: { hash: string }) => e.hash)).not.toContain(today.body.events[0].hash);
  });

  it('answers 400 with a message for bad filters and foreign tokens', async () => {
    const ask = async (q: Record<string, string>) => {
      const res = await audit(apiEvent({ identity: await security('sam'), query: q }), ctx);
      return { status: res.statusCode, message: parse(res).error?.message as string };
    };
    expect(await ask({ eventType: 'HACKED' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/eventType must be one of/),
    });
    expect(await ask({ from: 'yesterday' })).toMatchObject({ status: 400, message: expect.stringMatching(/ISO 8601/) });
    expect(await ask({ from: '2026-01-01', to: '2025-01-01', profile: 'demo' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/from must not be later/),
    });
    expect(await ask({ from: '2020-01-01' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/at most 93 days/),
    });
    expect(await ask({ requester: '../../etc/passwd' })).toMatchObject({ status: 400 });
    expect(await ask({ limit: '1000' })).toMatchObject({ status: 400 });
    expect(await ask({ select: '*' })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/unknown query parameter/),
    });
    const foreign = Buffer.from(
      JSON.stringify({ index: 'eventsByProfile', key: { pk: 'x', sk: 'y', profile: 'demo', at: 'z' } }),
    ).toString('base64url');
    expect(await ask({ eventType: 'REVOKED', nextToken: foreign })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/not a token for this query/),
    });
    const token = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    expect(await ask({ nextToken: token({ index: 'eventsByDay', day: '2026-13-45' }) })).toMatchObject({ status: 400 });
    // A real token, reused with another requester or another time range.
    const alice = (await sessionOf(world, world.responderRole, 'alice')).userArn;
    const page = parse(
      await audit(
        apiEvent({
          identity: await security('sam'),
          query: { requester: (await responder('quinn')).userArn, limit: '1' },
        }),
        ctx,
      ),
    );
    expect(page.nextToken).toBeDefined();
    expect(await ask({ requester: alice, nextToken: page.nextToken })).toMatchObject({
      status: 400,
      message: expect.stringMatching(/other filters or times/),
    });
    expect(
      await ask({ requester: (await responder('quinn')).userArn, to: '2001-01-01', nextToken: page.nextToken }),
    ).toMatchObject({ status: 400 });
    const unauthenticated = await audit(apiEvent({ identity: null, query: {} }), ctx);
    expect(unauthenticated.statusCode).toBe(401);
  });
});

describe('daily jobs against the emulator', () => {
  it('announces grants unreviewed past the deadline, per profile, and leaves reviewed ones out', async () => {
    const pending = (await revoked('owen')).grant;
    const done = (await revoked('olga')).grant;
    settled(done);
    expect(
      (
        await review(
          apiEvent({ identity: await security('sam'), pathParameters: { id: done.id }, body: reviewBody() }),
          ctx,
        )
      ).statusCode,
    ).toBe(200);
    vi.useRealTimers();
    const before = (await publishedMessages(world)).length;

    expect((await checkReviews()).overdue).toBe(0); // ended minutes ago: not overdue yet
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date(Date.now() + 4 * 86_400_000));
    const report = await checkReviews();
    vi.useRealTimers();
    expect(report.profiles).toContain('demo');
    const alerts = (await publishedMessages(world))
      .slice(before)
      .filter((m) => m.attributes.eventType === 'REVIEW_OVERDUE');
    expect(alerts).toHaveLength(report.profiles.length);
    const demo = alerts.find((a) => a.attributes.profile === 'demo')!;
    expect(demo.message).toContain(pending.id);
    expect(demo.message).not.toContain(done.id);
    expect(demo.attributes).toMatchObject({ severity: 'WARNING', owner: 'platform@example.com' });
  });

  it('exports the table to the audit bucket under exports/dt=<day>/', async () => {
    await revoked('erin');
    const { exportArn, prefix } = await exportTable();
    expect(prefix).toBe(`exports/dt=${new Date().toISOString().slice(0, 10)}`);
    let status = 'IN_PROGRESS';
    // Polled until it ends, however long the emulator takes (the test's hang guard bounds it).
    while (status === 'IN_PROGRESS') {
      status = (await world.ddb.send(new DescribeExportCommand({ ExportArn: exportArn }))).ExportDescription!
        .ExportStatus!;
      if (status === 'IN_PROGRESS') await new Promise((r) => setTimeout(r, 100));
    }
    expect(status).toBe('COMPLETED');
    const s3 = new S3Client({ ...emulatorConfig(world.endpoint), forcePathStyle: true });
    const { Contents } = await s3.send(
      new ListObjectsV2Command({ Bucket: world.auditBucket, Prefix: `${prefix}/AWSDynamoDB/` }),
    );
    expect((Contents ?? []).some((o) => /\/data\/[^/]+\.gz$/.test(o.Key!))).toBe(true);
  });

  it("fails the next day's run, after starting its export, when the previous export failed", async () => {
    // Prepare: yesterday's export went to a bucket that does not exist, so DynamoDB (moto) marks it FAILED.
    const { exportAuditTrail, exportPrefixFor, ExportFailedError } = await import(
      '../../../functions/domain/export-audit.js'
    );
    const { DynamoTableExporter } = await import('../../../functions/adapters/dynamodb-export.adapter.js');
    const log = { info: () => {}, warn: () => {}, error: () => {} };
    const today = new Date(Date.now() + 10 * 86_400_000); // a day no other test exports on
    const yesterday = new Date(today.getTime() - 86_400_000);
    const broken = new DynamoTableExporter({
      tableArn: world.tableArn,
      bucket: `missing-${world.suffix}`,
      clientConfig: emulatorConfig(world.endpoint),
    });
    const first = {
      ...(await broken.start({ prefix: exportPrefixFor(yesterday), clientToken: `broken-${world.suffix}` })),
      prefix: exportPrefixFor(yesterday),
    };
    while ((await broken.recent()).find((e) => e.exportArn === first.exportArn)?.status === 'IN_PROGRESS')
      await new Promise((r) => setTimeout(r, 100));
    expect((await broken.recent()).find((e) => e.exportArn === first.exportArn)).toMatchObject({
      status: 'FAILED',
      prefix: first.prefix,
    });
    // Act
    const exporter = new DynamoTableExporter({
      tableArn: world.tableArn,
      bucket: world.auditBucket,
      clientConfig: emulatorConfig(world.endpoint),
    });
    const run = exportAuditTrail({ exporter, clock: { now: () => today }, log });
    // Assess: the run fails, naming yesterday's export, and today's export was started anyway
    await expect(run).rejects.toBeInstanceOf(ExportFailedError);
    await expect(run).rejects.toThrow(/FAILED: S3NoSuchBucket/);
    expect((await exporter.recent()).some((e) => e.prefix === `exports/dt=${today.toISOString().slice(0, 10)}`)).toBe(
      true,
    );
  });
});
