/** ExpiryScheduler over EventBridge Scheduler one-time `at()` schedules. */

import {
  ActionAfterCompletion,
  CreateScheduleCommand,
  DeleteScheduleCommand,
  FlexibleTimeWindowMode,
  GetScheduleCommand,
  ResourceNotFoundException,
  SchedulerClient,
  type SchedulerClientConfig,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import type { ExpiryScheduler } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

export interface SchedulerAdapterOptions {
  readonly groupName: string;
  /** The expiry function the schedule invokes. */
  readonly targetArn: string;
  /** The role Scheduler assumes to invoke it. */
  readonly roleArn: string;
  /** Where a delivery that exhausted its retries goes. */
  readonly deadLetterArn?: string;
  readonly awsSdkV3Client?: SchedulerClient;
  readonly clientConfig?: SchedulerClientConfig;
}

/** Retries for a failed expiry delivery: Scheduler's maximum, over at most a day. */
export const EXPIRY_RETRY_POLICY = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 } as const;

export class SchedulerAdapter implements ExpiryScheduler {
  private readonly client: SchedulerClient;

  constructor(private readonly options: SchedulerAdapterOptions) {
    this.client = options.awsSdkV3Client ?? new SchedulerClient({ ...clientDefaults(), ...options.clientConfig });
  }

  async schedule(name: string, expiresAt: string, grantId: string): Promise<void> {
    await this.client.send(
      new CreateScheduleCommand({ ...this.definition(name, expiresAt, grantId), ClientToken: grantId }),
    );
  }

  async exists(name: string): Promise<boolean> {
    try {
      await this.client.send(new GetScheduleCommand({ Name: name, GroupName: this.options.groupName }));
      return true;
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return false;
      throw error;
    }
  }

  /** UpdateSchedule replaces the whole definition, so the same one is sent with the new time. */
  async reschedule(name: string, expiresAt: string, grantId: string): Promise<void> {
    await this.client.send(new UpdateScheduleCommand(this.definition(name, expiresAt, grantId)));
  }

  private definition(name: string, expiresAt: string, grantId: string) {
    return {
      Name: name,
      GroupName: this.options.groupName,
      // at() takes local date-time without zone; the zone is given separately.
      ScheduleExpression: `at(${expiresAt.replace(/Z$/, '')})`,
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: FlexibleTimeWindowMode.OFF },
      ActionAfterCompletion: ActionAfterCompletion.DELETE,
      Description: `break-glass expiry of grant ${grantId}`,
      Target: {
        Arn: this.options.targetArn,
        RoleArn: this.options.roleArn,
        Input: JSON.stringify({ grantId }),
        RetryPolicy: EXPIRY_RETRY_POLICY,
        ...(this.options.deadLetterArn ? { DeadLetterConfig: { Arn: this.options.deadLetterArn } } : {}),
      },
    };
  }

  async cancel(name: string): Promise<'deleted' | 'absent'> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: name, GroupName: this.options.groupName }));
      return 'deleted';
    } catch (error) {
      if (error instanceof ResourceNotFoundException) return 'absent';
      throw error;
    }
  }
}
