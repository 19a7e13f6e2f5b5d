/** `GET /grants?status=&limit=&nextToken=`: grants newest first, paginated. */
import type { Context } from 'aws-lambda';
import { listGrants } from '../domain/query-grants.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { grantView } from './views.js';
import { store } from './wiring.js';

const grants = store();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  callerOf(event);
  const q = event.queryStringParameters ?? {};
  const page = await listGrants(grants, {
    ...(q.status !== undefined ? { status: q.status } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
    ...(q.nextToken !== undefined ? { nextToken: q.nextToken } : {}),
  });
  return json(200, { grants: page.grants.map(grantView), ...(page.nextToken ? { nextToken: page.nextToken } : {}) });
};

export const handler = httpHandler(lambdaHandler);
