/**
 * The alarms and the dashboard (`break-glass-monitoring.ts`) in the synthesized stateless template.
 *
 * AWS contracts relied on (looked up in AWS's docs; no emulator models CloudWatch alarms):
 * - An anomaly detection alarm is a metric-math alarm whose `ThresholdMetricId` names an
 *   `ANOMALY_DETECTION_BAND(m, stdDevs)` expression, with one of the comparison operators
 *   `LessThanLowerOrGreaterThanUpperThreshold`, `GreaterThanUpperThreshold`, `LessThanLowerThreshold`
 *   (CloudWatch API, PutMetricAlarm: ThresholdMetricId, ComparisonOperator).
 * - A CloudWatch alarm's SNS notification carries no message attributes, so the severity is in the
 *   description, which a payload-based filter policy can match by prefix (SNS developer guide,
 *   "Amazon SNS message filtering": filter policy scope `MessageBody`, prefix matching).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { EVENT_METRICS, METRICS_NAMESPACE, METRICS_SERVICE } from '../../functions/adapters/emf-metrics.js';
import {
  ANOMALY_ALARMS,
  ANOMALY_STD_DEVS,
  DRILL_FAILED_METRIC,
  SWEEPER_METRICS,
} from '../../infra/constructs/break-glass-monitoring.js';
import { app, render } from './templates.js';

type MetricDataQuery = { Id: string; Expression?: string; MetricStat?: unknown };
type AlarmProperties = {
  AlarmName: string;
  AlarmActions: unknown;
  AlarmDescription: string;
  ComparisonOperator: string;
  TreatMissingData: string;
  ThresholdMetricId?: string;
  Metrics: MetricDataQuery[];
};
type Resource = { Type: string; Properties: AlarmProperties };
let stateless: Template;
const alarms = () => Object.values(stateless.findResources('AWS::CloudWatch::Alarm')) as Resource[];

beforeAll(() => {
  stateless = Template.fromStack(app({}, { bundle: false }).stateless);
});

describe('alarms', () => {
  it('keeps every existing alarm, by name, and adds the two anomaly alarms (and those of action logging and drills)', () => {
    expect(
      alarms()
        .map((a) => a.Properties.AlarmName)
        .sort(),
    ).toEqual(
      [
        'ActivationErrors',
        'ActivationsAnomaly',
        'ActivityBacklog',
        'ActivityCaptureErrors',
        'ActivityDeadLetters',
        'ActivitySummaryErrors',
        'ActivityThrottles',
        'AlertDeliveryFailures',
        'Api5xx',
        'ApiThrottles',
        'AuditQueryErrors',
        'BackgroundThrottles',
        'DeniedAnomaly',
        'DrillErrors',
        'DrillThrottles',
        'ExpiryDeadLetters',
        'ExpiryErrors',
        'ExpiryEventsDropped',
        'ExpiryFailures',
        'ExportErrors',
        'ReviewCheckErrors',
        'ReviewErrors',
        'SweeperErrors',
        'SweeperHeartbeat',
        'SweeperStepFailures',
      ].map((n) => `breakglass-${n}`),
    );
    for (const a of alarms()) expect(JSON.stringify(a.Properties.AlarmActions)).toMatch(/StateAlerts/);
  });

  it.each(Object.entries(ANOMALY_ALARMS))(
    'alarms when %s rises above its anomaly band, to the topic, with its own severity',
    (name, spec) => {
      const alarm = alarms().find((a) => a.Properties.AlarmName === `breakglass-${name}Anomaly`)!;
      const p = alarm.Properties;
      expect(p.ComparisonOperator).toBe('GreaterThanUpperThreshold');
      expect(p.TreatMissingData).toBe('notBreaching');
      expect(p).toMatchObject({ EvaluationPeriods: 3, DatapointsToAlarm: 2 });
      expect(p.AlarmDescription.startsWith(`[break-glass ${spec.severity}] `)).toBe(true);
      const band = p.Metrics.find((m) => m.Id === p.ThresholdMetricId);
      expect(band?.Expression).toBe(`ANOMALY_DETECTION_BAND(m0, ${ANOMALY_STD_DEVS})`);
      expect(p.Metrics.find((m) => m.Id === 'm0')?.MetricStat).toEqual({
        Metric: {
          Namespace: METRICS_NAMESPACE,
          MetricName: spec.metricName,
          Dimensions: [{ Name: 'service', Value: METRICS_SERVICE }],
        },
        Period: 300,
        Stat: 'Sum',
      });
    },
  );

  it('gives denials a louder severity than activations', () => {
    expect(ANOMALY_ALARMS.Denied.severity).toBe('CRITICAL');
    expect(ANOMALY_ALARMS.Activations.severity).toBe('WARNING');
  });
});

describe('dashboard', () => {
  it('shows active grants, activations and denials, expiry lag, sweeper findings, failures, drills and every alarm', () => {
    const dashboards = Object.values(stateless.findResources('AWS::CloudWatch::Dashboard')) as Array<{
      Properties: { DashboardName: string; DashboardBody: unknown };
    }>;
    expect(dashboards).toHaveLength(1);
    expect(dashboards[0]!.Properties.DashboardName).toBe('breakglass');
    const body = JSON.parse(render(dashboards[0]!.Properties.DashboardBody)) as {
      widgets: Array<{ type: string; properties: { title?: string; metrics?: unknown[][]; alarms?: string[] } }>;
    };
    const byTitle = (title: string) => body.widgets.find((w) => w.properties.title === title)!;
    const names = (title: string) => byTitle(title).properties.metrics!.map((m) => m[1]);

    expect(names('Active grants (last sweep)')).toEqual([SWEEPER_METRICS.activeGrants]);
    expect(names('Activations and refusals')).toEqual([
      EVENT_METRICS.activations,
      EVENT_METRICS.denied,
      EVENT_METRICS.revocations,
    ]);
    expect(names('Expiry lag (seconds after expiresAt)')).toEqual(Array(3).fill(EVENT_METRICS.expiryLag));
    expect(names('Sweeper findings')).toEqual([
      SWEEPER_METRICS.orphansRemoved,
      SWEEPER_METRICS.schedulesRepaired,
      SWEEPER_METRICS.stepFailures,
      SWEEPER_METRICS.succeeded,
    ]);
    expect(names('Failures')).toEqual(
      expect.arrayContaining([EVENT_METRICS.activationFailed, EVENT_METRICS.rollbackFailed, 'Errors', '5XXError']),
    );
    expect(names('Drills failed')).toEqual([DRILL_FAILED_METRIC]);
    // The event metrics are read with the dimension Powertools stamps on them.
    const activations = byTitle('Activations and refusals').properties.metrics![0]!;
    expect(activations.slice(0, 4)).toEqual([METRICS_NAMESPACE, EVENT_METRICS.activations, 'service', METRICS_SERVICE]);
    expect([
      ...byTitle('Alarms').properties.alarms!,
      ...byTitle('Alarms: action logging and drills').properties.alarms!,
    ]).toHaveLength(alarms().length);
  });
});
