/**
 * The whole system over HTTP, as `npm start` runs it: a 1-minute grant is attached to
 * the `demo` profile's role in the emulator's IAM and is removed after its expiry (never before),
 * with ACTIVATED and EXPIRED recorded and published; an Identity Center caller takes credentials
 * that are exactly the session the policy names. How soon after expiry is measured by
 * `npm run bench` (expiry lag), not asserted here: the suite must pass on a slow, busy machine.
 */

import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorConfig } from '../../sandbox/seed.js';
import { motoData } from '../support/moto-data.js';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

const ALICE = 'arn:aws:sts::123456789012:assumed-role/Responder/alice';
let sandbox: SandboxProcess;
let iam: IAMClient;

beforeAll(async () => {
  sandbox = await startSandbox();
  iam = new IAMClient(emulatorConfig(sandbox.moto));
});
afterAll(async () => sandbox?.stop());

const call = async (method: string, path: string, body?: unknown, principal: string | null = ALICE) => {
  const res = await fetch(`${sandbox.api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', ...(principal ? { 'x-local-principal': principal } : {}) },
    ...(body === undefined ? {} : { body: typeof body === 'string' ? body : JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};
const rolePolicies = async (role: string) =>
  (await iam.send(new ListRolePoliciesCommand({ RoleName: role }))).PolicyNames ?? [];

describe('local sandbox (npm start)', () => {
  it('lets an Identity Center caller activate demo and take credentials of exactly the session the policy names', async () => {
    const sso = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com';
    const created = await call(
      'POST',
      '/grants',
      { profile: 'demo', reason: 'e2e: orders API down, reading logs', durationMinutes: 30 },
      sso,
    );
    expect(created.status).toBe(201);
    const grant = created.body.grant;
    const issued = await call('POST', `/grants/${grant.id}/credentials`, undefined, sso);
    expect(issued.status).toBe(200);
    const { credentials } = issued.body;
    const sts = new STSClient({
      endpoint: sandbox.moto,
      region: 'us-east-1',
      credentials: {
        accessKeyId: credentials.accessKeyId,
        secretAccessKey: credentials.secretAccessKey,
        sessionToken: credentials.sessionToken,
      },
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toBe(`arn:aws:sts::123456789012:assumed-role/${grant.targetName}/bg-${grant.id}`);
    const { PolicyDocument } = await iam.send(
      new GetRolePolicyCommand({ RoleName: grant.targetName, PolicyName: grant.policyName }),
    );
    expect(JSON.parse(decodeURIComponent(PolicyDocument!)).Statement[0].Condition.StringLike['aws:userid']).toBe(
      `*:${me.UserId!.split(':')[1]}`,
    );
    // Someone else on the shared Responder role, even with a session named like her, gets nothing.
    expect(
      (
        await call(
          'POST',
          `/grants/${grant.id}/credentials`,
          undefined,
          'arn:aws:sts::123456789012:assumed-role/Responder/alice@example.com',
        )
      ).status,
    ).toBe(403);
    expect((await call('POST', `/grants/${grant.id}/revoke`, { reason: 'e2e: done with the logs' }, sso)).status).toBe(
      200,
    );
  });

  it('activates a 1-minute grant and removes it after expiry, never before', async () => {
    // Prepare: the seeded demo profile is there for Responder
    const profiles = await call('GET', '/profiles');
    expect(profiles.body.profiles.map((p: { name: string }) => p.name)).toContain('demo');

    // Act: activate through the HTTP API
    const created = await call('POST', '/grants', {
      profile: 'demo',
      reason: 'e2e: orders API down, reading logs',
      durationMinutes: 1,
    });
    expect(created.status).toBe(201);
    const grant = created.body.grant;
    expect(grant.targetName).toMatch(/^breakglass-demo-\d+$/);
    expect(await rolePolicies(grant.targetName)).toContain(grant.policyName);
    expect(await rolePolicies('Responder')).toEqual([]);
    const { PolicyDocument } = await iam.send(
      new GetRolePolicyCommand({ RoleName: grant.targetName, PolicyName: grant.policyName }),
    );
    const policy = JSON.parse(decodeURIComponent(PolicyDocument!));
    expect(policy.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe(grant.expiresAt);
    expect(policy.Statement[0].Condition.StringLike['aws:userid']).toBe(`*:bg-${grant.id}`);
    expect(policy.Statement.at(-1)).toMatchObject({ Sid: 'BreakGlassSelfProtection', Effect: 'Deny' });

    // Assess: removed once expired (the test's hang guard bounds the wait), and not before expiry
    const expiresAt = Date.parse(grant.expiresAt);
    let goneAt: number | undefined;
    while (goneAt === undefined) {
      if (!(await rolePolicies(grant.targetName)).includes(grant.policyName)) goneAt = Date.now();
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(goneAt).toBeGreaterThanOrEqual(expiresAt);
    console.info(`e2e: policy removed ${goneAt! - expiresAt} ms after expiry`);

    // The expiry records EXPIRED just after the detach: wait for the record too (the hang guard bounds it).
    let detail = await call('GET', `/grants/${grant.id}`);
    while (detail.body.grant.status === 'ACTIVE') {
      await new Promise((r) => setTimeout(r, 250));
      detail = await call('GET', `/grants/${grant.id}`);
    }
    expect(detail.body.grant.status).toBe('EXPIRED');
    expect(detail.body.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRED']);

    const data = await motoData<any>(sandbox.moto);
    const sent = data.sns.Topic.flatMap((t: any) => t.sent_notifications).filter(
      (n: any) => n[3]?.grantId?.Value === grant.id,
    );
    expect(sent.map((n: any) => n[3].eventType.Value)).toEqual(['ACTIVATED', 'EXPIRED']);
    expect(sandbox.output()).toMatch(new RegExp(`\\[scheduler\\] fired ${grant.id}`));
  });

  it('answers hostile requests with 4xx, never a 5xx', async () => {
    const cases: Array<[string, string, unknown, string | null, number]> = [
      ['POST', '/grants', '{"profile":', ALICE, 400],
      ['POST', '/grants', { profile: 'demo', reason: 'x' }, ALICE, 400],
      ['POST', '/grants', { profile: 'demo', reason: 'needs access now', durationMinutes: 1 }, null, 401],
      [
        'POST',
        '/grants',
        { profile: 'demo', reason: 'needs access now', durationMinutes: 1 },
        'arn:aws:sts::123456789012:assumed-role/Nobody/x',
        403,
      ],
      ['GET', '/grants/..%2F..%2Fetc', undefined, ALICE, 400],
      ['POST', '/grants/not-a-uuid/revoke', { reason: 'done' }, ALICE, 400],
      ['DELETE', '/grants', undefined, ALICE, 405],
      ['GET', '/nope', undefined, ALICE, 404],
    ];
    for (const [method, path, body, principal, status] of cases) {
      const res = await call(method, path, body, principal);
      expect({ method, path, status: res.status }).toEqual({ method, path, status });
      expect(res.body.error.message).toEqual(expect.any(String));
    }
  });

  it('lets the requester revoke early and the schedule goes with it', async () => {
    const created = await call('POST', '/grants', {
      profile: 'demo',
      reason: 'e2e: checking a revoke path',
      durationMinutes: 30,
    });
    const revoked = await call('POST', `/grants/${created.body.grant.id}/revoke`, { reason: 'done, service healthy' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.grant.status).toBe('REVOKED');
    expect(await rolePolicies(created.body.grant.targetName)).not.toContain(created.body.grant.policyName);
  });
});
