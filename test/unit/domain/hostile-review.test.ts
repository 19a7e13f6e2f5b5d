/**
 * Hostile review (wt/review): defects found by attacking the runtime, each written as the secure
 * behaviour it should have. `it.fails` marks a test that currently FAILS its assertion because of
 * the defect (so the suite stays green and the test turns red, i.e. must be flipped to `it`, the
 * day the defect is fixed). Plain `it` tests pin properties that were checked and hold.
 */
import { describe, expect, it } from 'vitest';
import { type ActivationRules, activateGrant, DEFAULT_RULES } from '../../../functions/domain/activate-grant.js';
import { ForbiddenError, NotEligibleError, ProfileConfigError } from '../../../functions/domain/errors.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { parseProfiles } from '../../../functions/domain/profile.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { iamRiskCheck } from '../../../profiles/iam-catalog.js';
import { ACCOUNT, fakePorts, testProfiles } from '../../support/fakes.js';

const PROTECTED = [
  `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/breakglass-*`,
  `arn:aws:iam::${ACCOUNT}:role/breakglass/*`,
];
const rules: ActivationRules = { ...DEFAULT_RULES, protectedResources: PROTECTED };
const settings = { partition: 'aws', accountId: ACCOUNT };
const reason = 'orders API returns 500s, need the logs';
/** The real Identity Center user (role under /aws-reserved/sso.amazonaws.com/, which the session ARN does not show). */
const SSO_ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com`;
/**
 * A role anyone with iam:CreateRole can make at path "/" (or any path) with a name that merely
 * *starts* with AWSReservedSSO_, assumed with a session name of their choosing.
 */
const FAKE_SSO_ALICE = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_Mallory/alice@example.com`;

function roleProfiles() {
  return testProfiles({
    grantTo: 'profileRole',
    eligible: [
      `arn:aws:iam::${ACCOUNT}:role/Responder`,
      `arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`,
    ],
  });
}

class FakeVendor {
  readonly calls: CredentialRequest[] = [];
  async assume(request: CredentialRequest) {
    this.calls.push(request);
    return {
      accessKeyId: 'ASIAFAKE',
      secretAccessKey: 'SECRET',
      sessionToken: 'TOKEN',
      expiration: '2026-11-24T11:00:00Z',
    };
  }
}

