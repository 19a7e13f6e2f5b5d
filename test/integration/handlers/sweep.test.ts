/** The sweeper against the emulator: orphaned policies removed, lost schedules re-created. */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { DeleteScheduleCommand } from '@aws-sdk/client-scheduler';
import { PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { apiEvent, inlinePolicies, parse, publishedMessages, schedules, sessionOf, setUpWorld, tableItems, type TestWorld } from '../../support/emulator.js';
import type { SweepReport } from '../../../functions/domain/sweep.js';

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
    const healthy = parse(await create(apiEvent({ identity: await sessionOf(world, world.responderRole, 'ok'), body: { profile: 'demo', reason: 'a healthy grant for the sweep', durationMinutes: 10 } }), {} as Context)).grant;
    const lost = parse(await create(apiEvent({ identity: await sessionOf(world, world.responderRole, 'lost'), body: { profile: 'demo', reason: 'a grant whose schedule is lost', durationMinutes: 10 } }), {} as Context)).grant;
    await world.scheduler.send(new DeleteScheduleCommand({ GroupName: world.scheduleGroup, Name: lost.id }));
    const forged = 'breakglass-0f8fad5b-d9cb-469f-a165-70867728950e';
    await world.iam.send(new PutRolePolicyCommand({ RoleName: world.responderRole, PolicyName: forged, PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:*', Resource: '*' }] }) }));

    // Act
    const report = await sweep();

    // Assess
    expect(report.removed).toEqual([{ target: `role/${world.responderRole}`, policyName: forged, why: 'no grant has this policy name (put by hand, or its record is gone)' }]);
    expect(report.schedulesRepaired).toEqual([lost.id]);
    expect(report.errors).toEqual([]);
    const policies = await inlinePolicies(world, { role: world.responderRole });
    expect(Object.keys(policies).sort()).toEqual([healthy.policyName, lost.policyName].sort());
    expect((await schedules(world)).find((s) => s.Name === lost.id)?.ScheduleExpression).toBe(`at(${lost.expiresAt.replace('Z', '')})`);
    expect((await tableItems(world, lost.id)).filter((i) => i.sk.startsWith('EVENT#')).map((i) => i.type)).toEqual(['REQUESTED', 'ACTIVATED', 'SCHEDULE_REPAIRED']);
    const alerts = await publishedMessages(world);
    expect(alerts.some((a) => a.attributes.eventType === 'SWEPT' && a.attributes.severity === 'CRITICAL' && a.message.includes(forged))).toBe(true);

    // A second sweep finds nothing to do.
    const again = await sweep();
    expect([again.removed, again.expired, again.schedulesRepaired]).toEqual([[], [], []]);
  });
});
