/** `POST /grants`: activate a profile for the authenticated caller. 201 with the grant. */
import type { Context } from 'aws-lambda';
import { activateGrant } from '../domain/activate-grant.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, jsonBody, requestIdOf } from './http.js';
import { grantView } from './views.js';
import { activationRules, allPorts, checkedProfiles } from './wiring.js';

// Cold start: validate the profiles and read the configuration now, not mid-request.
const ports = allPorts();
const profileSet = checkedProfiles();
const rules = activationRules();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const idempotencyKey = event.headers?.['idempotency-key'];
  const { grant, warnings, existing } = await activateGrant(
    ports,
    profileSet,
    {
      caller: callerOf(event),
      body: jsonBody(event),
      ...optional(requestIdOf(event)),
      ...(idempotencyKey !== undefined ? { idempotencyKey } : {}),
    },
    rules,
  );
  // An existing ACTIVE grant of the same profile is returned with 200, a new one with 201.
  return json(existing ? 200 : 201, {
    grant: grantView(grant),
    ...(existing ? { existing } : {}),
    ...(warnings.length ? { warnings } : {}),
  });
};

const optional = (requestId: string | undefined) => (requestId ? { requestId } : {});

export const handler = httpHandler(lambdaHandler);
