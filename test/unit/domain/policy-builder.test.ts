import { describe, expect, it } from 'vitest';
import { buildGrantPolicy } from '../../../functions/domain/policy-builder.js';
import { testProfiles } from '../../support/fakes.js';

describe('policy builder', () => {
  const profile = testProfiles({
    statements: [
      { sid: 'Read', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::logs/*'], conditions: { StringLike: { 's3:prefix': 'incident/*' }, Bool: { 'aws:SecureTransport': 'true' } } },
      { actions: ['ecs:UpdateService'], resources: ['arn:aws:ecs:us-east-1:123456789012:service/c/s'] },
    ],
  }).profiles[0]!;

  it('puts the expiry guard on every statement', () => {
    const policy = buildGrantPolicy(profile, { expiresAt: '2026-11-24T11:00:00Z', userId: 'AROAX:alice' });
    for (const s of policy.Statement) expect(s.Condition.DateLessThan).toEqual({ 'aws:CurrentTime': '2026-11-24T11:00:00Z' });
  });

  it('limits an assumed-role grant to the activating session, keeping the profile conditions', () => {
    const policy = buildGrantPolicy(profile, { expiresAt: '2026-11-24T11:00:00Z', userId: 'AROAX:alice' });
    expect(policy.Statement[0]!.Condition.StringLike).toEqual({ 's3:prefix': 'incident/*', 'aws:userid': 'AROAX:alice' });
    expect(policy.Statement[0]!.Condition.Bool).toEqual({ 'aws:SecureTransport': 'true' });
    expect(policy.Statement[1]!.Condition.StringLike).toEqual({ 'aws:userid': 'AROAX:alice' });
  });

  it('adds no session guard for an IAM user (the policy is on that user alone)', () => {
    const policy = buildGrantPolicy(profile, { expiresAt: '2026-11-24T11:00:00Z' });
    expect(policy.Statement[1]!.Condition).toEqual({ DateLessThan: { 'aws:CurrentTime': '2026-11-24T11:00:00Z' } });
  });

  it('copies actions and resources from the profile exactly', () => {
    const policy = buildGrantPolicy(profile, { expiresAt: '2026-11-24T11:00:00Z' });
    expect(policy.Statement.map((s) => [s.Effect, s.Action, s.Resource, s.Sid])).toEqual([
      ['Allow', ['s3:GetObject'], ['arn:aws:s3:::logs/*'], 'Read'],
      ['Allow', ['ecs:UpdateService'], ['arn:aws:ecs:us-east-1:123456789012:service/c/s'], undefined],
    ]);
  });

  it('does not mutate the profile', () => {
    buildGrantPolicy(profile, { expiresAt: '2026-11-24T11:00:00Z', userId: 'AROAX:alice' });
    expect(profile.statements[0]!.conditions).toEqual({ StringLike: { 's3:prefix': 'incident/*' }, Bool: { 'aws:SecureTransport': 'true' } });
  });
});