describe('DEFECT (HIGH): Identity Center is recognised by role *name* alone (principal.ts personOf, IDENTITY_CENTER_ROLE)', () => {
  // Holds since credentials re-check eligibility (the self-made role is not eligible here); with an eligible pattern as broad as
  // AWSReservedSSO_* only the API resource policy (Deny on role/AWSReservedSSO_* outside /aws-reserved/sso.amazonaws.com/) stops it.
  it("a session of a self-made role named AWSReservedSSO_* must not take an Identity Center user's grant credentials", async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason, durationMinutes: 60 } },
      rules,
    );
    const vendor = new FakeVendor();
    // personOf(FAKE_SSO_ALICE) === grant.person still (role name alone, see principal.ts); without eligibility this would resolve
    // with Alice's profile-role credentials in session bg-<id> (the session her policy is bound to).
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: FAKE_SSO_ALICE },
      }),
    ).rejects.toThrowError(ForbiddenError);
  });

  it.fails("... nor extend it (more time on Alice's access, recorded as if she asked)", async () => {
    const ports = fakePorts();
    const profiles = testProfiles({
      grantTo: 'profileRole',
      maxExtensions: 2,
      maxTotalMinutes: 120,
      eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*`],
    });
    const { grant } = await activateGrant(
      ports,
      profiles,
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason, durationMinutes: 30 } },
      rules,
    );
    await expect(
      extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: { arn: FAKE_SSO_ALICE },
        body: { minutes: 30, reason: 'still investigating the outage' },
      }),
    ).rejects.toThrowError(ForbiddenError);
  });

  it.fails('... nor revoke it (denial of service on the responder mid-incident)', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    await expect(
      revokeGrant(ports, [], { grantId: grant.id, caller: { arn: FAKE_SSO_ALICE }, body: { reason: 'done with it' } }),
    ).rejects.toThrowError(ForbiddenError);
  });

  it('the same name in ANOTHER account is not the same person (personOf drops the account id)', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const vendor = new FakeVendor();
    const elsewhere = 'arn:aws:sts::999999999999:assumed-role/AWSReservedSSO_Sandbox_abc/alice@example.com';
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: elsewhere },
      }),
    ).rejects.toThrowError(ForbiddenError);
  });

  it.fails('eligibility: a path-qualified Identity Center pattern must not match a same-named-prefix role at another path (principalMatchesAny strips the path)', async () => {
    const ports = fakePorts();
    // A role "AWSReservedSSO_OnCall_attacker" created at path "/" by anyone with iam:CreateRole.
    const mallory = `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_attacker/mallory`;
    await expect(
      activateGrant(ports, roleProfiles(), { caller: { arn: mallory }, body: { profile: 'demo', reason } }, rules),
    ).rejects.toThrowError(NotEligibleError);
  });
});

describe('fixed (MEDIUM): the credentials path left no trace of refusals, and announced nothing', () => {
  it("a refused attempt to take someone else's credentials is recorded on the grant", async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const before = ports.store.eventLog.get(grant.id)!.length;
    const bob = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/bob`;
    await expect(
      issueCredentials({ ...ports, vendor: new FakeVendor() }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: bob },
      }),
    ).rejects.toThrowError(ForbiddenError);
    // Today nothing is written: the only trace is API Gateway's access log.
    expect(ports.store.eventLog.get(grant.id)!.length).toBeGreaterThan(before);
  });

  it('issuing credentials is announced (security learns who took them, with the actor, not only the requester)', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const alertsBefore = ports.notifier.alerts.length;
    // (FAKE_SSO_ALICE is now refused by eligibility, see above; the requester's own take is announced.)
    await issueCredentials({ ...ports, vendor: new FakeVendor() }, roleProfiles(), settings, {
      grantId: grant.id,
      caller: { arn: SSO_ALICE },
    });
    expect(ports.notifier.alerts.length).toBeGreaterThan(alertsBefore);
    expect(ports.notifier.alerts.at(-1)!.machine).toMatchObject({
      eventType: 'CREDENTIALS_ISSUED',
      severity: 'INFO',
      actor: SSO_ALICE,
    });
  });
});

