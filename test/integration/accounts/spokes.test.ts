/**
 * Hub and spokes against the emulator: moto serves several accounts and derives the account from the
 * credentials (the STS AssumeRole answer for a role of another account acts in that account), so the
 * hub's functions reach each spoke through its manager role exactly as in AWS. Every lifecycle step
 * is checked on the spoke's IAM state; a spoke without the profile's roles is a 503 naming the account,
 * recorded and announced, with no policy anywhere.
 */
import {
  DeleteRoleCommand,
  GetRolePolicyCommand,
  type IAMClient,
  ListRolePoliciesCommand,
  PutRolePolicyCommand,
} from '@aws-sdk/client-iam';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { expireGrant } from '../../../functions/domain/expire-grant.js';
import { iamIn } from '../../../sandbox/spokes.js';
import {
  apiEvent,
  parse,
  publishedMessages,
  sessionOf,
  setUpWorld,
  type TestWorld,
  tableItems,
} from '../../support/emulator.js';

type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
const HUB = '123456789012';
// Account ids of this file only (moto's state is shared by the whole run).
const SPOKE_A = '210987654321';
const SPOKE_B = '222233334444';
const MISSING = '555566667777';
const reason = 'payments API failing, reading its incident logs';

let world: TestWorld;
let create: Handler;
let credentials: Handler;
let extend: Handler;
let revoke: Handler;
let killSwitch: Handler;
let listProfiles: Handler;
let spokeA: IAMClient;
let spokeB: IAMClient;
const profile = () => `spk-${world.suffix}`;
const missingProfile = () => `gone-${world.suffix}`;
const role = () => `breakglass-${profile()}-0`;
const ctx = {} as Context;

