import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  GrantNotFoundError,
  InvalidTransitionError,
  StepFailedError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ALICE, ALICE_ID, BOB, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const security = ['arn:aws:iam::123456789012:role/Security'];

async function activeGrant() {
  const ports = fakePorts();
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: ALICE, userId: ALICE_ID },
    body: { profile: 'demo', reason: 'checkout is failing for all users', durationMinutes: 30 },
  });
  return { ports, grant };
}

describe('expireGrant', () => {
  it('detaches the policy, marks EXPIRED, records and announces', async () => {
    const { ports, grant } = await activeGrant();
    ports.clock.advance(30 * 60_000);
    const result = await expireGrant(ports, grant.id);
    expect(result.outcome).toBe('expired');
    expect(ports.access.policies.size).toBe(0);
    expect(ports.store.grants.get(grant.id)).toMatchObject({ status: 'EXPIRED', endedAt: '2026-11-24T10:30:00.000Z' });
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRED']);
    expect(ports.notifier.alerts.at(-1)!.attributes.eventType).toBe('EXPIRED');
  });

  it('is idempotent: a second delivery changes nothing and fails nothing', async () => {
    const { ports, grant } = await activeGrant();
    ports.clock.advance(30 * 60_000);
    await expireGrant(ports, grant.id);
    const alerts = ports.notifier.alerts.length;
    expect((await expireGrant(ports, grant.id)).outcome).toBe('already-ended');
    expect(ports.store.types(grant.id)).toHaveLength(3);
    expect(ports.notifier.alerts).toHaveLength(alerts);
  });

  it('ignores a delivery well before expiry', async () => {
    const { ports, grant } = await activeGrant();
    expect((await expireGrant(ports, grant.id)).outcome).toBe('not-due');
    expect(ports.access.policies.size).toBe(1);
  });

  it('does nothing for an unknown grant', async () => {
    expect((await expireGrant(fakePorts(), '00000000-0000-4000-8000-000000000099')).outcome).toBe('not-found');
  });

  it('detaches again when an extension re-attached the policy and recorded first, so EXPIRED never stands beside a working policy', async () => {
    // Prepare: the expiry detaches; before it records, an extension (another Lambda, 30 s earlier by its clock)
    // re-attaches the policy and records EXTENDED; the expiry's record then conflicts.
    const { ports, grant } = await activeGrant();
    const expiresAt = Date.parse(grant.expiresAt);
    const extender = { ...ports, clock: { now: () => new Date(expiresAt - 30_000) } };
    const expirer = { ...ports, clock: { now: () => new Date(expiresAt + 1_000) } };
    const append = ports.store.append.bind(ports.store);
    let raced = false;
    ports.store.append = async (g, event, changes) => {
      if (event.type === 'EXPIRED' && !raced) {
        raced = true;
        await extendGrant(extender, profiles, {
          grantId: grant.id,
          caller: { arn: ALICE },
          body: { minutes: 10, reason: 'replica still catching up' },
        });
      }
      return append(g, event, changes);
    };
    // Act
    const { outcome } = await expireGrant(expirer, grant.id);
    // Assess
    expect(outcome).toBe('expired');
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'EXTENDED', 'EXPIRED']);
    expect(ports.access.policies.size).toBe(0);
  });

  it('records EXPIRY_FAILED, alerts critically and rethrows so Scheduler retries', async () => {
    const { ports, grant } = await activeGrant();
    ports.clock.advance(30 * 60_000);
    ports.access.failDetach = new Error('iam down');
    await expect(expireGrant(ports, grant.id)).rejects.toThrow('iam down');
    expect(ports.store.grants.get(grant.id)!.status).toBe('ACTIVE');
    expect(ports.store.types(grant.id).at(-1)).toBe('EXPIRY_FAILED');
    expect(ports.notifier.alerts.at(-1)!.attributes.severity).toBe('CRITICAL');
    // The retry succeeds once IAM is back.
    ports.access.failDetach = undefined;
    expect((await expireGrant(ports, grant.id)).outcome).toBe('expired');
  });
});

