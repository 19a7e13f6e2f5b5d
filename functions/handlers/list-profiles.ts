/** `GET /profiles`: the profiles the caller may activate, with exactly what each grants. */
import type { Context } from 'aws-lambda';
import { listProfiles } from '../domain/query-grants.js';
import { httpHandler } from './factory.js';
import { type ApiEvent, type ApiResult, callerOf, json } from './http.js';
import { accountDirectory, profiles } from './wiring.js';

const profileSet = profiles();

export const lambdaHandler = async (event: ApiEvent, _context?: Context): Promise<ApiResult> =>
  json(200, { profiles: listProfiles(profileSet, callerOf(event).arn, accountDirectory()) });

export const handler = httpHandler(lambdaHandler);
