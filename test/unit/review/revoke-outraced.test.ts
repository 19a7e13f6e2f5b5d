/**
 * Hostile review (revoke vs the holder taking credentials); fixed: revoke first marks the grant ending (`markEnding`).
 *
 * Revoke records REVOKED conditionally on the version it read; a CREDENTIALS_ISSUED in between makes it
 * re-read, detach again, write the ended-sessions Deny again and retry, at most three times, then it
 * throws (revoke-grant.ts, `attempt >= 2`). Today's ended-sessions step made every attempt longer by three
 * calls (the grant's events, GetRolePolicy, PutRolePolicy), which is the window the holder needs: a loop of
 * `breakglass credentials <id>` (an AssumeRole and one conditional write) lands a CREDENTIALS_ISSUED inside
 * each attempt. The revoke fails, the grant stays ACTIVE with its Allow detached, the holder keeps taking new
 * sessions (issue-credentials checks the record, not the policy), and each new session outlives the Deny
 * written before it (its `until` is the expiration of the sessions known then). Security's retry and the
 * kill switch (revokeGrant per grant) lose the same way for as long as the holder keeps looping.
 *
 * Fix described: end issuance first. Revoke's first write is a small conditional update that marks the
 * grant as ending (e.g. `endingSince`, retried on conflicts: it only needs to land once), and issue-credentials
 * refuses a grant so marked (its own append is conditional on the version, so one that read before the mark
 * conflicts and withholds the credentials, as it does for REVOKED). Then detach, Deny and record see no more
 * CREDENTIALS_ISSUED and cannot be outraced; expiry takes the same first step.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import type { CredentialRequest, PolicyTarget } from '../../../functions/domain/ports.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ACCOUNT, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const MALLORY = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/mallory@example.com`;
const profiles = testProfiles({
  grantTo: 'profileRole',
  eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`],
});
const security = ['arn:aws:iam::123456789012:role/Security'];

describe('a holder taking credentials in a loop while security revokes', () => {
  it('cannot keep the grant ACTIVE', async () => {
    // Prepare: mallory's grant with a session; every ended-sessions write (one per revoke attempt) is followed,
    // before the revoke's conditional record, by another of mallory's credential requests.
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, {
      caller: { arn: MALLORY },
      body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 60 },
    });
    let n = 0;
    const vendor = {
      async assume(_request: CredentialRequest) {
        n += 1;
        return { accessKeyId: `ASIA${n}`, secretAccessKey: 's', sessionToken: 't', expiration: '2026-11-24T11:00:00Z' };
      },
    };
    const take = () =>
      issueCredentials(
        { ...ports, vendor },
        profiles,
        { partition: 'aws', accountId: ACCOUNT },
        { grantId: grant.id, caller: { arn: MALLORY } },
      );
    await take();
    const attach = ports.access.attach.bind(ports.access);
    ports.access.attach = async (target: PolicyTarget, name: string, document: string) => {
      await attach(target, name, document);
      if (name.startsWith('bg-ended-sessions')) await take().catch(() => undefined);
    };
    // Act: security revokes (and retries once, as a person would)
    for (let i = 0; i < 2; i++)
      await revokeGrant(ports, security, {
        grantId: grant.id,
        caller: { arn: SECURITY },
        body: { reason: 'misuse' },
      }).catch(() => undefined);
    // Assess
    expect(ports.store.grants.get(grant.id)!.status).toBe('REVOKED');
  });
});
