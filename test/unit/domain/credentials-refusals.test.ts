/**
 * The credentials path leaves a trace: refusals (someone else, no longer eligible, frozen) are
 * recorded on the grant as CREDENTIALS_DENIED and announced, and an issue is announced with
 * who took the session; the session's SourceIdentity is the caller's person.
 */
import { describe, expect, it } from 'vitest';
import { type ActivationRules, activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { ForbiddenError, FrozenError } from '../../../functions/domain/errors.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { ACCOUNT, fakePorts, MALLORY, testProfiles } from '../../support/fakes.js';

const rules: ActivationRules = { ...DEFAULT_RULES, protectedResources: [`arn:aws:iam::${ACCOUNT}:role/breakglass/*`] };
const settings = { partition: 'aws', accountId: ACCOUNT };
const reason = 'orders API returns 500s, need the logs';
const ONCALL = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`;
const ADMIN = `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*`;
const SSO_ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com`;
const SSO_ALICE_ADMIN = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_fedcba9876543210/alice@example.com`;
const profiles = (eligible = [ONCALL, ADMIN]) => testProfiles({ grantTo: 'profileRole', eligible });

class FakeVendor {
  readonly calls: CredentialRequest[] = [];
  async assume(request: CredentialRequest) {
    this.calls.push(request);
    return { accessKeyId: 'ASIAFAKE', secretAccessKey: 'S', sessionToken: 'T', expiration: '2026-11-24T11:00:00Z' };
  }
}

async function setup() {
  const ports = fakePorts();
  const { grant } = await activateGrant(
    ports,
    profiles(),
    { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
    rules,
  );
  const vendor = new FakeVendor();
  return {
    ports,
    grant,
    vendor,
    take: (arn: string, set = profiles(), frozenByConfig: string[] = []) =>
      issueCredentials({ ...ports, vendor }, set, settings, { grantId: grant.id, caller: { arn } }, { frozenByConfig }),
  };
}

const lastEvent = (ports: ReturnType<typeof fakePorts>, id: string) => ports.store.eventLog.get(id)!.at(-1)!;
const alertsOf = (ports: ReturnType<typeof fakePorts>, type: string) =>
  ports.notifier.alerts.filter((a) => a.attributes.eventType === type);

describe('credentials refusals are recorded and announced', () => {
  it('refuses a frozen profile with 423, recorded and announced, assuming nothing', async () => {
    const { ports, grant, vendor, take } = await setup();
    ports.control.state = { all: false, profiles: ['demo'], by: 'sec', reason: 'incident 42', version: 1 };
    await expect(take(SSO_ALICE)).rejects.toThrowError(FrozenError);
    await expect(take(SSO_ALICE, profiles(), ['demo'])).rejects.toThrowError(FrozenError);
    expect(vendor.calls).toEqual([]);
    expect(lastEvent(ports, grant.id)).toMatchObject({
      type: 'CREDENTIALS_DENIED',
      actor: SSO_ALICE,
      outcome: 'FAILURE',
      details: { step: 'Freeze' },
    });
    expect(alertsOf(ports, 'CREDENTIALS_DENIED')).toHaveLength(2);
    expect(alertsOf(ports, 'CREDENTIALS_DENIED')[0]!.subject).toMatch(
      /^\[break-glass WARNING\] alice@example.com was REFUSED credentials for demo/,
    );
    expect((await ports.store.get(grant.id))!.credentialsIssued ?? 0).toBe(0);
  });

  it('refuses a requester no longer eligible with 403, recorded and announced', async () => {
    const { ports, grant, vendor, take } = await setup();
    await expect(take(SSO_ALICE, profiles([ADMIN]))).rejects.toThrowError(/no longer eligible/);
    expect(vendor.calls).toEqual([]);
    expect(lastEvent(ports, grant.id)).toMatchObject({ type: 'CREDENTIALS_DENIED', details: { step: 'Eligibility' } });
    expect(alertsOf(ports, 'CREDENTIALS_DENIED')).toHaveLength(1);
  });

  it('records every attempt by someone else, announcing under the per-caller, per-profile rate limit', async () => {
    const { ports, grant, vendor, take } = await setup();
    for (let i = 0; i < 3; i++) await expect(take(MALLORY)).rejects.toThrowError(ForbiddenError);
    expect(vendor.calls).toEqual([]);
    const refused = ports.store.eventLog.get(grant.id)!.filter((e) => e.type === 'CREDENTIALS_DENIED');
    expect(refused.map((e) => [e.actor, e.details!.step])).toEqual(Array(3).fill([MALLORY, 'Requester']));
    expect(refused.slice(1).every((e) => e.details!.alert?.startsWith('not announced'))).toBe(true);
    const alerts = alertsOf(ports, 'CREDENTIALS_DENIED');
    expect(alerts).toHaveLength(1);
    // The subject names who tried, and whose grant it was.
    expect(alerts[0]!.subject).toMatch(/mallory was REFUSED credentials for demo of alice@example.com/);
    expect([...ports.alertLimiter.state.keys()]).toEqual([`denied/${MALLORY}/demo`]);
  });
});

describe('credentials issued', () => {
  it("puts the caller's person in SourceIdentity, keeps both persons on the event, and announces it (INFO)", async () => {
    const { ports, grant, vendor, take } = await setup();
    await take(SSO_ALICE_ADMIN);
    expect(vendor.calls.map((c) => c.sourceIdentity)).toEqual(['alice@example.com']);
    expect(lastEvent(ports, grant.id)).toMatchObject({
      type: 'CREDENTIALS_ISSUED',
      actor: SSO_ALICE_ADMIN,
      details: { person: grant.person, grantPerson: grant.person },
    });
    const [alert] = alertsOf(ports, 'CREDENTIALS_ISSUED');
    expect(alert!.attributes.severity).toBe('INFO');
    expect(alert!.machine).toMatchObject({ actor: SSO_ALICE_ADMIN, details: { accessKeyId: 'ASIAFAKE' } });
  });
});
