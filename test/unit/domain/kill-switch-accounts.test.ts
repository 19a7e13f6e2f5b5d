/** The kill switch's revoke-all across accounts: accounts in parallel (bounded), a refusing spoke stopping nothing else. */
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { describe, expect, it } from 'vitest';
import { SpokeAccessManager } from '../../../functions/adapters/spoke-access.adapter.js';
import { spokeManagerRoleArn } from '../../../functions/domain/accounts.js';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { SpokeUnavailableError } from '../../../functions/domain/errors.js';
import {
  REVOKE_ALL_ACCOUNT_PARALLELISM,
  REVOKE_ALL_PER_ACCOUNT_PARALLELISM,
  revokeAll,
} from '../../../functions/domain/kill-switch.js';
import type { AccessManager, PolicyTarget } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { SWEEP_ACCOUNT_PARALLELISM } from '../../../functions/domain/sweep.js';
import { ACCOUNT, fakePorts, MemoryAccess, SECURITY } from '../../support/fakes.js';

const SPOKE_A = '210987654321';
const SPOKE_B = '222233334444';
const SPOKE_C = '333344445555';
const security = [`arn:aws:iam::${ACCOUNT}:role/Security`];
const rules = { ...DEFAULT_RULES, accounts: { hub: ACCOUNT, aliases: { [SPOKE_A]: 'payments-prod' } } };
const profiles = (accounts: string[]) =>
  parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'spk',
        description: 'spoke access',
        owner: 'payments@example.com',
        maxDurationMinutes: 60,
        accounts,
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
      },
    ],
  });

/** Policies keyed by account; the accounts in `refusing` refuse as SpokeAccessManager reports it; counts detaches in flight. */
class Spokes extends MemoryAccess {
  readonly refusing = new Set<string>();
  inFlight = new Map<string, number>();
  most = { all: 0, perAccount: 0, accounts: 0 };
  constructor(private readonly delay = false) {
    super();
  }
  override key(target: PolicyTarget, name: string): string {
    return `${target.account ?? '-'}/${target.type}/${target.name}/${name}`;
  }
  override async attach(target: PolicyTarget, name: string, document: string) {
    if (target.account && this.refusing.has(target.account))
      throw new SpokeUnavailableError(target.account, `Spoke account ${target.account} refuses: AccessDenied.`);
    return super.attach(target, name, document);
  }
  override async detach(target: PolicyTarget, name: string) {
    const account = target.account ?? '-';
    this.inFlight.set(account, (this.inFlight.get(account) ?? 0) + 1);
    const total = [...this.inFlight.values()].reduce((a, b) => a + b, 0);
    this.most = {
      all: Math.max(this.most.all, total),
      perAccount: Math.max(this.most.perAccount, this.inFlight.get(account)!),
      accounts: Math.max(this.most.accounts, [...this.inFlight.values()].filter((n) => n > 0).length),
    };
    try {
      // Every worker reaches this await before any resumes: how many are in flight does not depend on timing.
      if (this.delay) await new Promise((r) => setTimeout(r, 2));
      if (this.refusing.has(account))
        throw new SpokeUnavailableError(account, `Spoke account ${account} refuses: AccessDenied.`);
      return await super.detach(target, name);
    } finally {
      this.inFlight.set(account, this.inFlight.get(account)! - 1);
    }
  }
}

