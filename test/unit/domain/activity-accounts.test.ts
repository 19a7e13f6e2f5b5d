/**
 * Action logging across accounts: calls forwarded from spokes to the hub's activity bus are tied to a
 * grant only within that grant's account. The attacker is an administrator of one spoke: they may put
 * events on the hub's bus (the bus policy allows their account), forward any genuine CloudTrail event of
 * their account, and create a role and session of their own named after another account's grant. Real
 * CloudTrail record shapes (`cloudtrail-fixtures.ts`), moved into the spoke's account.
 */
import { describe, expect, it } from 'vitest';
import { parseCall } from '../../../functions/domain/activity.js';
import { accountMismatch, type CaptureInput, captureActivity } from '../../../functions/domain/activity-capture.js';
import type { Grant } from '../../../functions/domain/grant.js';
import {
  ACCT,
  assumedRoleIdentity,
  createUserDenied,
  getObject,
  iamUserIdentity,
  PROFILE_ROLE,
  profileSession,
  stopInstances,
  viaEventBridge,
} from '../../support/cloudtrail-fixtures.js';
import { fakePorts, MemoryActivityStore } from '../../support/fakes.js';

const HUB = ACCT;
const SPOKE = '210987654321';
const ATTACKER = '222233334444';
const CREATED = '2026-11-24T10:00:00.000Z';
const EXPIRES = '2026-11-24T10:30:00Z';

/** A documented record (or event) with every mention of the hub's account moved to `account`. */
function inAccount<T>(value: T, account: string): T {
  return JSON.parse(JSON.stringify(value).replaceAll(HUB, account)) as T;
}

let ids = 0;
const newGrantId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;

function world(hubAccount: string | undefined = HUB) {
  const ports = fakePorts();
  const activity = new MemoryActivityStore();
  const capture = {
    ...(hubAccount ? { hubAccount } : {}),
    store: ports.store,
    activity,
    notifier: ports.notifier,
    clock: ports.clock,
    log: ports.log,
  };
  const add = async (overrides: Partial<Grant> = {}) => {
    const id = overrides.id ?? newGrantId();
    const grant: Grant = {
      id,
      profile: 'spoke-logs',
      owner: 'platform@example.com',
      principalArn: `arn:aws:sts::${HUB}:assumed-role/Responder/alice`,
      targetType: 'role',
      targetName: PROFILE_ROLE,
      status: 'ACTIVE',
      reason: 'payments API down',
      durationMinutes: 30,
      createdAt: CREATED,
      expiresAt: EXPIRES,
      policyName: `breakglass-${id}`,
      scheduleName: `breakglass-${id}`,
      sessionName: `bg-${id}`,
      grantTo: 'profileRole',
      version: 1,
      eventCount: 0,
      ...overrides,
    };
    return ports.store.create(grant, { type: 'REQUESTED', at: CREATED, actor: grant.principalArn, outcome: 'SUCCESS' });
  };
  let n = 0;
  /** As the hub's bus hands it on: the envelope's `account` is the account the event came from. */
  const from = (account: string, record: Parameters<typeof viaEventBridge>[0]): CaptureInput => ({
    id: `msg-${++n}`,
    event: { ...viaEventBridge(record), account },
  });
  return { ports, activity, capture, add, from };
}

