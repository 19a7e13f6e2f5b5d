/**
 * The drill function: runs a drill requested with `POST /drills` (start-drill.ts invokes it
 * asynchronously with `{"source": "breakglass.drill-start", "request": …}`) or by the drill schedule
 * (an EventBridge rule: `{"source": "breakglass.drill-schedule", "mode": …}`). Saves the drill's
 * progress after each step (`GET /drills/{id}`) and its DRILL result at the end.
 *
 * Publishes `DrillFailed` (0 or 1) as an EMF metric on every run, for the dashboard and an alarm.
 * Never behind API Gateway: a drill outlasts its 29 seconds.
 */
import type { Context } from 'aws-lambda';
import { publishMetrics } from '../adapters/emf-metrics.js';
import type { DrillStartEvent } from '../adapters/lambda-drill-launcher.adapter.js';
import { SqsDrillInbox, SqsDrillProbe } from '../adapters/sqs-drill.adapter.js';
import { ENV } from '../config/env.js';
import {
  DRILL_MODES,
  type DrillDependencies,
  type DrillMode,
  type DrillOptions,
  type DrillResult,
  type DrillRun,
  runDrill,
} from '../domain/drill.js';
import type { ProfileSet } from '../domain/profile.js';
import { requireEnv } from './config.js';
import { domainLog as log } from './observability.js';
import {
  activationRules,
  allPorts,
  checkedProfiles,
  credentialSettings,
  drillStore,
  securityPrincipals,
  vendor,
} from './wiring.js';

/** What the drill schedule sends. */
export interface DrillScheduleEvent {
  readonly source: 'breakglass.drill-schedule';
  readonly mode?: DrillMode;
}
export type { DrillStartEvent };

/** The metric every run publishes: 1 when the drill failed, 0 when it passed. */
export const DRILL_FAILED_METRIC = 'DrillFailed';

function isStart(event: DrillStartEvent | DrillScheduleEvent): event is DrillStartEvent {
  return event.source === 'breakglass.drill-start';
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
  return async (event: DrillStartEvent | DrillScheduleEvent, _context?: Context): Promise<DrillResult> => {
    const d = deps();
    let result: DrillResult;
    if (isStart(event)) {
      const { request } = event;
      const mode = DRILL_MODES.includes(request.mode) ? request.mode : 'revoke';
      const save = (steps: DrillRun['steps'], done?: DrillResult) =>
        d.drills.progress({
          ...request,
          mode,
          status: done ? done.outcome : 'RUNNING',
          steps,
          ...(done ? { result: done } : {}),
        });
      // The request was authorized by start-drill; runDrill checks the caller again (a principal
      // removed from securityPrincipals in between is refused, and that refusal is saved).
      try {
        result = await runDrill(
          d,
          profiles(),
          { caller: { arn: request.by } },
          { ...options.drill, mode, id: request.id, onProgress: save },
        );
      } catch (error) {
        // Refused before any step (e.g. no longer a security principal): the poller must not wait on it.
        await d.drills
          .progress({
            ...request,
            mode,
            status: 'FAILED',
            steps: [
              {
                name: 'activate',
                outcome: 'failed',
                ms: 0,
                detail: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
              },
            ],
          })
          .catch(() => undefined);
        throw error;
      }
    } else {
      const mode = DRILL_MODES.includes(event.mode as DrillMode) ? (event.mode as DrillMode) : 'expire';
      result = await runDrill(
        d,
        profiles(),
        {
          scheduleArn: `arn:${d.settings.partition}:sts::${d.settings.accountId}:assumed-role/breakglass-drill/schedule`,
        },
        { ...options.drill, mode },
      );
    }
    metrics(result);
    log.info({ msg: 'drill', drillId: result.id, outcome: result.outcome, failedStep: result.failedStep });
    return result;
  };
}

/** The drill queue's reader (`DRILL_QUEUE_URL`): only this function bundles the SQS client. */
let inbox: SqsDrillInbox | undefined;
export const drillInbox = (): SqsDrillInbox => {
  inbox ??= new SqsDrillInbox({ queueUrl: requireEnv(ENV.drillQueueUrl) });
  return inbox;
};

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
export const handler = lambdaHandler;
