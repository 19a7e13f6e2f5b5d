/** `POST /grants/{id}/revoke`: end a grant early (requester or security). 200 with the grant. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { revokeGrant } from '../domain/revoke-grant.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json, jsonBody, requestIdOf } from './http.js';
import { grantView } from './views.js';
import { allPorts, securityPrincipals } from './wiring.js';

const ports = allPorts();
const security = securityPrincipals();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const requestId = requestIdOf(event);
  const grant = await revokeGrant(ports, security, {
    grantId: event.pathParameters?.id,
    caller: callerOf(event),
    body: jsonBody(event),
    ...(requestId ? { requestId } : {}),
  });
  return json(200, { grant: grantView(grant) });
};

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
