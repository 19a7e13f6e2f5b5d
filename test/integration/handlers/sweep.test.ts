/**
 * The sweeper against the emulator: orphaned policies removed, lost schedules re-created; a step
 * that fails (IAM denies the listing) leaves the other steps done, fails the run and says so in
 * the run's metrics.
 */

import { IAMClient, IAMServiceException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { IamPolicyAdapter } from '../../../functions/adapters/iam-policy.adapter.js';
import { SweepFailedError } from '../../../functions/domain/errors.js';
import { type SweepPorts, type SweepReport, sweepTargets } from '../../../functions/domain/sweep.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import {
  apiEvent,
  inlinePolicies,
  parse,
  publishedMessages,
  schedules,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

let world: TestWorld;
let create: (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let sweep: () => Promise<SweepReport>;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  create = (await import('../../../functions/handlers/create-grant.js')).handler;
  sweep = (await import('../../../functions/handlers/sweep.js')).lambdaHandler;
});

describe('sweeper against the emulator', () => {
  it('removes a hand-made break-glass policy, repairs a lost schedule, and leaves healthy grants alone', async () => {
    // Prepare: a healthy grant, a grant whose schedule was lost, and a policy put by hand with our prefix
    const healthy = parse(
      await create(
        apiEvent({
          identity: await sessionOf(world, world.responderRole, 'ok'),
          body: { profile: 'demo', reason: 'a healthy grant for the sweep', durationMinutes: 10 },
        }),
        {} as Context,
      ),
    ).grant;
    const lost = parse(
      await create(
        apiEvent({
          identity: await sessionOf(world, world.responderRole, 'lost'),
          body: { profile: 'demo', reason: 'a grant whose schedule is lost', durationMinutes: 10 },
        }),
        {} as Context,
      ),
    ).grant;
    await world.scheduler.send(new DeleteScheduleCommand({ GroupName: world.scheduleGroup, Name: lost.id }));
    const forged = 'breakglass-0f8fad5b-d9cb-469f-a165-70867728950e';
    await world.iam.send(
      new PutRolePolicyCommand({
        RoleName: world.responderRole,
        PolicyName: forged,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );

    // Act
    const report = await sweep();

    // Assess
    expect(report.removed).toEqual([
      {
        target: `role/${world.responderRole}`,
        policyName: forged,
        why: 'no grant has this policy name (put by hand, or its record is gone)',
      },
    ]);
    expect(report.schedulesRepaired).toEqual([lost.id]);
    expect(report.errors).toEqual([]);
    const policies = await inlinePolicies(world, { role: world.responderRole });
    expect(Object.keys(policies).sort()).toEqual([healthy.policyName, lost.policyName].sort());
    expect((await schedules(world)).find((s) => s.Name === lost.id)?.ScheduleExpression).toBe(
      `at(${lost.expiresAt.replace('Z', '')})`,
    );
    expect((await tableItems(world, lost.id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'SCHEDULE_REPAIRED',
    ]);
    const alerts = await publishedMessages(world);
    expect(
      alerts.some(
        (a) => a.attributes.eventType === 'SWEPT' && a.attributes.severity === 'CRITICAL' && a.message.includes(forged),
      ),
    ).toBe(true);

    // A second sweep finds nothing to do.
    const again = await sweep();
    expect([again.removed, again.expired, again.schedulesRepaired]).toEqual([[], [], []]);
  });
});

describe('sweeper with a failing step, against the emulator', () => {
  it('repairs schedules although IAM denies listing policies, then fails the run and reports SweepSucceeded 0', {
    timeout: 60_000,
  }, async () => {
    // Prepare: a grant whose schedule is lost, a forged policy, and an IAM client that is denied
    // ListRolePolicies (as a sweeper role missing iam:ListRolePolicies would be), everything else real.
    const wiring = await import('../../../functions/handlers/wiring.js');
    const { createSweepHandler } = await import('../../../functions/handlers/sweep.js');
    const lost = parse(
      await create(
        apiEvent({
          identity: await sessionOf(world, world.responderRole, 'lost2'),
          body: { profile: 'demo', reason: 'a grant whose schedule is lost again', durationMinutes: 10 },
        }),
        {} as Context,
      ),
    ).grant;
    await world.scheduler.send(new DeleteScheduleCommand({ GroupName: world.scheduleGroup, Name: lost.id }));
    const forged = 'breakglass-7c9e6679-7425-40de-944b-e07fc1f90ae7';
    await world.iam.send(
      new PutRolePolicyCommand({
        RoleName: world.responderRole,
        PolicyName: forged,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }],
        }),
      }),
    );
    const deniedIam = new IAMClient(emulatorConfig(world.endpoint));
    deniedIam.middlewareStack.add(
      (next, context) => async (args) => {
        if (context.commandName === 'ListRolePoliciesCommand') {
          throw new IAMServiceException({
            name: 'AccessDenied',
            $fault: 'client',
            $metadata: { httpStatusCode: 403 },
            message:
              'User: arn:aws:sts::123456789012:assumed-role/sweeper/x is not authorized to perform: iam:ListRolePolicies',
          });
        }
        return next(args);
      },
      { step: 'initialize', name: 'denyListRolePolicies' },
    );
    const quiet = { info: () => {}, warn: () => {}, error: () => {} };
    const ports: SweepPorts = {
      store: wiring.store(),
      access: new IamPolicyAdapter({ awsSdkV3Client: deniedIam }),
      scheduler: wiring.scheduler(),
      notifier: wiring.notifier(),
      clock: wiring.clock,
      profileRisks: wiring.profileRisks(),
      log: quiet,
    };
    const targets = sweepTargets(wiring.profiles(), wiring.protectedResources());
    const lines: string[] = [];
    const denied = createSweepHandler(ports, targets, { writeMetrics: (l) => lines.push(l) });

    // Act
    const error = await denied().then(
      () => undefined,
      (e: unknown) => e,
    );

    // Assess: the run failed, naming the step; the schedule was still repaired; the forged policy is still there
    expect(error).toBeInstanceOf(SweepFailedError);
    expect((error as SweepFailedError).failedSteps).toEqual(['policies']);
    expect((error as Error).message).toBe(
      `Sweep failed in step policies (1 failure: role/${world.responderRole}: AccessDenied: User: arn:aws:sts::123456789012:assumed-role/sweeper/x is not authorized to perform: iam:ListRolePolicies); the other steps were done`,
    );
    expect((await schedules(world)).find((s) => s.Name === lost.id)?.ScheduleExpression).toBe(
      `at(${lost.expiresAt.replace('Z', '')})`,
    );
    expect((await tableItems(world, lost.id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual([
      'REQUESTED',
      'ACTIVATED',
      'SCHEDULE_REPAIRED',
    ]);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).toContain(forged);
    expect(lines).toHaveLength(1);
    const metrics = JSON.parse(lines[0]!);
    expect(metrics._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'BreakGlass',
        Dimensions: [[]],
        Metrics: [
          'SweepSucceeded',
          'SweeperOrphansRemoved',
          'SchedulesRepaired',
          'SweeperStepFailures',
          'ActiveGrants',
        ].map((Name) => ({ Name, Unit: 'Count' })),
      },
    ]);
    expect(metrics).toMatchObject({
      SweepSucceeded: 0,
      SweeperOrphansRemoved: 0,
      SchedulesRepaired: 1,
      SweeperStepFailures: 1,
    });
    // The gauge counts the ACTIVE grants the grants step saw (the repaired one among them).
    expect(metrics.ActiveGrants).toBe((await wiring.store().active()).length);
    expect(metrics.ActiveGrants).toBeGreaterThanOrEqual(1);

    // Once IAM allows it again, the next run removes the forged policy and succeeds.
    const healthy = createSweepHandler({ ...ports, access: wiring.access() }, targets, {
      writeMetrics: (l) => lines.push(l),
    });
    const report = await healthy();
    expect(report.removed.map((r) => r.policyName)).toEqual([forged]);
    expect(Object.keys(await inlinePolicies(world, { role: world.responderRole }))).not.toContain(forged);
    expect(JSON.parse(lines[1]!)).toMatchObject({
      SweepSucceeded: 1,
      SweeperOrphansRemoved: 1,
      SchedulesRepaired: 0,
      SweeperStepFailures: 0,
    });
  });
});
