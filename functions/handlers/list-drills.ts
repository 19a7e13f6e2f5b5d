/** `GET /drills`: the last drill's result and age (days), and the recent ones, newest first. Security principals only. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { authorizeDrill, listDrills } from '../domain/drill.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json } from './http.js';
import { clock, drillStore, securityPrincipals } from './wiring.js';

const drills = drillStore();
const security = securityPrincipals();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
  authorizeDrill(security, callerOf(event), 'read the drills');
  return json(200, await listDrills(drills, clock));
};

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
