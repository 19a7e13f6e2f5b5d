import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ProfileConfigError } from '../../../functions/domain/errors.js';
import { acknowledgedRisks, parseProfiles, RISK_CLASSES, type RiskClass } from '../../../functions/domain/profile.js';
import { actionGlob, expandAction, isBroadResource, RISK_RULES } from '../../../functions/domain/risk-classifier.js';
import { loadProfileFile } from '../../../infra/profiles.js';
import { iamDataCatalog, iamRiskCheck, iamRiskClassifier } from '../../../profiles/iam-catalog.js';
import { testProfiles } from '../../support/fakes.js';

const classifier = iamRiskClassifier();
const risks = iamRiskCheck();
const catalog = iamDataCatalog();
const ACK = 'needed to recover the payments service in an outage';

const base = {
  name: 'p1',
  description: 'd',
  owner: 'team@example.com',
  maxDurationMinutes: 60,
  eligible: ['arn:aws:iam::123456789012:role/Responder'],
};
type Statement = { effect?: string; actions: string[]; resources: string[] };
const file = (statements: Statement[], acks?: Record<string, string>) => ({
  version: 1,
  profiles: [{ ...base, statements, ...(acks ? { acknowledgedRisks: acks } : {}) }],
});
/** The error message of parsing with the classifier, or undefined when the file is valid. */
function problems(input: unknown): string | undefined {
  try {
    parseProfiles(input, 'test', risks);
    return undefined;
  } catch (error) {
    expect(error).toBeInstanceOf(ProfileConfigError);
    return (error as Error).message;
  }
}

// One action set per class, and the concrete actions the refusal must name.
const perClass: Record<RiskClass, { statement: Statement; names: string[] }> = {
  'credential-creation': {
    statement: { actions: ['iam:UpdateAccessKey'], resources: ['arn:aws:iam::123456789012:user/ci'] },
    names: ['iam:UpdateAccessKey'],
  },
  'permissions-management': {
    statement: { actions: ['iam:DeleteRolePermissionsBoundary'], resources: ['arn:aws:iam::123456789012:role/app'] },
    names: ['iam:DeleteRolePermissionsBoundary'],
  },
  'role-passing': {
    statement: { actions: ['iam:PassRole'], resources: ['arn:aws:iam::123456789012:role/*'] },
    names: ['iam:PassRole'],
  },
  'resource-policy-write': {
    statement: { actions: ['s3:PutBucketPolicy'], resources: ['arn:aws:s3:::incident-logs'] },
    names: ['s3:PutBucketPolicy'],
  },
  'code-execution': {
    statement: { actions: ['ssm:SendCommand'], resources: ['arn:aws:ec2:us-east-1:123456789012:instance/i-0abc'] },
    names: ['ssm:SendCommand'],
  },
  'organization-identity': {
    statement: { actions: ['sso:CreateAccountAssignment'], resources: ['*'] },
    names: ['sso:CreateAccountAssignment'],
  },
  'audit-tampering': {
    statement: {
      actions: ['cloudtrail:StopLogging'],
      resources: ['arn:aws:cloudtrail:us-east-1:123456789012:trail/main'],
    },
    names: ['cloudtrail:StopLogging'],
  },
  'credential-read': {
    statement: { actions: ['secretsmanager:GetSecretValue', 'ssm:GetParameter*', 'kms:Decrypt'], resources: ['*'] },
    names: ['secretsmanager:GetSecretValue', 'ssm:GetParametersByPath', 'kms:Decrypt'],
  },
};

