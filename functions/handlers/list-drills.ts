/**
 * `GET /drills`: the last drill's result and age (days), and the recent ones, newest first;
 * `GET /drills/{id}`: one requested drill's progress (its steps so far, then its result). Security principals only.
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { authorizeDrill, getDrill, listDrills } from '../domain/drill.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json } from './http.js';
import { clock, drillStore, securityPrincipals } from './wiring.js';

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  authorizeDrill(securityPrincipals(), callerOf(event), 'read the drills');
  const id = event.pathParameters?.id;
  if (id !== undefined) return json(200, { drill: await getDrill(drillStore(), id) });
  return json(200, await listDrills(drillStore(), clock));
};

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
