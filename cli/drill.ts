/**
 * `breakglass drill`: runs a drill (`POST /drills`) and prints each step with its outcome and timing,
 * then the drill's timings; `--last` prints the last drill (`GET /drills`) and its age.
 */

/** A DRILL result as the API returns it (`functions/domain/drill.ts`). */
export interface DrillView {
  readonly id: string;
  readonly mode: string;
  readonly profile: string;
  readonly by: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'PASSED' | 'FAILED';
  readonly failedStep?: string;
  readonly grantId?: string;
  readonly judgedBy: string;
  readonly steps: ReadonlyArray<{ name: string; outcome: string; ms: number; detail: string; fix?: string }>;
  readonly timings: Readonly<Record<string, number | undefined>>;
}

const MARK: Record<string, string> = { passed: '✔', failed: '✖', skipped: '·' };
const TIMINGS: ReadonlyArray<[string, string]> = [
  ['timeToAccessMs', 'time to access'],
  ['timeToRevokeMs', 'time to revoke'],
  ['expiryLagMs', 'expiry lag'],
  ['alertDeliveryMs', 'alert delivery'],
];

function seconds(ms: number): string {
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(1)} s`;
}

/** The lines `breakglass drill` prints for one result. */
export function drillLines(d: DrillView): string[] {
  const lines = [
    `Drill ${d.id} (${d.mode}) of profile ${d.profile}${d.grantId ? `, grant ${d.grantId}` : ''}`,
    `  judged by: ${d.judgedBy}${d.judgedBy === 'AWS IAM' ? '' : ' (in AWS the calls are judged by IAM itself)'}`,
  ];
  for (const s of d.steps) {
    lines.push(
      `  ${MARK[s.outcome] ?? '?'} ${s.name.padEnd(12)} ${s.outcome.padEnd(7)} ${seconds(s.ms).padStart(8)}  ${s.detail}`,
    );
    if (s.fix) lines.push(`      fix: ${s.fix}`);
  }
  const timings = TIMINGS.filter(([key]) => d.timings[key] !== undefined).map(
    ([key, label]) => `${label} ${seconds(d.timings[key]!)}`,
  );
  if (timings.length) lines.push(`  timings: ${timings.join(' · ')}`);
  lines.push(
    d.outcome === 'PASSED'
      ? `✔ Drill PASSED: the break-glass path works end to end.`
      : `✖ Drill FAILED at step ${d.failedStep}; a CRITICAL alert went out.`,
  );
  return lines;
}

/** `--last`: the last drill, how old it is, and the recent ones. */
export interface DrillBody {
  readonly drill: DrillView;
}
export interface LastDrillBody {
  readonly last?: DrillView;
  readonly ageDays?: number;
  readonly recent?: DrillView[];
}

export function lastDrillLines(body: LastDrillBody): string[] {
  if (!body.last) return ['No drill has run yet: breakglass drill'];
  return [
    `Last drill: ${body.last.outcome} ${body.ageDays ?? '?'} day(s) ago (${body.last.finishedAt})`,
    ...drillLines(body.last),
    ...(body.recent && body.recent.length > 1
      ? [
          '',
          'Recent:',
          ...body.recent.map((r) => `  ${r.finishedAt}  ${r.outcome.padEnd(6)}  ${r.mode.padEnd(6)}  ${r.id}`),
        ]
      : []),
  ];
}
