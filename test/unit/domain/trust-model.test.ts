/**
 * The trust model in the domain: who a person is, profile roles and their slots, self-protection
 * on every policy written, extensions from the recorded policy, credentials, caller-mode refusals.
 */

import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { type ActivationRules, activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  InvalidTransitionError,
  LimitExceededError,
  ProfileConfigError,
  ProtectedRoleError,
} from '../../../functions/domain/errors.js';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { grantPerson } from '../../../functions/domain/grant.js';
import {
  credentialDuration,
  issueCredentials,
  sourceIdentityFor,
} from '../../../functions/domain/issue-credentials.js';
import { SELF_PROTECTION_SID } from '../../../functions/domain/policy-builder.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { parsePrincipalArn, personOf, principalMatchesAny } from '../../../functions/domain/principal.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import {
  MAX_PROFILE_ROLES,
  PROFILE_ROLE_PATH,
  profileRoleName,
  profileRolePool,
} from '../../../functions/domain/profile-roles.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { sweep, sweepTargets } from '../../../functions/domain/sweep.js';
import { ACCOUNT, ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const PROTECTED = [
  `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/breakglass-*`,
  `arn:aws:iam::${ACCOUNT}:role/breakglass/*`,
];
const rules: ActivationRules = { ...DEFAULT_RULES, protectedResources: PROTECTED };
const SSO_ROLE = 'AWSReservedSSO_OnCall_0123456789abcdef';
const SSO_ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE}/alice@example.com`;
const SSO_ALICE_ADMIN = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Admin_fedcba9876543210/alice@example.com`;
const SSO_BOB = `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE}/bob@example.com`;
const reason = 'orders API returns 500s, need the logs';

/** Profile-role profiles (the default `grantTo`), eligible to Responder and the Identity Center role by its IAM path. */
function roleProfiles(overrides: Record<string, unknown> = {}) {
  return testProfiles({
    grantTo: 'profileRole',
    eligible: [
      `arn:aws:iam::${ACCOUNT}:role/Responder`,
      `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`,
    ],
    ...overrides,
  });
}

class FakeVendor {
  readonly calls: CredentialRequest[] = [];
  async assume(request: CredentialRequest) {
    this.calls.push(request);
    return {
      accessKeyId: 'ASIAFAKE',
      secretAccessKey: 'SECRET-never-recorded',
      sessionToken: 'TOKEN-never-recorded',
      expiration: '2026-11-24T10:30:00Z',
    };
  }
}

describe('the person (personOf)', () => {
  it.each([
    [
      'an Identity Center session is its user in its account, whatever permission set',
      SSO_ALICE,
      `sso:${ACCOUNT}:alice@example.com`,
    ],
    [
      'the same Identity Center user through another permission set',
      SSO_ALICE_ADMIN,
      `sso:${ACCOUNT}:alice@example.com`,
    ],
    [
      'the same session name in another account is another person',
      'arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_OnCall_abc/alice@example.com',
      'sso:999999999999:alice@example.com',
    ],
    ['an IAM user is the user', `arn:aws:iam::${ACCOUNT}:user/ops/bob`, `arn:aws:iam::${ACCOUNT}:user/ops/bob`],
    ['any other role session is that session', ALICE, ALICE],
    [
      'the same session name on another role is another person',
      `arn:aws:sts::${ACCOUNT}:assumed-role/Security/alice`,
      `arn:aws:sts::${ACCOUNT}:assumed-role/Security/alice`,
    ],
  ])('%s', (_why, arn, person) => {
    expect(personOf(parsePrincipalArn(arn)!)).toBe(person);
  });

  it("reads a grant recorded before the account was part of the person (sso:<name>) as today's form", () => {
    expect(grantPerson({ person: 'sso:alice@example.com', principalArn: SSO_ALICE })).toBe(
      `sso:${ACCOUNT}:alice@example.com`,
    );
    expect(grantPerson({ person: `sso:${ACCOUNT}:alice@example.com`, principalArn: SSO_ALICE })).toBe(
      `sso:${ACCOUNT}:alice@example.com`,
    );
    expect(grantPerson({ person: ALICE, principalArn: ALICE })).toBe(ALICE);
  });

  it('matches a role pattern with an IAM path (as IAM shows Identity Center roles) against a session of that role', () => {
    const sso = parsePrincipalArn(SSO_ALICE)!;
    expect(
      principalMatchesAny([`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`], sso),
    ).toBe(true);
    expect(
      principalMatchesAny([`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*`], sso),
    ).toBe(false);
  });
});

