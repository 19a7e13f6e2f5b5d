/** `POST /grants/{id}/review`: a reviewer (not the requester) judges an ended grant. 200 with the grant. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { reviewGrant } from '../domain/review-grant.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json, jsonBody, requestIdOf } from './http.js';
import { log } from './log.js';
import { grantView } from './views.js';
import { accountDirectory, clock, notifier, profileRisks, reviewerPrincipals, store } from './wiring.js';

const ports = {
  store: store(),
  notifier: notifier(),
  clock,
  profileRisks: profileRisks(),
  ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
  log,
};
const reviewers = reviewerPrincipals();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const requestId = requestIdOf(event);
  const grant = await reviewGrant(ports, reviewers, {
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