async function grantsIn(accounts: string[], people: string[], access: AccessManager, maxActivePerPrincipal = 3) {
  const ports = { ...fakePorts(), access };
  const set = profiles(accounts);
  const ids: Record<string, string[]> = {};
  for (const account of accounts)
    for (const person of people) {
      const { grant } = await activateGrant(
        ports,
        set,
        {
          caller: {
            arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/${person}`,
            userId: `AROAEXAMPLEROLEID1234:${person}`,
          },
          body: { profile: 'spk', reason: 'payments down, reading the logs', account },
        },
        { ...rules, maxActivePerPrincipal },
      );
      expect(grant.status).toBe('ACTIVE');
      ids[account] = [...(ids[account] ?? []), grant.id];
    }
  return { ports, ids };
}

describe('revoke-all across accounts', () => {
  it("revokes every other account's grants when one spoke refuses, and reports and records each failure", async () => {
    // Prepare: two grants in each of three spokes; then spoke B refuses
    const access = new Spokes();
    const { ports, ids } = await grantsIn([SPOKE_A, SPOKE_B, SPOKE_C], ['alice', 'bob'], access);
    expect(access.policies.size).toBe(6);
    access.refusing.add(SPOKE_B);
    const order = (await ports.store.active()).map((g) => g.id);
    // Act
    const results = await revokeAll(ports, security, { caller: { arn: SECURITY }, body: { reason: 'containment' } });
    // Assess: A and C revoked (grant records and policies), B's two reported failed, recorded and announced
    expect(results).toHaveLength(6);
    for (const r of results) expect(r.outcome).toBe(r.account === SPOKE_B ? 'failed' : 'revoked');
    expect(results.find((r) => r.account === SPOKE_A)).toMatchObject({ accountAlias: 'payments-prod' });
    for (const r of results.filter((r) => r.outcome === 'failed'))
      expect(r.error).toMatch(/^Spoke account 222233334444 refuses: AccessDenied\. Could not detach the policy/);
    for (const id of [...ids[SPOKE_A]!, ...ids[SPOKE_C]!])
      expect(ports.store.grants.get(id)).toMatchObject({ status: 'REVOKED', endReason: 'revoke-all: containment' });
    for (const id of ids[SPOKE_B]!) {
      expect(ports.store.grants.get(id)!.status).toBe('ACTIVE');
      expect(ports.store.eventLog.get(id)!.map((e) => e.type)).toContain('REVOKE_FAILED');
    }
    expect([...access.policies.keys()].map((k) => k.split('/')[0])).toEqual([SPOKE_B, SPOKE_B]);
    expect(
      ports.notifier.alerts.filter((a) => a.attributes.eventType === 'REVOKE_FAILED').map((a) => a.attributes.account),
    ).toEqual([SPOKE_B, SPOKE_B]);
    // The response keeps the order of the active grants, whatever order the accounts finished in.
    expect(results.map((r) => r.id)).toEqual(order);
  });

  it('revokes in several accounts at a time, at most the sweeper bound, and a bounded few grants at a time per account', async () => {
    expect(REVOKE_ALL_ACCOUNT_PARALLELISM).toBe(SWEEP_ACCOUNT_PARALLELISM);
    const accounts = Array.from({ length: 20 }, (_, i) => String(400000000000 + i));
    const access = new Spokes(true);
    const { ports } = await grantsIn(accounts, ['alice', 'bob'], access, 20);
    const results = await revokeAll(ports, security, { caller: { arn: SECURITY }, body: { reason: 'containment' } });
    expect(results.filter((r) => r.outcome === 'revoked')).toHaveLength(40);
    expect(access.policies.size).toBe(0);
    expect(access.most.all).toBeGreaterThan(1);
    expect(access.most.all).toBeLessThanOrEqual(REVOKE_ALL_ACCOUNT_PARALLELISM * REVOKE_ALL_PER_ACCOUNT_PARALLELISM);
    expect(access.most.accounts).toBeGreaterThan(1);
    expect(access.most.accounts).toBeLessThanOrEqual(REVOKE_ALL_ACCOUNT_PARALLELISM);
    expect(access.most.perAccount).toBeGreaterThan(1);
    expect(access.most.perAccount).toBeLessThanOrEqual(REVOKE_ALL_PER_ACCOUNT_PARALLELISM);
  });

  it('through the real SpokeAccessManager: a spoke whose manager role refuses (STS AccessDenied) fails only its own grants', async () => {
    // Prepare: every spoke's IAM in memory behind the real adapter; STS is mocked (moto's AssumeRole never refuses)
    const sts = mockClient(STSClient);
    sts.on(AssumeRoleCommand).resolves({
      Credentials: {
        AccessKeyId: 'ASIASPOKE',
        SecretAccessKey: 'secret',
        SessionToken: 'token',
        Expiration: new Date(Date.now() + 3_600_000),
      },
    });
    const spokes = new Map<string, MemoryAccess>();
    const spokeIam = (account: string) => {
      if (!spokes.has(account)) spokes.set(account, new MemoryAccess());
      return spokes.get(account)!;
    };
    // Each function keeps its own manager sessions: activation's and the kill switch's are separate.
    const manager = () =>
      new SpokeAccessManager({
        hubAccount: ACCOUNT,
        hub: new MemoryAccess(),
        sts: new STSClient({ region: 'us-east-1' }),
        iamConfig: { region: 'us-east-1', maxAttempts: 1 },
        spokeAdapter: spokeIam,
        sessionName: 'breakglass-kill-switch',
      });
    try {
      const { ports, ids } = await grantsIn([SPOKE_A, SPOKE_B, SPOKE_C], ['alice'], manager());
      for (const account of [SPOKE_A, SPOKE_B, SPOKE_C]) expect(spokes.get(account)!.policies.size).toBe(1);
      const denied = Object.assign(new Error('not authorized to perform sts:AssumeRole'), {
        name: 'AccessDenied',
        $metadata: { httpStatusCode: 403 },
      });
      sts.on(AssumeRoleCommand, { RoleArn: spokeManagerRoleArn('aws', SPOKE_B) }).rejects(denied);
      // Act
      const results = await revokeAll({ ...ports, access: manager() }, security, {
        caller: { arn: SECURITY },
        body: { reason: 'containment' },
      });
      // Assess
      expect(results.map((r) => [r.account, r.outcome])).toEqual([
        [SPOKE_A, 'revoked'],
        [SPOKE_B, 'failed'],
        [SPOKE_C, 'revoked'],
      ]);
      expect(results[1]!.error).toMatch(
        /^Spoke account 222233334444 is not reachable: AssumeRole on .* failed \(AccessDenied/,
      );
      expect(spokes.get(SPOKE_A)!.policies.size).toBe(0);
      expect(spokes.get(SPOKE_C)!.policies.size).toBe(0);
      expect(spokes.get(SPOKE_B)!.policies.size).toBe(1);
      expect(ports.store.grants.get(ids[SPOKE_A]![0]!)!.status).toBe('REVOKED');
      expect(ports.store.grants.get(ids[SPOKE_B]![0]!)!.status).toBe('ACTIVE');
      expect(ports.store.eventLog.get(ids[SPOKE_B]![0]!)!.map((e) => e.type)).toContain('REVOKE_FAILED');
    } finally {
      sts.restore();
    }
  });
});
