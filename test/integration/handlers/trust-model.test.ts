/**
 * The trust model against the emulator: an Identity Center caller activates a profile-role
 * profile, takes credentials, and those credentials are exactly the session the attached policy
 * names; 50 concurrent activations of one profile all succeed with no IAM read and one IAM write
 * each. moto does not evaluate policy conditions, so the written policies are evaluated with a
 * policy simulator (@cloud-copilot/iam-simulate) for the principal and context of each case.
 */

import { GetRoleCommand } from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { runSimulation } from '@cloud-copilot/iam-simulate';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type CallCounter, startCountingProxy } from '../../../bench/counting-proxy.js';
import { ENV } from '../../../functions/config/env.js';
import { arnMatches } from '../../../functions/domain/principal.js';
import { SSO_ROLE } from '../../../sandbox/seed.js';
import {
  apiEvent,
  inlinePolicies,
  parse,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
let world: TestWorld;
let proxy: CallCounter;
let create: Handler;
let credentials: Handler;
let extend: Handler;
const ACCOUNT = '123456789012';
const profileName = () => `pr-${world.suffix}`;
const ssoSession = (user: string) => ({
  userArn: `arn:aws:sts::${ACCOUNT}:assumed-role/${SSO_ROLE}/${user}`,
  caller: `AROASSOEXAMPLE0000001:${user}`,
});
const reason = 'checkout failing, need the incident logs';

beforeAll(async () => {
  // Every AWS call of the handlers goes through a counting proxy (the emulator itself serializes DynamoDB:
  // sandbox/moto-server.py).
  proxy = await startCountingProxy(inject('motoEndpoint'));
  world = await setUpWorld(proxy.endpoint, {
    roles: (suffix) => [`Shared-${suffix}`],
    profiles: (suffix) => [
      {
        name: `pr-${suffix}`,
        description: 'reads incident logs through its profile roles',
        owner: 'platform@example.com',
        maxDurationMinutes: 120,
        maxTotalMinutes: 240,
        maxActiveGrants: 60,
        eligible: [
          `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`,
          `arn:aws:iam::${ACCOUNT}:role/Shared-${suffix}`,
        ],
        statements: [{ sid: 'ReadLogs', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::incident-logs/*'] }],
      },
    ],
  });
  process.env[ENV.awsTimeoutMs] = '30000';
  process.env[ENV.maxActivePerPrincipal] = '3';
  create = (await import('../../../functions/handlers/create-grant.js')).handler as Handler;
  credentials = (await import('../../../functions/handlers/issue-credentials.js')).handler as Handler;
  extend = (await import('../../../functions/handlers/extend-grant.js')).handler as Handler;
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

/** The decision the simulator reaches for one request. */
async function decide(
  principal: string,
  userId: string,
  policies: Array<{ name: string; policy: unknown }>,
  action: string,
  resource: string,
): Promise<string> {
  const result = await runSimulation(
    {
      request: {
        principal,
        action,
        resource: { resource, accountId: ACCOUNT },
        contextVariables: { 'aws:userid': userId, 'aws:CurrentTime': new Date().toISOString() },
      },
      identityPolicies: policies,
      serviceControlPolicies: [],
      resourceControlPolicies: [],
    },
    {},
  );
  if (result.resultType === 'error') throw new Error(JSON.stringify(result.errors));
  return (result as { overallResult: string }).overallResult;
}

describe('profile roles and vended credentials (emulator)', () => {
  it('gives an Identity Center caller credentials whose identity is exactly the session the attached policy names', async () => {
    // Prepare: activate as an Identity Center user
    const alice = ssoSession('alice@example.com');
    const created = await create(
      apiEvent({ identity: alice, body: { profile: profileName(), reason, durationMinutes: 30 } }),
      {} as Context,
    );
    expect(created.statusCode).toBe(201);
    const grant = parse(created).grant;
    expect(grant).toMatchObject({
      status: 'ACTIVE',
      grantTo: 'profileRole',
      person: `sso:${ACCOUNT}:alice@example.com`,
      sessionName: `bg-${grant.id}`,
      targetType: 'role',
    });
    const policies = await inlinePolicies(world, { role: grant.targetName });
    const policy = policies[grant.policyName]!;
    const boundTo = policy.Statement[0]!.Condition.StringLike['aws:userid'];
    expect(boundTo).toBe(`*:bg-${grant.id}`);
    // Self-protection closes the policy.
    expect(policy.Statement.at(-1)).toMatchObject({ Sid: 'BreakGlassSelfProtection', Effect: 'Deny', Action: ['*'] });
    expect(policy.Statement.at(-1)!.Resource).toEqual(
      expect.arrayContaining([world.tableArn, `arn:aws:iam::${ACCOUNT}:role/breakglass/*`]),
    );

    // Act: the same person takes credentials
    const issued = await credentials(apiEvent({ identity: alice, pathParameters: { id: grant.id } }), {} as Context);
    expect(issued.statusCode).toBe(200);
    const { credentials: creds, grant: after } = parse(issued);
    expect(Object.keys(creds).sort()).toEqual(['accessKeyId', 'expiration', 'secretAccessKey', 'sessionToken']);
    expect(after.credentialsIssued).toBe(1);

    // Assess: who those credentials are, according to STS
    const sts = new STSClient({
      endpoint: inject('motoEndpoint'),
      region: 'us-east-1',
      credentials: {
        accessKeyId: creds.accessKeyId,
        secretAccessKey: creds.secretAccessKey,
        sessionToken: creds.sessionToken,
      },
    });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    const { Role } = await world.iam.send(new GetRoleCommand({ RoleName: grant.targetName }));
    expect(identity.Arn).toBe(`arn:aws:sts::${ACCOUNT}:assumed-role/${grant.targetName}/bg-${grant.id}`);
    expect(identity.UserId).toBe(`${Role!.RoleId}:bg-${grant.id}`);
    expect(Role!.Path).toBe('/breakglass/profile/');
    expect(arnMatches(boundTo, identity.UserId!)).toBe(true);

    // The written policy, evaluated: that session may read the logs and nothing of break-glass's own.
    const onRole = Object.entries(policies).map(([name, p]) => ({ name, policy: p }));
    expect(
      await decide(identity.Arn!, identity.UserId!, onRole, 's3:GetObject', 'arn:aws:s3:::incident-logs/today.log'),
    ).toBe('Allowed');
    const overbroad = {
      name: 'mistake',
      policy: { Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] },
    };
    expect(
      await decide(identity.Arn!, identity.UserId!, [...onRole, overbroad], 'dynamodb:DeleteItem', world.tableArn),
    ).toBe('ExplicitlyDenied');
    expect(
      await decide(
        identity.Arn!,
        identity.UserId!,
        [...onRole, overbroad],
        'iam:PutRolePolicy',
        `arn:aws:iam::${ACCOUNT}:role/breakglass/profile/${grant.targetName}`,
      ),
    ).toBe('ExplicitlyDenied');
    // Another session of the same role (another grant's, or any other name) gets nothing from this grant's policy.
    expect(
      await decide(
        `arn:aws:sts::${ACCOUNT}:assumed-role/${grant.targetName}/bg-other`,
        `${Role!.RoleId}:bg-00000000-0000-4000-8000-000000000000`,
        [{ name: grant.policyName, policy }],
        's3:GetObject',
        'arn:aws:s3:::incident-logs/today.log',
      ),
    ).toBe('ImplicitlyDenied');
    // The same session name chosen by someone else, on a role they can assume: that role carries none of it.
    const shared = await sessionOf(world, `Shared-${world.suffix}`, `bg-${grant.id}`);
    const sharedPolicies = Object.entries(await inlinePolicies(world, { role: `Shared-${world.suffix}` })).map(
      ([name, p]) => ({ name, policy: p }),
    );
    expect(
      await decide(
        shared.userArn,
        shared.caller,
        sharedPolicies,
        's3:GetObject',
        'arn:aws:s3:::incident-logs/today.log',
      ),
    ).toBe('ImplicitlyDenied');

    // The audit trail has the key id and expiry, never the secret or the token.
    const items = JSON.stringify(await tableItems(world, grant.id));
    expect(items).toContain('CREDENTIALS_ISSUED');
    expect(items).toContain(creds.accessKeyId);
    expect(items).not.toContain(creds.secretAccessKey);
    expect(items).not.toContain(creds.sessionToken);
  }, 60_000);

  it('refuses credentials to another Identity Center user, and to a shared-role session named like the requester', async () => {
    const carol = ssoSession('carol@example.com');
    const grant = parse(
      await create(apiEvent({ identity: carol, body: { profile: profileName(), reason } }), {} as Context),
    ).grant;
    const other = await credentials(
      apiEvent({ identity: ssoSession('dave@example.com'), pathParameters: { id: grant.id } }),
      {} as Context,
    );
    expect(other.statusCode).toBe(403);
    const lookalike = await credentials(
      apiEvent({
        identity: await sessionOf(world, `Shared-${world.suffix}`, 'carol@example.com'),
        pathParameters: { id: grant.id },
      }),
      {} as Context,
    );
    expect(lookalike.statusCode).toBe(403);
    expect(parse(lookalike).error.message).toMatch(/Only the requester/);
  }, 60_000);

  it('extends by re-attaching the recorded policy with only the expiry moved', async () => {
    const erin = ssoSession('erin@example.com');
    const grant = parse(
      await create(
        apiEvent({ identity: erin, body: { profile: profileName(), reason, durationMinutes: 30 } }),
        {} as Context,
      ),
    ).grant;
    const res = await extend(
      apiEvent({
        identity: erin,
        pathParameters: { id: grant.id },
        body: { minutes: 15, reason: 'the failover is still running' },
      }),
      {} as Context,
    );
    expect(res.statusCode).toBe(200);
    const extended = parse(res).grant;
    const attached = (await inlinePolicies(world, { role: grant.targetName }))[grant.policyName]!;
    expect(JSON.stringify(attached)).toBe(grant.policyDocument.replaceAll(grant.expiresAt, extended.expiresAt));
    expect(attached.Statement.at(-1)!.Sid).toBe('BreakGlassSelfProtection');
  }, 60_000);

  it('activates 50 grants of one profile concurrently: all ACTIVE, no IAM read, exactly one IAM write each', async () => {
    // Prepare
    const people = Array.from({ length: 50 }, (_, i) => ssoSession(`load${i}@example.com`));
    proxy.reset();
    // Act
    const responses = await Promise.all(
      people.map((identity) =>
        create(apiEvent({ identity, body: { profile: profileName(), reason, durationMinutes: 20 } }), {} as Context),
      ),
    );
    // Assess
    expect(responses.filter((r) => r.statusCode !== 201).map((r) => r.body)).toEqual([]);
    const grants = responses.map((r) => parse(r).grant);
    expect(new Set(grants.map((g) => g.slot)).size).toBe(50);
    const iam = [...proxy.counts.entries()].filter(([action]) => action.startsWith('iam:'));
    expect(Object.fromEntries(iam)).toEqual({ 'iam:PutRolePolicy': 50 });
    // Each policy is on the role its slot maps to, and no role is over IAM's 10,240 characters.
    const roles = new Set(grants.map((g) => g.targetName));
    let seen = 0;
    for (const role of roles) {
      const policies = await inlinePolicies(world, { role });
      const size = Object.values(policies).reduce((n, p) => n + JSON.stringify(p).length, 0);
      expect(size, role).toBeLessThanOrEqual(10_240);
      seen += grants.filter((g) => g.targetName === role && policies[g.policyName]).length;
    }
    expect(seen).toBe(50);
  }, 300_000);
});
