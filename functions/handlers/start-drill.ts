/**
 * `POST /drills` `{mode?: "revoke" | "expire"}` (security principals only): saves the drill as RUNNING,
 * starts the drill function on it asynchronously and answers **202** with the drill at once; the caller
 * polls `GET /drills/{id}`. A drill outlasts API Gateway's 29-second integration timeout
 * (lambda-drill-launcher.adapter.ts cites it), so it never runs within the request.
 */
import { randomUUID } from 'node:crypto';
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { LambdaDrillLauncher } from '../adapters/lambda-drill-launcher.adapter.js';
import { ENV } from '../config/env.js';
import { type StartDrillDependencies, startDrill } from '../domain/drill.js';
import type { ProfileSet } from '../domain/profile.js';
import { requireEnv } from './config.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json, jsonBody } from './http.js';
import { clock, drillStore, profiles, securityPrincipals } from './wiring.js';

/** The handler over given dependencies (the sandbox launches through its model of Lambda's async invocation). */
export function createStartDrillHandler(deps: () => StartDrillDependencies, profiles: () => ProfileSet) {
  return async (event: ApiEvent, _context?: Context): Promise<ApiResult> => {
    const run = await startDrill(deps(), profiles(), {
      caller: callerOf(event),
      body: event.body ? jsonBody(event) : undefined,
    });
    return json(202, { drill: run });
  };
}

/** The drill function's name (`DRILL_FUNCTION_NAME`), read at the first request. */
let launcher: LambdaDrillLauncher | undefined;
const drillLauncher = () => {
  launcher ??= new LambdaDrillLauncher({ functionName: requireEnv(ENV.drillFunctionName) });
  return launcher;
};
export const lambdaHandler = createStartDrillHandler(
  () => ({
    securityPrincipals: securityPrincipals(),
    drills: drillStore(),
    launcher: drillLauncher(),
    clock,
    newId: randomUUID,
  }),
  // Only whether a drill profile exists: no policy is written here, so no PROTECTED_RESOURCES.
  profiles,
);

export const handler = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler);
