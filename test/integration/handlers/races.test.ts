/**
 * Races against the emulator, with the real adapters: revoke racing expiry, extend racing
 * expiry, and revoke during an activation in flight. Each racer has its own clock (as two
 * Lambdas would), and every race, whoever wins, must end in one consistent, recorded state:
 * a terminal record with exactly one closing event, an intact chain, and no policy that works
 * beside a record that says it ended.
 */
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { verifyChain } from '../../../functions/domain/audit-chain.js';
import { ConcurrentUpdateError, InvalidTransitionError } from '../../../functions/domain/errors.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import type { Grant } from '../../../functions/domain/grant.js';
import type { Ports } from '../../../functions/domain/ports.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { isTransientAwsError } from '../../../functions/handlers/http.js';
import { inlinePolicies, sessionOf, setUpWorld, type TestWorld, tableItems } from '../../support/emulator.js';

let world: TestWorld;
let ports: Ports;
let profiles: Parameters<typeof activateGrant>[1];
let security: string[];
const ROUNDS = 4;

beforeAll(async () => {
  // The emulator serializes DynamoDB item operations (sandbox/moto-server.py): stock moto's transactions roll back
  // by restoring a table snapshot, which can erase a concurrent transaction that committed in between (DynamoDB
  // cannot). The races below interleave whole requests, as two Lambdas do.
  world = await setUpWorld(inject('motoEndpoint'));
  const wiring = await import('../../../functions/handlers/wiring.js');
  ports = { ...wiring.allPorts(), log: { info: () => {}, warn: () => {}, error: () => {} } };
  profiles = wiring.profiles();
  security = wiring.securityPrincipals();
});

const at = (ms: number): Ports => ({ ...ports, clock: { now: () => new Date(ms) } });
let n = 0;

async function activate(minutes = 5): Promise<{ grant: Grant; arn: string }> {
  const identity = await sessionOf(world, world.responderRole, `racer${++n}`);
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: identity.userArn, userId: identity.caller },
    body: { profile: 'demo', reason: 'race test: payments are failing', durationMinutes: minutes },
  });
  return { grant, arn: identity.userArn };
}

/** The one consistent end: terminal, one closing event, intact chain, no policy left working. */
async function assertConsistent(
  grant: Grant,
  closing: readonly string[],
): Promise<{ status: string; types: string[] }> {
  const items = await tableItems(world, grant.id);
  const record = items.find((i) => i.sk === 'GRANT')!;
  const events = items.filter((i) => i.sk.startsWith('EVENT#'));
  const types = events.map((e) => e.type as string);
  expect(verifyChain(record, events)).toMatchObject({ ok: true });
  expect(types.filter((t) => closing.includes(t))).toHaveLength(1);
  expect(record.status).toBe(types.find((t) => closing.includes(t)));
  expect(await inlinePolicies(world, { role: world.responderRole })).not.toHaveProperty(grant.policyName);
  return { status: record.status, types };
}

describe('races against the emulator', () => {
  it('revoke racing expiry: one of them wins, the other changes nothing', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { grant, arn } = await activate(1);
      const late = at(Date.parse(grant.expiresAt) + 1_000);
      const [revoked, first] = await Promise.allSettled([
        revokeGrant(late, security, { grantId: grant.id, caller: { arn }, body: { reason: 'done racing' } }),
        expireGrant(late, grant.id),
      ]);
      // moto is not thread-safe for transactions: two at once can both fail (an HTML 500, a 503 here). On AWS a
      // failed expiry is delivered again by Lambda's asynchronous retries: deliver it again, as they would.
      let expired = first;
      for (let retry = 0; expired.status === 'rejected' && retry < 10; retry++) {
        [expired] = await Promise.allSettled([expireGrant(late, grant.id)]);
      }
      const { status } = await assertConsistent(grant, ['REVOKED', 'EXPIRED']);
      if (status === 'REVOKED') {
        expect(revoked.status).toBe('fulfilled');
        expect(expired.status === 'fulfilled' && expired.value.outcome).toBe('already-ended');
      } else {
        // The revoke lost: refused as an invalid transition, or failed on the emulator's concurrent-transaction fault.
        expect(revoked.status).toBe('rejected');
        if (revoked.status === 'rejected' && !(revoked.reason instanceof InvalidTransitionError))
          expect(isTransientAwsError(revoked.reason), String(revoked.reason)).toBe(true);
        expect(expired.status === 'fulfilled' && expired.value.outcome).toBe('expired');
      }
    }
  });

  it('extend racing expiry: either the extension is refused and its re-attached policy removed, or the expiry still closes the grant', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const { grant, arn } = await activate(1);
      const expiresAt = Date.parse(grant.expiresAt);
      // The extension was asked 30 s before expiry; the schedule fires at expiry: two Lambdas, two clocks.
      const [extended, expired] = await Promise.allSettled([
        extendGrant(at(expiresAt - 30_000), profiles, {
          grantId: grant.id,
          caller: { arn },
          body: { minutes: 10, reason: 'replica still catching up' },
        }),
        expireGrant(at(expiresAt + 1_000), grant.id),
      ]);
      const { types } = await assertConsistent(grant, ['EXPIRED']);
      expect(expired.status).toBe('fulfilled');
      if (extended.status === 'rejected') {
        expect(
          extended.reason instanceof InvalidTransitionError || extended.reason instanceof ConcurrentUpdateError,
          String(extended.reason),
        ).toBe(true);
      } else {
        // The extension was recorded first; the expiry, delivered for the old time, still closed the grant (fail closed).
        expect(types).toContain('EXTENDED');
      }
    }
  });

  it('revoke during an activation in flight: refused until ACTIVE, then the grant ends revoked with nothing left', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const identity = await sessionOf(world, world.responderRole, `inflight${round}`);
      const activation = activateGrant(ports, profiles, {
        caller: { arn: identity.userArn, userId: identity.caller },
        body: { profile: 'demo', reason: 'race test: payments are failing', durationMinutes: 5 },
      });
      // Revoke as soon as the PENDING record can be seen, while the policy and schedule are being put.
      let pendingId: string | undefined;
      for (let i = 0; i < 200 && !pendingId; i++) {
        const { grants } = await ports.store.list({ status: 'PENDING', limit: 10 });
        pendingId = grants.find((g) => g.principalArn === identity.userArn)?.id;
        if (!pendingId) await new Promise((r) => setTimeout(r, 5));
      }
      const early = pendingId
        ? await revokeGrant(ports, security, {
            grantId: pendingId,
            caller: { arn: identity.userArn },
            body: { reason: 'changed my mind' },
          }).then(
            () => 'revoked',
            (e: Error) => e,
          )
        : undefined;
      if (early instanceof Error) expect(early).toBeInstanceOf(InvalidTransitionError); // PENDING cannot be revoked
      const { grant } = await activation;
      if (early === 'revoked') {
        // The activation finished before the revoke read it: the revoke won cleanly.
        await assertConsistent(grant, ['REVOKED']);
        continue;
      }
      expect(grant.status).toBe('ACTIVE');
      await revokeGrant(ports, security, {
        grantId: grant.id,
        caller: { arn: identity.userArn },
        body: { reason: 'changed my mind' },
      });
      const { types } = await assertConsistent(grant, ['REVOKED']);
      expect(types).toEqual(['REQUESTED', 'ACTIVATED', 'REVOKED']);
    }
  });
});
