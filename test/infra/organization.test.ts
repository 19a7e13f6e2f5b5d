/**
 * `-c principalOrgId=o-…`: the API's resource policy lets only principals of that organization call
 * (a Deny outside it, for callers of the API's own account too) and allows every principal of it (a
 * caller of another account needs the resource policy's Allow besides its own IAM policy); IAM
 * authorization stays on every method.
 */
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { app, type Statement } from './templates.js';

const ORG = 'o-abcd123456';
const policyOf = (template: Template) => {
  const apis = Object.values(template.findResources('AWS::ApiGateway::RestApi'));
  expect(apis).toHaveLength(1);
  return apis[0]!.Properties.Policy.Statement as Array<Statement & { Sid?: string; Principal?: unknown }>;
};
const withOrg = Template.fromStack(app({ principalOrgId: ORG }, { bundle: false }).stateless);
const without = Template.fromStack(app({}, { bundle: false }).stateless);

describe('API resource policy with -c principalOrgId', () => {
  it('denies every principal outside the organization and allows every principal of it', () => {
    const statements = policyOf(withOrg);
    expect(statements.find((s) => s.Sid === 'DenyCallersOutsideTheOrganization')).toEqual({
      Sid: 'DenyCallersOutsideTheOrganization',
      Effect: 'Deny',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringNotEquals: { 'aws:PrincipalOrgID': ORG } },
    });
    expect(statements.find((s) => s.Sid === 'AllowCallersOfTheOrganization')).toEqual({
      Sid: 'AllowCallersOfTheOrganization',
      Effect: 'Allow',
      Principal: { AWS: '*' },
      Action: 'execute-api:Invoke',
      Resource: 'execute-api:/*',
      Condition: { StringEquals: { 'aws:PrincipalOrgID': ORG } },
    });
    // The Identity Center impostor guard stays.
    expect(statements.map((s) => s.Sid)).toContain('DenyIdentityCenterImpostors');
    // No unconditional Allow: every Allow carries a condition.
    for (const s of statements.filter((s) => s.Effect === 'Allow')) expect(s.Condition).toBeDefined();
  });

  it('keeps AWS_IAM on every method', () => {
    const methods = Object.values(withOrg.findResources('AWS::ApiGateway::Method')).filter(
      (m) => m.Properties.HttpMethod !== 'OPTIONS',
    );
    expect(methods.length).toBeGreaterThan(10);
    for (const m of methods) expect(m.Properties.AuthorizationType).toBe('AWS_IAM');
  });

  it('adds no organization statement without the context key', () => {
    const sids = policyOf(without).map((s) => s.Sid);
    expect(sids).not.toContain('DenyCallersOutsideTheOrganization');
    expect(sids).not.toContain('AllowCallersOfTheOrganization');
    expect(JSON.stringify(policyOf(without))).not.toContain('aws:PrincipalOrgID');
  });

  it('refuses something that is not an organization id', () => {
    for (const bad of ['abcd123456', 'o-ABCD123456', 'o-abc', `${ORG}"`])
      expect(() => app({ principalOrgId: bad }, { bundle: false }), bad).toThrow(
        /-c principalOrgId must be an AWS Organizations id/,
      );
  });
});
