/** `POST /grants/{id}/revoke`: end a grant early (requester or security). 200 with the grant. */
import type { Context } from 'aws-lambda';
import { revokeGrant } from '../domain/revoke-grant.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, jsonBody, requestIdOf } from './http.js';
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

export const handler = httpHandler(lambdaHandler);
