/** `GET /profiles`: the profiles the caller may activate, with exactly what each grants. */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { listProfiles } from '../domain/query-grants.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json } from './http.js';
import { accountDirectory, profiles } from './wiring.js';

const profileSet = profiles();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> =>
  json(200, { profiles: listProfiles(profileSet, callerOf(event).arn, accountDirectory()) });

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
