/**
 * The EMF line against CloudWatch's embedded metric format specification
 * (https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/CloudWatch_Embedded_Metric_Format_Specification.html),
 * whose rules and JSON schema `assertEmf` restates: the LogEvent is one JSON object with nothing
 * before or after it; `_aws` holds an integer `Timestamp` (epoch ms) and `CloudWatchMetrics`, an array
 * of MetricDirectives with `Namespace` (1-1024 chars), `Dimensions` (at least one DimensionSet, each
 * 0-30 strings naming string members of the root) and `Metrics` (at most 100 MetricDefinitions with a
 * `Name` and a valid CloudWatch `Unit`); each metric's target member is a number on the root node.
 */
import { describe, expect, it } from 'vitest';
import { emfDocument, METRICS_NAMESPACE, publishMetrics } from '../../../functions/adapters/emf-metrics.js';
import { SWEEP_METRICS, type SweepReport, sweepMetrics } from '../../../functions/domain/sweep.js';

const UNITS =
  /^(Seconds|Microseconds|Milliseconds|Bytes|Kilobytes|Megabytes|Gigabytes|Terabytes|Bits|Kilobits|Megabits|Gigabits|Terabits|Percent|Count|Bytes\/Second|Kilobytes\/Second|Megabytes\/Second|Gigabytes\/Second|Terabytes\/Second|Bits\/Second|Kilobits\/Second|Megabits\/Second|Gigabits\/Second|Terabits\/Second|Count\/Second|None)$/;

/** The specification's MUSTs, checked on one log line; returns the parsed document. */
function assertEmf(line: string): Record<string, any> {
  expect(line).not.toContain('\n');
  const doc = JSON.parse(line); // throws on anything before or after the object
  expect(typeof doc).toBe('object');
  expect(Array.isArray(doc)).toBe(false);
  const aws = doc._aws;
  expect(Object.keys(aws).sort()).toEqual(['CloudWatchMetrics', 'Timestamp']); // no additional members
  expect(Number.isInteger(aws.Timestamp)).toBe(true);
  expect(Array.isArray(aws.CloudWatchMetrics)).toBe(true);
  for (const directive of aws.CloudWatchMetrics) {
    expect(Object.keys(directive).sort()).toEqual(['Dimensions', 'Metrics', 'Namespace']);
    expect(directive.Namespace).toMatch(/^.{1,1024}$/);
    expect(directive.Dimensions.length).toBeGreaterThanOrEqual(1);
    for (const set of directive.Dimensions) {
      expect(set.length).toBeLessThanOrEqual(30);
      for (const key of set) expect(typeof doc[key]).toBe('string');
    }
    expect(directive.Metrics.length).toBeLessThanOrEqual(100);
    for (const metric of directive.Metrics) {
      expect(Object.keys(metric).every((k) => ['Name', 'Unit', 'StorageResolution'].includes(k))).toBe(true);
      expect(metric.Name).toMatch(/^.{1,1024}$/);
      if (metric.Unit !== undefined) expect(metric.Unit).toMatch(UNITS);
      expect(typeof doc[metric.Name]).toBe('number'); // the target member, on the root node, not nested
    }
  }
  return doc;
}

const report = (over: Partial<SweepReport> = {}): SweepReport => ({
  targets: 2,
  policies: 3,
  removed: [],
  expired: [],
  schedulesRepaired: [],
  closed: [],
  errors: [],
  failedSteps: [],
  ...over,
});

describe('EMF metrics', () => {
  it('writes the sweeper metrics as one valid EMF line in namespace BreakGlass, without dimensions', () => {
    // Prepare: a run whose grants step failed twice, after removing an orphan and repairing a schedule
    const lines: string[] = [];
    const failed = report({
      removed: [{ target: 'role/Responder', policyName: 'breakglass-x', why: 'no grant' }],
      schedulesRepaired: ['g1'],
      errors: ['grants: a: AccessDenied: no', 'grants: b: ThrottlingException: slow'],
      failedSteps: ['grants'],
    });

    // Act
    publishMetrics(sweepMetrics(failed), {
      write: (l) => lines.push(l),
      timestamp: 1_764_000_000_123.7,
      context: { msg: 'sweep metrics' },
    });

    // Assess
    expect(lines).toHaveLength(1);
    const doc = assertEmf(lines[0]!);
    expect(doc._aws).toEqual({
      Timestamp: 1_764_000_000_123,
      CloudWatchMetrics: [
        {
          Namespace: 'BreakGlass',
          Dimensions: [[]],
          Metrics: Object.values(SWEEP_METRICS).map((Name) => ({ Name, Unit: 'Count' })),
        },
      ],
    });
    expect(doc).toMatchObject({
      SweepSucceeded: 0,
      SweeperOrphansRemoved: 1,
      SchedulesRepaired: 1,
      SweeperStepFailures: 2,
      msg: 'sweep metrics',
    });
    expect(METRICS_NAMESPACE).toBe('BreakGlass');
  });

  it('says SweepSucceeded 1 for a run without failures', () => {
    const doc = assertEmf(JSON.stringify(emfDocument(sweepMetrics(report()))));
    expect(doc).toMatchObject({
      SweepSucceeded: 1,
      SweeperOrphansRemoved: 0,
      SchedulesRepaired: 0,
      SweeperStepFailures: 0,
    });
  });

  it('writes to stdout by default, the JSON object alone on its line', () => {
    const writes: string[] = [];
    const original = process.stdout.write.bind(process.stdout);
    process.stdout.write = ((chunk: string) => {
      writes.push(String(chunk));
      return true;
    }) as typeof process.stdout.write;
    try {
      publishMetrics({ SweepSucceeded: 1 });
    } finally {
      process.stdout.write = original;
    }
    expect(writes).toHaveLength(1);
    expect(writes[0]!.endsWith('}\n')).toBe(true);
    expect(assertEmf(writes[0]!.slice(0, -1)).SweepSucceeded).toBe(1);
  });

  it('refuses documents the specification forbids', () => {
    expect(() => emfDocument({})).toThrow(RangeError);
    expect(() => emfDocument(Object.fromEntries(Array.from({ length: 101 }, (_, i) => [`m${i}`, 1])))).toThrow(
      RangeError,
    );
    expect(() => emfDocument({ SweepSucceeded: Number.NaN })).toThrow(RangeError);
    expect(() => emfDocument({ msg: 1 }, { context: { msg: 'x' } })).toThrow(RangeError);
  });
});
