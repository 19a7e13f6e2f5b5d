/**
 * The capture handler's contract with the SQS event source (`ReportBatchItemFailures`): only the
 * messages that failed are reported for redelivery; malformed ones are acknowledged (they can never
 * succeed); a lone EventBridge event that fails throws so its invoker retries.
 */
import { describe, expect, it, vi } from 'vitest';
import { assumedRoleIdentity, getObject, profileSession, viaEventBridge } from '../../support/cloudtrail-fixtures.js';

const fakes = vi.hoisted(() => ({ ports: undefined as any }));
vi.mock('../../../functions/handlers/wiring.js', async () => {
  const { fakePorts, MemoryActivityStore } = await import('../../support/fakes.js');
  const ports = fakePorts();
  const activity = new MemoryActivityStore();
  fakes.ports = { ...ports, activity };
  return {
    store: () => ports.store,
    activityStore: () => activity,
    notifier: () => ports.notifier,
    clock: ports.clock,
    // ACCOUNT_ID: the account of grants that name none (the capture ties calls only to grants of their account).
    accountDirectory: () => ({ hub: '123456789012', aliases: {} }),
  };
});

const { lambdaHandler } = await import('../../../functions/handlers/capture-activity.js');
const GRANT = '00000000-0000-4000-8000-0000000000bb';

async function seedGrant() {
  await fakes.ports.store.create(
    {
      id: GRANT,
      profile: 'demo',
      owner: 'o',
      principalArn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
      targetType: 'role',
      targetName: 'bg-demo',
      status: 'ACTIVE',
      reason: 'payments are failing',
      durationMinutes: 30,
      createdAt: '2026-11-24T10:00:00.000Z',
      expiresAt: '2026-11-24T10:30:00Z',
      policyName: 'p',
      scheduleName: 's',
      version: 1,
      eventCount: 0,
    },
    { type: 'REQUESTED', at: '2026-11-24T10:00:00.000Z', actor: 'a', outcome: 'SUCCESS' },
  );
}

describe('capture-activity handler', () => {
  it('reports only failed messages of an SQS batch for redelivery, acknowledging malformed ones', async () => {
    await seedGrant();
    const identity = assumedRoleIdentity(profileSession(GRANT));
    const ok = { messageId: 'ok', body: JSON.stringify(viaEventBridge(getObject(identity, '2026-11-24T10:05:00Z'))) };
    const junk = { messageId: 'junk', body: '{' };
    expect(await lambdaHandler({ Records: [ok, junk] } as never)).toEqual({ batchItemFailures: [] });
    expect(await fakes.ports.activity.all(GRANT)).toHaveLength(1);

    fakes.ports.activity.failRecord = new Error('table unavailable');
    const failing = {
      messageId: 'again',
      body: JSON.stringify(viaEventBridge(getObject(identity, '2026-11-24T10:06:00Z'))),
    };
    expect(await lambdaHandler({ Records: [failing, junk] } as never)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'again' }],
    });
    await expect(lambdaHandler(viaEventBridge(getObject(identity, '2026-11-24T10:07:00Z')) as never)).rejects.toThrow(
      /activity capture failed/,
    );
    fakes.ports.activity.failRecord = undefined;
  });
});