describe('profile risk classes', () => {
  it('has a test case for every class', () =>
    expect(Object.keys(perClass).sort()).toEqual(Object.keys(RISK_CLASSES).sort()));

  for (const [riskClass, { statement, names }] of Object.entries(perClass)) {
    it(`refuses ${riskClass} unacknowledged, naming the class and every action, and accepts it acknowledged`, () => {
      // Prepare / Act
      const refused = problems(file([statement]));
      // Assess
      expect(refused).toContain(`risk class "${riskClass}" is not acknowledged`);
      for (const name of names) expect(refused).toContain(name);
      expect(refused).toContain(`"acknowledgedRisks": {"${riskClass}"`);
      expect(problems(file([statement], { [riskClass]: ACK }))).toBeUndefined();
    });
  }

  it('lists every unacknowledged class and action of a profile at once', () => {
    const message = problems(file([perClass['code-execution'].statement, perClass['audit-tampering'].statement]));
    expect(message).toMatch(/"code-execution".*ssm:SendCommand/);
    expect(message).toMatch(/"audit-tampering".*cloudtrail:StopLogging/);
  });

  it('refuses a stale acknowledgement: a class no Allow statement reaches', () =>
    expect(
      problems(file([{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }], { 'code-execution': ACK })),
    ).toMatch(/acknowledgedRisks names "code-execution", but no Allow statement reaches that class/));

  it('refuses a justification under 20 characters, even without a classifier (cold start)', () => {
    const input = file([perClass['code-execution'].statement], { 'code-execution': 'needed it' });
    expect(() => parseProfiles(input)).toThrowError(
      /acknowledgedRisks\.code-execution: say why the profile needs this risk, in at least 20 characters/,
    );
    expect(problems(input)).toMatch(/at least 20 characters/);
  });

  it('counts a justification padded with spaces by its trimmed length', () =>
    expect(() =>
      parseProfiles(file([perClass['code-execution'].statement], { 'code-execution': `${' '.repeat(20)}short` })),
    ).toThrowError(/at least 20/));

  it('refuses an unknown class name, listing the classes, even without a classifier', () =>
    expect(() => parseProfiles(file([perClass['code-execution'].statement], { 'code-exec': ACK }))).toThrowError(
      /acknowledgedRisks\.code-exec: not a risk class; the classes are credential-creation, .*audit-tampering/,
    ));

  it('without a classifier (cold start) checks the shape only: an unacknowledged risk passes', () =>
    expect(parseProfiles(file([perClass['code-execution'].statement])).profiles).toHaveLength(1));

  it('ignores Deny statements: they take away, never grant', () =>
    expect(
      problems(
        file([
          { effect: 'Deny', actions: ['lambda:*', 'cloudtrail:*'], resources: ['*'] },
          { actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] },
        ]),
      ),
    ).toBeUndefined());

  it('refuses an action no IAM data knows, since its risk cannot be judged', () =>
    expect(problems(file([{ actions: ['s3:GetObjekt', 'nosuchservice:Get'], resources: ['*'] }]))).toMatch(
      /no known IAM action matches "s3:GetObjekt", "nosuchservice:Get"/,
    ));

  it('still refuses "*", iam:* and the persistence actions when every class they reach is acknowledged', () => {
    const everything = Object.fromEntries(Object.keys(RISK_CLASSES).map((c) => [c, ACK]));
    for (const actions of [['*'], ['iam:*'], ['iam:CreateAccessKey'], ['iam:Attach*']]) {
      const message = problems(file([{ actions, resources: ['*'] }], everything)) ?? '';
      expect(message, actions.join()).toMatch(/over-broad/);
    }
  });

  it('accepts the shipped sample and the test fixtures with the classifier', () => {
    const sample = parseProfiles(
      JSON.parse(readFileSync('config/profiles.json', 'utf8')),
      'config/profiles.json',
      risks,
    );
    expect(sample.profiles.map((p) => p.name)).toEqual(['demo', 'prod-db-admin', 'drill', 'spoke-logs']);
    const fixtures = testProfiles();
    expect(problems({ version: 1, profiles: fixtures.profiles })).toBeUndefined();
  });

  it('returns a profile’s acknowledged classes with their reasons, in class order, for display', () => {
    const input = file([perClass['audit-tampering'].statement, perClass['code-execution'].statement], {
      'audit-tampering': ACK,
      'code-execution': `  ${ACK}  `,
    });
    const [profile] = parseProfiles(input, 'test', risks).profiles;
    expect(acknowledgedRisks(profile!)).toEqual([
      { riskClass: 'code-execution', justification: ACK },
      { riskClass: 'audit-tampering', justification: ACK },
    ]);
    expect(acknowledgedRisks(parseProfiles(file([perClass['code-execution'].statement])).profiles[0]!)).toEqual([]);
  });
});

