/**
 * Hostile review (grant policies deny cloudwatch:PutMetricData on the BreakGlass namespace); fixed: the heartbeat reads AWS/Lambda.
 *
 * The Deny closes one way into the namespace, not the other: CloudWatch Logs extracts metrics from
 * embedded-metric-format log events sent with PutLogEvents to *any* log group ("You can send embedded
 * metric format logs to CloudWatch Logs using the CloudWatch Logs PutLogEvents API … the following HTTP
 * header, which tells CloudWatch Logs the metrics should be extracted, but it's not required", CloudWatch
 * User Guide, "Using the PutLogEvents API to send manually-created embedded metric format logs"). That page
 * and the EMF specification name no cloudwatch:PutMetricData permission for it (the functions here publish
 * their own metrics that way with log permissions only), and `PROTECTED_RESOURCES` protects only
 * break-glass's own log groups. A grant whose profile allows logs:CreateLogGroup/PutLogEvents (any
 * operator profile) writes `{"_aws":{"CloudWatchMetrics":[{"Namespace":"BreakGlass",…}]},"SweepSucceeded":1}`
 * into a log group of its own every few minutes: the SweeperHeartbeat alarm (Sum < 1 over 15 minutes,
 * missing = breaching) stays OK while the sweeper is stopped or failing, and the anomaly alarms' bands
 * widen the same way. No IAM condition key names an EMF namespace, so no grant policy can close it.
 *
 * What cannot be forged: metrics in AWS namespaces ("AWS/" is reserved for AWS services: PutMetricData
 * rejects it, CloudWatch API Reference, PutMetricData, Namespace). Fix described: the alarms that fire on
 * an *absence* (the heartbeat) read AWS/Lambda metrics of the sweeper (Invocations ≥ 1, beside the
 * Errors alarm that exists), keeping SweepSucceeded/StepFailures only where a forged value can add an
 * alarm but never remove one; and docs/security.md lists the EMF path next to the metrics Deny (that
 * Deny still stops the direct API, it just is not the whole story; an SCP cannot close EMF either).
 */
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { app } from './templates.js';

type Properties = {
  AlarmName: string;
  Namespace?: string;
  Metrics?: Array<{ MetricStat?: { Metric?: { Namespace?: string } } }>;
};
let stateless: Template;

beforeAll(() => {
  stateless = Template.fromStack(app({}, { bundle: false }).stateless);
});

describe('the sweeper heartbeat', () => {
  it('reads only metrics a grant cannot write (AWS namespaces), not EMF-writable BreakGlass ones', () => {
    const heartbeat = (
      Object.values(stateless.findResources('AWS::CloudWatch::Alarm')) as Array<{ Properties: Properties }>
    )
      .map((r) => r.Properties)
      .find((p) => p.AlarmName === 'breakglass-SweeperHeartbeat');
    expect(heartbeat).toBeDefined();
    const namespaces = [
      ...(heartbeat!.Namespace ? [heartbeat!.Namespace] : []),
      ...(heartbeat!.Metrics ?? []).flatMap((m) =>
        m.MetricStat?.Metric?.Namespace ? [m.MetricStat.Metric.Namespace] : [],
      ),
    ];
    expect(namespaces.length).toBeGreaterThan(0);
    for (const namespace of namespaces) expect(namespace.startsWith('AWS/')).toBe(true);
  });
});
