/**
 * moto stores EventBridge Scheduler schedules but never fires them. This runner stands in
 * for Scheduler in the sandbox: it polls a schedule group, fires each one-time `at()`
 * schedule when due (to the second), retries a failed delivery with backoff within the
 * schedule's retry policy, and deletes a completed schedule when it asks for
 * `ActionAfterCompletion: DELETE`, as the real service does.
 */
import { DeleteScheduleCommand, GetScheduleCommand, ListSchedulesCommand, type GetScheduleCommandOutput, type SchedulerClient } from '@aws-sdk/client-scheduler';

export interface FiredSchedule {
  readonly name: string;
  readonly dueAt: Date;
  readonly firedAt: Date;
  readonly ok: boolean;
  readonly attempt: number;
  readonly error?: string;
}

export interface ScheduleRunnerOptions {
  readonly client: SchedulerClient;
  readonly groupName: string;
  /** Delivers the schedule's target input (Scheduler → Lambda). Throwing means a failed delivery. */
  readonly deliver: (targetArn: string, input: unknown) => Promise<void>;
  readonly intervalMs?: number;
  readonly onFired?: (fired: FiredSchedule) => void;
}

interface Tracked {
  /** LastModificationDate when read: an UpdateSchedule (extension) makes the runner read it again. */
  readonly modified: number;
  readonly dueAt: Date;
  readonly targetArn: string;
  readonly input: unknown;
  readonly deleteAfter: boolean;
  readonly maxAttempts: number;
  readonly maxAgeMs: number;
  attempts: number;
  nextTryAt: number;
}

/** Parses `at(yyyy-mm-ddThh:mm:ss)` in the given zone (UTC is the only one we create). */
export function parseAt(expression: string, timezone = 'UTC'): Date | undefined {
  const match = /^at\((\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})\)$/.exec(expression);
  if (!match || timezone !== 'UTC') return undefined;
  return new Date(`${match[1]}Z`);
}

export class ScheduleRunner {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ScheduleRunnerOptions) {}

  start(): void {
    const interval = this.options.intervalMs ?? 1000;
    this.timer = setInterval(() => {
      this.running ??= this.tick().finally(() => (this.running = undefined));
    }, interval);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: learn new schedules, fire the due ones. Exposed for tests. */
  async tick(now = () => new Date()): Promise<void> {
    const { client, groupName } = this.options;
    const seen = new Set<string>();
    let token: string | undefined;
    do {
      const page = await client.send(new ListSchedulesCommand({ GroupName: groupName, NextToken: token }));
      for (const summary of page.Schedules ?? []) {
        if (!summary.Name || summary.State !== 'ENABLED') continue;
        seen.add(summary.Name);
        const known = this.tracked.get(summary.Name);
        const modified = summary.LastModificationDate?.getTime() ?? 0;
        if (!known || known.modified !== modified) {
          const detail = await client.send(new GetScheduleCommand({ GroupName: groupName, Name: summary.Name }));
          const tracked = this.track(detail, modified);
          if (tracked) this.tracked.set(summary.Name, tracked);
        }
      }
      token = page.NextToken;
    } while (token);
    for (const name of this.tracked.keys()) if (!seen.has(name)) this.tracked.delete(name);

    for (const [name, schedule] of this.tracked) {
      const current = now();
      if (current.getTime() < schedule.dueAt.getTime() || current.getTime() < schedule.nextTryAt) continue;
      schedule.attempts += 1;
      try {
        await this.options.deliver(schedule.targetArn, schedule.input);
        this.options.onFired?.({ name, dueAt: schedule.dueAt, firedAt: current, ok: true, attempt: schedule.attempts });
        this.tracked.delete(name);
        if (schedule.deleteAfter) await client.send(new DeleteScheduleCommand({ GroupName: groupName, Name: name })).catch(() => undefined);
      } catch (error) {
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        this.options.onFired?.({ name, dueAt: schedule.dueAt, firedAt: current, ok: false, attempt: schedule.attempts, error: message });
        const tooOld = current.getTime() - schedule.dueAt.getTime() > schedule.maxAgeMs;
        if (schedule.attempts > schedule.maxAttempts || tooOld) {
          // Retries exhausted: real Scheduler sends the event to the dead-letter queue.
          this.tracked.delete(name);
          continue;
        }
        schedule.nextTryAt = current.getTime() + Math.min(2 ** schedule.attempts, 30) * 1000;
      }
    }
  }

  private track(detail: GetScheduleCommandOutput, modified: number): Tracked | undefined {
    const dueAt = detail.ScheduleExpression ? parseAt(detail.ScheduleExpression, detail.ScheduleExpressionTimezone ?? 'UTC') : undefined;
    if (!dueAt || !detail.Target?.Arn) return undefined;
    let input: unknown = detail.Target.Input;
    try {
      input = detail.Target.Input ? JSON.parse(detail.Target.Input) : {};
    } catch {
      // Scheduler passes non-JSON input through as a string.
    }
    return {
      modified,
      dueAt,
      targetArn: detail.Target.Arn,
      input,
      deleteAfter: detail.ActionAfterCompletion === 'DELETE',
      maxAttempts: detail.Target.RetryPolicy?.MaximumRetryAttempts ?? 185,
      maxAgeMs: (detail.Target.RetryPolicy?.MaximumEventAgeInSeconds ?? 86_400) * 1000,
      attempts: 0,
      nextTryAt: 0,
    };
  }
}
