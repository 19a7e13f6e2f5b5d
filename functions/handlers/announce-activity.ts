/**
 * Scheduled (every 5 minutes): the end-of-grant activity summary, one alert per grant once it has
 * ended and CloudTrail has had time to deliver its last calls (`activity-summary.ts`).
 */
import type { Context } from 'aws-lambda';
import { type AnnounceReport, announceActivitySummaries } from '../domain/activity-summary.js';
import { settleMinutesEnv } from './config.js';
import { jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import { activityStore, clock, notifier, store } from './wiring.js';

const ports = { store: store(), activity: activityStore(), notifier: notifier(), clock, log };
/** `ACTIVITY_SETTLE_MINUTES` (default 15): the wait after a grant's end for CloudTrail's late deliveries (the sandbox shortens it). */
const settleMinutes = settleMinutesEnv();

export const lambdaHandler = async (_event: unknown, _context?: Context): Promise<AnnounceReport> => {
  const report = await announceActivitySummaries(ports, { settleMinutes });
  log.info({ msg: 'activity summaries', announced: report.announced.length, failed: report.failed.length });
  // A failed announcement is retried by the next run; failing the invocation makes the alarm see it.
  if (report.failed.length) throw new Error(`activity summaries not announced for ${report.failed.join(', ')}`);
  return report;
};

export const handler = jobHandler('announce-activity', lambdaHandler);
