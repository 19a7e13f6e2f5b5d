/** `GET /grants/{id}`: the grant and its audit events, oldest first. */
import type { Context } from 'aws-lambda';
import { getGrant } from '../domain/query-grants.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { grantView } from './views.js';
import { store } from './wiring.js';

const grants = store();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  callerOf(event);
  const { grant, events, integrity } = await getGrant(grants, event.pathParameters?.id);
  return json(200, { grant: grantView(grant), events, integrity });
};

export const handler = httpHandler(lambdaHandler);
