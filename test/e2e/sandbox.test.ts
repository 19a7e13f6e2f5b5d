/**
 * The whole system over HTTP, as `npm start` runs it: a 1-minute grant is attached to
 * `Responder` in the emulator's IAM and is removed after its expiry (never before), with
 * ACTIVATED and EXPIRED recorded and published. How soon after is measured by `npm run bench`
 * (expiry lag), not asserted here: the suite must pass on a slow, busy machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GetRolePolicyCommand, IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { emulatorConfig } from '../../sandbox/seed.js';
import { startSandbox, type SandboxProcess } from '../support/sandbox-process.js';

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
const rolePolicies = async () => (await iam.send(new ListRolePoliciesCommand({ RoleName: 'Responder' }))).PolicyNames ?? [];

describe('local sandbox (npm start)', () => {
  it('activates a 1-minute grant and removes it after expiry, never before', async () => {
    // Prepare: the seeded demo profile is there for Responder
    const profiles = await call('GET', '/profiles');
    expect(profiles.body.profiles.map((p: { name: string }) => p.name)).toContain('demo');

    // Act: activate through the HTTP API
    const created = await call('POST', '/grants', { profile: 'demo', reason: 'e2e: orders API down, reading logs', durationMinutes: 1 });
    expect(created.status).toBe(201);
    const grant = created.body.grant;
    expect(await rolePolicies()).toContain(grant.policyName);
    const { PolicyDocument } = await iam.send(new GetRolePolicyCommand({ RoleName: 'Responder', PolicyName: grant.policyName }));
    const policy = JSON.parse(decodeURIComponent(PolicyDocument!));
    expect(policy.Statement[0].Condition.DateLessThan['aws:CurrentTime']).toBe(grant.expiresAt);
    expect(policy.Statement[0].Condition.StringLike['aws:userid']).toMatch(/^AROA[A-Z0-9]+:alice$/);

    // Assess: removed once expired (the test's hang guard bounds the wait), and not before expiry
    const expiresAt = Date.parse(grant.expiresAt);
    let goneAt: number | undefined;
    while (goneAt === undefined) {
      if (!(await rolePolicies()).includes(grant.policyName)) goneAt = Date.now();
      else await new Promise((r) => setTimeout(r, 250));
    }
    expect(goneAt).toBeGreaterThanOrEqual(expiresAt);
    console.info(`e2e: policy removed ${goneAt! - expiresAt} ms after expiry`);

    const detail = await call('GET', `/grants/${grant.id}`);
    expect(detail.body.grant.status).toBe('EXPIRED');
    expect(detail.body.events.map((e: { type: string }) => e.type)).toEqual(['REQUESTED', 'ACTIVATED', 'EXPIRED']);

    const data = (await (await fetch(`${sandbox.moto}/moto-api/data.json`)).json()) as any;
    const sent = data.sns.Topic.flatMap((t: any) => t.sent_notifications).filter((n: any) => n[3]?.grantId?.Value === grant.id);
    expect(sent.map((n: any) => n[3].eventType.Value)).toEqual(['ACTIVATED', 'EXPIRED']);
    expect(sandbox.output()).toMatch(new RegExp(`\\[scheduler\\] fired ${grant.id}`));
  });

  it('answers hostile requests with 4xx, never a 5xx', async () => {
    const cases: Array<[string, string, unknown, string | null, number]> = [
      ['POST', '/grants', '{"profile":', ALICE, 400],
      ['POST', '/grants', { profile: 'demo', reason: 'x' }, ALICE, 400],
      ['POST', '/grants', { profile: 'demo', reason: 'needs access now', durationMinutes: 1 }, null, 401],
      ['POST', '/grants', { profile: 'demo', reason: 'needs access now', durationMinutes: 1 }, 'arn:aws:sts::123456789012:assumed-role/Nobody/x', 403],
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
    const created = await call('POST', '/grants', { profile: 'demo', reason: 'e2e: checking a revoke path', durationMinutes: 30 });
    const revoked = await call('POST', `/grants/${created.body.grant.id}/revoke`, { reason: 'done, service healthy' });
    expect(revoked.status).toBe(200);
    expect(revoked.body.grant.status).toBe('REVOKED');
    expect(await rolePolicies()).not.toContain(created.body.grant.policyName);
  });
});