describe('revokeGrant', () => {
  it('refuses an extension asked while it revokes (the grant is marked ending): REVOKED, nothing re-attached', async () => {
    const { ports, grant } = await activeGrant();
    const append = ports.store.append.bind(ports.store);
    let extension = '';
    ports.store.append = async (g, event, changes) => {
      if (event.type === 'REVOKED' && !extension)
        extension = await extendGrant(ports, profiles, {
          grantId: grant.id,
          caller: { arn: ALICE },
          body: { minutes: 10, reason: 'replica still catching up' },
        }).then(
          () => 'extended',
          (e: Error) => e.message,
        );
      return append(g, event, changes);
    };
    const revoked = await revokeGrant(ports, security, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { reason: 'suspected abuse' },
    });
    expect(extension).toMatch(/is being revoked/);
    expect(revoked.status).toBe('REVOKED');
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'REVOKED']);
    expect(ports.access.policies.size).toBe(0);
  });

  it('gives up after a bounded number of lost races, with the policy detached', async () => {
    const { ports, grant } = await activeGrant();
    const append = ports.store.append.bind(ports.store);
    const detach = ports.access.detach.bind(ports.access);
    let races = 0;
    let detaches = 0;
    ports.store.append = async (g, event, changes) => {
      if (event.type === 'REVOKED') {
        races++;
        throw new ConcurrentUpdateError('someone wrote in between');
      }
      return append(g, event, changes);
    };
    ports.access.detach = async (...args: Parameters<typeof detach>) => {
      detaches++;
      return detach(...args);
    };
    await expect(
      revokeGrant(ports, security, {
        grantId: grant.id,
        caller: { arn: SECURITY },
        body: { reason: 'suspected abuse' },
      }),
    ).rejects.toThrowError(ConcurrentUpdateError);
    expect({ races, detaches }).toEqual({ races: 3, detaches: 3 });
    expect(ports.access.policies.size).toBe(0);
  });

  it('lets the requester end the grant: detach, REVOKED, schedule deleted, announced', async () => {
    const { ports, grant } = await activeGrant();
    const revoked = await revokeGrant(ports, security, {
      grantId: grant.id,
      caller: { arn: ALICE },
      body: { reason: 'done, service restored' },
    });
    expect(revoked).toMatchObject({ status: 'REVOKED', endedBy: ALICE, endReason: 'done, service restored' });
    expect(ports.access.policies.size).toBe(0);
    expect(ports.scheduler.schedules.size).toBe(0);
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED', 'REVOKED']);
    expect(ports.notifier.alerts.at(-1)!.attributes.eventType).toBe('REVOKED');
  });

  it("lets a security principal revoke anyone's grant", async () => {
    const { ports, grant } = await activeGrant();
    const revoked = await revokeGrant(ports, security, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { reason: 'not justified' },
    });
    expect(revoked.status).toBe('REVOKED');
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details).toMatchObject({ by: 'security' });
  });

  it('returns 403 to anyone else, even a colleague on the same role', async () => {
    const { ports, grant } = await activeGrant();
    await expect(
      revokeGrant(ports, security, { grantId: grant.id, caller: { arn: BOB }, body: { reason: 'mine now' } }),
    ).rejects.toBeInstanceOf(ForbiddenError);
    expect(ports.store.grants.get(grant.id)!.status).toBe('ACTIVE');
  });

  it('returns 409 for a grant that already ended, and the expiry after a revoke is a no-op', async () => {
    const { ports, grant } = await activeGrant();
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'all good now' } });
    await expect(
      revokeGrant(ports, security, { grantId: grant.id, caller: { arn: ALICE }, body: { reason: 'again' } }),
    ).rejects.toBeInstanceOf(InvalidTransitionError);
    ports.clock.advance(30 * 60_000);
    expect((await expireGrant(ports, grant.id)).outcome).toBe('already-ended');
  });

  it('validates the id and reason before any lookup', async () => {
    const ports = fakePorts();
    await expect(
      revokeGrant(ports, security, { grantId: '../../etc/passwd', caller: { arn: ALICE }, body: { reason: 'x' } }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      revokeGrant(ports, security, {
        grantId: '00000000-0000-4000-8000-000000000001',
        caller: { arn: ALICE },
        body: { reason: '   ' },
      }),
    ).rejects.toBeInstanceOf(ValidationError);
    await expect(
      revokeGrant(ports, security, {
        grantId: '00000000-0000-4000-8000-000000000077',
        caller: { arn: ALICE },
        body: { reason: 'done here' },
      }),
    ).rejects.toBeInstanceOf(GrantNotFoundError);
  });

  it('keeps the grant ACTIVE, records REVOKE_FAILED and answers 503 when the detach fails', async () => {
    const { ports, grant } = await activeGrant();
    ports.access.failDetach = new Error('iam down');
    const error = await revokeGrant(ports, security, {
      grantId: grant.id,
      caller: { arn: ALICE },
      body: { reason: 'done now' },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect(error.statusCode).toBe(503);
    expect(ports.store.grants.get(grant.id)!.status).toBe('ACTIVE');
    expect(ports.store.types(grant.id).at(-1)).toBe('REVOKE_FAILED');
    expect(ports.scheduler.schedules.size).toBe(1);
  });
});
