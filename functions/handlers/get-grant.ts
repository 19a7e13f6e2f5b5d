/** `GET /grants/{id}`: the grant, its audit events (oldest first) and its activity summary. */
import type { Context } from 'aws-lambda';
import { checkActivityIntegrity } from '../domain/activity-seal.js';
import { getGrant } from '../domain/query-grants.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { grantView } from './views.js';
import { activityStore, store } from './wiring.js';

const grants = store();
const activity = activityStore();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  callerOf(event);
  const { grant, events, integrity } = await getGrant(grants, event.pathParameters?.id);
  // Action logging's counts (calls, writes, denied, first and last call); the calls themselves: GET /grants/{id}/activity.
  const [summary, records] = await Promise.all([activity.summary(grant.id), activity.all(grant.id)]);
  // integrity.activity: the records against their hashes, summary and the review's sealed digest (activity-seal.ts).
  return json(200, {
    grant: grantView(grant),
    events,
    integrity: { ...integrity, activity: checkActivityIntegrity(grant.id, events, summary, records) },
    activity: summary,
  });
};

export const handler = httpHandler(lambdaHandler);
