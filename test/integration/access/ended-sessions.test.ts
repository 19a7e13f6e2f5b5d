/**
 * The ended-sessions Deny (ended-sessions.ts) against moto's IAM: the policy is put on the profile
 * role under its slot's name, IAM's validator accepts it (moto validates inline policy documents on
 * PutRolePolicy, as IAM does: a malformed one is refused, checked here too), and the next write reads
 * it back (GetRolePolicy, URL-decoded) and keeps the live statement beside the new one.
 */
import { randomBytes } from 'node:crypto';
import { CreateRoleCommand, GetRolePolicyCommand, IAMClient, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { describe, expect, inject, it } from 'vitest';
import { IamPolicyAdapter } from '../../../functions/adapters/iam-policy.adapter.js';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { denyEndedSessions, endedSessionsPolicyName } from '../../../functions/domain/ended-sessions.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import { PROFILE_ROLE_PATH } from '../../../functions/domain/profile-roles.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import { ACCOUNT, fakePorts, testProfiles } from '../../support/fakes.js';

const SSO = (name: string) =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/${name}@example.com`;
const profiles = testProfiles({
  grantTo: 'profileRole',
  eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`],
});

describe('ended-sessions policy on a real IAM API (moto)', () => {
  it('is put on the role, accepted as valid IAM syntax, and read back on the next write', async () => {
    // Prepare: a profile role of our own, and two ended grants of the same slot whose credentials were taken.
    const iam = new IAMClient(emulatorConfig(inject('motoEndpoint')));
    const role = `breakglass-sess-${randomBytes(4).toString('hex')}-0`;
    await iam.send(
      new CreateRoleCommand({
        RoleName: role,
        Path: PROFILE_ROLE_PATH,
        AssumeRolePolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' },
          ],
        }),
      }),
    );
    const ports = fakePorts();
    const ended = [];
    for (const [who, expiration] of [
      ['alice', '2026-11-24T10:30:00Z'],
      ['bob', '2026-11-24T10:45:00Z'],
    ] as const) {
      const { grant } = await activateGrant(ports, profiles, {
        caller: { arn: SSO(who) },
        body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 30 },
      });
      const vendor = {
        async assume() {
          return { accessKeyId: 'ASIAFAKE', secretAccessKey: 's', sessionToken: 't', expiration };
        },
      };
      const issued = await issueCredentials(
        { ...ports, vendor },
        profiles,
        { partition: 'aws', accountId: ACCOUNT },
        { grantId: grant.id, caller: { arn: SSO(who) } },
      );
      // Same role and slot for both: as when a slot is re-used within the hour.
      ended.push({ ...issued.grant, targetName: role, slot: 0 });
    }
    const withIam = { ...ports, access: new IamPolicyAdapter({ awsSdkV3Client: iam }) };

    // Act
    const first = await denyEndedSessions(withIam, ended[0]!);
    const second = await denyEndedSessions(withIam, ended[1]!);

    // Assess
    expect(first).toEqual({ sessionDeniedUntil: '2026-11-24T10:30:00Z' });
    expect(second).toEqual({ sessionDeniedUntil: '2026-11-24T10:45:00Z' });
    const stored = await iam.send(new GetRolePolicyCommand({ RoleName: role, PolicyName: endedSessionsPolicyName(0) }));
    const statements = JSON.parse(decodeURIComponent(stored.PolicyDocument!)).Statement;
    expect(statements).toEqual(
      ended.map((g, i) => ({
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          StringLike: { 'aws:userid': `*:bg-${g.id}` },
          DateLessThan: { 'aws:CurrentTime': ['2026-11-24T10:30:00Z', '2026-11-24T10:45:00Z'][i] },
        },
      })),
    );
    // A third live ended session of the slot collapses them into one aws:TokenIssueTime Deny, also valid IAM.
    const { grant: third } = await activateGrant(ports, profiles, {
      caller: { arn: SSO('carol') },
      body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 30 },
    });
    const carol = await issueCredentials(
      {
        ...ports,
        vendor: {
          async assume() {
            return {
              accessKeyId: 'ASIA3',
              secretAccessKey: 's',
              sessionToken: 't',
              expiration: '2026-11-24T10:35:00Z',
            };
          },
        },
      },
      profiles,
      { partition: 'aws', accountId: ACCOUNT },
      { grantId: third.id, caller: { arn: SSO('carol') } },
    );
    expect(await denyEndedSessions(withIam, { ...carol.grant, targetName: role, slot: 0 })).toEqual({
      sessionDeniedUntil: '2026-11-24T10:35:00Z',
    });
    const collapsed = await iam.send(
      new GetRolePolicyCommand({ RoleName: role, PolicyName: endedSessionsPolicyName(0) }),
    );
    expect(JSON.parse(decodeURIComponent(collapsed.PolicyDocument!)).Statement).toEqual([
      {
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          DateLessThan: { 'aws:TokenIssueTime': '2026-11-24T10:00:01Z', 'aws:CurrentTime': '2026-11-24T10:45:00Z' },
        },
      },
    ]);
    // The validator is real: a malformed document is refused on the same call.
    await expect(
      iam.send(
        new PutRolePolicyCommand({
          RoleName: role,
          PolicyName: 'malformed',
          PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Perhaps', Action: ['*'] }] }),
        }),
      ),
    ).rejects.toMatchObject({ name: 'MalformedPolicyDocumentException' });
  });
});
