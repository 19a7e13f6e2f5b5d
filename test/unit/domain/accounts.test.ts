/** Many accounts in the domain, over in-memory ports: which account a request grants in, and what a refusing spoke leaves behind. */
import { describe, expect, it } from 'vitest';
import { resolveAccount, spokeNote } from '../../../functions/domain/accounts.js';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { composeAlert } from '../../../functions/domain/alert.js';
import {
  ProfileConfigError,
  SpokeUnavailableError,
  StepFailedError,
  ValidationError,
} from '../../../functions/domain/errors.js';
import type { PolicyTarget } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { SWEEP_ACCOUNT_PARALLELISM, sweep, sweepTargets } from '../../../functions/domain/sweep.js';
import { ACCOUNT, ALICE, ALICE_ID, fakePorts, MemoryAccess } from '../../support/fakes.js';

const SPOKE_A = '210987654321';
const SPOKE_B = '222233334444';
const rules = { ...DEFAULT_RULES, accounts: { hub: ACCOUNT, aliases: { [SPOKE_A]: 'payments-prod' } } };
const profiles = (accounts?: string[]) =>
  parseProfiles({
    version: 1,
    profiles: [
      {
        name: 'spk',
        description: 'spoke access',
        owner: 'payments@example.com',
        maxDurationMinutes: 60,
        ...(accounts ? { accounts } : {}),
        eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
      },
    ],
  });
const body = (extra: Record<string, unknown> = {}) => ({
  profile: 'spk',
  reason: 'payments down, reading the logs',
  ...extra,
});

/** An AccessManager whose spoke `refusing` refuses everything, as SpokeAccessManager reports it. */
class RefusingSpoke extends MemoryAccess {
  constructor(private readonly refusing: string) {
    super();
  }
  private check(target: PolicyTarget) {
    if (target.account === this.refusing)
      throw new SpokeUnavailableError(this.refusing, `Spoke account ${this.refusing} is not reachable: deploy it.`);
  }
  override async listPolicies(target: PolicyTarget, prefix: string) {
    this.check(target);
    const start = `${target.account ?? '-'}/${target.type}/${target.name}/`;
    return [...this.policies.keys()].filter((k) => k.startsWith(start + prefix)).map((k) => k.slice(start.length));
  }
  override async attach(target: PolicyTarget, name: string, document: string) {
    this.check(target);
    return super.attach(target, name, document);
  }
  override async detach(target: PolicyTarget, name: string) {
    this.check(target);
    return super.detach(target, name);
  }
  override key(target: PolicyTarget, name: string): string {
    return `${target.account ?? '-'}/${target.type}/${target.name}/${name}`;
  }
}

describe('accounts of a profile', () => {
  it('defaults to the hub, requires a choice among several, and refuses an account the profile does not name', () => {
    expect(resolveAccount({ name: 'p' }, undefined, { hub: ACCOUNT })).toEqual({ account: ACCOUNT });
    expect(resolveAccount({ name: 'p' }, undefined, {})).toEqual({});
    expect(resolveAccount({ name: 'p', accounts: [SPOKE_A] }, undefined, rules.accounts)).toEqual({
      account: SPOKE_A,
      alias: 'payments-prod',
    });
    expect(() => resolveAccount({ name: 'p', accounts: [SPOKE_A, SPOKE_B] }, undefined, rules.accounts)).toThrow(
      /grants in 2 accounts; name one with "account": 210987654321 \(payments-prod\), 222233334444/,
    );
    expect(() => resolveAccount({ name: 'p', accounts: [SPOKE_A] }, SPOKE_B, rules.accounts)).toThrow(ValidationError);
    expect(() => resolveAccount({ name: 'p' }, SPOKE_B, { hub: ACCOUNT })).toThrow(/does not grant in account/);
  });

  it('refuses a profile file listing an account twice, a malformed account, or accounts on a caller-mode profile', () => {
    expect(() => profiles([SPOKE_A, SPOKE_A])).toThrow(/accounts lists an account twice/);
    expect(() => profiles(['12345'])).toThrow(ProfileConfigError);
    expect(() =>
      parseProfiles({
        version: 1,
        profiles: [
          {
            name: 'own',
            description: 'x',
            owner: 'o',
            maxDurationMinutes: 5,
            grantTo: 'caller',
            accounts: [SPOKE_A],
            eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
            statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'] }],
          },
        ],
      }),
    ).toThrow(/accounts needs "grantTo": "profileRole"/);
  });

  it('records the account and alias on the grant and puts the policy on the profile role in that account', async () => {
    const ports = fakePorts();
    const access = new RefusingSpoke('none');
    const { grant } = await activateGrant(
      { ...ports, access },
      profiles([SPOKE_A, SPOKE_B]),
      { caller: { arn: ALICE, userId: ALICE_ID }, body: body({ account: SPOKE_A }) },
      rules,
    );
    expect(grant).toMatchObject({ status: 'ACTIVE', account: SPOKE_A, accountAlias: 'payments-prod' });
    expect([...access.policies.keys()]).toEqual([`${SPOKE_A}/role/${grant.targetName}/${grant.policyName}`]);
    const alert = ports.notifier.alerts.at(-1)!;
    expect(alert.attributes.account).toBe(SPOKE_A);
    expect(alert.subject).toContain(`in ${SPOKE_A} payments-prod`);
  });

  it('answers 503 with the spoke message when the spoke refuses, records FAILED, announces it, and leaves no policy', async () => {
    const ports = fakePorts();
    const access = new RefusingSpoke(SPOKE_B);
    const error = await activateGrant(
      { ...ports, access },
      profiles([SPOKE_A, SPOKE_B]),
      { caller: { arn: ALICE, userId: ALICE_ID }, body: body({ account: SPOKE_B }) },
      rules,
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StepFailedError);
    expect((error as StepFailedError).statusCode).toBe(503);
    expect((error as Error).message).toMatch(
      /^Spoke account 222233334444 is not reachable: deploy it\. Could not attach .* in account 222233334444; no access was granted\. Grant .* is recorded as FAILED/,
    );
    expect(spokeNote(error)).toBe('Spoke account 222233334444 is not reachable: deploy it. ');
    const [grant] = [...ports.store.grants.values()];
    expect(grant).toMatchObject({ status: 'FAILED', account: SPOKE_B });
    expect(access.policies.size).toBe(0);
    expect(ports.notifier.alerts.map((a) => [a.attributes.eventType, a.attributes.account])).toContainEqual([
      'ACTIVATION_FAILED',
      SPOKE_B,
    ]);
  });
});

