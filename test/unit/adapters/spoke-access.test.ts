/**
 * The cross-account AccessManager over aws-sdk-client-mock'd STS and IAM: what the emulator cannot
 * produce (moto's AssumeRole succeeds for any role, trust policy or not; it never throttles).
 */
import { IAMClient, NoSuchEntityException, PutRolePolicyCommand } from '@aws-sdk/client-iam';
import { AssumeRoleCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import {
  MANAGER_RENEW_MARGIN_MS,
  MANAGER_SESSION_SECONDS,
  SpokeAccessManager,
} from '../../../functions/adapters/spoke-access.adapter.js';
import { SpokeUnavailableError } from '../../../functions/domain/errors.js';
import { MemoryAccess } from '../../support/fakes.js';

const sts = mockClient(STSClient);
const iam = mockClient(IAMClient);
const HUB = '123456789012';
const SPOKE = '210987654321';
const T0 = Date.parse('2026-11-24T10:00:00Z');
const awsError = (name: string, message = name) =>
  Object.assign(new Error(message), { name, $metadata: { httpStatusCode: 400 } });
const assumed = (expiresAt: number) => ({
  Credentials: {
    AccessKeyId: 'ASIASPOKE',
    SecretAccessKey: 'secret',
    SessionToken: 'token',
    Expiration: new Date(expiresAt),
  },
});

let now = T0;
let hub: MemoryAccess;
let spokes: Map<string, MemoryAccess>;
const manager = (options: { spokeAdapter?: boolean } = {}) =>
  new SpokeAccessManager({
    hubAccount: HUB,
    aliases: { [SPOKE]: 'payments-prod' },
    hub,
    sts: new STSClient({ region: 'us-east-1' }),
    iamConfig: { region: 'us-east-1', maxAttempts: 1 },
    ...(options.spokeAdapter === false
      ? {}
      : {
          spokeAdapter: (account: string) => {
            const access = new MemoryAccess();
            spokes.set(account, access);
            return access;
          },
        }),
    sessionName: 'breakglass-create-grant',
    now: () => now,
  });
const spokeRole = { type: 'role' as const, name: 'breakglass-spk-0', account: SPOKE };

beforeEach(() => {
  sts.reset();
  iam.reset();
  now = T0;
  hub = new MemoryAccess();
  spokes = new Map();
});

describe('SpokeAccessManager', () => {
  it('keeps hub targets (no account, or the hub account) on the hub without any STS call', async () => {
    const access = manager();
    await access.attach({ type: 'role', name: 'r' }, 'p1', '{}');
    await access.attach({ type: 'role', name: 'r', account: HUB }, 'p2', '{}');
    expect([...hub.policies.keys()]).toEqual(['role/r/p1', 'role/r/p2']);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(0);
  });

  it('assumes the spoke manager role for one hour (role chaining limit) and caches it per account for its lifetime', async () => {
    // "Role chaining limits your … AWS API role session to a maximum of one hour"
    // (https://docs.aws.amazon.com/STS/latest/APIReference/API_AssumeRole.html, DurationSeconds)
    expect(MANAGER_SESSION_SECONDS).toBe(3600);
    sts.on(AssumeRoleCommand).callsFake(async () => assumed(now + MANAGER_SESSION_SECONDS * 1000));
    const access = manager();
    // Act: concurrent calls, then one later within the session's life
    await Promise.all([
      access.attach(spokeRole, 'p1', '{}'),
      access.listPolicies(spokeRole, 'breakglass-'),
      access.detach(spokeRole, 'nope'),
    ]);
    now += MANAGER_SESSION_SECONDS * 1000 - MANAGER_RENEW_MARGIN_MS - 1;
    await access.attach(spokeRole, 'p2', '{}');
    // Assess: one AssumeRole, on the manager role of that account, and the policies are in the spoke, not the hub
    const calls = sts.commandCalls(AssumeRoleCommand);
    expect(calls).toHaveLength(1);
    expect(calls[0]!.args[0].input).toEqual({
      RoleArn: `arn:aws:iam::${SPOKE}:role/breakglass/breakglass-spoke-manager`,
      RoleSessionName: 'breakglass-create-grant',
      DurationSeconds: 3600,
    });
    expect([...spokes.get(SPOKE)!.policies.keys()]).toEqual(['role/breakglass-spk-0/p1', 'role/breakglass-spk-0/p2']);
    expect(hub.policies.size).toBe(0);
    // Near its end the session is renewed
    now += 2;
    await access.attach(spokeRole, 'p3', '{}');
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('turns an AssumeRole AccessDenied (no manager role, or one not trusting this hub) into a 503 naming the account and what to deploy, and tries again next time', async () => {
    sts.on(AssumeRoleCommand).rejectsOnce(awsError('AccessDenied', 'not authorized to perform: sts:AssumeRole'));
    const access = manager();
    const error = await access.attach(spokeRole, 'p1', '{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpokeUnavailableError);
    expect((error as SpokeUnavailableError).statusCode).toBe(503);
    expect((error as SpokeUnavailableError).account).toBe(SPOKE);
    expect((error as Error).message).toContain(`Spoke account ${SPOKE} (payments-prod) is not reachable`);
    expect((error as Error).message).toContain('Deploy the break-glass spoke in 210987654321');
    expect((error as Error).message).toContain('the role is missing or does not trust this hub');
    expect(spokes.size).toBe(0);
    // The failure is not cached: the spoke deployed meanwhile is reached on the next call.
    sts.on(AssumeRoleCommand).resolves(assumed(now + 3_600_000));
    await access.attach(spokeRole, 'p1', '{}');
    expect([...spokes.get(SPOKE)!.policies.keys()]).toEqual(['role/breakglass-spk-0/p1']);
  });

  it('turns STS throttling past the retries into a 503 that says so', async () => {
    sts.on(AssumeRoleCommand).rejects(awsError('Throttling', 'Rate exceeded'));
    const error = await manager()
      .listPolicies(spokeRole, 'breakglass-')
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpokeUnavailableError);
    expect((error as Error).message).toContain('STS throttled every attempt');
  });

  it('turns IAM AccessDenied with the manager session into a 503 and forgets the session', async () => {
    sts.on(AssumeRoleCommand).resolves(assumed(now + 3_600_000));
    iam.on(PutRolePolicyCommand).rejects(awsError('AccessDenied', 'not authorized to perform: iam:PutRolePolicy'));
    const access = manager({ spokeAdapter: false });
    const error = await access.attach(spokeRole, 'p1', '{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpokeUnavailableError);
    expect((error as Error).message).toContain(
      'refused to let break-glass put a policy on role breakglass-spk-0 (AccessDenied',
    );
    // The real IAM client was given the manager session's credentials
    const put = iam.commandCalls(PutRolePolicyCommand)[0]!;
    expect(put.args[0].input).toMatchObject({ RoleName: 'breakglass-spk-0', PolicyName: 'p1' });
    await access.attach(spokeRole, 'p1', '{}').catch(() => undefined);
    expect(sts.commandCalls(AssumeRoleCommand)).toHaveLength(2);
  });

  it('names the spoke and the profile role when the role is not deployed there', async () => {
    sts.on(AssumeRoleCommand).resolves(assumed(now + 3_600_000));
    iam
      .on(PutRolePolicyCommand)
      .rejects(new NoSuchEntityException({ message: 'role not found', $metadata: { httpStatusCode: 404 } }));
    const access = manager({ spokeAdapter: false });
    const error = await access.attach(spokeRole, 'p1', '{}').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SpokeUnavailableError);
    expect((error as Error).message).toContain(
      'Spoke account 210987654321 (payments-prod) has no role breakglass-spk-0: deploy the break-glass spoke there',
    );
  });
});
