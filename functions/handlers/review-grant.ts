/** `POST /grants/{id}/review`: a reviewer (not the requester) judges an ended grant. 200 with the grant. */
import type { Context } from 'aws-lambda';
import { reviewGrant } from '../domain/review-grant.js';
import { settleMinutesEnv } from './config.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, jsonBody, requestIdOf } from './http.js';
import { domainLog as log } from './observability.js';
import { grantView } from './views.js';
import { accountDirectory, activityStore, clock, notifier, profileRisks, reviewerPrincipals, store } from './wiring.js';

const ports = {
  store: store(),
  notifier: notifier(),
  clock,
  profileRisks: profileRisks(),
  ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
  log,
  activity: activityStore(),
};
const reviewers = reviewerPrincipals();
/** Reviews wait this long after a grant's end, for CloudTrail's late deliveries (`ACTIVITY_SETTLE_MINUTES`). */
const settleMinutes = settleMinutesEnv();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const requestId = requestIdOf(event);
  const grant = await reviewGrant(
    ports,
    reviewers,
    {
      grantId: event.pathParameters?.id,
      caller: callerOf(event),
      body: jsonBody(event),
      ...(requestId ? { requestId } : {}),
    },
    { settleMinutes },
  );
  return json(200, { grant: grantView(grant) });
};

export const handler = httpHandler(lambdaHandler);
