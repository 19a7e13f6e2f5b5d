/** Hostile review findings HIGH-1 and HIGH-2: what a compromised spoke admin can no longer do to the hub. */
import { describe, expect, it } from 'vitest';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { LimitExceededError, SpokeUnavailableError } from '../../../functions/domain/errors.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import type { PolicyTarget } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { sweep, sweepTargets } from '../../../functions/domain/sweep.js';
import { ACCOUNT, ALICE, ALICE_ID, BOB, BOB_ID, fakePorts, MemoryAccess } from '../../support/fakes.js';

const SPOKE = '210987654321';
const rules = { ...DEFAULT_RULES, accounts: { hub: ACCOUNT } };
const set = (max = 5) =>
  parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'spk',
        description: 'spoke access',
        owner: 'o@example.com',
        maxDurationMinutes: 60,
        maxActiveGrants: max,
        accounts: [ACCOUNT, SPOKE],
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
      },
    ],
  });

class AccountAccess extends MemoryAccess {
  refusing?: string;
  override key(target: PolicyTarget, name: string): string {
    return `${target.account ?? '-'}/${target.type}/${target.name}/${name}`;
  }
  private check(target: PolicyTarget) {
    if (this.refusing && target.account === this.refusing)
      throw new SpokeUnavailableError(this.refusing, `spoke ${this.refusing} refuses`);
  }
  override async listPolicies(target: PolicyTarget, prefix: string) {
    this.check(target);
    const start = `${target.account ?? '-'}/${target.type}/${target.name}/`;
    return [...this.policies.keys()].filter((k) => k.startsWith(start + prefix)).map((k) => k.slice(start.length));
  }
  override async detach(target: PolicyTarget, name: string) {
    this.check(target);
    return super.detach(target, name);
  }
}

describe('a compromised spoke admin against the hub', () => {
  it('plants breakglass-<id of a hub grant> on a spoke role: the sweeper removes it and reports it on its own, never writing onto that grant or failing it in flight', async () => {
    const ports = fakePorts();
    const access = new AccountAccess();
    const profiles = set();
    // A hub-account grant, ACTIVE
    const { grant } = await activateGrant(
      { ...ports, access },
      profiles,
      {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { profile: 'spk', reason: 'hub incident now', account: ACCOUNT },
      },
      rules,
    );
    expect(grant.status).toBe('ACTIVE');
    const hubPolicyKey = `${ACCOUNT}/role/${grant.targetName}/${grant.policyName}`;
    expect(access.policies.has(hubPolicyKey)).toBe(true);
    // Spoke admin puts a policy with the hub grant's name on a spoke profile role
    await access.attach({ type: 'role', name: 'breakglass-spk-0', account: SPOKE }, grant.policyName, '{}');
    // A PENDING grant in flight (just created, within the in-flight window)
    const pending = {
      ...grant,
      id: '00000000-0000-4000-8000-0000000000aa',
      policyName: 'breakglass-00000000-0000-4000-8000-0000000000aa',
      status: 'PENDING' as const,
      version: 0,
      eventCount: 0,
      createdAt: ports.clock.now().toISOString(),
    };
    await ports.store.create(pending, { type: 'REQUESTED', at: pending.createdAt, actor: ALICE, outcome: 'SUCCESS' });
    await access.attach({ type: 'role', name: 'breakglass-spk-0', account: SPOKE }, pending.policyName, '{}');

    const report = await sweep({ ...ports, access }, sweepTargets(profiles, [], { hub: ACCOUNT }));

    // Both planted policies are gone from the spoke; the hub grant's own policy stays
    expect(report.removed.length).toBe(2);
    expect(report.removed.every((r) => r.target === `${SPOKE}:role/breakglass-spk-0`)).toBe(true);
    expect(report.removed.every((r) => r.why.includes(`in account ${SPOKE}`))).toBe(true);
    expect(access.policies.has(hubPolicyKey)).toBe(true);
    expect([...access.policies.keys()].filter((k) => k.startsWith(`${SPOKE}/`))).toEqual([]);
    // Neither grant's record carries anything the spoke made up, and the activation in flight is still PENDING
    expect((await ports.store.events(grant.id)).map((e) => e.type)).not.toContain('SWEPT');
    expect((await ports.store.events(pending.id)).map((e) => e.type)).toEqual(['REQUESTED']);
    expect((await ports.store.get(pending.id))?.status).toBe('PENDING');
    expect((await ports.store.get(grant.id))?.status).toBe('ACTIVE');
    // Announced as standalone findings naming the spoke account, not as those grants
    const swept = ports.notifier.alerts.filter((a) => a.attributes.eventType === 'SWEPT');
    expect(swept).toHaveLength(2);
    for (const alert of swept) {
      expect(alert.attributes.grantId).toBe('-');
      expect(alert.body).toContain(SPOKE);
    }
  });

  it("a spoke refusing detach keeps its own expired grant ACTIVE, but that holds only the spoke's slots: the hub's account still activates", async () => {
    const ports = fakePorts();
    const access = new AccountAccess();
    const profiles = set(1);
    const { grant } = await activateGrant(
      { ...ports, access },
      profiles,
      {
        caller: { arn: ALICE, userId: ALICE_ID },
        body: { profile: 'spk', reason: 'spoke incident now', account: SPOKE },
      },
      rules,
    );
    expect(grant).toMatchObject({ status: 'ACTIVE', account: SPOKE });
    access.refusing = SPOKE; // the spoke admin breaks the manager role
    ports.clock.advance(3 * 3600_000);
    await expect(expireGrant({ ...ports, access }, grant.id)).rejects.toThrow();
    await sweep({ ...ports, access }, sweepTargets(profiles, [], { hub: ACCOUNT }));
    expect((await ports.store.get(grant.id))?.status).toBe('ACTIVE');
    // Bob, in the hub's own account, still gets the profile there (slots are per profile and account)
    const { grant: hub } = await activateGrant(
      { ...ports, access },
      profiles,
      { caller: { arn: BOB, userId: BOB_ID }, body: { profile: 'spk', reason: 'hub incident now', account: ACCOUNT } },
      rules,
    );
    expect(hub).toMatchObject({ status: 'ACTIVE', account: ACCOUNT });
    // The spoke's own slot is still held: a second spoke grant is refused by the profile's limit there
    await expect(
      activateGrant(
        { ...ports, access: new AccountAccess() },
        profiles,
        {
          caller: { arn: BOB, userId: BOB_ID },
          body: { profile: 'spk', reason: 'spoke incident now', account: SPOKE },
        },
        rules,
      ),
    ).rejects.toBeInstanceOf(LimitExceededError);
  });
});

describe('one grant per person, profile and account (review MEDIUM-5)', () => {
  it('a grant in one account is not returned as "existing" for a request in another; a second one there is', async () => {
    const ports = fakePorts();
    const access = new AccountAccess();
    const profiles = set();
    const as = (account: string) => ({
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'spk', reason: 'incident in both accounts', account },
    });
    const { grant: inHub } = await activateGrant({ ...ports, access }, profiles, as(ACCOUNT), rules);
    const inSpoke = await activateGrant({ ...ports, access }, profiles, as(SPOKE), rules);
    expect(inSpoke.existing).toBeUndefined();
    expect(inSpoke.grant).toMatchObject({ status: 'ACTIVE', account: SPOKE });
    expect(inSpoke.grant.id).not.toBe(inHub.id);
    const again = await activateGrant({ ...ports, access }, profiles, as(SPOKE), rules);
    expect(again).toMatchObject({ existing: true, grant: { id: inSpoke.grant.id } });
  });
});
