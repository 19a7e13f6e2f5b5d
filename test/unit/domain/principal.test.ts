import { describe, expect, it } from 'vitest';
import { arnMatches, parsePrincipalArn, principalMatchesAny } from '../../../functions/domain/principal.js';

describe('principals', () => {
  it('parses an assumed-role session into its role', () => {
    expect(parsePrincipalArn('arn:aws:sts::123456789012:assumed-role/Responder/alice')).toMatchObject({
      kind: 'assumed-role',
      entityName: 'Responder',
      sessionName: 'alice',
      entityArn: 'arn:aws:iam::123456789012:role/Responder',
    });
  });
  it('parses an IAM user with a path', () => {
    expect(parsePrincipalArn('arn:aws:iam::123456789012:user/ops/bob')).toMatchObject({
      kind: 'user',
      entityName: 'bob',
      entityArn: 'arn:aws:iam::123456789012:user/ops/bob',
    });
  });
  it.each([
    'arn:aws:iam::123456789012:root',
    'arn:aws:sts::123456789012:federated-user/x',
    '*',
    'arn:aws:sts::123456789012:assumed-role/R/../../x',
    '',
  ])('refuses %s', (arn) => {
    expect(parsePrincipalArn(arn)).toBeUndefined();
  });
  it('matches a role pattern for every session of the role, and a session pattern for one', () => {
    const alice = parsePrincipalArn('arn:aws:sts::123456789012:assumed-role/Responder/alice')!;
    expect(principalMatchesAny(['arn:aws:iam::123456789012:role/Responder'], alice)).toBe(true);
    expect(principalMatchesAny(['arn:aws:sts::123456789012:assumed-role/Responder/bob'], alice)).toBe(false);
    expect(principalMatchesAny(['arn:aws:iam::123456789012:role/Respond*'], alice)).toBe(true);
    expect(principalMatchesAny(['arn:aws:iam::999999999999:role/Responder'], alice)).toBe(false);
  });
  it('treats regex characters in patterns literally', () => {
    expect(arnMatches('arn:aws:iam::123456789012:role/a.b', 'arn:aws:iam::123456789012:role/aXb')).toBe(false);
  });
});