describe('profile roles', () => {
  const profile = roleProfiles({ maxActiveGrants: 50 }).profiles[0]!;

  it('sizes the pool from the profile alone: worst-case policy with self-protection, grants per role, roles', () => {
    const pool = profileRolePool(profile, PROTECTED);
    // Each slot also reserves room for its ended grants' session Deny (ended-sessions.ts).
    expect(pool.grantsPerRole).toBe(Math.floor(10_240 / (pool.worstCasePolicySize + pool.endedSessionsReserve)));
    expect(pool.roleNames).toHaveLength(Math.ceil(50 / pool.grantsPerRole));
    expect(pool.roleNames[0]).toBe('breakglass-demo-0');
    expect(
      profileRolePool(profile, [
        ...PROTECTED,
        ...Array.from({ length: 20 }, (_, i) => `arn:aws:s3:::protected-bucket-${i}`),
      ]).worstCasePolicySize,
    ).toBeGreaterThan(pool.worstCasePolicySize);
    expect(PROFILE_ROLE_PATH).toBe('/breakglass/profile/');
  });

  it('refuses a profile that would need more than the maximum number of roles', () => {
    const big = roleProfiles({
      maxActiveGrants: 1000,
      statements: [
        {
          actions: ['s3:GetObject'],
          resources: Array.from({ length: 40 }, (_, i) => `arn:aws:s3:::a-rather-long-bucket-name-number-${i}/*`),
        },
      ],
    }).profiles[0]!;
    expect(() => profileRolePool(big, PROTECTED)).toThrowError(new RegExp(`at most ${MAX_PROFILE_ROLES} are allowed`));
  });

  it("keeps every role name within IAM's 64 characters for the longest profile name", () => {
    expect(profileRoleName('a'.repeat(48), MAX_PROFILE_ROLES - 1).length).toBeLessThanOrEqual(64);
    expect(() =>
      parseProfiles({ version: 1, profiles: [{ ...testProfiles().profiles[0], name: 'a'.repeat(49) }] }),
    ).toThrowError(ProfileConfigError);
  });

  it("activates onto the slot's profile role with no IAM read and one write, bound to bg-<grantId>", async () => {
    const ports = fakePorts();
    let reads = 0;
    const usage = ports.access.inlinePolicyUsage.bind(ports.access);
    ports.access.inlinePolicyUsage = async (...args) => {
      reads++;
      return usage(...args);
    };
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    expect(reads).toBe(0);
    expect(grant).toMatchObject({
      status: 'ACTIVE',
      grantTo: 'profileRole',
      targetType: 'role',
      person: `sso:${ACCOUNT}:alice@example.com`,
      sessionName: `bg-${grant.id}`,
      sessionUserId: `*:bg-${grant.id}`,
    });
    expect(grant.targetName).toMatch(/^breakglass-demo-\d+$/);
    const attached = ports.access.policies.get(`role/${grant.targetName}/${grant.policyName}`)!;
    expect(attached).toBe(grant.policyDocument);
    const policy = JSON.parse(attached);
    for (const s of policy.Statement) expect(s.Condition.StringLike['aws:userid']).toBe(`*:bg-${grant.id}`);
    expect(policy.Statement.at(-1)).toMatchObject({
      Sid: SELF_PROTECTION_SID,
      Effect: 'Deny',
      Action: ['*'],
      Resource: PROTECTED,
    });
    const activated = ports.store.eventLog.get(grant.id)!.find((e) => e.type === 'ACTIVATED')!;
    expect(activated.details!.policySha256).toBe(createHash('sha256').update(attached).digest('hex'));
    expect(ports.access.policies.size).toBe(1);
  });

  it('counts the profile limit in slots, and frees the slot on every end', async () => {
    const ports = fakePorts();
    const set = roleProfiles({ maxActiveGrants: 2, eligible: [`arn:aws:iam::${ACCOUNT}:role/*`] });
    const sessions = ['a1', 'a2', 'a3'].map((s) => ({ arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/${s}` }));
    const first = (await activateGrant(ports, set, { caller: sessions[0]!, body: { profile: 'demo', reason } }, rules))
      .grant;
    const second = (await activateGrant(ports, set, { caller: sessions[1]!, body: { profile: 'demo', reason } }, rules))
      .grant;
    expect(new Set([first.slot, second.slot])).toEqual(new Set([0, 1]));
    await expect(
      activateGrant(ports, set, { caller: sessions[2]!, body: { profile: 'demo', reason } }, rules),
    ).rejects.toThrowError(LimitExceededError);
    await revokeGrant(ports, [], { grantId: first.id, caller: sessions[0]!, body: { reason: 'done with it now' } });
    expect(await ports.store.heldSlots('demo')).toEqual([expect.objectContaining({ grantId: second.id })]);
    const third = (await activateGrant(ports, set, { caller: sessions[2]!, body: { profile: 'demo', reason } }, rules))
      .grant;
    expect(third.slot).toBe(first.slot);
    ports.clock.advance(61 * 60_000);
    await expireGrant(ports, second.id);
    await expireGrant(ports, third.id);
    expect(await ports.store.heldSlots('demo')).toEqual([]);
  });

  it('keeps a grant whose create landed although the call failed (a timed-out write the SDK retried)', async () => {
    const ports = fakePorts();
    const create = ports.store.create.bind(ports.store);
    let calls = 0;
    ports.store.create = async (...args) => {
      await create(...args);
      if (++calls === 1) throw new ConcurrentUpdateError('the retry found the item the first attempt wrote');
      return ports.store.grants.get(args[0].id)!;
    };
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    expect(calls).toBe(1);
    expect(grant.status).toBe('ACTIVE');
    expect(await ports.store.heldSlots('demo')).toEqual([expect.objectContaining({ grantId: grant.id })]);
  });

  it('frees the slot of an activation that failed', async () => {
    const ports = fakePorts();
    ports.access.failAttach = new Error('IAM down');
    await expect(
      activateGrant(ports, roleProfiles(), { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } }, rules),
    ).rejects.toThrowError(/recorded as FAILED/);
    expect(await ports.store.heldSlots('demo')).toEqual([]);
  });

  it('treats the same Identity Center user through another permission set as the same person ("already holds")', async () => {
    const ports = fakePorts();
    const set = roleProfiles({ eligible: [`arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_*`] });
    const { grant } = await activateGrant(
      ports,
      set,
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const again = await activateGrant(
      ports,
      set,
      { caller: { arn: SSO_ALICE_ADMIN }, body: { profile: 'demo', reason } },
      rules,
    );
    expect(again).toMatchObject({ existing: true, grant: { id: grant.id } });
    const bob = await activateGrant(ports, set, { caller: { arn: SSO_BOB }, body: { profile: 'demo', reason } }, rules);
    expect(bob.existing).toBeUndefined();
  });
});

describe('the sweeper and profile roles', () => {
  it('sweeps every profile role, and reclaims a slot whose grant ended without freeing it, keeping live ones', async () => {
    const ports = fakePorts();
    const set = roleProfiles();
    const { grant } = await activateGrant(
      ports,
      set,
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    // Slots left behind: one whose grant record is gone, one whose grant is EXPIRED (the write that ended it could not free it).
    const [a, b] = [0, 1, 2, 3, 4].filter((n) => n !== grant.slot);
    ports.store.slots.set(`demo#${a}`, { slot: a!, grantId: 'gone', at: '2026-11-24T09:00:00Z' });
    const ended = { ...grant, id: '00000000-0000-4000-8000-00000000dead', status: 'EXPIRED' as const };
    ports.store.grants.set(ended.id, ended);
    ports.store.slots.set(`demo#${b}`, { slot: b!, grantId: ended.id, at: '2026-11-24T09:00:00Z' });
    const targets = sweepTargets(set, PROTECTED);
    // demo's profile role pool; Responder only through the caller-mode profile db (not demo's eligible roles)
    expect(targets).toEqual([
      { type: 'role', name: 'breakglass-demo-0' },
      { type: 'role', name: 'Responder' },
    ]);
    const report = await sweep(ports, targets, ['demo']);
    expect(report.slotsReclaimed!.sort()).toEqual([`demo#${a}`, `demo#${b}`]);
    expect((await ports.store.heldSlots('demo')).map((h) => h.grantId)).toEqual([grant.id]);
    expect(report.removed).toEqual([]);
  });
});

describe('credentials', () => {
  const settings = { partition: 'aws', accountId: ACCOUNT };

  it("assumes the profile role in the grant's session for the requester, and records only the key id and expiry", async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason, durationMinutes: 30 } },
      rules,
    );
    const vendor = new FakeVendor();
    // The same person through another permission set (eligible too: eligibility is re-checked on the caller)
    const both = roleProfiles({
      eligible: [
        `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`,
        `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_Admin_*`,
      ],
    });
    const issued = await issueCredentials({ ...ports, vendor }, both, settings, {
      grantId: grant.id,
      caller: { arn: SSO_ALICE_ADMIN },
    });
    expect(vendor.calls).toEqual([
      {
        roleArn: `arn:aws:iam::${ACCOUNT}:role/breakglass/profile/${grant.targetName}`,
        sessionName: `bg-${grant.id}`,
        sourceIdentity: 'alice@example.com',
        durationSeconds: 1800,
      },
    ]);
    expect(issued.credentials.secretAccessKey).toBe('SECRET-never-recorded');
    expect(issued.grant.credentialsIssued).toBe(1);
    const event = ports.store.eventLog.get(grant.id)!.at(-1)!;
    expect(event).toMatchObject({
      type: 'CREDENTIALS_ISSUED',
      actor: SSO_ALICE_ADMIN,
      details: { accessKeyId: 'ASIAFAKE', expiration: '2026-11-24T10:30:00Z' },
    });
    const everything = JSON.stringify([
      ...ports.store.grants.values(),
      ...ports.store.eventLog.values(),
      ports.notifier.alerts,
    ]);
    expect(everything).not.toContain('SECRET-never-recorded');
    expect(everything).not.toContain('TOKEN-never-recorded');
  });

  it('refuses anyone but the requesting person, and a grant that is not ACTIVE', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const vendor = new FakeVendor();
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, { grantId: grant.id, caller: { arn: SSO_BOB } }),
    ).rejects.toThrowError(ForbiddenError);
    // A shared role session *named* like her is not her Identity Center identity.
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice@example.com` },
      }),
    ).rejects.toThrowError(ForbiddenError);
    await revokeGrant(ports, [], {
      grantId: grant.id,
      caller: { arn: SSO_ALICE },
      body: { reason: 'done with it now' },
    });
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: SSO_ALICE },
      }),
    ).rejects.toThrowError(InvalidTransitionError);
    expect(vendor.calls).toEqual([]);
  });

  it('bounds the duration by STS: at least 900 s, at most one hour (role chaining)', () => {
    const now = new Date('2026-11-24T10:00:00Z');
    expect(credentialDuration(now, '2026-11-24T10:05:00Z')).toBe(900);
    expect(credentialDuration(now, '2026-11-24T10:20:00Z')).toBe(1200);
    expect(credentialDuration(now, '2026-11-24T13:00:00Z')).toBe(3600);
  });

  it("sanitises the SourceIdentity to STS's charset and 2-64 length", () => {
    expect(sourceIdentityFor(`sso:${ACCOUNT}:alice@example.com`)).toBe('alice@example.com');
    expect(sourceIdentityFor('sso:alice@example.com')).toBe('alice@example.com');
    expect(sourceIdentityFor(`arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`)).toBe('alice');
    expect(sourceIdentityFor('sso:al ice#1')).toBe('al_ice_1');
    expect(sourceIdentityFor(`sso:${'x'.repeat(70)}`)).toHaveLength(64);
    expect(sourceIdentityFor('sso:a')).toMatch(/^[\w+=,.@-]{2}$/);
  });
});

describe('extensions re-attach the recorded policy', () => {
  it('ignores a profile file changed since activation, re-checks eligibility, and keeps self-protection', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason, durationMinutes: 30 } },
      rules,
    );
    const widened = roleProfiles({ maxTotalMinutes: 120, statements: [{ actions: ['s3:*'], resources: ['*'] }] });
    const extended = await extendGrant(ports, widened, {
      grantId: grant.id,
      caller: { arn: SSO_ALICE },
      body: { minutes: 15, reason: 'still failing over the cluster' },
    });
    const attached = ports.access.policies.get(`role/${grant.targetName}/${grant.policyName}`)!;
    expect(attached).toBe(grant.policyDocument!.replaceAll('2026-11-24T10:30:00Z', '2026-11-24T10:45:00Z'));
    expect(attached).not.toContain('s3:*');
    expect(JSON.parse(attached).Statement.at(-1).Sid).toBe(SELF_PROTECTION_SID);
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details!.policySha256).toBe(
      createHash('sha256').update(attached).digest('hex'),
    );
    expect(extended.policyDocument).toBe(attached);
    const removed = roleProfiles({ maxTotalMinutes: 120, eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`] });
    await expect(
      extendGrant(ports, removed, {
        grantId: grant.id,
        caller: { arn: SSO_ALICE },
        body: { minutes: 15, reason: 'still failing over the cluster' },
      }),
    ).rejects.toThrowError(/no longer eligible/);
  });

  it("writes self-protection in caller mode too, bound to the caller's session, on activation and extension", async () => {
    const ports = fakePorts();
    const set = testProfiles({ maxTotalMinutes: 120 });
    const { grant } = await activateGrant(
      ports,
      set,
      { caller: { arn: ALICE, userId: ALICE_ID }, body: { profile: 'demo', reason, durationMinutes: 30 } },
      rules,
    );
    const deny = () => JSON.parse(ports.access.policies.get(`role/Responder/${grant.policyName}`)!).Statement.at(-1);
    expect(deny()).toEqual({
      Sid: SELF_PROTECTION_SID,
      Effect: 'Deny',
      Action: ['*'],
      Resource: PROTECTED,
      Condition: { StringLike: { 'aws:userid': ALICE_ID } },
    });
    await extendGrant(ports, set, {
      grantId: grant.id,
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { minutes: 10, reason: 'still failing over the cluster' },
    });
    expect(deny()).toEqual({
      Sid: SELF_PROTECTION_SID,
      Effect: 'Deny',
      Action: ['*'],
      Resource: PROTECTED,
      Condition: { StringLike: { 'aws:userid': ALICE_ID } },
    });
  });
});

