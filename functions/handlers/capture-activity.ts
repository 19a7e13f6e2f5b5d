/**
 * Action logging's capture: CloudTrail API calls (EventBridge `AWS API Call via CloudTrail`) → the
 * grant they were made with (`activity-capture.ts`).
 *
 * Deployed behind an SQS queue (EventBridge rule → queue → this function), not as the rule's direct
 * target, because:
 * - EventBridge retries a failing target "for 24 hours and up to 185 times", then drops the event
 *   unless a DLQ is set (EventBridge User Guide, "How EventBridge retries delivering events"); a
 *   queue keeps every call through an outage of the table, with its own DLQ and redrive;
 * - the event source mapping batches calls (fewer invocations during a busy incident) and, with
 *   `ReportBatchItemFailures`, redelivers only the failed messages of a batch (Lambda Developer
 *   Guide, "Handling errors for an SQS event source in Lambda"): this handler answers
 *   `{ batchItemFailures }`;
 * - the mapping's maximum concurrency bounds the writes on the table.
 * Both paths deliver at least once; the capture deduplicates by CloudTrail `eventID`.
 *
 * The rule must be in state `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS` to see read-only calls
 * (`Get*`, `List*`, `Describe*`): a plain `ENABLED` rule "matches events … except for read-only AWS
 * management events delivered through CloudTrail" (EventBridge User Guide, "Receiving read-only
 * management events from AWS services").
 *
 * A single EventBridge event (no queue, e.g. the sandbox) is accepted too; then a failure throws so
 * the invoker retries.
 */
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { type CaptureInput, type CaptureReport, captureActivity } from '../domain/activity-capture.js';
import { jobCorrelationId, jobHandler } from './factory.js';
import { domainLog as log } from './observability.js';
import { accountDirectory, activityStore, clock, notifier, store } from './wiring.js';

/** `ACCOUNT_ID`: the account of grants that name none (only calls recorded there are theirs). */
const hubAccount = accountDirectory().hub;
const ports = {
  ...(hubAccount ? { hubAccount } : {}),
  store: store(),
  activity: activityStore(),
  notifier: notifier(),
  clock,
  log,
};

function isSqs(event: unknown): event is SQSEvent {
  return typeof event === 'object' && event !== null && Array.isArray((event as SQSEvent).Records);
}

/** The deliveries in an SQS batch (bodies that are not JSON become unparseable inputs, rejected by the use case). */
export function inputsOf(event: SQSEvent): CaptureInput[] {
  return event.Records.map((r) => {
    let body: unknown;
    try {
      body = JSON.parse(r.body);
    } catch {
      body = undefined;
    }
    return { id: r.messageId, event: body };
  });
}

export const lambdaHandler = async (
  event: SQSEvent | Record<string, unknown>,
  _context?: Context,
): Promise<SQSBatchResponse | { report: CaptureReport['results'] }> => {
  if (isSqs(event)) {
    const report = await captureActivity(ports, inputsOf(event));
    summarize(report);
    // Rejected deliveries can never succeed: acknowledged (and logged), never redelivered.
    return {
      batchItemFailures: report.results.filter((r) => r.outcome === 'failed').map((r) => ({ itemIdentifier: r.id })),
    };
  }
  const id = typeof event.id === 'string' ? event.id : 'event';
  const report = await captureActivity(ports, [{ id, event }]);
  summarize(report);
  const failed = report.results.find((r) => r.outcome === 'failed');
  if (failed) throw new Error(`activity capture failed: ${failed.reason ?? 'unknown'}`);
  return { report: report.results };
};

function summarize(report: CaptureReport): void {
  const counts: Record<string, number> = {};
  for (const r of report.results) counts[r.outcome] = (counts[r.outcome] ?? 0) + 1;
  log.info({ msg: 'activity captured', ...counts, alerts: report.alerts.length });
}

/** The correlation id of a batch is the invocation's request id (each record's id is in the capture's own logs). */
export const handler = jobHandler('capture-activity', lambdaHandler, (event, context) =>
  isSqs(event) ? context?.awsRequestId : jobCorrelationId(event, context),
);