describe('capture across accounts', () => {
  it("stores a spoke grant's call forwarded from that spoke, with the spoke's account", async () => {
    // Prepare
    const w = world();
    const grant = await w.add({ account: SPOKE });
    const identity = inAccount(assumedRoleIdentity(profileSession(grant.id)), SPOKE);
    // Act
    const report = await captureActivity(w.capture, [
      w.from(SPOKE, inAccount(getObject(identity, '2026-11-24T10:05:00Z'), SPOKE)),
      w.from(SPOKE, inAccount(createUserDenied(identity, '2026-11-24T10:06:00Z'), SPOKE)),
    ]);
    // Assess
    expect(report.results.map((r) => r.outcome)).toEqual(['stored', 'stored']);
    const records = await w.activity.all(grant.id);
    expect(records.map((r) => [r.account, r.action, r.identity])).toEqual([
      [SPOKE, 'GetObject', `arn:aws:sts::${SPOKE}:assumed-role/${PROFILE_ROLE}/bg-${grant.id}`],
      [SPOKE, 'CreateUser', `arn:aws:sts::${SPOKE}:assumed-role/${PROFILE_ROLE}/bg-${grant.id}`],
    ]);
    expect(await w.activity.summary(grant.id)).toMatchObject({ calls: 2, denied: 1 });
  });

  it("ignores genuine calls of another spoke's look-alike role and session named after the grant", async () => {
    // Prepare: the attacker, admin of their own spoke, created /breakglass/profile/<same role name> there
    // and opened a session bg-<grant id of the other spoke's grant>: CloudTrail records it in their account.
    const w = world();
    const grant = await w.add({ account: SPOKE });
    const lookAlike = inAccount(assumedRoleIdentity(profileSession(grant.id)), ATTACKER);
    // Act: a flood of them, forwarded by the attacker's rule (the envelope says where they came from).
    const flood = Array.from({ length: 50 }, (_, i) =>
      w.from(
        ATTACKER,
        inAccount(stopInstances(lookAlike, `2026-11-24T10:${String(i).padStart(2, '0')}:00Z`), ATTACKER),
      ),
    );
    const report = await captureActivity(w.capture, flood);
    // Assess: nothing lands on the grant, and each one says why.
    expect(new Set(report.results.map((r) => r.outcome))).toEqual(new Set(['ignored']));
    expect(report.results[0]!.reason).toMatch(
      new RegExp(`names account ${ATTACKER}, not the grant's account ${SPOKE}`),
    );
    expect(await w.activity.all(grant.id)).toHaveLength(0);
    expect((await w.activity.summary(grant.id)).calls).toBe(0);
    expect(w.ports.notifier.alerts).toHaveLength(0);
  });

  it("ignores a record that claims the grant's account but arrives from another account's bus", async () => {
    const w = world();
    const grant = await w.add({ account: SPOKE });
    const identity = inAccount(assumedRoleIdentity(profileSession(grant.id)), SPOKE);
    const report = await captureActivity(w.capture, [
      w.from(ATTACKER, inAccount(getObject(identity, '2026-11-24T10:05:00Z'), SPOKE)),
    ]);
    expect(report.results[0]).toMatchObject({ outcome: 'ignored' });
    expect(report.results[0]!.reason).toMatch(/the envelope names account 222233334444/);
    expect(await w.activity.all(grant.id)).toHaveLength(0);
  });

  it("ignores a spoke's calls named after a hub grant (a grant naming no account is the hub's)", async () => {
    const w = world();
    const hubGrant = await w.add();
    const hubCall = getObject(assumedRoleIdentity(profileSession(hubGrant.id)), '2026-11-24T10:05:00Z');
    const report = await captureActivity(w.capture, [w.from(SPOKE, inAccount(hubCall, SPOKE)), w.from(HUB, hubCall)]);
    expect(report.results.map((r) => r.outcome)).toEqual(['ignored', 'stored']);
    expect((await w.activity.all(hubGrant.id)).map((r) => r.account)).toEqual([HUB]);
  });

  it('without ACCOUNT_ID, still refuses a record whose accounts disagree with the envelope', async () => {
    const w = world(undefined);
    const grant = await w.add();
    const call = getObject(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:05:00Z');
    const report = await captureActivity(w.capture, [w.from(ATTACKER, call), w.from(HUB, call)]);
    expect(report.results.map((r) => r.outcome)).toEqual(['ignored', 'stored']);
  });

  it('rejects events that are not from an AWS service (a PutEvents caller cannot use an aws.* source)', async () => {
    const w = world();
    const grant = await w.add({ account: SPOKE });
    const record = inAccount(getObject(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:05:00Z'), SPOKE);
    const forged = w.from(SPOKE, record);
    const report = await captureActivity(w.capture, [
      { id: 'custom', event: { ...(forged.event as object), source: 'com.attacker.cloudtrail' } },
      { id: 'nosource', event: { ...(forged.event as object), source: undefined } },
      { id: 'noaccount', event: { ...(forged.event as object), account: 'hub' } },
    ]);
    expect(report.results.map((r) => r.outcome)).toEqual(['rejected', 'rejected', 'rejected']);
    expect(report.results[0]!.reason).toMatch(/not an AWS service/);
    expect(await w.activity.all(grant.id)).toHaveLength(0);
  });

  it('ignores a record without recipientAccountId, and a session issuer outside the profile roles', async () => {
    const w = world();
    const grant = await w.add({ account: SPOKE });
    const identity = inAccount(assumedRoleIdentity(profileSession(grant.id)), SPOKE);
    const { recipientAccountId: _r, ...noRecipient } = inAccount(getObject(identity, '2026-11-24T10:05:00Z'), SPOKE);
    const otherPath = inAccount(assumedRoleIdentity({ ...profileSession(grant.id), path: '/attacker/' }), SPOKE);
    const report = await captureActivity(w.capture, [
      w.from(SPOKE, noRecipient as never),
      w.from(SPOKE, inAccount(getObject(otherPath, '2026-11-24T10:05:00Z'), SPOKE)),
    ]);
    expect(report.results.map((r) => r.outcome)).toEqual(['ignored', 'ignored']);
    expect(report.results[0]!.reason).toMatch(/no recipientAccountId/);
    expect(report.results[1]!.reason).toMatch(/not the grant's profile role \/breakglass\/profile\//);
    expect(await w.activity.all(grant.id)).toHaveLength(0);
  });

  it("caller mode: an IAM user's call recorded in another account is not the hub grant's", async () => {
    const w = world();
    const user = iamUserIdentity('oncall', 'AIDAONCALLUSER000001');
    const grant = await w.add({ principalArn: user.arn, targetType: 'user', targetName: 'oncall', grantTo: 'caller' });
    await w.activity.registerSession({ sessionKey: user.arn, grantId: grant.id, createdAt: grant.createdAt });
    const call = getObject(user, '2026-11-24T10:05:00Z');
    // The same user's call, as the attacker's trail would hold it if they forwarded the bucket owner's copy.
    const elsewhere = { ...call, recipientAccountId: ATTACKER };
    const report = await captureActivity(w.capture, [w.from(ATTACKER, elsewhere), w.from(HUB, call)]);
    expect(report.results.map((r) => r.outcome)).toEqual(['ignored', 'stored']);
    expect(await w.activity.all(grant.id)).toHaveLength(1);
  });
});

describe('accountMismatch', () => {
  const call = parseCall(getObject(assumedRoleIdentity(profileSession(newGrantId())), '2026-11-24T10:05:00Z'));
  it('names the first field that disagrees', () => {
    expect(accountMismatch(call, { account: HUB, source: 'aws.s3' }, HUB)).toBeUndefined();
    expect(accountMismatch(call, { account: HUB, source: 'aws.s3' }, SPOKE)).toBe(
      `the envelope names account ${HUB}, not the grant's account ${SPOKE}`,
    );
    const moved = parseCall({ ...call.record, recipientAccountId: SPOKE });
    expect(accountMismatch(moved, { account: HUB, source: 'aws.s3' }, HUB)).toBe(
      `recipientAccountId names account ${SPOKE}, not the grant's account ${HUB}`,
    );
  });
});