describe('caller mode refusals', () => {
  it('refuses at load a caller-mode profile whose eligible patterns can only be Identity Center or service-linked roles', () => {
    for (const pattern of [
      `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/*`,
      `arn:aws:iam::${ACCOUNT}:role/AWSReservedSSO_OnCall_*`,
      `arn:aws:iam::${ACCOUNT}:role/aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS`,
    ]) {
      expect(() => testProfiles({ eligible: [pattern] }), pattern).toThrowError(/use "grantTo": "profileRole"/);
    }
    expect(testProfiles({ eligible: [`arn:aws:iam::${ACCOUNT}:role/*`] }).profiles[0]!.grantTo).toBe('caller');
  });

  it('answers an Identity Center caller of a caller-mode profile with a 409 that says to use the profile role, touching nothing', async () => {
    const ports = fakePorts();
    const error = await activateGrant(
      ports,
      testProfiles({ eligible: [`arn:aws:iam::${ACCOUNT}:role/*`] }),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    ).catch((e) => e);
    expect(error).toBeInstanceOf(ProtectedRoleError);
    expect(error.statusCode).toBe(409);
    expect(error.message).toMatch(/profile role/);
    expect(ports.access.policies.size).toBe(0);
    expect(ports.store.grants.size).toBe(0);
  });

  it('refuses MFA on a profile-role profile at load (its session carries no MFA)', () => {
    expect(() => roleProfiles({ mfa: { required: true } })).toThrowError(/mfa.required needs "grantTo": "caller"/);
  });
});
