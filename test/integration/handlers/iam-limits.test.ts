/**
 * IAM's aggregate inline-policy limit (10,240 characters per role), which moto does not
 * enforce: many concurrent grants on one shared role never push it over, and each attempt
 * ends either ACTIVE with its policy or FAILED (409) without one.
 */

import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import {
  apiEvent,
  inlinePolicies,
  parse,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

let world: TestWorld;
let create: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'), {
    roles: (suffix) => [`Shared-${suffix}`],
    profiles: (suffix) => [
      {
        name: 'wide-read',
        description: 'reads many buckets (a large policy)',
        owner: 'platform@example.com',
        maxDurationMinutes: 30,
        maxActiveGrants: 100,
        eligible: [`arn:aws:iam::123456789012:role/Shared-${suffix}`],
        grantTo: 'caller',
        statements: [
          {
            actions: ['s3:GetObject', 's3:ListBucket'],
            resources: Array.from(
              { length: 40 },
              (_, i) => `arn:aws:s3:::incident-archive-bucket-${String(i).padStart(2, '0')}/*`,
            ),
          },
        ],
      },
    ],
  });
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
});

describe('IAM inline policy size limit', () => {
  it('keeps a shared role under 10,240 characters with 12 concurrent activations, leaving no half state', async () => {
    const role = `Shared-${world.suffix}`;
    const people = Array.from({ length: 12 }, (_, i) => `person${i}`);
    const identities = await Promise.all(people.map((p) => sessionOf(world, role, p)));
    // Act: all at once
    const responses = await Promise.all(
      identities.map((identity) =>
        create(
          apiEvent({
            identity,
            body: { profile: 'wide-read', reason: 'archive restore needs reads across buckets', durationMinutes: 10 },
          }),
          {} as Context,
        ),
      ),
    );
    // Assess
    const statuses = responses.map((r) => r.statusCode);
    expect(
      statuses.every((s) => s === 201 || s === 409),
      `statuses ${statuses}`,
    ).toBe(true);
    const won = responses.filter((r) => r.statusCode === 201).map((r) => parse(r).grant);
    const refused = responses.filter((r) => r.statusCode === 409).map((r) => parse(r).error);
    const policies = await inlinePolicies(world, { role });
    const one = JSON.stringify(Object.values(policies)[0]).length;
    // As many as fit, and no more: the lease serializes check-and-put per role.
    expect(won.length).toBe(Math.floor(10_240 / one));
    expect(refused.every((e) => e.code === 'PolicySizeLimit')).toBe(true);
    expect(refused[0]!.message).toMatch(/does not fit on role|Concurrent grants filled/);

    const size = Object.values(policies).reduce((n, doc) => n + JSON.stringify(doc).length, 0);
    expect(size).toBeLessThanOrEqual(10_240);
    expect(Object.keys(policies).sort()).toEqual(won.map((g) => g.policyName).sort());

    // Every refused attempt is a FAILED record, with no policy.
    const failedIds = refused.map((e) => /Grant ([0-9a-f-]{36})/.exec(e.message)?.[1]).filter(Boolean) as string[];
    expect(failedIds).toHaveLength(refused.length);
    for (const id of failedIds) {
      const items = await tableItems(world, id);
      expect(items.find((i) => i.sk === 'GRANT')!.status).toBe('FAILED');
      expect(items.filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
        'REQUESTED',
        'ACTIVATION_FAILED',
      ]);
    }
  });
});

describe('concurrency against the emulator', () => {
  it('yields one grant when one person races five activations of a profile (DynamoDB lease)', async () => {
    const identity = await sessionOf(world, world.responderRole, 'racer');
    const responses = await Promise.all(
      Array.from({ length: 5 }, () =>
        create(
          apiEvent({
            identity,
            body: { profile: 'demo', reason: 'racing requests during an outage', durationMinutes: 5 },
          }),
          {} as Context,
        ),
      ),
    );
    expect(responses.map((r) => r.statusCode).sort()).toEqual([200, 200, 200, 200, 201]);
    expect(new Set(responses.map((r) => parse(r).grant.id)).size).toBe(1);
    const policies = await inlinePolicies(world, { role: world.responderRole });
    expect(Object.keys(policies).filter((n) => n === parse(responses[0]!).grant.policyName)).toHaveLength(1);
  });

  it('returns the same grant for a retried request with the same Idempotency-Key header', async () => {
    const identity = await sessionOf(world, world.responderRole, 'retrier');
    const event = () => {
      const e = apiEvent({
        identity,
        body: { profile: 'db', reason: 'replica lag, need a reboot', durationMinutes: 5, ticket: 'INC-9' },
      });
      return { ...e, headers: { ...e.headers, 'Idempotency-Key': '7c1f1b1e-2f0e-4a7e-9a43-1d7f0c2b9e11' } };
    };
    const first = await create(event(), {} as Context);
    const retry = await create(event(), {} as Context);
    expect(first.statusCode).toBe(201);
    expect(retry.statusCode).toBe(200);
    expect(parse(retry).grant.id).toBe(parse(first).grant.id);
  });
});
