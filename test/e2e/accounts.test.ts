/**
 * The sandbox's cross-account grant end to end, as docs/many-accounts.md shows it: `spoke-logs`
 * grants in the spoke 210987654321; the credentials' caller identity is the spoke profile role's
 * session, and the expiry (fired by the sandbox's scheduler) removes the policy in the spoke.
 */
import { type IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { iamIn, SANDBOX_SPOKE_ACCOUNT } from '../../sandbox/spokes.js';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/Responder/alice';
let sandbox: SandboxProcess;
let spokeIam: IAMClient;

beforeAll(async () => {
  sandbox = await startSandbox();
  spokeIam = await iamIn(sandbox.moto, SANDBOX_SPOKE_ACCOUNT);
});
afterAll(async () => sandbox?.stop());

const call = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${sandbox.api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-local-principal': ALICE },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};

describe('sandbox: a grant in a spoke account', () => {
  it('activates spoke-logs in 210987654321, vends the spoke profile role session, and expires it there', async () => {
    const profiles = await call('GET', '/profiles');
    expect(profiles.body.profiles.find((p: { name: string }) => p.name === 'spoke-logs').accounts).toEqual([
      { id: SANDBOX_SPOKE_ACCOUNT, alias: 'sandbox-spoke' },
    ]);
    const created = await call('POST', '/grants', {
      profile: 'spoke-logs',
      reason: 'e2e: payments API down, reading its logs',
      durationMinutes: 1,
    });
    expect(created.status).toBe(201);
    const grant = created.body.grant;
    expect(grant).toMatchObject({ account: SANDBOX_SPOKE_ACCOUNT, accountAlias: 'sandbox-spoke' });
    // Grant policies only: an earlier grant's ended-sessions Deny (bg-ended-sessions-<slot>) may sit beside them.
    const policies = async () =>
      ((await spokeIam.send(new ListRolePoliciesCommand({ RoleName: grant.targetName }))).PolicyNames ?? []).filter(
        (n) => n.startsWith('breakglass-'),
      );
    expect(await policies()).toEqual([grant.policyName]);

    const issued = await call('POST', `/grants/${grant.id}/credentials`);
    expect(issued.status).toBe(200);
    const c = issued.body.credentials;
    const me = await new STSClient({
      endpoint: sandbox.moto,
      region: 'us-east-1',
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
    }).send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:sts::${SANDBOX_SPOKE_ACCOUNT}:assumed-role/${grant.targetName}/bg-${grant.id}`);

    // Action logging: a call through the CloudTrail stand-in lands in this grant's activity, in the spoke's account
    // (as the spoke's forwarding rule delivers it to the hub's activity bus).
    await new STSClient({
      endpoint: sandbox.cloudtrail,
      region: 'us-east-1',
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
    }).send(new GetCallerIdentityCommand({}));
    let activity = await call('GET', `/grants/${grant.id}/activity`);
    while (!activity.body.activity?.length) {
      await new Promise((r) => setTimeout(r, 250));
      activity = await call('GET', `/grants/${grant.id}/activity`);
    }
    expect(activity.body.activity).toEqual([
      expect.objectContaining({
        account: SANDBOX_SPOKE_ACCOUNT,
        service: 'sts.amazonaws.com',
        action: 'GetCallerIdentity',
        identity: `arn:aws:sts::${SANDBOX_SPOKE_ACCOUNT}:assumed-role/${grant.targetName}/bg-${grant.id}`,
        attribution: 'session',
      }),
    ]);

    // The sandbox's scheduler fires the expiry (the hang guard bounds the wait)
    while ((await policies()).includes(grant.policyName)) await new Promise((r) => setTimeout(r, 250));
    expect(Date.now()).toBeGreaterThanOrEqual(Date.parse(grant.expiresAt));
    // The expiry records EXPIRED after it detached and denied the issued session in the spoke: wait for the record
    // too (the hang guard bounds it), not a fixed time.
    let detail = await call('GET', `/grants/${grant.id}`);
    while (detail.body.grant.status === 'ACTIVE') {
      await new Promise((r) => setTimeout(r, 250));
      detail = await call('GET', `/grants/${grant.id}`);
    }
    expect(detail.body.grant.status).toBe('EXPIRED');
  }, 180_000);
});
