import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ProfileConfigError } from '../../../functions/domain/errors.js';
import { parseProfiles } from '../../../functions/domain/profile.js';

const base = {
  name: 'p1',
  description: 'd',
  owner: 'team@example.com',
  maxDurationMinutes: 60,
  eligible: ['arn:aws:iam::123456789012:role/Responder'],
  statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::b/*'] }],
};
const file = (profile: Record<string, unknown>) => ({ version: 1, profiles: [{ ...base, ...profile }] });
const rejects = (profile: Record<string, unknown>, message: RegExp) =>
  expect(() => parseProfiles(file(profile))).toThrowError(message);

describe('profiles', () => {
  it('accepts the shipped profile file', () => {
    const set = parseProfiles(JSON.parse(readFileSync('config/profiles.json', 'utf8')));
    expect(set.profiles.map((p) => p.name)).toContain('demo');
    expect(set.profiles.find((p) => p.name === 'demo')!.maxDurationMinutes).toBeGreaterThanOrEqual(60);
  });

  it('fills defaults: effect Allow, ticket not required', () => {
    const [p] = parseProfiles(file({})).profiles;
    expect(p!.statements[0]!.effect).toBe('Allow');
    expect(p!.ticket).toEqual({ required: false });
  });

  it('rejects "*" actions on "*" resources', () =>
    rejects(
      { statements: [{ actions: ['*'], resources: ['*'] }] },
      /over-broad: allows "\*" actions on "\*" resources/,
    ));
  it('rejects "*" actions even on one resource', () =>
    rejects({ statements: [{ actions: ['*'], resources: ['arn:aws:s3:::b'] }] }, /over-broad/));
  it('rejects iam:*', () =>
    rejects(
      { statements: [{ actions: ['IAM:*'], resources: ['arn:aws:iam::123456789012:role/x'] }] },
      /allows "iam:\*"/,
    ));
  it('rejects wildcards that reach persistence actions such as iam:PutRolePolicy', () =>
    rejects({ statements: [{ actions: ['iam:Put*'], resources: ['*'] }] }, /matches iam:PutRolePolicy/));
  it('rejects iam:CreateAccessKey', () =>
    rejects({ statements: [{ actions: ['iam:CreateAccessKey'], resources: ['*'] }] }, /outlive the grant/));
  it('accepts a Deny of everything (it narrows, never widens)', () =>
    expect(
      parseProfiles(file({ statements: [{ effect: 'Deny', actions: ['*'], resources: ['*'] }, base.statements[0]] }))
        .profiles,
    ).toHaveLength(1));
  it('rejects the condition keys break-glass owns', () =>
    rejects(
      {
        statements: [
          { ...base.statements[0], conditions: { DateLessThan: { 'aws:CurrentTime': '2099-01-01T00:00:00Z' } } },
        ],
      },
      /aws:CurrentTime is set by break-glass/,
    ));
  it('requires a pattern when a ticket is required', () =>
    rejects({ ticket: { required: true } }, /ticket.required needs ticket.pattern/));
  it('rejects an invalid ticket pattern', () =>
    rejects({ ticket: { required: true, pattern: '([' } }, /not a valid regular expression/));
  it('rejects eligibility that is not a principal ARN with an account', () =>
    rejects({ eligible: ['*'] }, /profile "p1"\.eligible\.0: an eligible principal/));
  it('rejects unknown fields, naming the profile', () => rejects({ statments: [] }, /profile "p1": Unrecognized key/i));
  it('rejects duplicate names', () =>
    expect(() => parseProfiles({ version: 1, profiles: [base, base] })).toThrowError(/duplicate name/));
  it('rejects a profile whose policy could exceed the IAM inline limit', () =>
    rejects(
      {
        statements: [
          { actions: ['s3:GetObject'], resources: Array.from({ length: 500 }, (_, i) => `arn:aws:s3:::bucket-${i}/*`) },
        ],
      },
      /over IAM's 10240-character inline limit/,
    ));
  it('throws ProfileConfigError listing every problem at once', () => {
    try {
      parseProfiles(file({ maxDurationMinutes: 0, owner: '' }));
      expect.unreachable();
    } catch (error) {
      expect(error).toBeInstanceOf(ProfileConfigError);
      expect((error as Error).message).toMatch(/maxDurationMinutes/);
      expect((error as Error).message).toMatch(/owner/);
    }
  });
});
