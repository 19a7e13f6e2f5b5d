/**
 * A corpus of hostile requests against every API handler, with real clients against the
 * emulator: each gets a 4xx with a message, never a 5xx, and changes nothing.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import fc from 'fast-check';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  apiEvent,
  inlinePolicies,
  parse,
  publishedMessages,
  sessionOf,
  setUpWorld,
  type TestWorld,
} from '../../support/emulator.js';

type Api = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let handlers: Record<string, Api>;
let identity: { userArn: string; caller: string };

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  handlers = {
    create: (await import('../../../functions/handlers/create-grant.js')).handler,
    revoke: (await import('../../../functions/handlers/revoke-grant.js')).handler,
    extend: (await import('../../../functions/handlers/extend-grant.js')).handler,
    get: (await import('../../../functions/handlers/get-grant.js')).handler,
    list: (await import('../../../functions/handlers/list-grants.js')).handler,
    review: (await import('../../../functions/handlers/review-grant.js')).handler,
    audit: (await import('../../../functions/handlers/query-audit.js')).handler,
    credentials: (await import('../../../functions/handlers/issue-credentials.js')).handler,
  };
  identity = await sessionOf(world, world.responderRole, 'hostile');
});

const reason = 'payments are timing out, need logs';
const corpus: Array<[string, string, Partial<Parameters<typeof apiEvent>[0]>]> = [
  ['create', 'malformed JSON', { rawBody: '{"profile":"demo",' }],
  ['create', 'JSON null', { rawBody: 'null' }],
  ['create', 'a JSON string', { rawBody: '"demo"' }],
  ['create', 'a number for profile', { body: { profile: 7, reason } }],
  ['create', 'an object for reason', { body: { profile: 'demo', reason: { toString: 'x' } } }],
  ['create', 'a huge reason', { body: { profile: 'demo', reason: 'é'.repeat(5000) } }],
  [
    'create',
    'a reason of control characters',
    { body: { profile: 'demo', reason: '\u0000\u0001\u0002\u0003\u0004\u0005\u0006\u0007\b\t' } },
  ],
  ['create', 'a duration of Infinity-like size', { body: { profile: 'demo', reason, durationMinutes: 1e308 } }],
  ['create', 'a negative duration', { body: { profile: 'demo', reason, durationMinutes: -5 } }],
  ['create', 'path traversal as profile', { body: { profile: '../../etc/passwd', reason } }],
  ['create', 'an ARN as profile', { body: { profile: 'arn:aws:iam::123456789012:role/Admin', reason } }],
  [
    'create',
    'a principal field (spoofing)',
    { body: { profile: 'demo', reason, principalArn: 'arn:aws:sts::123456789012:assumed-role/Admin/root' } },
  ],
  [
    'create',
    'statements in the body',
    { body: { profile: 'demo', reason, statements: [{ actions: ['*'], resources: ['*'] }] } },
  ],
  ['create', '__proto__ pollution', { rawBody: `{"profile":"demo","reason":"${reason}","__proto__":{"admin":true}}` }],
  ['create', 'a 100 KiB body', { rawBody: JSON.stringify({ profile: 'demo', reason, pad: 'x'.repeat(100_000) }) }],
  [
    'create',
    'a malformed Idempotency-Key',
    { body: { profile: 'demo', reason }, headers: { 'Idempotency-Key': 'a b' } } as never,
  ],
  ['get', 'path traversal as id', { pathParameters: { id: '../../grants' } }],
  ['get', 'an ARN as id', { pathParameters: { id: 'arn:aws:iam::123456789012:role/Admin' } }],
  ['get', 'a missing id', {}],
  [
    'revoke',
    'an unknown id',
    { pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }, body: { reason: 'done' } },
  ],
  ['revoke', 'a non-UUID id', { pathParameters: { id: 'GRANT#x' }, body: { reason: 'done' } }],
  [
    'extend',
    'a string for minutes',
    { pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }, body: { minutes: '10', reason } },
  ],
  [
    'list',
    'a forged nextToken',
    {
      query: {
        nextToken: Buffer.from(
          JSON.stringify({ pk: 'CONTROL#FREEZE', sk: 'STATE', entity: 'grant', createdAt: 'x', extra: 1 }),
        ).toString('base64url'),
      },
    },
  ],
  ['list', 'a huge limit', { query: { limit: '100000' } }],
  ['list', 'an injection in status', { query: { status: "ACTIVE' OR 1=1" } }],
  [
    'review',
    'an unknown id',
    {
      pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
      body: { outcome: 'justified', notes: 'looked at the whole timeline' },
    },
  ],
  [
    'review',
    'a non-UUID id',
    { pathParameters: { id: '../GRANT#x' }, body: { outcome: 'justified', notes: 'looked at the whole timeline' } },
  ],
  [
    'review',
    'an outcome outside the enum',
    {
      pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
      body: { outcome: 'JUSTIFIED; DROP', notes: 'looked at the whole timeline' },
    },
  ],
  [
    'review',
    'a reviewer field (spoofing)',
    {
      pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' },
      body: {
        outcome: 'justified',
        notes: 'looked at the whole timeline',
        reviewedBy: 'arn:aws:sts::123456789012:assumed-role/Security/sam',
      },
    },
  ],
  [
    'review',
    'malformed JSON',
    { pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' }, rawBody: '{"outcome":' },
  ],
  [
    'audit',
    'a forged nextToken',
    {
      query: {
        eventType: 'REVOKED',
        nextToken: Buffer.from(
          JSON.stringify({
            index: 'eventsByType',
            key: { pk: 'LEDGER', sk: 'SEQUENCE', type: 'x', at: 'y' },
            extra: 1,
          }),
        ).toString('base64url'),
      },
    },
  ],
  [
    'audit',
    'a token for another index',
    {
      query: {
        profile: 'demo',
        nextToken: Buffer.from(JSON.stringify({ index: 'eventsByDay', day: '2026-01-01' })).toString('base64url'),
      },
    },
  ],
  ['audit', 'an expression in eventType', { query: { eventType: 'REVOKED OR 1=1' } }],
  ['audit', 'a decade without a filter', { query: { from: '2016-01-01', to: '2026-01-01' } }],
  ['audit', 'an unknown parameter', { query: { TableName: 'other' } }],
  ['credentials', 'a non-UUID id', { pathParameters: { id: '../GRANT#x' } }],
  ['credentials', 'an unknown id', { pathParameters: { id: '0f8fad5b-d9cb-469f-a165-70867728950e' } }],
  [
    'credentials',
    'a role ARN as id',
    { pathParameters: { id: 'arn:aws:iam::123456789012:role/breakglass/profile/breakglass-demo-0' } },
  ],
];

describe('hostile input', () => {
  it.each(corpus)('%s: %s gets a 4xx with a message and changes nothing', async (handler, _name, input) => {
    const before = await inlinePolicies(world, { role: world.responderRole });
    const alertsBefore = (await publishedMessages(world)).length;
    const event = apiEvent({ identity, ...input });
    if ((input as { headers?: Record<string, string> }).headers)
      event.headers = {
        ...event.headers,
        ...(input as { headers: Record<string, string> }).headers,
        'idempotency-key': 'a b',
      };
    const res = await handlers[handler]!(event, {} as Context);
    expect(res.statusCode).toBeGreaterThanOrEqual(400);
    expect(res.statusCode).toBeLessThan(500);
    const body = parse(res);
    expect(body.error.message).toEqual(expect.any(String));
    expect(body.error.message.length).toBeLessThan(600);
    expect(await inlinePolicies(world, { role: world.responderRole })).toEqual(before);
    expect((await publishedMessages(world)).length).toBe(alertsBefore);
  });

  it('stores a unicode-laden reason verbatim and keeps it out of the policy', async () => {
    const strange = 'DB down 🔥 — ünïcödé\u202e reversed\ttab "quotes" {json} </script>';
    const res = await handlers.create!(
      apiEvent({
        identity: await sessionOf(world, world.responderRole, 'unicode'),
        body: { profile: 'demo', reason: strange, durationMinutes: 5 },
      }),
      {} as Context,
    );
    expect(res.statusCode).toBe(201);
    const grant = parse(res).grant;
    expect(grant.reason).toBe(strange);
    const policy = JSON.stringify((await inlinePolicies(world, { role: world.responderRole }))[grant.policyName]);
    expect(policy).not.toContain('🔥');
    const alert = (await publishedMessages(world)).find((m) => m.attributes.grantId === grant.id)!;
    expect(alert.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
    expect(alert.message.split('\n').filter((l) => l.startsWith('Reason:'))).toHaveLength(1);
  });

  it('never answers 5xx to generated bodies (property)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.json(),
          fc.string(),
          fc.jsonValue().map((v) => JSON.stringify({ profile: 'nope', reason: v })),
        ),
        async (raw) => {
          const res = await handlers.create!(apiEvent({ identity, rawBody: raw }), {} as Context);
          expect(res.statusCode).toBeGreaterThanOrEqual(400);
          expect(res.statusCode).toBeLessThan(500);
        },
      ),
      { numRuns: 150 },
    );
  });
});