describe('wildcard expansion against the IAM action data', () => {
  const classesOf = (statement: Statement) => {
    const { findings } = classifier.classify(statement);
    return findings;
  };

  it('expands iam:Put* to the Put actions of IAM, boundaries and policies alike', () => {
    const actions = expandAction(catalog, 'iam:Put*')!.actions.map((a) => a.name);
    expect(actions).toEqual(
      expect.arrayContaining([
        'PutRolePolicy',
        'PutUserPolicy',
        'PutRolePermissionsBoundary',
        'PutUserPermissionsBoundary',
      ]),
    );
    expect(actions.every((a) => a.startsWith('Put'))).toBe(true);
    expect(classesOf({ actions: ['iam:Put*'], resources: ['*'] }).map((f) => f.action)).toContain(
      'iam:PutRolePermissionsBoundary',
    );
  });

  it('expands s3:*Policy (a wildcard in front) to the policy writers, and classes them resource-policy-write', () => {
    const findings = classesOf({ actions: ['s3:*Policy'], resources: ['arn:aws:s3:::logs'] });
    expect(findings.map((f) => f.action)).toEqual(
      expect.arrayContaining(['s3:PutBucketPolicy', 's3:DeleteBucketPolicy', 's3:PutAccessPointPolicy']),
    );
    expect(new Set(findings.map((f) => f.riskClass))).toEqual(new Set(['resource-policy-write']));
    // s3:GetBucketPolicy also ends in Policy but only reads.
    expect(findings.map((f) => f.action)).not.toContain('s3:GetBucketPolicy');
    expect(expandAction(catalog, 's3:*Policy')!.actions.map((a) => a.name)).toContain('GetBucketPolicy');
  });

  it('matches ? as exactly one character, case-insensitively', () => {
    expect(actionGlob('PassRol?').test('PassRole')).toBe(true);
    expect(actionGlob('PassRol?').test('PassRoles')).toBe(false);
    expect(actionGlob('P?ssRole').test('pAsSrOlE')).toBe(true);
    expect(classesOf({ actions: ['IAM:Pass?ole'], resources: ['*'] })).toEqual([
      { action: 'iam:PassRole', pattern: 'IAM:Pass?ole', riskClass: 'role-passing' },
    ]);
    expect(problems(file([{ actions: ['cloudtrail:StopLoggin?'], resources: ['*'] }]))).toMatch(
      /"audit-tampering".*"cloudtrail:StopLoggin\?" allows cloudtrail:StopLogging/,
    );
  });

  it('does not let a wildcard hide a risky action among harmless ones: lambda:* on function:* reaches code execution', () => {
    const message = problems(
      file([{ actions: ['lambda:*'], resources: ['arn:aws:lambda:us-east-1:123456789012:function:*'] }]),
    );
    expect(message).toMatch(/"code-execution".*lambda:UpdateFunctionCode/);
    expect(message).toMatch(/"code-execution".*lambda:UpdateFunctionConfiguration/);
  });

  it('leaves everyday emergency actions unclassed: scaling, redeploying, restarting', () =>
    expect(
      classesOf({
        actions: [
          'autoscaling:UpdateAutoScalingGroup',
          'autoscaling:SetDesiredCapacity',
          'ecs:UpdateService',
          'ec2:RebootInstances',
          'rds:RebootDBInstance',
          'lambda:PutProvisionedConcurrencyConfig',
        ],
        resources: ['*'],
      }),
    ).toEqual([]));

  it('classes read-only wildcards as no risk', () =>
    expect(
      classesOf({ actions: ['iam:Get*', 'iam:List*', 's3:Get*', 'organizations:Describe*'], resources: ['*'] }),
    ).toEqual([]));

  it('names only actions the IAM data knows in its rules (a typo there would silently classify nothing)', () => {
    for (const rule of RISK_RULES) {
      for (const glob of rule.actions ?? [])
        expect(expandAction(catalog, glob)?.actions.length ?? 0, glob).toBeGreaterThan(0);
      for (const service of rule.writesOf ?? []) expect(catalog.actions(service), service).toBeDefined();
    }
  });

  it('takes "Permissions management" from the data, for actions no rule names', () => {
    // ec2:ModifySnapshotAttribute shares a snapshot: the data calls it Permissions management.
    expect(classesOf({ actions: ['ec2:ModifySnapshotAttribute'], resources: ['*'] })[0]?.riskClass).toBe(
      'resource-policy-write',
    );
    expect(classesOf({ actions: ['iam:DeleteUserPermissionsBoundary'], resources: ['*'] })[0]?.riskClass).toBe(
      'permissions-management',
    );
  });
});