describe('fixed (MEDIUM): the DENIED alert rate limit was keyed by caller ARN only, not by profile', () => {
  it('a decoy denial on a harmless profile must not silence a denial on a sensitive one', async () => {
    const ports = fakePorts();
    const profiles = testProfiles({ grantTo: 'profileRole' });
    const intruder = { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Intruder/mallory` };
    // 1. A decoy on "db" (looks like a typo): announced.
    await expect(
      activateGrant(ports, profiles, { caller: intruder, body: { profile: 'db', reason, ticket: 'INC-1' } }, rules),
    ).rejects.toThrowError(NotEligibleError);
    // 2. Seconds later, the real attempt on "demo": recorded, but not announced until the next window.
    await expect(
      activateGrant(ports, profiles, { caller: intruder, body: { profile: 'demo', reason } }, rules),
    ).rejects.toThrowError(NotEligibleError);
    const denied = ports.notifier.alerts
      .filter((a) => a.attributes.eventType === 'DENIED')
      .map((a) => a.attributes.profile);
    expect(denied).toEqual(['db', 'demo']);
  });
});

describe('fixed (HIGH): escalation sets the risk classifier used to leave unclassified (each is refused without an acknowledgement)', () => {
  const risks = iamRiskCheck();
  const load = (actions: string[], resources: string[] = ['*']) =>
    parseProfiles(
      {
        version: 1,
        profiles: [
          {
            name: 'probe',
            description: 'probe',
            owner: 'sec@example.com',
            maxDurationMinutes: 60,
            grantTo: 'profileRole',
            eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
            statements: [{ actions, resources }],
          },
        ],
      },
      'probe',
      risks,
    );

  it.each([
    ['CodeDeploy: deploy an arbitrary bundle to instances (root, instance role)', ['codedeploy:CreateDeployment']],
    [
      'SSM: rewrite a document that associations / maintenance windows already run',
      ['ssm:UpdateDocument', 'ssm:UpdateDocumentDefaultVersion'],
    ],
    ['SSM: change-request runbook execution', ['ssm:StartChangeRequestExecution']],
    [
      'CloudFormation: delete a stack with its stored service role (CDK cfn-exec role), e.g. break-glass itself',
      ['cloudformation:DeleteStack'],
    ],
    [
      "API Gateway: rewrite or delete any REST API, incl. break-glass's (authorizer, integration, stage throttling)",
      ['apigateway:PATCH', 'apigateway:DELETE'],
    ],
    [
      'CodePipeline: add a deploy action run by the pipeline / CloudFormation action role',
      ['codepipeline:UpdatePipeline'],
    ],
    [
      'Lambda: a public (AuthType NONE) function URL on any function',
      ['lambda:CreateFunctionUrlConfig', 'lambda:UpdateFunctionUrlConfig'],
    ],
    [
      'Elastic Beanstalk: deploy a new application version',
      ['elasticbeanstalk:CreateApplicationVersion', 'elasticbeanstalk:UpdateEnvironment'],
    ],
    [
      'EMR Serverless / on EKS: run a job with an execution role',
      ['emr-serverless:StartJobRun', 'emr-containers:StartJobRun'],
    ],
    [
      "SageMaker: a model / endpoint with an execution role and an image of one's choosing",
      ['sagemaker:CreateModel', 'sagemaker:CreateEndpointConfig', 'sagemaker:CreateEndpoint'],
    ],
    ['IAM tags: ABAC escalation (aws:PrincipalTag / aws:ResourceTag conditions)', ['iam:TagRole', 'iam:TagUser']],
    ['Reading stored credentials that outlive the grant', ['secretsmanager:GetSecretValue', 'ssm:GetParameter']],
  ])('%s', (_name, actions) => {
    expect(() => load(actions)).toThrowError(ProfileConfigError);
  });

  it('sts:AssumeRole on one NAMED admin role is classified (its chained session survives revoke and expiry by up to an hour)', () => {
    expect(() => load(['sts:AssumeRole'], [`arn:aws:iam::${ACCOUNT}:role/OrganizationAccountAccessRole`])).toThrowError(
      ProfileConfigError,
    );
  });

  it('scheduler:CreateSchedule + PassRole of a named role is classified (universal targets call any API as that role, after the grant ends)', () => {
    expect(() =>
      load(
        ['scheduler:CreateSchedule', 'iam:PassRole'],
        [`arn:aws:scheduler:us-east-1:${ACCOUNT}:schedule/default/x`, `arn:aws:iam::${ACCOUNT}:role/AdminTasks`],
      ),
    ).toThrowError(ProfileConfigError);
  });

  it('codedeploy:CreateDeployment on "*" is classified as code-execution', () => {
    expect(() => load(['codedeploy:CreateDeployment'])).toThrowError(ProfileConfigError);
  });

  it('cloudformation:DeleteStack on "*" is classified', () => {
    expect(() => load(['cloudformation:DeleteStack'])).toThrowError(ProfileConfigError);
  });

  it('apigateway:PATCH on "*" is classified (it can rewrite break-glass\'s own API)', () => {
    expect(() => load(['apigateway:PATCH'])).toThrowError(ProfileConfigError);
  });
});

describe('checked and holding: slot and role reuse', () => {
  it("a new grant on the same slot gets a different policy name and session; the old grant's policy is gone", async () => {
    const ports = fakePorts();
    const profiles = testProfiles({
      grantTo: 'profileRole',
      maxActiveGrants: 1,
      eligible: [`arn:aws:iam::${ACCOUNT}:role/Responder`],
    });
    const a = (
      await activateGrant(
        ports,
        profiles,
        { caller: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice` }, body: { profile: 'demo', reason } },
        rules,
      )
    ).grant;
    await revokeGrant(ports, [], {
      grantId: a.id,
      caller: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice` },
      body: { reason: 'done with it' },
    });
    const b = (
      await activateGrant(
        ports,
        profiles,
        { caller: { arn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/bob` }, body: { profile: 'demo', reason } },
        rules,
      )
    ).grant;
    expect(b.slot).toBe(a.slot);
    expect(b.targetName).toBe(a.targetName);
    expect(b.policyName).not.toBe(a.policyName);
    expect(b.sessionName).not.toBe(a.sessionName);
    const onRole = [...ports.access.policies.keys()].filter((k) => k.startsWith(`role/${a.targetName}/`));
    expect(onRole).toEqual([`role/${b.targetName}/${b.policyName}`]);
    // Every statement of B's policy is bound to B's session only: A's vended session (bg-<A>) matches none.
    for (const s of JSON.parse(ports.access.policies.get(onRole[0]!)!).Statement)
      expect(s.Condition.StringLike['aws:userid']).toBe(`*:bg-${b.id}`);
  });
});

