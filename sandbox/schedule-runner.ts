/**
 * moto stores EventBridge Scheduler schedules but never fires them. This runner stands in
 * for Scheduler in the sandbox: it polls a schedule group, fires each one-time `at()`
 * schedule when due (to the second), and deletes a completed schedule when it asks for
 * `ActionAfterCompletion: DELETE`, as the real service does.
 *
 * Firing means *invoking* the target, which for a Lambda target is an asynchronous invocation
 * (see `lambda-async.ts`): once Lambda accepts the event, the schedule has done its job, even if
 * the handler later throws; Lambda's own retries and on-failure destination handle that. The
 * schedule's retry policy (and dead-letter queue) only cover a failed *invoke*, which `deliver`
 * reports by throwing; the runner retries those with backoff within the policy.
 *
 * A schedule may vanish at any moment (a revocation deletes it): between the listing and the read,
 * or before it fires. Either way it is forgotten, never fired; and no failure of a pass (moto
 * unreachable, a bad schedule) escapes the runner: it is reported through `onError` and the next
 * pass runs as usual.
 */
import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListSchedulesCommand,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';

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
  /**
   * Invokes the schedule's target with its input (Scheduler → Lambda, asynchronously). Resolving means
   * the target accepted the event; throwing means the invoke failed, which the retry policy covers.
   */
  readonly deliver: (targetArn: string, input: unknown) => Promise<unknown> | unknown;
  readonly intervalMs?: number;
  readonly onFired?: (fired: FiredSchedule) => void;
  /** A pass, or one schedule in it, failed; the runner goes on. @default ignore */
  readonly onError?: (message: string) => void;
  /** A listed schedule was deleted before the runner could read or fire it (a revocation won the race). */
  readonly onVanished?: (name: string) => void;
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

const describe = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

export class ScheduleRunner {
  private readonly tracked = new Map<string, Tracked>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;

  constructor(private readonly options: ScheduleRunnerOptions) {}

  start(): void {
    const interval = this.options.intervalMs ?? 1000;
    this.timer = setInterval(() => {
      this.running ??= this.tick()
        .catch((error: unknown) =>
          this.report(`schedule runner pass failed (next pass in ${interval} ms): ${describe(error)}`),
        )
        .finally(() => (this.running = undefined));
    }, interval);
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    await this.running;
  }

  /** One pass: learn new schedules, fire the due ones. Exposed for tests. Throws only when the listing fails. */
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
        if (known && known.modified === modified) continue;
        try {
          const detail = await client.send(new GetScheduleCommand({ GroupName: groupName, Name: summary.Name }));
          const tracked = this.track(detail, modified);
          if (tracked) this.tracked.set(summary.Name, tracked);
        } catch (error) {
          // Deleted between the listing and this read (a revocation): nothing left to fire.
          if (error instanceof ResourceNotFoundException) {
            seen.delete(summary.Name);
            this.vanished(summary.Name);
          } else this.report(`could not read schedule ${summary.Name}: ${describe(error)}`);
        }
      }
      token = page.NextToken;
    } while (token);
    for (const name of this.tracked.keys()) if (!seen.has(name)) this.tracked.delete(name);

    for (const [name, schedule] of this.tracked) {
      const current = now();
      if (current.getTime() < schedule.dueAt.getTime() || current.getTime() < schedule.nextTryAt) continue;
      try {
        await this.fire(name, schedule, current);
      } catch (error) {
        this.report(`schedule ${name}: ${describe(error)}`);
      }
    }
  }

  private async fire(name: string, schedule: Tracked, current: Date): Promise<void> {
    const { client, groupName } = this.options;
    // Scheduler never fires a schedule that no longer exists: check, since a revocation may have deleted it since the listing.
    try {
      await client.send(new GetScheduleCommand({ GroupName: groupName, Name: name }));
    } catch (error) {
      if (error instanceof ResourceNotFoundException) {
        this.tracked.delete(name);
        this.vanished(name);
        return;
      }
      throw error;
    }
    schedule.attempts += 1;
    try {
      await this.options.deliver(schedule.targetArn, schedule.input);
    } catch (error) {
      // The invoke itself failed: this is what the schedule's retry policy covers.
      this.options.onFired?.({
        name,
        dueAt: schedule.dueAt,
        firedAt: current,
        ok: false,
        attempt: schedule.attempts,
        error: describe(error),
      });
      const tooOld = current.getTime() - schedule.dueAt.getTime() > schedule.maxAgeMs;
      if (schedule.attempts > schedule.maxAttempts || tooOld) {
        // Retries exhausted: real Scheduler sends the event to the schedule's dead-letter queue.
        this.tracked.delete(name);
        return;
      }
      schedule.nextTryAt = current.getTime() + Math.min(2 ** schedule.attempts, 30) * 1000;
      return;
    }
    this.options.onFired?.({ name, dueAt: schedule.dueAt, firedAt: current, ok: true, attempt: schedule.attempts });
    this.tracked.delete(name);
    if (schedule.deleteAfter) {
      await client.send(new DeleteScheduleCommand({ GroupName: groupName, Name: name })).catch((error: unknown) => {
        if (!(error instanceof ResourceNotFoundException))
          this.report(`could not delete completed schedule ${name}: ${describe(error)}`);
      });
    }
  }

  private report(message: string): void {
    try {
      this.options.onError?.(message);
    } catch {
      // A failing reporter must not stop the runner either.
    }
  }

  private vanished(name: string): void {
    try {
      this.options.onVanished?.(name);
    } catch {
      // as above
    }
  }

  private track(detail: GetScheduleCommandOutput, modified: number): Tracked | undefined {
    const dueAt = detail.ScheduleExpression
      ? parseAt(detail.ScheduleExpression, detail.ScheduleExpressionTimezone ?? 'UTC')
      : undefined;
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
