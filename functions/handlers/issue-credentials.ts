/**
 * `POST /grants/{id}/credentials`: temporary credentials of the grant's profile role, for its
 * requester. 200 with `{ credentials, grant }`. The response is `no-store`; the secret parts are
 * never logged, stored or published (the audit event carries the access key id and expiration).
 */
import type { Context } from 'aws-lambda';
import { issueCredentials } from '../domain/issue-credentials.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json, requestIdOf } from './http.js';
import { domainLog as log } from './observability.js';
import { grantView } from './views.js';
import {
  accountDirectory,
  alertLimiter,
  clock,
  control,
  credentialSettings,
  frozenProfiles,
  notifier,
  profileRisks,
  profiles,
  store,
  vendor,
} from './wiring.js';

const ports = {
  store: store(),
  vendor: vendor(),
  notifier: notifier(),
  control: control(),
  alertLimiter: alertLimiter(),
  profileRisks: profileRisks(),
  ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
  clock,
  log,
};
const settings = credentialSettings();
const rules = { frozenByConfig: frozenProfiles() };

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  const requestId = requestIdOf(event);
  const { credentials, grant } = await issueCredentials(
    ports,
    profiles(),
    settings,
    {
      grantId: event.pathParameters?.id,
      caller: callerOf(event),
      ...(requestId ? { requestId } : {}),
    },
    rules,
  );
  return json(200, { credentials, grant: grantView(grant) });
};

export const handler = httpHandler(lambdaHandler);
