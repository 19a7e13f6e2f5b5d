/**
 * What operators watch: the alarms (each to the alert topic) and one CloudWatch dashboard.
 *
 * Plain CDK (`aws-cloudwatch`), not cdk-monitoring-constructs: every alarm here has a hand-chosen
 * metric, threshold and a description that names the runbook step, and its name (`breakglass-*`)
 * is what the runbook and the alert subscribers know; the library's per-resource defaults would add
 * alarms nobody answers, and aws-cdk-lib has everything else we use (`AnomalyDetectionAlarm`,
 * `Dashboard`). See docs/observability.md.
 */
import { Duration } from 'aws-cdk-lib';
import type { RestApi } from 'aws-cdk-lib/aws-apigateway';
import {
  Alarm,
  AlarmStatusWidget,
  AnomalyDetectionAlarm,
  ComparisonOperator,
  Dashboard,
  GraphWidget,
  type IMetric,
  MathExpression,
  Metric,
  SingleValueWidget,
  TextWidget,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import {
  ACTIVE_GRANTS_METRIC,
  EVENT_METRICS,
  METRICS_NAMESPACE,
  METRICS_SERVICE,
} from '../../functions/adapters/emf-metrics.js';
import type { Severity } from '../../functions/domain/audit-event.js';
import { SWEEP_METRICS } from '../../functions/domain/sweep.js';
import { RESOURCE_PREFIX } from '../protected-resources.js';
import { hideFromLogicalIds } from './logical-ids.js';

/** The sweeper's metrics as the function publishes them (one declaration: the domain's names, the adapter's namespace; no dimensions). */
export const SWEEPER_METRICS = {
  namespace: METRICS_NAMESPACE,
  succeeded: SWEEP_METRICS.succeeded,
  stepFailures: SWEEP_METRICS.stepFailures,
  orphansRemoved: SWEEP_METRICS.orphansRemoved,
  schedulesRepaired: SWEEP_METRICS.schedulesRepaired,
  activeGrants: ACTIVE_GRANTS_METRIC,
} as const;

/** The metric of a drill that failed (drills, #13): on the dashboard only. */
export const DRILL_FAILED_METRIC = 'DrillFailed';

/**
 * The severity an anomaly alarm carries at the start of its description, `[break-glass <SEVERITY>]`
 * like the alerts' subject tag. CloudWatch's alarm notification carries no SNS message attributes,
 * so a subscription filtering on the `severity` attribute never receives alarms; one with a
 * payload-based filter policy (`FilterPolicyScope: MessageBody`) can match the description's
 * prefix: `{"AlarmDescription": [{"prefix": "[break-glass CRITICAL]"}]}`.
 */
export const ANOMALY_ALARMS = {
  /** A burst of refused activations: someone probing, or a misconfiguration locking responders out. */
  Denied: { metricName: EVENT_METRICS.denied, severity: 'CRITICAL' },
  /** More activations than usual: an incident is under way (or break-glass is being used as a habit). */
  Activations: { metricName: EVENT_METRICS.activations, severity: 'WARNING' },
} as const satisfies Record<string, { metricName: string; severity: Severity }>;

/** Anomaly band width, in standard deviations (CloudWatch's default is 2; counts of rare events need a wider one). */
export const ANOMALY_STD_DEVS = 3;

export interface BreakGlassMonitoringProps {
  /** Where every alarm goes. */
  readonly topic: ITopic;
  readonly api: RestApi;
  readonly expiryDeadLetterQueue: IQueue;
  readonly expiryFailureQueue: IQueue;
  readonly functions: {
    readonly expireGrant: IFunction;
    readonly createGrant: IFunction;
    readonly sweeper: IFunction;
    readonly reviewGrant: IFunction;
    readonly queryAudit: IFunction;
    readonly checkReviews: IFunction;
    readonly exportTable: IFunction;
  };
  /** Functions behind the API (their throttles alarm together; at most 10). */
  readonly apiFunctions: readonly IFunction[];
  /** Scheduled and asynchronous functions (their throttles alarm together; at most 10). */
  readonly backgroundFunctions: readonly IFunction[];
  /** @default `breakglass` */
  readonly dashboardName?: string;
}

/** The custom metric `name` over all profiles (`service` dimension set, as Powertools Metrics publishes it). */
export function serviceMetric(name: string, statistic = 'Sum', period = Duration.minutes(5)): Metric {
  return new Metric({
    namespace: METRICS_NAMESPACE,
    metricName: name,
    dimensionsMap: { service: METRICS_SERVICE },
    statistic,
    period,
  });
}

/** The throttles of `group`, summed per minute (one metric-math alarm holds at most 10 metrics). */
export function throttlesMetric(group: readonly IFunction[]): MathExpression {
  return new MathExpression({
    expression: `SUM([${group.map((_, i) => `FILL(t${i}, 0)`).join(', ')}])`,
    usingMetrics: Object.fromEntries(
      group.map((f, i) => [`t${i}`, f.metricThrottles({ period: Duration.minutes(1), statistic: 'Sum' })]),
    ),
    period: Duration.minutes(1),
    label: 'Throttles',
  });
}

export class BreakGlassMonitoring extends Construct {
  /** Every alarm, by id. */
  readonly alarms: Readonly<Record<string, Alarm>>;
  readonly dashboard: Dashboard;

  constructor(scope: Construct, id: string, props: BreakGlassMonitoringProps) {
    super(scope, id);
    // The alarms were direct children of BreakGlassService: keep their logical IDs (named resources; see logical-ids.ts).
    hideFromLogicalIds(this);
    const fns = props.functions;
    const alarms: Record<string, Alarm> = {};
    const alarmAction = new SnsAction(props.topic);
    const alarm = (name: string, description: string, metric: IMetric) => {
      const a = new Alarm(this, name, {
        alarmName: `${RESOURCE_PREFIX}-${name}`,
        metric,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: description,
      });
      a.addAlarmAction(alarmAction);
      alarms[name] = a;
      return a;
    };
    const minute = { period: Duration.minutes(1), statistic: 'Sum' };
    alarm(
      'ExpiryErrors',
      "break-glass: the expiry function failed; Lambda retries it twice, then records it in the expiry-failures queue. The grant's policy condition already denies use.",
      fns.expireGrant.metricErrors(minute),
    );
    // A new message each time, not "a message is visible": a second failure alarms again.
    alarm(
      'ExpiryDeadLetters',
      'break-glass: Scheduler could not invoke the expiry function and dead-lettered the schedule; replay it (docs/operations.md).',
      props.expiryDeadLetterQueue.metricNumberOfMessagesSent(minute),
    );
    alarm(
      'ExpiryFailures',
      "break-glass: an expiry failed after Lambda's retries and was recorded in the expiry-failures queue; replay it (docs/operations.md).",
      props.expiryFailureQueue.metricNumberOfMessagesSent(minute),
    );
    // Events Lambda dropped without a successful run (Lambda developer guide, "Types of metrics for
    // Lambda functions", asynchronous invocation metrics); with the destination above each should
    // also land there, so this one alone points at the destination itself (docs/operations.md).
    alarm(
      'ExpiryEventsDropped',
      "break-glass: Lambda dropped an expiry event (retries or event age exhausted); check the expiry-failures queue, then the function's logs.",
      fns.expireGrant.metric('AsyncEventsDropped', minute),
    );
    alarm('Api5xx', 'break-glass: the API answered 5xx.', props.api.metricServerError({ period: Duration.minutes(1) }));
    alarm(
      'ActivationErrors',
      'break-glass: the activation function crashed.',
      fns.createGrant.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'SweeperErrors',
      'break-glass: the reconciliation sweep failed; orphaned access may remain until it succeeds.',
      fns.sweeper.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      'SweeperStepFailures',
      "break-glass: a step of the reconciliation sweep failed (the others ran); see the sweeper's log for the step.",
      new Metric({
        namespace: SWEEPER_METRICS.namespace,
        metricName: SWEEPER_METRICS.stepFailures,
        period: Duration.minutes(5),
        statistic: 'Sum',
      }),
    );
    // The heartbeat: no sweep ran to completion in 15 minutes (three runs), including none at all. It reads
    // Lambda's own metrics of the sweeper (invocations that did not end in an error): an alarm that fires on an
    // *absence* must not read a BreakGlass metric, which anyone allowed logs:PutLogEvents can add to through an
    // embedded-metric-format log line (CloudWatch User Guide, "Using the PutLogEvents API to send manually-created
    // embedded metric format logs"); `AWS/` namespaces are reserved for AWS services (CloudWatch API Reference,
    // PutMetricData, Namespace). A sweep that ran but had a step fail raises SweeperStepFailures, which a forged
    // value can only add to, never silence.
    const heartbeat = new Alarm(this, 'SweeperHeartbeat', {
      alarmName: `${RESOURCE_PREFIX}-SweeperHeartbeat`,
      metric: new MathExpression({
        expression: 'invocations - FILL(errors, 0)',
        usingMetrics: {
          invocations: fns.sweeper.metricInvocations({ period: Duration.minutes(15), statistic: 'Sum' }),
          errors: fns.sweeper.metricErrors({ period: Duration.minutes(15), statistic: 'Sum' }),
        },
        label: 'sweeps completed',
        period: Duration.minutes(15),
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      treatMissingData: TreatMissingData.BREACHING,
      alarmDescription:
        'break-glass: no sweep ran to completion in 15 minutes (or none ran); orphaned policies and missing schedules are not being repaired.',
    });
    heartbeat.addAlarmAction(alarmAction);
    alarms.SweeperHeartbeat = heartbeat;
    alarm(
      'ReviewErrors',
      'break-glass: the review function crashed; a post-incident review may not have been recorded.',
      fns.reviewGrant.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'AuditQueryErrors',
      'break-glass: the audit query function crashed.',
      fns.queryAudit.metricErrors({ period: Duration.minutes(1) }),
    );
    alarm(
      'ReviewCheckErrors',
      'break-glass: the daily overdue-review check failed; overdue reviews were not announced (invoke the CheckReviews function again once fixed).',
      fns.checkReviews.metricErrors({ period: Duration.minutes(5) }),
    );
    alarm(
      'ExportErrors',
      "break-glass: the daily table export could not be started; today's copy for auditors is missing (invoke the ExportTable function again once fixed: it is idempotent per day).",
      fns.exportTable.metricErrors({ period: Duration.minutes(5) }),
    );
    // Throttles of these functions only (not the account's), in two groups: an alarm's metric math holds at most 10 metrics.
    const throttles = throttlesMetric;
    alarm(
      'ApiThrottles',
      'break-glass: Lambda throttled an API function (account concurrency exhausted?); callers got errors.',
      throttles(props.apiFunctions),
    );
    alarm(
      'BackgroundThrottles',
      'break-glass: Lambda throttled the expiry, sweeper, review-check or export function; expiries may be late (Lambda keeps retrying them for up to 6 h).',
      throttles(props.backgroundFunctions),
    );
    alarm(
      'AlertDeliveryFailures',
      'break-glass: SNS failed to deliver alerts to a subscriber (endpoint down, or a KMS/permission problem); someone was not told.',
      props.topic.metricNumberOfNotificationsFailed({ period: Duration.minutes(5), statistic: 'Sum' }),
    );

    // Anomaly detection: more than the learned band (upper side only; fewer activations is no signal).
    // CloudWatch trains the model on the metric's history (about two weeks before the band is useful);
    // missing data is no events, so it never breaches. Two of three 5-minute periods above the band alarm.
    for (const [name, spec] of Object.entries(ANOMALY_ALARMS)) {
      const a = new AnomalyDetectionAlarm(this, `${name}Anomaly`, {
        alarmName: `${RESOURCE_PREFIX}-${name}Anomaly`,
        metric: serviceMetric(spec.metricName),
        stdDevs: ANOMALY_STD_DEVS,
        comparisonOperator: ComparisonOperator.GREATER_THAN_UPPER_THRESHOLD,
        evaluationPeriods: 3,
        datapointsToAlarm: 2,
        treatMissingData: TreatMissingData.NOT_BREACHING,
        alarmDescription: `[break-glass ${spec.severity}] ${
          name === 'Denied'
            ? 'refused activations above their usual band: someone may be probing break-glass (see the DENIED alerts and GET /audit?eventType=DENIED), or a misconfiguration is locking responders out.'
            : 'activations above their usual band: an incident is under way, or break-glass is being used as everyday access (see the ACTIVATED alerts).'
        }`,
      });
      a.addAlarmAction(alarmAction);
      alarms[`${name}Anomaly`] = a;
    }
    this.alarms = alarms;

    this.dashboard = this.buildDashboard(props, alarms);
  }

  private buildDashboard(props: BreakGlassMonitoringProps, alarms: Record<string, Alarm>): Dashboard {
    const sweeper = (metricName: string, statistic = 'Sum') =>
      new Metric({ namespace: METRICS_NAMESPACE, metricName, statistic, period: Duration.minutes(5) });
    const dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: props.dashboardName ?? RESOURCE_PREFIX,
      defaultInterval: Duration.days(1),
    });
    dashboard.addWidgets(
      new TextWidget({
        markdown:
          '# break-glass\nActive grants, activations and refusals, expiry lag, what the sweeper repaired, and failures. Runbook: docs/observability.md.',
        width: 24,
        height: 2,
      }),
    );
    dashboard.addWidgets(
      new SingleValueWidget({
        title: 'Active grants (last sweep)',
        metrics: [sweeper(SWEEPER_METRICS.activeGrants, 'Maximum')],
        width: 6,
        height: 6,
      }),
      new GraphWidget({
        title: 'Activations and refusals',
        left: [serviceMetric(EVENT_METRICS.activations), serviceMetric(EVENT_METRICS.denied)],
        right: [serviceMetric(EVENT_METRICS.revocations)],
        width: 9,
        height: 6,
      }),
      new GraphWidget({
        title: 'Expiry lag (seconds after expiresAt)',
        left: [
          serviceMetric(EVENT_METRICS.expiryLag, 'p50'),
          serviceMetric(EVENT_METRICS.expiryLag, 'p99'),
          serviceMetric(EVENT_METRICS.expiryLag, 'Maximum'),
        ],
        width: 9,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      new GraphWidget({
        title: 'Sweeper findings',
        left: [
          sweeper(SWEEPER_METRICS.orphansRemoved),
          sweeper(SWEEPER_METRICS.schedulesRepaired),
          sweeper(SWEEPER_METRICS.stepFailures),
        ],
        right: [sweeper(SWEEPER_METRICS.succeeded)],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Failures',
        left: [
          serviceMetric(EVENT_METRICS.activationFailed),
          serviceMetric(EVENT_METRICS.rollbackFailed),
          props.functions.expireGrant.metricErrors({ period: Duration.minutes(5), label: 'Expiry errors' }),
          props.api.metricServerError({ period: Duration.minutes(5), label: 'API 5xx' }),
          props.topic.metricNumberOfNotificationsFailed({ period: Duration.minutes(5), label: 'Alerts not delivered' }),
        ],
        width: 8,
        height: 6,
      }),
      new GraphWidget({
        title: 'Drills failed',
        left: [sweeper(DRILL_FAILED_METRIC)],
        width: 8,
        height: 6,
      }),
    );
    dashboard.addWidgets(
      new AlarmStatusWidget({ title: 'Alarms', alarms: Object.values(alarms), width: 24, height: 4 }),
    );
    return dashboard;
  }
}
