import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { IdempotencyReplayError, ValidationError } from '../../../functions/domain/errors.js';
import { ALICE, ALICE_ID, BOB, BOB_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const body = { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 };
const alice = { arn: ALICE, userId: ALICE_ID };

describe('idempotency and races', () => {
  it('returns the same grant for a retried request with the same Idempotency-Key', async () => {
    const ports = fakePorts();
    const first = await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0001' });
    const second = await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0001' });
    expect(second.grant.id).toBe(first.grant.id);
    expect(second.existing).toBe(true);
    expect(ports.store.grants.size).toBe(1);
  });

  it('returns a failed first attempt as it stands, rather than trying again under the same key', async () => {
    const ports = fakePorts();
    ports.access.failAttach = new Error('iam down');
    await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0002' }).catch(
      () => undefined,
    );
    ports.access.failAttach = undefined;
    const retry = await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0002' });
    expect(retry.grant.status).toBe('FAILED');
    const fresh = await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0003' });
    expect(fresh.grant.status).toBe('ACTIVE');
  });

  it('refuses the same key with a different request, and a malformed key', async () => {
    const ports = fakePorts();
    await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'retry-key-0004' });
    await expect(
      activateGrant(ports, profiles, {
        caller: alice,
        body: { ...body, durationMinutes: 60 },
        idempotencyKey: 'retry-key-0004',
      }),
    ).rejects.toBeInstanceOf(IdempotencyReplayError);
    await expect(activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'x' })).rejects.toBeInstanceOf(
      ValidationError,
    );
  });

  it('scopes keys to the caller: another person with the same key gets their own grant', async () => {
    const ports = fakePorts();
    const a = await activateGrant(ports, profiles, { caller: alice, body, idempotencyKey: 'shared-key-0001' });
    const b = await activateGrant(ports, profiles, {
      caller: { arn: BOB, userId: BOB_ID },
      body,
      idempotencyKey: 'shared-key-0001',
    });
    expect(b.grant.id).not.toBe(a.grant.id);
  });

  it('yields one grant when the same person races two activations of one profile', async () => {
    const ports = fakePorts();
    const results = await Promise.all([
      activateGrant(ports, profiles, { caller: alice, body }),
      activateGrant(ports, profiles, { caller: alice, body }),
    ]);
    expect(new Set(results.map((r) => r.grant.id)).size).toBe(1);
    expect(ports.access.policies.size).toBe(1);
    expect(results.filter((r) => r.existing)).toHaveLength(1);
  });
});
