import { describe, expect, it } from 'vitest';
import {
  buildGrantPolicy,
  iamPolicySize,
  METRICS_PROTECTION_SID,
  policyHash,
  SELF_PROTECTION_SID,
  serializePolicy,
  withExpiry,
} from '../../../functions/domain/policy-builder.js';
import { testProfiles } from '../../support/fakes.js';

const PROTECTED = [
  'arn:aws:dynamodb:us-east-1:123456789012:table/breakglass-*',
  'arn:aws:iam::123456789012:role/breakglass/*',
];

describe('policy builder', () => {
  const profile = testProfiles({
    statements: [
      {
        sid: 'Read',
        actions: ['s3:GetObject'],
        resources: ['arn:aws:s3:::logs/*'],
        conditions: { StringLike: { 's3:prefix': 'incident/*' }, Bool: { 'aws:SecureTransport': 'true' } },
      },
      { actions: ['ecs:UpdateService'], resources: ['arn:aws:ecs:us-east-1:123456789012:service/c/s'] },
    ],
  }).profiles[0]!;
  const guards = { expiresAt: '2026-11-24T11:00:00Z', protectedResources: PROTECTED };

  it('puts the expiry guard on every statement the profile grants', () => {
    const policy = buildGrantPolicy(profile, { ...guards, userId: 'AROAX:alice' });
    for (const s of policy.Statement.filter((s) => s.Effect === 'Allow'))
      expect(s.Condition!.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-11-24T11:00:00Z' });
  });

  it('limits an assumed-role grant to the activating session, keeping the profile conditions', () => {
    const policy = buildGrantPolicy(profile, { ...guards, userId: 'AROAX:alice' });
    expect(policy.Statement[0]!.Condition!.StringLike).toEqual({
      's3:prefix': 'incident/*',
      'aws:userid': 'AROAX:alice',
    });
    expect(policy.Statement[0]!.Condition!.Bool).toEqual({ 'aws:SecureTransport': 'true' });
    expect(policy.Statement[1]!.Condition!.StringLike).toEqual({ 'aws:userid': 'AROAX:alice' });
  });

  it('adds no session guard for an IAM user (the policy is on that user alone)', () => {
    const policy = buildGrantPolicy(profile, guards);
    expect(policy.Statement[1]!.Condition).toEqual({ DateLessThan: { 'aws:CurrentTime': '2026-11-24T11:00:00Z' } });
  });

  it('copies actions and resources from the profile exactly, then closes with the self-protection Deny', () => {
    const policy = buildGrantPolicy(profile, guards);
    expect(policy.Statement.map((s) => [s.Effect, s.Action, s.Resource, s.Sid])).toEqual([
      ['Allow', ['s3:GetObject'], ['arn:aws:s3:::logs/*'], 'Read'],
      ['Allow', ['ecs:UpdateService'], ['arn:aws:ecs:us-east-1:123456789012:service/c/s'], undefined],
      ['Deny', ['cloudwatch:PutMetricData'], ['*'], METRICS_PROTECTION_SID],
      ['Deny', ['*'], PROTECTED, SELF_PROTECTION_SID],
    ]);
  });

  it("denies writing break-glass's metric namespace, bound to the session like the rest, even with no protected ARNs", () => {
    const metrics = (userId?: string) =>
      buildGrantPolicy(profile, { ...guards, protectedResources: [], ...(userId ? { userId } : {}) }).Statement.find(
        (s) => s.Sid === METRICS_PROTECTION_SID,
      );
    expect(metrics('*:bg-1')?.Condition).toEqual({
      StringEquals: { 'cloudwatch:namespace': 'BreakGlass' },
      StringLike: { 'aws:userid': '*:bg-1' },
    });
    expect(metrics()?.Condition).toEqual({ StringEquals: { 'cloudwatch:namespace': 'BreakGlass' } });
  });

  it('binds the self-protection Deny to the grant session when there is one, and to nothing on a user', () => {
    expect(buildGrantPolicy(profile, { ...guards, userId: '*:bg-1' }).Statement.at(-1)!.Condition).toEqual({
      StringLike: { 'aws:userid': '*:bg-1' },
    });
    expect(buildGrantPolicy(profile, guards).Statement.at(-1)).not.toHaveProperty('Condition');
  });

  it('writes the documented shape for a profile role grant (snapshot)', () => {
    const document = serializePolicy(
      buildGrantPolicy(profile, { ...guards, userId: '*:bg-00000000-0000-4000-8000-000000000001' }),
    );
    expect(JSON.parse(document)).toMatchInlineSnapshot(`
      {
        "Statement": [
          {
            "Action": [
              "s3:GetObject",
            ],
            "Condition": {
              "Bool": {
                "aws:SecureTransport": "true",
              },
              "DateLessThan": {
                "aws:CurrentTime": "2026-11-24T11:00:00Z",
              },
              "StringLike": {
                "aws:userid": "*:bg-00000000-0000-4000-8000-000000000001",
                "s3:prefix": "incident/*",
              },
            },
            "Effect": "Allow",
            "Resource": [
              "arn:aws:s3:::logs/*",
            ],
            "Sid": "Read",
          },
          {
            "Action": [
              "ecs:UpdateService",
            ],
            "Condition": {
              "DateLessThan": {
                "aws:CurrentTime": "2026-11-24T11:00:00Z",
              },
              "StringLike": {
                "aws:userid": "*:bg-00000000-0000-4000-8000-000000000001",
              },
            },
            "Effect": "Allow",
            "Resource": [
              "arn:aws:ecs:us-east-1:123456789012:service/c/s",
            ],
          },
          {
            "Action": [
              "cloudwatch:PutMetricData",
            ],
            "Condition": {
              "StringEquals": {
                "cloudwatch:namespace": "BreakGlass",
              },
              "StringLike": {
                "aws:userid": "*:bg-00000000-0000-4000-8000-000000000001",
              },
            },
            "Effect": "Deny",
            "Resource": [
              "*",
            ],
            "Sid": "BreakGlassMetricsProtection",
          },
          {
            "Action": [
              "*",
            ],
            "Condition": {
              "StringLike": {
                "aws:userid": "*:bg-00000000-0000-4000-8000-000000000001",
              },
            },
            "Effect": "Deny",
            "Resource": [
              "arn:aws:dynamodb:us-east-1:123456789012:table/breakglass-*",
              "arn:aws:iam::123456789012:role/breakglass/*",
            ],
            "Sid": "BreakGlassSelfProtection",
          },
        ],
        "Version": "2012-10-17",
      }
    `);
  });

  it('moves only the expiry when a recorded policy is re-attached (withExpiry)', () => {
    const before = serializePolicy(buildGrantPolicy(profile, { ...guards, userId: 'AROAX:alice' }));
    const after = withExpiry(before, '2026-11-24T12:30:00Z');
    expect(after).toBe(
      serializePolicy(
        buildGrantPolicy(profile, { ...guards, expiresAt: '2026-11-24T12:30:00Z', userId: 'AROAX:alice' }),
      ),
    );
    expect(iamPolicySize(after)).toBe(iamPolicySize(before));
    expect(policyHash(after)).toMatch(/^[0-9a-f]{64}$/);
    expect(policyHash(after)).not.toBe(policyHash(before));
  });

  it('does not mutate the profile', () => {
    buildGrantPolicy(profile, { ...guards, userId: 'AROAX:alice' });
    expect(profile.statements[0]!.conditions).toEqual({
      StringLike: { 's3:prefix': 'incident/*' },
      Bool: { 'aws:SecureTransport': 'true' },
    });
  });
});
