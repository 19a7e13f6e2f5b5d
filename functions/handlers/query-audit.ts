/** `GET /audit`: audit events of all grants, filtered by requester, profile, eventType, from/to; newest first. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { queryAudit } from '../domain/query-audit.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json } from './http.js';
import { auditLog, clock } from './wiring.js';

const audit = auditLog();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  callerOf(event);
  const page = await queryAudit(audit, event.queryStringParameters ?? {}, clock.now());
  return json(200, page);
};

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
