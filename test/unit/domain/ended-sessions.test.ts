/**
 * Ended grants' sessions (ended-sessions.ts): a profile-role grant whose credentials were issued
 * leaves, when it ends, a Deny of its session on its role until those credentials expire.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import {
  ENDED_SESSIONS_POLICY_PREFIX,
  endedSessionsPolicyName,
  endedSessionsReserve,
  MAX_ENDED_SESSIONS,
} from '../../../functions/domain/ended-sessions.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import { revokeAll } from '../../../functions/domain/kill-switch.js';
import { INLINE_POLICY_LIMITS } from '../../../functions/domain/policy-builder.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { profileRolePool } from '../../../functions/domain/profile-roles.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { sweep } from '../../../functions/domain/sweep.js';
import { ACCOUNT, ALICE, ALICE_ID, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const SSO = (name: string) =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/${name}@example.com`;
const profiles = testProfiles({
  grantTo: 'profileRole',
  maxActiveGrants: 4,
  eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`],
});
const security = ['arn:aws:iam::123456789012:role/Security'];

type Ports = ReturnType<typeof fakePorts>;
interface Statement {
  Effect: string;
  Action: string[];
  Resource: string[];
  Condition: Record<string, Record<string, string>>;
}

/** Activates for `who` and, unless `take` is false, takes credentials expiring at `expiration`. */
async function grantWithSession(ports: Ports, who = 'alice', expiration = '2026-11-24T10:30:00Z', take = true) {
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: SSO(who) },
    body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 30 },
  });
  if (take) {
    const vendor = {
      async assume(_request: CredentialRequest) {
        return { accessKeyId: 'ASIAFAKE', secretAccessKey: 's', sessionToken: 't', expiration };
      },
    };
    await issueCredentials(
      { ...ports, vendor },
      profiles,
      { partition: 'aws', accountId: ACCOUNT },
      { grantId: grant.id, caller: { arn: SSO(who) } },
    );
  }
  return ports.store.grants.get(grant.id)!;
}

function endedPolicy(ports: Ports, role: string, slot: number | undefined): Statement[] | undefined {
  const doc = ports.access.policies.get(`role/${role}/${endedSessionsPolicyName(slot)}`);
  return doc ? (JSON.parse(doc).Statement as Statement[]) : undefined;
}

