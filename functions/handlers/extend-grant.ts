/** `POST /grants/{id}/extend` `{minutes, reason}`: more time for the requester's ACTIVE grant. */
import type { Context } from 'aws-lambda';
import { extendGrant } from '../domain/extend-grant.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, jsonBody, requestIdOf } from './http.js';
import { grantView } from './views.js';
import { activationRules, allPorts, profiles } from './wiring.js';

const ports = allPorts();
const profileSet = profiles();
const rules = activationRules();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const requestId = requestIdOf(event);
  const grant = await extendGrant(
    ports,
    profileSet,
    {
      grantId: event.pathParameters?.id,
      caller: callerOf(event),
      body: jsonBody(event),
      ...(requestId ? { requestId } : {}),
    },
    rules,
  );
  return json(200, { grant: grantView(grant) });
};

export const handler = httpHandler(lambdaHandler);
