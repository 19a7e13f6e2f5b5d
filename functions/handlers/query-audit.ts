/** `GET /audit`: audit events of all grants, filtered by requester, profile, eventType, from/to; newest first. */
import type { Context } from 'aws-lambda';
import { queryAudit } from '../domain/query-audit.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { auditLog, clock } from './wiring.js';

const audit = auditLog();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  callerOf(event);
  const page = await queryAudit(audit, event.queryStringParameters ?? {}, clock.now());
  return json(200, page);
};

export const handler = httpHandler(lambdaHandler);