describe('ending a profile-role grant whose credentials were issued', () => {
  it('revoke puts a Deny * on * bound to the session until the credentials expire, and records it', async () => {
    // Prepare
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    ports.clock.advance(5 * 60_000);
    // Act
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'misuse' } });
    // Assess
    expect(ports.access.policies.has(`role/${grant.targetName}/${grant.policyName}`)).toBe(false);
    expect(endedPolicy(ports, grant.targetName, grant.slot)).toEqual([
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          StringLike: { 'aws:userid': `*:bg-${grant.id}` },
          DateLessThan: { 'aws:CurrentTime': '2026-11-24T10:30:00Z' },
        },
      },
    ]);
    const revoked = ports.store.eventLog.get(grant.id)!.at(-1)!;
    expect(revoked.type).toBe('REVOKED');
    expect(revoked.details).toMatchObject({ sessionDeniedUntil: '2026-11-24T10:30:00Z' });
  });

  it('expiry does the same, until the latest of several issued credentials', async () => {
    // Prepare: credentials taken twice; the second set lasts longer (STS's 15-minute floor near the end).
    const ports = fakePorts();
    const grant = await grantWithSession(ports, 'alice', '2026-11-24T10:30:00Z');
    ports.clock.advance(25 * 60_000);
    const vendor = {
      async assume() {
        return { accessKeyId: 'ASIA2', secretAccessKey: 's', sessionToken: 't', expiration: '2026-11-24T10:40:00Z' };
      },
    };
    await issueCredentials(
      { ...ports, vendor },
      profiles,
      { partition: 'aws', accountId: ACCOUNT },
      { grantId: grant.id, caller: { arn: SSO('alice') } },
    );
    ports.clock.advance(5 * 60_000);
    // Act
    expect((await expireGrant(ports, grant.id)).outcome).toBe('expired');
    // Assess
    const [deny] = endedPolicy(ports, grant.targetName, grant.slot)!;
    expect(deny!.Condition.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-11-24T10:40:00Z' });
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details).toMatchObject({
      sessionDeniedUntil: '2026-11-24T10:40:00Z',
    });
  });

  it('the kill switch (revoke-all) ends the sessions too', async () => {
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    await revokeAll(ports, security, { caller: { arn: SECURITY }, body: { reason: 'credentials leaked' } });
    expect(endedPolicy(ports, grant.targetName, grant.slot)).toHaveLength(1);
  });

  it('puts nothing when no credentials were issued, nor once they have all expired', async () => {
    const ports = fakePorts();
    const untaken = await grantWithSession(ports, 'alice', '', false);
    await revokeGrant(ports, security, { grantId: untaken.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    const taken = await grantWithSession(ports, 'bob', '2026-11-24T10:20:00Z');
    ports.clock.advance(31 * 60_000);
    await expireGrant(ports, taken.id);
    expect([...ports.access.policies.keys()].filter((k) => k.includes(ENDED_SESSIONS_POLICY_PREFIX))).toEqual([]);
    expect(ports.store.eventLog.get(untaken.id)!.at(-1)!.details).not.toHaveProperty('sessionDeniedUntil');
  });

  it('puts nothing in caller mode: no credentials are vended there', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, testProfiles(), {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'checkout is failing for all users' },
    });
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    expect(ports.access.policies.size).toBe(0);
  });

  it("prunes the slot's inert statements and keeps the live ones", async () => {
    // Prepare: the slot's policy already holds an inert Deny and a live one of earlier grants.
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    const key = `role/${grant.targetName}/${endedSessionsPolicyName(grant.slot)}`;
    const statement = (id: string, until: string) => ({
      Effect: 'Deny',
      Action: ['*'],
      Resource: ['*'],
      Condition: { StringLike: { 'aws:userid': `*:bg-${id}` }, DateLessThan: { 'aws:CurrentTime': until } },
    });
    ports.access.policies.set(
      key,
      JSON.stringify({
        Version: '2012-10-17',
        Statement: [statement('old', '2026-11-24T09:59:00Z'), statement('recent', '2026-11-24T10:20:00Z')],
      }),
    );
    // Act
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    // Assess
    expect(endedPolicy(ports, grant.targetName, grant.slot)!.map((s) => s.Condition.StringLike!['aws:userid'])).toEqual(
      ['*:bg-recent', `*:bg-${grant.id}`],
    );
  });

  it('overwrites a slot policy that is not one of its own documents', async () => {
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    ports.access.policies.set(`role/${grant.targetName}/${endedSessionsPolicyName(grant.slot)}`, 'not json');
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    expect(endedPolicy(ports, grant.targetName, grant.slot)).toHaveLength(1);
  });

  it('collapses into one Deny of every session issued before now when the slot would hold too many', async () => {
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    const live = Array.from({ length: MAX_ENDED_SESSIONS }, (_, i) => ({
      Effect: 'Deny',
      Action: ['*'],
      Resource: ['*'],
      Condition: {
        StringLike: { 'aws:userid': `*:bg-earlier-${i}` },
        DateLessThan: { 'aws:CurrentTime': '2026-11-24T10:50:00Z' },
      },
    }));
    ports.access.policies.set(
      `role/${grant.targetName}/${endedSessionsPolicyName(grant.slot)}`,
      JSON.stringify({ Version: '2012-10-17', Statement: live }),
    );
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    expect(endedPolicy(ports, grant.targetName, grant.slot)).toEqual([
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T10:00:01Z', 'aws:CurrentTime': '2026-11-24T10:50:00Z' },
        },
      },
    ]);
  });

  it('still revokes when the Deny cannot be written, and records that the session lives on', async () => {
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    ports.access.read = async () => {
      throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
    };
    const revoked = await revokeGrant(ports, security, {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { reason: 'done' },
    });
    expect(revoked.status).toBe('REVOKED');
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details).toMatchObject({
      sessionDenyFailed: 'Throttling: Rate exceeded',
      sessionLiveUntil: '2026-11-24T10:30:00Z',
    });
  });

  it('the sweeper leaves the ended-sessions policy alone (it is no grant policy)', async () => {
    const ports = fakePorts();
    const grant = await grantWithSession(ports);
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    // A leftover grant policy beside it, which the sweeper must remove.
    ports.access.policies.set(`role/${grant.targetName}/${grant.policyName}`, '{}');
    const report = await sweep(ports, [{ type: 'role', name: grant.targetName }]);
    expect(report.removed.map((r) => r.policyName)).toEqual([grant.policyName]);
    expect(endedPolicy(ports, grant.targetName, grant.slot)).toHaveLength(1);
  });
});

describe('pool sizing', () => {
  it("reserves each slot's ended-sessions policy on its role", () => {
    const profile = profiles.profiles[0]!;
    const pool = profileRolePool(profile, []);
    expect(pool.endedSessionsReserve).toBe(endedSessionsReserve());
    expect(pool.grantsPerRole * (pool.worstCasePolicySize + endedSessionsReserve())).toBeLessThanOrEqual(
      INLINE_POLICY_LIMITS.role,
    );
  });
});
