/**
 * `POST /drills` through its handler and the HTTP error mapping: the body is parsed with the route table's
 * schema (`DrillRequest`, the one API Gateway's model is generated from), so bad input is a 400 naming
 * what is wrong, a caller who is not a security principal a 403, and nothing is saved or launched for either.
 */
import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { routeOf } from '../../../functions/api/routes.js';
import type { DrillRequest, DrillRun, StartDrillDependencies } from '../../../functions/domain/drill.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { drillRequestSchema } from '../../../functions/domain/requests.js';
import type { ApiEvent, ApiResult } from '../../../functions/handlers/http.js';
import { httpErrors } from '../../../functions/handlers/http.js';
import { createStartDrillHandler } from '../../../functions/handlers/start-drill.js';

const ACCOUNT = '123456789012';
const SECURITY = `arn:aws:sts::${ACCOUNT}:assumed-role/Security/sam`;
const RESPONDER = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`;
const profiles = parseProfiles({
  version: 1,
  profiles: [
    {
      name: 'drill',
      description: 'drill',
      owner: 'security@example.com',
      maxDurationMinutes: 15,
      drill: true,
      statements: [
        {
          actions: ['sqs:GetQueueAttributes'],
          resources: [`arn:aws:sqs:eu-west-1:${ACCOUNT}:breakglass-drill-target`],
        },
      ],
    },
  ],
});

function setup() {
  const saved: DrillRun[] = [];
  const launched: DrillRequest[] = [];
  const deps: StartDrillDependencies = {
    securityPrincipals: [`arn:aws:iam::${ACCOUNT}:role/Security`],
    drills: {
      record: async () => {},
      latest: async () => [],
      progress: async (run) => void saved.push(run),
      get: async (id) => saved.find((r) => r.id === id),
    },
    launcher: { launch: async (request) => void launched.push(request) },
    clock: { now: () => new Date('2026-01-01T00:00:00Z') },
    newId: () => 'd-1',
  };
  const handler = middy<ApiEvent, ApiResult>()
    .use(httpErrors())
    .handler(
      createStartDrillHandler(
        () => deps,
        () => profiles,
      ),
    );
  const post = async (body: string | null, principal = SECURITY) => {
    const res = await handler(
      {
        body,
        requestContext: { requestId: 'r-1', identity: { userArn: principal } },
      } as unknown as ApiEvent,
      { awsRequestId: 'aws-1' } as Context,
    );
    return { status: res.statusCode, body: JSON.parse(res.body) as Record<string, Record<string, unknown>> };
  };
  return { post, saved, launched };
}

describe('POST /drills', () => {
  it("parses with the route table's schema: the one API Gateway's DrillRequest model is generated from", () => {
    expect(routeOf('startDrill').body?.schema).toBe(drillRequestSchema);
    expect(routeOf('startDrill').body?.model).toBe('DrillRequest');
  });

  it.each([
    ['an unknown mode', JSON.stringify({ mode: 'sideways' }), 'mode must be one of revoke, expire'],
    ['a mode that is not a string', JSON.stringify({ mode: 3 }), 'mode must be one of revoke, expire'],
    ['an unknown field', JSON.stringify({ mode: 'revoke', profile: 'demo' }), 'unknown field(s): "profile"'],
    ['a body that is not an object', JSON.stringify(['revoke']), 'The request body must be a JSON object'],
    ['malformed JSON', '{"mode": ', 'The request body is not valid JSON'],
  ])('answers %s with 400 and a message, saving and launching nothing', async (_, body, message) => {
    // Prepare
    const { post, saved, launched } = setup();
    // Act
    const res = await post(body);
    // Assess
    expect(res.status).toBe(400);
    expect(res.body.error?.message).toContain(message);
    expect(saved).toEqual([]);
    expect(launched).toEqual([]);
  });

  it('answers a caller who is not a security principal with 403', async () => {
    const { post, saved, launched } = setup();
    const res = await post(JSON.stringify({ mode: 'revoke' }), RESPONDER);
    expect(res.status).toBe(403);
    expect(res.body.error?.message).toMatch(/security principal/);
    expect(saved).toEqual([]);
    expect(launched).toEqual([]);
  });

  it('starts a revoke drill without a body (the body is optional) and an expire drill when asked: 202', async () => {
    const { post, launched } = setup();
    const bare = await post(null);
    const expire = await post(JSON.stringify({ mode: 'expire' }));
    expect([bare.status, expire.status]).toEqual([202, 202]);
    expect(bare.body.drill).toMatchObject({ id: 'd-1', mode: 'revoke', status: 'RUNNING' });
    expect(launched.map((r) => r.mode)).toEqual(['revoke', 'expire']);
  });
});