beforeAll(async () => {
  const endpoint = inject('motoEndpoint');
  world = await setUpWorld(endpoint, {
    profiles: (suffix) => [
      {
        name: `spk-${suffix}`,
        description: 'reads payments incident logs in two spokes',
        owner: 'payments@example.com',
        maxDurationMinutes: 120,
        maxTotalMinutes: 240,
        accounts: [SPOKE_A, SPOKE_B],
        eligible: [`arn:aws:iam::${HUB}:role/Responder-${suffix}`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::payments-logs/*'] }],
      },
      {
        name: `gone-${suffix}`,
        description: 'names an account whose spoke was never deployed',
        owner: 'payments@example.com',
        maxDurationMinutes: 60,
        accounts: [MISSING],
        eligible: [`arn:aws:iam::${HUB}:role/Responder-${suffix}`],
        statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::payments-logs/*'] }],
      },
    ],
  });
  process.env.ACCOUNT_ALIASES = JSON.stringify({ [SPOKE_A]: 'payments-prod' });
  process.env.BREAKGLASS_AWS_TIMEOUT_MS = '30000';
  // The seed deployed every spoke the profiles name: take the MISSING one's profile role away again.
  const missing = await iamIn(endpoint, MISSING);
  await missing.send(new DeleteRoleCommand({ RoleName: `breakglass-${missingProfile()}-0` }));
  spokeA = await iamIn(endpoint, SPOKE_A);
  spokeB = await iamIn(endpoint, SPOKE_B);
  create = (await import('../../../functions/handlers/create-grant.js')).handler as Handler;
  credentials = (await import('../../../functions/handlers/issue-credentials.js')).handler as Handler;
  extend = (await import('../../../functions/handlers/extend-grant.js')).handler as Handler;
  revoke = (await import('../../../functions/handlers/revoke-grant.js')).handler as Handler;
  killSwitch = (await import('../../../functions/handlers/kill-switch.js')).handler as Handler;
  listProfiles = (await import('../../../functions/handlers/list-profiles.js')).handler as Handler;
}, 120_000);

afterAll(() => {
  delete process.env.ACCOUNT_ALIASES;
});

/** The grant policies (`breakglass-<id>`) on a role; the ended-sessions Deny beside them is asserted on its own. */
const policiesIn = async (iam: IAMClient, roleName: string) =>
  ((await iam.send(new ListRolePoliciesCommand({ RoleName: roleName }))).PolicyNames ?? []).filter((n) =>
    n.startsWith('breakglass-'),
  );
const responder = (session: string) => sessionOf(world, world.responderRole, session);
const activate = async (body: Record<string, unknown>, session = 'alice') =>
  create(apiEvent({ identity: await responder(session), body: { reason, ...body } }), ctx);

describe('hub and spokes (emulator, several accounts)', () => {
  it('lists the accounts of each profile, with the alias from the deploy context', async () => {
    const res = await listProfiles({ ...apiEvent({ identity: await responder('alice') }), httpMethod: 'GET' }, ctx);
    const listed = parse(res).profiles.find((p: { name: string }) => p.name === profile());
    expect(listed.accounts).toEqual([{ id: SPOKE_A, alias: 'payments-prod' }, { id: SPOKE_B }]);
    const hubProfile = parse(res).profiles.find((p: { name: string }) => p.name === 'demo');
    expect(hubProfile.accounts).toEqual([{ id: HUB }]);
  });

  it('refuses with 400 a request that names no account of a profile with several, or one it does not grant in', async () => {
    const none = await activate({ profile: profile() });
    expect(none.statusCode).toBe(400);
    expect(parse(none).error.message).toContain(`grants in 2 accounts; name one with "account": ${SPOKE_A}`);
    const foreign = await activate({ profile: profile(), account: '999988887777' });
    expect(foreign.statusCode).toBe(400);
    expect(parse(foreign).error.message).toContain('does not grant in account 999988887777');
    const malformed = await activate({ profile: profile(), account: '12' });
    expect(malformed.statusCode).toBe(400);
    expect(await policiesIn(spokeA, role())).toEqual([]);
  });

  it('activates in the named spoke, vends credentials of the spoke profile role session, extends and revokes there', async () => {
    // Act: activate in spoke A
    const created = await activate({ profile: profile(), account: SPOKE_A, durationMinutes: 30 });
    expect(created.statusCode).toBe(201);
    const grant = parse(created).grant;
    // Assess: the policy is on the profile role in spoke A, and nowhere in spoke B
    expect(grant).toMatchObject({ account: SPOKE_A, accountAlias: 'payments-prod', targetName: role() });
    expect(await policiesIn(spokeA, role())).toEqual([grant.policyName]);
    expect(await policiesIn(spokeB, role())).toEqual([]);
    const items = await tableItems(world, grant.id);
    expect(items.find((i) => i.type === 'ACTIVATED')?.details).toMatchObject({ account: SPOKE_A });
    const alert = (await publishedMessages(world)).find(
      (m) => m.attributes.grantId === grant.id && m.attributes.eventType === 'ACTIVATED',
    );
    expect(alert?.attributes.account).toBe(SPOKE_A);
    expect(alert?.subject).toContain(`in ${SPOKE_A} payments-prod`);
    expect(alert?.message).toContain(`Account:    ${SPOKE_A} (payments-prod)`);

    // Credentials: a session of the spoke's profile role, named after the grant
    const issued = await credentials(
      apiEvent({ identity: await responder('alice'), pathParameters: { id: grant.id } }),
      ctx,
    );
    expect(issued.statusCode).toBe(200);
    const c = parse(issued).credentials;
    const me = await new STSClient({
      endpoint: world.endpoint,
      region: 'us-east-1',
      credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken },
    }).send(new GetCallerIdentityCommand({}));
    expect(me.Account).toBe(SPOKE_A);
    expect(me.Arn).toBe(`arn:aws:sts::${SPOKE_A}:assumed-role/${role()}/bg-${grant.id}`);

    // Extend: the spoke's policy carries the new expiry
    const extended = await extend(
      apiEvent({
        identity: await responder('alice'),
        pathParameters: { id: grant.id },
        body: { minutes: 15, reason: 'still digging through the logs' },
      }),
      ctx,
    );
    expect(extended.statusCode).toBe(200);
    const newExpiry = parse(extended).grant.expiresAt;
    const doc = await spokeA.send(new GetRolePolicyCommand({ RoleName: role(), PolicyName: grant.policyName }));
    expect(decodeURIComponent(doc.PolicyDocument!)).toContain(newExpiry);

    // Revoke: gone from the spoke
    const revoked = await revoke(
      apiEvent({ identity: await responder('alice'), pathParameters: { id: grant.id }, body: { reason: 'done now' } }),
      ctx,
    );
    expect(revoked.statusCode).toBe(200);
    expect(await policiesIn(spokeA, role())).toEqual([]);
    // The session vended above is denied in the spoke until its credentials expire (ended-sessions.ts).
    const names = (await spokeA.send(new ListRolePoliciesCommand({ RoleName: role() }))).PolicyNames ?? [];
    const ended = names.filter((n) => n.startsWith('bg-ended-sessions'));
    expect(ended).toHaveLength(1);
    const deny = await spokeA.send(new GetRolePolicyCommand({ RoleName: role(), PolicyName: ended[0]! }));
    expect(JSON.parse(decodeURIComponent(deny.PolicyDocument!)).Statement).toContainEqual(
      expect.objectContaining({
        Effect: 'Deny',
        Action: ['*'],
        Condition: expect.objectContaining({ StringLike: { 'aws:userid': `*:bg-${grant.id}` } }),
      }),
    );
  });

  it('expires a spoke grant by removing its policy in the spoke', async () => {
    const created = await activate({ profile: profile(), account: SPOKE_B, durationMinutes: 5 }, 'bob');
    expect(created.statusCode).toBe(201);
    const grant = parse(created).grant;
    expect(await policiesIn(spokeB, role())).toEqual([grant.policyName]);
    // Act: the expiry, with the clock past the grant's end (the schedule itself is covered by the sandbox e2e)
    const wiring = await import('../../../functions/handlers/wiring.js');
    const { outcome } = await expireGrant(
      {
        store: wiring.store(),
        access: wiring.access(),
        notifier: wiring.notifier(),
        clock: { now: () => new Date(Date.parse(grant.expiresAt) + 1000) },
        profileRisks: () => [],
        log: console,
      },
      grant.id,
    );
    expect(outcome).toBe('expired');
    expect(await policiesIn(spokeB, role())).toEqual([]);
    expect((await wiring.store().get(grant.id))?.status).toBe('EXPIRED');
  });

  it('revokes spoke grants with the kill switch', async () => {
    const created = await activate({ profile: profile(), account: SPOKE_A, durationMinutes: 30 }, 'carol');
    const grant = parse(created).grant;
    expect(await policiesIn(spokeA, role())).toEqual([grant.policyName]);
    const security = await sessionOf(world, world.securityRole, 'sec');
    const res = await killSwitch(
      {
        ...apiEvent({ identity: security, body: { reason: 'incident: suspected credential leak' } }),
        resource: '/revoke-all',
      },
      ctx,
    );
    expect([200, 207]).toContain(res.statusCode);
    expect(parse(res).results).toContainEqual(expect.objectContaining({ id: grant.id, outcome: 'revoked' }));
    expect(await policiesIn(spokeA, role())).toEqual([]);
  });

  it('answers 503 naming the account and what to deploy when the spoke lacks the profile role; records and announces it', async () => {
    const res = await activate({ profile: missingProfile() }, 'dave');
    expect(res.statusCode).toBe(503);
    const message: string = parse(res).error.message;
    expect(message).toContain(`Spoke account ${MISSING}`);
    expect(message).toMatch(/deploy the break-glass spoke there/);
    expect(message).toMatch(/recorded as FAILED/);
    const id = /Grant ([0-9a-f-]{36})/.exec(message)![1]!;
    const items = await tableItems(world, id);
    expect(items.find((i) => i.pk === `GRANT#${id}` && i.status)?.status).toBe('FAILED');
    expect(items.some((i) => i.type === 'ACTIVATION_FAILED' || i.outcome === 'FAILURE')).toBe(true);
    const announced = (await publishedMessages(world)).filter((m) => m.attributes.grantId === id);
    expect(announced.length).toBeGreaterThan(0);
    expect(announced[0]!.attributes.account).toBe(MISSING);
  });

  it('sweeps each spoke: a policy with the break-glass prefix and no grant is removed in the spoke', async () => {
    const orphan = 'breakglass-00000000-0000-4000-8000-000000000000';
    await spokeB.send(
      new PutRolePolicyCommand({
        RoleName: role(),
        PolicyName: orphan,
        PolicyDocument: JSON.stringify({
          Version: '2012-10-17',
          Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }],
        }),
      }),
    );
    const { createSweepHandler } = await import('../../../functions/handlers/sweep.js');
    const { sweepTargets } = await import('../../../functions/domain/sweep.js');
    const wiring = await import('../../../functions/handlers/wiring.js');
    const targets = sweepTargets(wiring.profiles(), wiring.protectedResources(), wiring.accountDirectory()).filter(
      (t) => t.name === role() || t.name === `breakglass-${missingProfile()}-0`,
    );
    expect(targets.map((t) => t.account).sort()).toEqual([SPOKE_A, SPOKE_B, MISSING].sort());
    const report = await createSweepHandler(
      {
        store: wiring.store(),
        access: wiring.access(),
        scheduler: wiring.scheduler(),
        notifier: wiring.notifier(),
        clock: { now: () => new Date() },
        profileRisks: () => [],
        log: console,
      },
      targets,
      { writeMetrics: () => undefined },
    )().catch((error: { message: string }) => {
      throw new Error(`sweep failed: ${error.message}`);
    });
    expect(report.removed).toContainEqual(expect.objectContaining({ policyName: orphan }));
    expect(await policiesIn(spokeB, role())).toEqual([]);
  });
});
