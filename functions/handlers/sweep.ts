/**
 * Scheduled every few minutes (EventBridge rule): reconcile IAM with the table. The entities
 * to sweep are those the profiles name (the same set the functions may write policies on).
 *
 * Every run publishes its metrics (EMF, no dimensions: `SweepSucceeded`, `SweeperOrphansRemoved`,
 * `SchedulesRepaired`, `SweeperStepFailures`, and `ActiveGrants` when it could count them). A run in which any step failed still does every
 * other step, then throws `SweepFailedError` naming the failed steps, so Lambda's `Errors`
 * metric and the alarms see it.
 */
import type { Context } from 'aws-lambda';
import { ACTIVE_GRANTS_METRIC, publishMetrics } from '../adapters/emf-metrics.js';
import { SweepFailedError } from '../domain/errors.js';
import type { PolicyTarget } from '../domain/ports.js';
import {
  describeSweepFailure,
  type SweepPorts,
  type SweepReport,
  slotScopes,
  sweep,
  sweepMetrics,
  sweepTargets,
} from '../domain/sweep.js';
import { jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import {
  access,
  accountDirectory,
  clock,
  notifier,
  profileRisks,
  profiles,
  protectedResources,
  scheduler,
  store,
} from './wiring.js';

export interface SweepHandlerOptions {
  /** Where the EMF line goes. @default stdout */
  readonly writeMetrics?: (line: string) => void;
  /** Profiles whose slots the sweep reclaims. @default none */
  readonly slotProfiles?: readonly string[];
}

/** The handler over given ports (tests pass failing ones); `lambdaHandler` is this over the real ones. */
export function createSweepHandler(
  ports: SweepPorts,
  targets: readonly PolicyTarget[],
  options: SweepHandlerOptions = {},
) {
  return async (_event?: unknown, _context?: Context): Promise<SweepReport> => {
    const report = await sweep(ports, targets, options.slotProfiles ?? []);
    // ActiveGrants rides on the same line (the dashboard's gauge); the alarms watch the other four.
    const active: Record<string, number> =
      report.activeGrants === undefined ? {} : { [ACTIVE_GRANTS_METRIC]: report.activeGrants };
    publishMetrics(
      { ...sweepMetrics(report), ...active },
      {
        ...(options.writeMetrics ? { write: options.writeMetrics } : {}),
        context: { msg: 'sweep metrics' },
      },
    );
    if (report.failedSteps.length) {
      const error = new SweepFailedError(report.failedSteps, describeSweepFailure(report));
      log.error({ msg: 'sweep failed', ...report });
      throw error;
    }
    log.info({ msg: 'sweep done', ...report });
    return report;
  };
}

/** The real ports, the targets the profiles name and the profiles' slots, built once (cold start). */
export const wired: {
  readonly ports: SweepPorts;
  readonly targets: readonly PolicyTarget[];
  readonly slotProfiles: readonly string[];
} = {
  ports: {
    store: store(),
    access: access(),
    scheduler: scheduler(),
    notifier: notifier(),
    clock,
    profileRisks: profileRisks(),
    ...(accountDirectory().hub ? { hubAccount: accountDirectory().hub! } : {}),
    log,
  },
  targets: sweepTargets(profiles(), protectedResources(), accountDirectory()),
  slotProfiles: slotScopes(profiles(), accountDirectory()),
};

export const lambdaHandler = createSweepHandler(wired.ports, wired.targets, { slotProfiles: wired.slotProfiles });

export const handler = jobHandler('sweep', lambdaHandler);
