/** `GET /grants/{id}/activity?limit=&nextToken=`: the calls made with a grant, newest first, and its summary. */
import type { Context } from 'aws-lambda';
import { getActivity } from '../domain/activity-query.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { activityReaders, activityStore, store } from './wiring.js';

const ports = { store: store(), activity: activityStore() };

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const caller = callerOf(event);
  const answer = await getActivity(ports, activityReaders(), {
    grantId: event.pathParameters?.id,
    caller,
    query: event.queryStringParameters ?? {},
  });
  return json(200, answer);
};

export const handler = httpHandler(lambdaHandler);