describe('sweep across accounts', () => {
  it('sweeps every reachable account when one spoke refuses, reporting that account once', async () => {
    // Prepare: orphans on the same role name in three spokes, one of which refuses
    const set = profiles(['111111111111', SPOKE_A, SPOKE_B]);
    const targets = sweepTargets(set, [], { hub: ACCOUNT });
    expect(targets.map((t) => t.account).sort()).toEqual(['111111111111', SPOKE_A, SPOKE_B]);
    const ports = fakePorts();
    const access = new RefusingSpoke(SPOKE_B);
    for (const t of targets)
      if (t.account !== SPOKE_B) await access.attach(t, 'breakglass-00000000-0000-4000-8000-00000000dead', '{}');
    // Act
    const report = await sweep({ ...ports, access }, targets);
    // Assess
    expect(access.policies.size).toBe(0);
    expect(report.removed).toHaveLength(2);
    expect(report.unreachableAccounts).toEqual([SPOKE_B]);
    expect(report.errors).toHaveLength(1);
    expect(report.errors[0]).toMatch(/^policies: account 222233334444: /);
    expect(report.failedSteps).toEqual(['policies']);
  });

  it('sweeps at most SWEEP_ACCOUNT_PARALLELISM accounts at a time', async () => {
    const accounts = Array.from({ length: 30 }, (_, i) => String(300000000000 + i));
    const set = profiles(accounts);
    const targets = sweepTargets(set, [], { hub: ACCOUNT });
    let inFlight = 0;
    let most = 0;
    const access = new MemoryAccess();
    const list = access.listPolicies.bind(access);
    access.listPolicies = async (target, prefix) => {
      inFlight += 1;
      most = Math.max(most, inFlight);
      await new Promise((r) => setTimeout(r, 5));
      inFlight -= 1;
      return list(target, prefix);
    };
    const report = await sweep({ ...fakePorts(), access }, targets);
    expect(report.failedSteps).toEqual([]);
    expect(report.targets).toBe(30);
    expect(most).toBeGreaterThan(1);
    expect(most).toBeLessThanOrEqual(SWEEP_ACCOUNT_PARALLELISM);
  });
});

const spokeGrant = (): import('../../../functions/domain/grant.js').Grant => ({
  id: 'g-1',
  profile: 'spk',
  owner: 'o',
  principalArn: ALICE,
  targetType: 'role',
  targetName: 'breakglass-spk-0',
  account: SPOKE_A,
  accountAlias: 'payments-prod',
  status: 'ACTIVE',
  reason: 'payments down',
  durationMinutes: 30,
  createdAt: '2026-11-24T10:00:00Z',
  expiresAt: '2026-11-24T10:30:00Z',
  policyName: 'breakglass-g-1',
  scheduleName: 'g-1',
  version: 1,
  eventCount: 1,
});

describe('alerts of a spoke grant', () => {
  it('name the account and alias in the subject, body, machine form and attribute', () => {
    const alert = composeAlert(spokeGrant(), {
      type: 'ACTIVATED',
      at: '2026-11-24T10:00:00Z',
      actor: ALICE,
      outcome: 'SUCCESS',
    });
    expect(alert.attributes.account).toBe(SPOKE_A);
    expect(alert.subject).toMatch(/activated spk in 210987654321 payments-prod for 30m/);
    // A grant in the hub's own account: named in the body and attributes, not in the subject
    const hubGrant = composeAlert(
      { ...spokeGrant(), account: ACCOUNT, accountAlias: undefined },
      { type: 'ACTIVATED', at: '2026-11-24T10:00:00Z', actor: ALICE, outcome: 'SUCCESS' },
      [],
      ACCOUNT,
    );
    expect(hubGrant.subject).not.toContain(ACCOUNT);
    expect(hubGrant.attributes.account).toBe(ACCOUNT);
    expect(hubGrant.body).toContain(`Account:    ${ACCOUNT}`);
    expect(alert.body).toContain('Account:    210987654321 (payments-prod)');
    expect(alert.machine?.grant).toMatchObject({ account: SPOKE_A, accountAlias: 'payments-prod' });
  });
});
