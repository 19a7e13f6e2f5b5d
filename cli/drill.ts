/**
 * `breakglass drill`: starts a drill (`POST /drills`, answered 202 at once), polls `GET /drills/{id}`
 * until it is done (within {@link DRILL_POLL_BOUND_MS}), then prints each step with its outcome and
 * timing, and the drill's timings; `--last` prints the last drill (`GET /drills`) and its age.
 */
import type { ApiResponse } from './client.js';

/** Between two polls of `GET /drills/{id}`. */
export const DRILL_POLL_MS = 2_000;
/**
 * How long the CLI waits for a drill at most: the drill function's 5-minute timeout and a minute. A drill
 * still RUNNING then will not finish (its function was stopped): the CLI says so instead of waiting forever.
 */
export const DRILL_POLL_BOUND_MS = 6 * 60_000;

/** A requested drill as `GET /drills/{id}` returns it: the steps so far, then the result. */
export interface DrillRunView {
  readonly id: string;
  readonly mode: string;
  readonly status: 'RUNNING' | 'PASSED' | 'FAILED';
  readonly steps: DrillView['steps'];
  readonly result?: DrillView;
}
export interface DrillRunBody {
  readonly drill: DrillRunView;
}

/**
 * Polls `GET /drills/{id}` (`get`, given the drill id) until the drill is no longer RUNNING, an error
 * answers, or the bound passes (`timedOut`). Tells each newly finished step as it comes (`onStep`).
 */
export async function pollDrill(
  get: (id: string) => Promise<ApiResponse>,
  io: { now: () => number; sleep: (ms: number) => Promise<void> },
  id: string,
  options: { boundMs?: number; pollMs?: number; onStep?: (line: string) => void } = {},
): Promise<{ res: ApiResponse; timedOut: boolean }> {
  const deadline = io.now() + (options.boundMs ?? DRILL_POLL_BOUND_MS);
  let told = 0;
  for (;;) {
    const res = await get(id);
    if (res.status >= 400) return { res, timedOut: false };
    const run = (res.body as DrillRunBody).drill;
    for (const s of run.steps.slice(told)) options.onStep?.(`  … ${s.name} ${s.outcome}`);
    told = Math.max(told, run.steps.length);
    if (run.status !== 'RUNNING') return { res, timedOut: false };
    if (io.now() >= deadline) return { res, timedOut: true };
    await io.sleep(options.pollMs ?? DRILL_POLL_MS);
  }
}

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