describe('checked and holding: revoke racing a credentials request', () => {
  it('credentials assumed while the grant is being revoked are withheld, and the grant ends REVOKED', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    // The revoke lands between the credential function's read of the grant and its record.
    const vendor = {
      calls: 0,
      async assume() {
        this.calls++;
        await revokeGrant(ports, [], {
          grantId: grant.id,
          caller: { arn: SSO_ALICE },
          body: { reason: 'done with it' },
        });
        return { accessKeyId: 'ASIARACE', secretAccessKey: 'S', sessionToken: 'T', expiration: '2026-11-24T11:00:00Z' };
      },
    };
    await expect(
      issueCredentials({ ...ports, vendor }, roleProfiles(), settings, {
        grantId: grant.id,
        caller: { arn: SSO_ALICE },
      }),
    ).rejects.toThrowError(/became REVOKED/);
    expect(vendor.calls).toBe(1);
    expect((await ports.store.get(grant.id))!.status).toBe('REVOKED');
    expect(ports.store.eventLog.get(grant.id)!.map((e) => e.type)).not.toContain('CREDENTIALS_ISSUED');
    expect([...ports.access.policies.keys()].filter((k) => k.includes(grant.policyName))).toEqual([]);
  });
});

describe('fixed (LOW): the holder could make a security revoke fail by taking credentials at the same moment', () => {
  it('a security revoke that loses the version race to CREDENTIALS_ISSUED still ends the grant', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(
      ports,
      roleProfiles(),
      { caller: { arn: SSO_ALICE }, body: { profile: 'demo', reason } },
      rules,
    );
    const security = `arn:aws:sts::${ACCOUNT}:assumed-role/Security/sam`;
    // Revoke detaches first; the holder's credentials request lands between its detach and its record.
    const detach = ports.access.detach.bind(ports.access);
    let raced = false;
    let refused = '';
    ports.access.detach = async (...args: Parameters<typeof detach>) => {
      const result = await detach(...args);
      if (!raced) {
        raced = true;
        // The revoke marked the grant ending before it detached: this request is refused, not recorded.
        refused = await issueCredentials({ ...ports, vendor: new FakeVendor() }, roleProfiles(), settings, {
          grantId: grant.id,
          caller: { arn: SSO_ALICE },
        }).then(
          () => 'issued',
          (e: Error) => e.message,
        );
      }
      return result;
    };
    const outcome = await revokeGrant(ports, [`arn:aws:iam::${ACCOUNT}:role/Security`], {
      grantId: grant.id,
      caller: { arn: security },
      body: { reason: 'suspected abuse' },
    }).then(
      () => 'revoked',
      (e: Error) => e.name,
    );
    // Today: ConcurrentUpdateError, and the grant is still ACTIVE (policy detached), so the holder may extend it, which re-attaches.
    expect({ outcome, status: (await ports.store.get(grant.id))!.status }).toEqual({
      outcome: 'revoked',
      status: 'REVOKED',
    });
    expect(refused).toMatch(/is being revoked/);
  });
});
