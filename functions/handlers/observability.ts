/**
 * Logs and metrics of every function, with Powertools for AWS Lambda (TypeScript):
 * - `logger`: one JSON line per entry with `level`, `message`, `timestamp`, `service`, the Lambda
 *   context (`function_name`, `function_request_id`, `cold_start`, …) and `correlation_id` (set by
 *   the handler factories). The level comes from `POWERTOOLS_LOG_LEVEL` (default INFO).
 * - `domainLog`: the use cases' `log` port over that logger (`{ msg, ...fields }` → message and keys).
 * - `withEventMetrics`: counts an audit event as a metric once the store has recorded it, so a metric
 *   means exactly what the audit trail says happened, whichever function recorded it.
 *
 * No Tracer: see docs/observability.md for its measured cost and why Lambda-level X-Ray is kept.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { EVENT_METRICS, METRICS_NAMESPACE, METRICS_SERVICE } from '../adapters/emf-metrics.js';
import type { NewAuditEvent } from '../domain/audit-event.js';
import type { Grant } from '../domain/grant.js';
import type { GrantStore } from '../domain/ports.js';

type Unit = (typeof MetricUnit)[keyof typeof MetricUnit];

export const logger = new Logger({ serviceName: METRICS_SERVICE });

export const metrics = new Metrics({ namespace: METRICS_NAMESPACE, serviceName: METRICS_SERVICE });

type Fields = Record<string, unknown>;
const entry = (fields: unknown): [string, Fields] => {
  if (typeof fields !== 'object' || fields === null) return [String(fields), {}];
  const { msg, message, ...rest } = fields as Fields;
  return [String(msg ?? message ?? ''), rest];
};

/** The `log` port of the use cases (`Ports.log`), written by the Powertools logger. */
export const domainLog: Pick<Console, 'error' | 'warn' | 'info'> = {
  info: (fields: unknown) => logger.info(...entry(fields)),
  warn: (fields: unknown) => logger.warn(...entry(fields)),
  error: (fields: unknown) => logger.error(...entry(fields)),
};

/** One metric of an event, if the event counts for one: its name, unit and value. */
export function eventMetric(
  grant: Pick<Grant, 'expiresAt'>,
  event: Pick<NewAuditEvent, 'type' | 'at'>,
): { name: string; unit: Unit; value: number } | undefined {
  switch (event.type) {
    case 'ACTIVATED':
      return { name: EVENT_METRICS.activations, unit: MetricUnit.Count, value: 1 };
    case 'DENIED':
      return { name: EVENT_METRICS.denied, unit: MetricUnit.Count, value: 1 };
    case 'ACTIVATION_FAILED':
      return { name: EVENT_METRICS.activationFailed, unit: MetricUnit.Count, value: 1 };
    case 'ROLLBACK_FAILED':
      return { name: EVENT_METRICS.rollbackFailed, unit: MetricUnit.Count, value: 1 };
    case 'REVOKED':
      return { name: EVENT_METRICS.revocations, unit: MetricUnit.Count, value: 1 };
    case 'EXPIRED': {
      const lag = (Date.parse(event.at) - Date.parse(grant.expiresAt)) / 1000;
      return Number.isFinite(lag)
        ? { name: EVENT_METRICS.expiryLag, unit: MetricUnit.Seconds, value: Math.max(0, lag) }
        : undefined;
    }
    default:
      return undefined;
  }
}

/**
 * Publishes an event's metric now (one EMF line), with dimension sets `[service]` and, when the
 * grant's profile is a deployed one, `[service, profile]`. A profile name outside the deployed set
 * gets no dimension of its own: callers must not be able to mint metric series. Never throws: a
 * metric must not fail the request whose event is already recorded.
 */
export function publishEventMetric(
  grant: Pick<Grant, 'profile' | 'expiresAt'>,
  event: Pick<NewAuditEvent, 'type' | 'at'>,
  deployedProfiles: ReadonlySet<string>,
  target: Pick<Metrics, 'singleMetric'> = metrics,
): void {
  const metric = eventMetric(grant, event);
  if (!metric) return;
  try {
    const single = target.singleMetric();
    single.addDimensions({});
    if (deployedProfiles.has(grant.profile)) single.addDimensions({ profile: grant.profile });
    single.addMetric(metric.name, metric.unit, metric.value);
  } catch (error) {
    logger.warn('could not publish a metric', { metric: metric.name, error: String(error) });
  }
}

/**
 * The store, counting each event it records (`create`, `append`) as its metric. Every other method
 * is the store's own.
 */
export function withEventMetrics<S extends Pick<GrantStore, 'create' | 'append'>>(
  store: S,
  deployedProfiles: () => ReadonlySet<string>,
  target: Pick<Metrics, 'singleMetric'> = metrics,
): S {
  // Every argument passes through (the activation's claims are the fourth: dropping them drops its conditions).
  const create: GrantStore['create'] = async (grant, event, ...rest) => {
    const written = await store.create(grant, event, ...rest);
    publishEventMetric(written, event, deployedProfiles(), target);
    return written;
  };
  const append: GrantStore['append'] = async (grant, event, ...rest) => {
    const written = await store.append(grant, event, ...rest);
    publishEventMetric(written, event, deployedProfiles(), target);
    return written;
  };
  return new Proxy(store, {
    get(target, property) {
      if (property === 'create') return create;
      if (property === 'append') return append;
      const value = Reflect.get(target, property, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
