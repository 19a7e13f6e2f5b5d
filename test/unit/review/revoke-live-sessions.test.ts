/**
 * Hostile review (revoke vs sessions already issued), kept as `it.fails`.
 *
 * Revoke and expiry only *remove* the grant's Allow (DeleteRolePolicy). The session the credential
 * function opened lives on until its STS expiration — at least 15 minutes (STS's floor, even for a
 * grant with one minute left: `credentialDuration`), at most an hour — and keeps every Allow that does
 * not come from that inline policy: "If either the identity-based policy or the resource-based policy
 * within the same account allows the request and the other doesn't, the request is still allowed" (IAM
 * User Guide, "Policy evaluation for requests within a single account"). A bucket, key, queue or secret
 * whose resource policy names the pool role (`role/breakglass/profile/…`, e.g. set up so responders can
 * reach it "through break-glass") or the session still answers the revoked session. Nothing in
 * docs/security.md says so. AWS's own answer for a role whose sessions must end now is an explicit Deny
 * keyed to the session ("AWS attaches a new inline policy to the role that denies all permissions to all actions": IAM
 * User Guide, "Revoke IAM role temporary security credentials", with `aws:TokenIssueTime`); an explicit
 * Deny in an identity policy overrides any resource-policy Allow.
 *
 * Fix: revoke (and expiry) replace the grant's policy with a Deny `*` bound to `aws:userid`
 * `*:bg-<grantId>` instead of deleting it, kept until the latest expiration of the grant's issued
 * credentials (recorded in CREDENTIALS_ISSUED), then removed by the sweeper; a Deny bound to one
 * session takes nothing from the pool role's other grants.
 *
 * Fixed (functions/domain/ended-sessions.ts): the Deny goes in a per-slot policy beside the removed
 * Allow, `bg-ended-sessions-<slot>`, inert after the credentials' expiration and pruned on later writes.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ACCOUNT, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const SSO_ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com`;
const profiles = testProfiles({
  grantTo: 'profileRole',
  eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`],
});

describe('a revoked profile-role grant whose credentials were taken', () => {
  it('leaves a Deny bound to its session until those credentials expire', async () => {
    // Prepare: alice activates, takes credentials (valid 30 minutes), security revokes 5 minutes in.
    const ports = fakePorts();
    const rules = { ...DEFAULT_RULES, protectedResources: [`arn:aws:iam::${ACCOUNT}:role/breakglass/*`] };
    const { grant } = await activateGrant(
      ports,
      profiles,
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 30 } },
      rules,
    );
    const vendor = {
      async assume(_request: CredentialRequest) {
        return { accessKeyId: 'ASIAFAKE', secretAccessKey: 's', sessionToken: 't', expiration: '2026-11-24T10:30:00Z' };
      },
    };
    await issueCredentials(
      { ...ports, vendor },
      profiles,
      { partition: 'aws', accountId: ACCOUNT },
      {
        grantId: grant.id,
        caller: { arn: SSO_ALICE },
      },
    );
    ports.clock.advance(5 * 60_000);
    // Act
    await revokeGrant(ports, ['arn:aws:iam::123456789012:role/Security'], {
      grantId: grant.id,
      caller: { arn: SECURITY },
      body: { reason: 'suspected misuse' },
    });
    // Assess: some policy on the grant's role still denies the grant's session everything.
    const onRole = [...ports.access.policies.entries()].filter(([key]) => key.startsWith(`role/${grant.targetName}/`));
    const denies = onRole.flatMap(([, doc]) =>
      (JSON.parse(doc).Statement as Array<{ Effect: string; Action: string[]; Condition?: unknown }>).filter(
        (s) =>
          s.Effect === 'Deny' && s.Action.includes('*') && JSON.stringify(s.Condition ?? {}).includes(`bg-${grant.id}`),
      ),
    );
    expect(denies.length).toBeGreaterThan(0);
  });
});
