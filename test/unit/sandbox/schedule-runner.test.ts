/**
 * The sandbox's Scheduler stand-in over a mocked Scheduler client: schedules that vanish (a
 * revocation deletes them) between the listing and the read, or before they fire, are forgotten
 * and never fired; no failure escapes a pass; only a failed *invoke* is retried.
 */

import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  ResourceNotFoundException,
  SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { type FiredSchedule, ScheduleRunner } from '../../../sandbox/schedule-runner.js';

const GROUP = 'breakglass-test';
const ARN = 'arn:aws:lambda:us-east-1:123456789012:function:breakglass-expiry-test';
const DUE = new Date('2026-11-24T03:44:27Z');
const notFound = () =>
  new ResourceNotFoundException({
    Message: 'Schedule not found',
    message: 'Schedule not found',
    $metadata: { httpStatusCode: 404 },
  });
const summary = (name: string) => ({
  Name: name,
  GroupName: GROUP,
  State: 'ENABLED' as const,
  LastModificationDate: new Date('2026-11-24T03:43:27Z'),
});
const detail = (name: string) => ({
  Name: name,
  GroupName: GROUP,
  ScheduleExpression: `at(${DUE.toISOString().slice(0, 19)})`,
  ScheduleExpressionTimezone: 'UTC',
  ActionAfterCompletion: 'DELETE' as const,
  Target: {
    Arn: ARN,
    RoleArn: 'arn:aws:iam::123456789012:role/scheduler',
    Input: JSON.stringify({ grantId: name }),
    RetryPolicy: { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 },
  },
});

function setUp() {
  const client = new SchedulerClient({ region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'x' } });
  const mock = mockClient(client);
  const delivered: unknown[] = [];
  const fired: FiredSchedule[] = [];
  const errors: string[] = [];
  const vanished: string[] = [];
  let deliver: (arn: string, input: unknown) => unknown = (_arn, input) => void delivered.push(input);
  const runner = new ScheduleRunner({
    client,
    groupName: GROUP,
    deliver: (arn, input) => deliver(arn, input),
    onFired: (f) => fired.push(f),
    onError: (m) => errors.push(m),
    onVanished: (n) => vanished.push(n),
    intervalMs: 5,
  });
  return { client, mock, runner, delivered, fired, errors, vanished, setDeliver: (d: typeof deliver) => (deliver = d) };
}

afterEach(() => vi.useRealTimers());

describe('schedule runner', () => {
  it('forgets a schedule deleted between the listing and the read, and fires the others', async () => {
    // Prepare: two schedules listed; one is gone by the time it is read
    const { mock, runner, delivered, errors, vanished } = setUp();
    mock.on(ListSchedulesCommand).resolves({ Schedules: [summary('gone'), summary('kept')] });
    mock.on(GetScheduleCommand, { Name: 'gone' }).rejects(notFound());
    mock.on(GetScheduleCommand, { Name: 'kept' }).resolves(detail('kept'));
    mock.on(DeleteScheduleCommand).resolves({});

    // Act
    await runner.tick(() => new Date(DUE.getTime() + 100));

    // Assess
    expect(delivered).toEqual([{ grantId: 'kept' }]);
    expect(errors).toEqual([]);
    expect(vanished).toEqual(['gone']);
    expect(mock.commandCalls(DeleteScheduleCommand).map((c) => c.args[0].input.Name)).toEqual(['kept']);
  });

  it('never fires a schedule deleted after it was read (a revocation before it is due)', async () => {
    const { mock, runner, delivered, errors, vanished } = setUp();
    mock.on(ListSchedulesCommand).resolves({ Schedules: [summary('revoked')] });
    mock.on(GetScheduleCommand, { Name: 'revoked' }).resolvesOnce(detail('revoked')).rejects(notFound());

    await runner.tick(() => new Date(DUE.getTime() - 1000)); // read, not yet due
    await runner.tick(() => new Date(DUE.getTime() + 100)); // due, but deleted meanwhile

    expect(delivered).toEqual([]);
    expect(errors).toEqual([]);
    expect(vanished).toEqual(['revoked']);
  });

  it('reports a failed read and goes on with the other schedules', async () => {
    const { mock, runner, delivered, errors } = setUp();
    mock.on(ListSchedulesCommand).resolves({ Schedules: [summary('broken'), summary('fine')] });
    mock
      .on(GetScheduleCommand, { Name: 'broken' })
      .rejects(Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' }));
    mock.on(GetScheduleCommand, { Name: 'fine' }).resolves(detail('fine'));
    mock.on(DeleteScheduleCommand).resolves({});

    await runner.tick(() => new Date(DUE.getTime() + 100));

    expect(delivered).toEqual([{ grantId: 'fine' }]);
    expect(errors).toEqual(['could not read schedule broken: ThrottlingException: Rate exceeded']);
  });

  it('keeps polling after a pass fails (the listing itself), without an unhandled rejection', async () => {
    // Prepare: the first listing fails, the next ones work
    const { mock, runner, delivered, errors } = setUp();
    mock
      .on(ListSchedulesCommand)
      .rejectsOnce(notFound())
      .resolves({ Schedules: [summary('later')] });
    mock.on(GetScheduleCommand).resolves(detail('later'));
    mock.on(DeleteScheduleCommand).resolves({});
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);

    // Act: let the interval run until the schedule (already due) fires
    try {
      runner.start();
      await vi.waitFor(() => expect(delivered).toEqual([{ grantId: 'later' }]), { timeout: 10_000, interval: 5 });
      await runner.stop();
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }

    // Assess
    expect(errors[0]).toMatch(
      /^schedule runner pass failed \(next pass in 5 ms\): ResourceNotFoundException: Schedule not found$/,
    );
    expect(unhandled).toEqual([]);
  });

  it('counts an accepted invoke as done: one delivery, schedule deleted', async () => {
    const { mock, runner, fired } = setUp();
    mock.on(ListSchedulesCommand).resolves({ Schedules: [summary('g1')] });
    mock.on(GetScheduleCommand).resolves(detail('g1'));
    mock.on(DeleteScheduleCommand).resolves({});

    await runner.tick(() => new Date(DUE.getTime() + 100));
    mock.on(ListSchedulesCommand).resolves({ Schedules: [] });
    await runner.tick(() => new Date(DUE.getTime() + 60_000));

    expect(fired.map((f) => [f.name, f.ok, f.attempt])).toEqual([['g1', true, 1]]);
    expect(mock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });

  it("retries a failed invoke under the schedule's retry policy, and keeps the schedule meanwhile", async () => {
    const { mock, runner, fired, setDeliver, delivered } = setUp();
    mock.on(ListSchedulesCommand).resolves({ Schedules: [summary('g2')] });
    mock.on(GetScheduleCommand).resolves(detail('g2'));
    mock.on(DeleteScheduleCommand).resolves({});
    let calls = 0;
    setDeliver((_arn, input) => {
      if (++calls === 1) throw Object.assign(new Error('Rate exceeded'), { name: 'TooManyRequestsException' });
      delivered.push(input);
    });

    await runner.tick(() => new Date(DUE.getTime() + 100));
    await runner.tick(() => new Date(DUE.getTime() + 500)); // within the backoff: not yet
    await runner.tick(() => new Date(DUE.getTime() + 5_000));

    expect(fired.map((f) => [f.ok, f.attempt])).toEqual([
      [false, 1],
      [true, 2],
    ]);
    expect(delivered).toEqual([{ grantId: 'g2' }]);
    expect(mock.commandCalls(DeleteScheduleCommand)).toHaveLength(1);
  });
});
