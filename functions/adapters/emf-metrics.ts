/**
 * Custom metrics as CloudWatch embedded metric format (EMF): one JSON log line that CloudWatch
 * Logs turns into metrics, with no PutMetricData call and no extra IAM permission.
 *
 * The line follows the specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html):
 * a root object with `_aws` = { Timestamp: epoch milliseconds, CloudWatchMetrics: [MetricDirective] }, each
 * directive { Namespace, Dimensions: DimensionSet[] (at least one set; "A DimensionSet MAY be empty"),
 * Metrics: MetricDefinition[] (at most 100, each { Name, Unit }) }, and every metric's value a number on the
 * root node. Our metrics have no dimensions: `Dimensions: [[]]`.
 *
 * It is written straight to stdout, not through `console.log`: Lambda's Node.js runtime prefixes
 * console output with a timestamp, request id and level, and the specification wants the JSON
 * object alone on its line (Powertools' Metrics made the same change, aws-powertools/powertools-lambda-typescript#1786).
 */

/** The namespace of every break-glass custom metric (grant policies deny writing it: policy-builder.ts). */
import { METRICS_NAMESPACE } from '../domain/policy-builder.js';

export { METRICS_NAMESPACE };

/** CloudWatch units this code uses (the specification allows all of CloudWatch's). */
export type MetricUnit = 'Count' | 'None' | 'Milliseconds';

export interface EmfOptions {
  readonly namespace?: string;
  readonly unit?: MetricUnit;
  /** Epoch milliseconds. @default Date.now() */
  readonly timestamp?: number;
  /** Extra root members for people reading the log (not metrics, not dimensions). */
  readonly context?: Record<string, string>;
}

/** One EMF document holding `metrics` (name → value), without dimensions. */
export function emfDocument(
  metrics: Readonly<Record<string, number>>,
  options: EmfOptions = {},
): Record<string, unknown> {
  const names = Object.keys(metrics);
  if (names.length === 0 || names.length > 100)
    throw new RangeError(`An EMF document holds 1 to 100 metrics, got ${names.length}`);
  for (const name of names) {
    if (name === '_aws' || options.context?.[name] !== undefined)
      throw new RangeError(`Metric name ${name} collides with another member`);
    if (!Number.isFinite(metrics[name]))
      throw new RangeError(`Metric ${name} must be a finite number, got ${metrics[name]}`);
  }
  return {
    ...options.context,
    _aws: {
      Timestamp: Math.trunc(options.timestamp ?? Date.now()),
      CloudWatchMetrics: [
        {
          Namespace: options.namespace ?? METRICS_NAMESPACE,
          Dimensions: [[]],
          Metrics: names.map((Name) => ({ Name, Unit: options.unit ?? 'Count' })),
        },
      ],
    },
    ...metrics,
  };
}

/** Writes one EMF line. `write` defaults to stdout (see the module comment for why not `console.log`). */
export function publishMetrics(
  metrics: Readonly<Record<string, number>>,
  options: EmfOptions & { write?: (line: string) => void } = {},
): void {
  const line = JSON.stringify(emfDocument(metrics, options));
  (options.write ?? ((l: string) => process.stdout.write(`${l}\n`)))(line);
}

/** ACTIVE grants, counted by each sweep run and published on the sweeper's line (no dimensions). */
export const ACTIVE_GRANTS_METRIC = 'ActiveGrants';

/**
 * The `service` dimension Powertools Metrics stamps on every metric it publishes (it always adds
 * one: `Metrics.setOptions`), and the name the logs carry. The sweeper's metrics above have none.
 */
export const METRICS_SERVICE = 'breakglass';

/**
 * Metrics counted when their audit event is recorded (`observability.ts`), published by Powertools
 * Metrics with the dimension sets `[service]` and, for a deployed profile, `[service, profile]`.
 * `ExpiryLagSeconds` is how late an EXPIRED event was recorded after the grant's expiry.
 */
export const EVENT_METRICS = {
  activations: 'Activations',
  denied: 'Denied',
  activationFailed: 'ActivationFailed',
  rollbackFailed: 'RollbackFailed',
  revocations: 'Revocations',
  expiryLag: 'ExpiryLagSeconds',
} as const;
