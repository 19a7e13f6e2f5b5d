/**
 * `POST /drills` `{mode?: "revoke" | "expire"}` (security principals only), and the drill schedule
 * (an EventBridge rule invoking this function with `{"source": "breakglass.drill-schedule", "mode": …}`).
 *
 * Publishes `DrillFailed` (0 or 1) as an EMF metric on every run, for the dashboard and an alarm.
 * Answers 200 with the DRILL result, passed or failed (`outcome`): a failed step is the drill's finding,
 * not the request's. The drill runs within the request: fine for the sandbox and the schedule; behind API
 * Gateway (29 s) the `expire` mode outlasts the request (docs/drills.md, "Deploying").
 */
import middy from '@middy/core';
import httpHeaderNormalizer from '@middy/http-header-normalizer';
import type { Context } from 'aws-lambda';
import { publishMetrics } from '../adapters/emf-metrics.js';
import { SqsDrillProbe } from '../adapters/sqs-drill.adapter.js';
import {
  DRILL_MODES,
  type DrillDependencies,
  type DrillMode,
  type DrillOptions,
  type DrillResult,
  runDrill,
} from '../domain/drill.js';
import type { ProfileSet } from '../domain/profile.js';
import { type ApiEvent, type ApiResult, callerOf, httpErrors, json, jsonBody } from './http.js';
import { domainLog as log } from './observability.js';
import {
  activationRules,
  allPorts,
  checkedProfiles,
  credentialSettings,
  drillInbox,
  drillStore,
  securityPrincipals,
  vendor,
} from './wiring.js';

/** What the drill schedule sends. */
export interface DrillScheduleEvent {
  readonly source: 'breakglass.drill-schedule';
  readonly mode?: DrillMode;
}

/** The metric every run publishes: 1 when the drill failed, 0 when it passed. */
export const DRILL_FAILED_METRIC = 'DrillFailed';

function isApiEvent(event: unknown): event is ApiEvent {
  return typeof event === 'object' && event !== null && 'httpMethod' in event;
}

/** The handler over given dependencies (the sandbox passes its policy-evaluating probe). */
export function createDrillHandler(
  deps: () => DrillDependencies,
  profiles: () => ProfileSet,
  options: { writeMetrics?: (line: string) => void; drill?: DrillOptions } = {},
) {
  const metrics = (result: DrillResult) =>
    publishMetrics(
      { [DRILL_FAILED_METRIC]: result.outcome === 'FAILED' ? 1 : 0 },
      {
        context: { drillId: result.id, outcome: result.outcome, mode: result.mode },
        ...(options.writeMetrics ? { write: options.writeMetrics } : {}),
      },
    );
  return async (event: ApiEvent | DrillScheduleEvent, _context?: Context): Promise<ApiResult | DrillResult> => {
    if (isApiEvent(event)) {
      const result = await runDrill(
        deps(),
        profiles(),
        { caller: callerOf(event), body: event.body ? jsonBody(event) : undefined },
        options.drill,
      );
      metrics(result);
      return json(200, { drill: result });
    }
    const d = deps();
    const mode = DRILL_MODES.includes(event.mode as DrillMode) ? (event.mode as DrillMode) : 'expire';
    const result = await runDrill(
      d,
      profiles(),
      {
        scheduleArn: `arn:${d.settings.partition}:sts::${d.settings.accountId}:assumed-role/breakglass-drill/schedule`,
      },
      { ...options.drill, mode },
    );
    metrics(result);
    log.info({ msg: 'scheduled drill', drillId: result.id, outcome: result.outcome, failedStep: result.failedStep });
    return result;
  };
}

const wired = (): DrillDependencies => ({
  ports: allPorts(),
  vendor: vendor(),
  settings: credentialSettings(),
  rules: activationRules(),
  probe: new SqsDrillProbe(),
  inbox: drillInbox(),
  drills: drillStore(),
  securityPrincipals: securityPrincipals(),
  sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
});

export const lambdaHandler = createDrillHandler(wired, checkedProfiles);

const api = middy<ApiEvent, ApiResult>()
  .use(httpHeaderNormalizer())
  .use(httpErrors())
  .handler(lambdaHandler as (event: ApiEvent, context?: Context) => Promise<ApiResult>);

/** API requests go through the HTTP edge (error mapping); the schedule's event does not. */
export const handler = (event: ApiEvent | DrillScheduleEvent, context: Context): Promise<ApiResult | DrillResult> =>
  isApiEvent(event) ? api(event, context) : lambdaHandler(event, context);