describe('how resources count', () => {
  it('treats wildcards in an entity name as broad, and wildcards below a named entity as not', () => {
    for (const broad of [
      '*',
      'arn:aws:iam::123456789012:role/*',
      'arn:aws:iam::123456789012:role/app/*',
      'arn:aws:s3:::logs-*',
      'arn:aws:dynamodb:us-east-1:123456789012:table/*',
      'arn:aws:lambda:us-east-1:123456789012:function:*',
      'arn:aws:sns:us-east-1:123456789012:*',
      'arn:aws:dynamodb:us-east-1:123456789012:table/BreakGlassStateful-TableCD117FA1-X',
    ]) {
      expect(isBroadResource(broad), broad).toBe(true);
    }
    for (const named of [
      'arn:aws:iam::123456789012:role/Deploy',
      'arn:aws:s3:::logs/*',
      'arn:aws:dynamodb:us-east-1:123456789012:table/orders/index/*',
      'arn:aws:lambda:*:123456789012:function:orders',
    ]) {
      expect(isBroadResource(named), named).toBe(false);
    }
  });

  it('lets a profile pass a role it names, but not any role; assuming even a named role is role-passing (the chained session survives revoke)', () => {
    expect(
      problems(file([{ actions: ['iam:PassRole'], resources: ['arn:aws:iam::123456789012:role/Deploy'] }])),
    ).toBeUndefined();
    expect(
      problems(file([{ actions: ['sts:AssumeRole'], resources: ['arn:aws:iam::123456789012:role/Deploy'] }])),
    ).toMatch(/"role-passing".*sts:AssumeRole/);
    expect(
      problems(file([{ actions: ['sts:AssumeRole'], resources: ['arn:aws:iam::123456789012:role/Deploy*'] }])),
    ).toMatch(/"role-passing"/);
  });

  it('reads stored secrets only on broad resources as credential-read (a named secret is a reviewable choice)', () => {
    expect(
      problems(
        file([
          {
            actions: ['secretsmanager:GetSecretValue'],
            resources: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:orders-db-AbCdEf'],
          },
        ]),
      ),
    ).toBeUndefined();
    expect(
      problems(
        file([
          {
            actions: ['secretsmanager:GetSecretValue'],
            resources: ['arn:aws:secretsmanager:us-east-1:123456789012:secret:*'],
          },
        ]),
      ),
    ).toMatch(/"credential-read"/);
  });

  it('classes DynamoDB writes on any table (the grants table among them) as audit tampering, but not on a named table', () => {
    expect(
      problems(
        file([{ actions: ['dynamodb:DeleteItem'], resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/*'] }]),
      ),
    ).toMatch(/"audit-tampering".*dynamodb:DeleteItem/);
    expect(
      problems(
        file([
          {
            actions: ['dynamodb:UpdateItem'],
            resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/BreakGlassStateful-Table1234'],
          },
        ]),
      ),
    ).toMatch(/"audit-tampering"/);
    expect(
      problems(
        file([
          {
            actions: ['dynamodb:DeleteItem', 'dynamodb:UpdateItem'],
            resources: ['arn:aws:dynamodb:us-east-1:123456789012:table/orders'],
          },
        ]),
      ),
    ).toBeUndefined();
  });

  it('classes code execution on a named function all the same: its role is not the profile’s', () =>
    expect(
      problems(
        file([
          {
            actions: ['lambda:UpdateFunctionCode'],
            resources: ['arn:aws:lambda:us-east-1:123456789012:function:orders'],
          },
        ]),
      ),
    ).toMatch(/"code-execution"/));
});

describe('at synth', () => {
  it('loadProfileFile classifies, so cdk synth refuses an unacknowledged risk and accepts it acknowledged', () => {
    // Prepare
    const dir = mkdtempSync(join(tmpdir(), 'profiles-synth-'));
    const path = (name: string, acks?: Record<string, string>) => {
      const p = join(dir, name);
      writeFileSync(p, JSON.stringify(file([perClass['role-passing'].statement], acks)));
      return p;
    };
    // Act / Assess
    expect(() => loadProfileFile(path('bare.json'))).toThrowError(
      /risk class "role-passing" is not acknowledged.*iam:PassRole/,
    );
    expect(
      loadProfileFile(path('acked.json', { 'role-passing': ACK })).profiles.profiles[0]!.acknowledgedRisks,
    ).toEqual({ 'role-passing': ACK });
  });
});

describe('docs/security.md', () => {
  it('documents every risk class and no other', () => {
    const doc = readFileSync('docs/security.md', 'utf8');
    const start = doc.indexOf('\n## Escalation risks\n');
    expect(start).toBeGreaterThan(0);
    const section = doc.slice(start, doc.indexOf('\n## ', start + 1));
    const documented = [...section.matchAll(/^\| `([a-z-]+)` \|/gm)].map((m) => m[1]).sort();
    expect(documented).toEqual(Object.keys(RISK_CLASSES).sort());
  });
});
