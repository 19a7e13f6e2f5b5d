/** `POST /grants`: activate a profile for the authenticated caller. 201 with the grant. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { activateGrant } from '../domain/activate-grant.js';
import { callerOf, httpErrors, json, jsonBody, requestIdOf, type ApiEvent, type ApiResult } from './http.js';
import { grantView } from './views.js';
import { allPorts, profiles } from './wiring.js';

// Cold start: validate the profiles and read the configuration now, not mid-request.
const ports = allPorts();
const profileSet = profiles();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const { grant, warnings } = await activateGrant(ports, profileSet, { caller: callerOf(event), body: jsonBody(event), ...optional(requestIdOf(event)) });
  return json(201, { grant: grantView(grant), ...(warnings.length ? { warnings } : {}) });
};

const optional = (requestId: string | undefined) => (requestId ? { requestId } : {});

export const handler = middy<ApiEvent, ApiResult>().use(httpHeaderNormalizer()).use(httpErrors()).handler(lambdaHandler);
