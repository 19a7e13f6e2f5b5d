import { describe, expect, it } from 'vitest';
import { eligibleEntities } from '../../../functions/domain/eligible-entities.js';
import { sweepTargets } from '../../../functions/domain/sweep.js';
import { policyTargets } from '../../../infra/profiles.js';
import { testProfiles } from '../../support/fakes.js';

const PATTERNS = [
  'arn:aws:iam::123456789012:role/Responder',
  'arn:aws:sts::123456789012:assumed-role/Medic/alice',
  'arn:aws:iam::123456789012:user/ops/bob',
  'arn:aws:iam::123456789012:role/Team*',
];
const set = testProfiles({ eligible: PATTERNS });

describe('eligibleEntities', () => {
  it('turns sessions into their role, keeps role and user patterns, and marks wildcard names', () => {
    expect(
      eligibleEntities(set)
        .filter((e) => e.source.profile === 'demo')
        .map(({ kind, arn, name, wildcard }) => ({ kind, arn, name, wildcard })),
    ).toEqual([
      { kind: 'role', arn: 'arn:aws:iam::123456789012:role/Responder', name: 'Responder', wildcard: false },
      { kind: 'role', arn: 'arn:aws:iam::123456789012:role/Medic', name: 'Medic', wildcard: false },
      { kind: 'user', arn: 'arn:aws:iam::123456789012:user/ops/bob', name: 'bob', wildcard: false },
      { kind: 'role', arn: 'arn:aws:iam::123456789012:role/Team*', name: 'Team*', wildcard: true },
    ]);
  });

  it("gives the sweeper exactly the entities the stacks' IAM permissions name literally (one derivation)", () => {
    const iam = policyTargets(set, { allowBroadEligibility: true });
    const swept = sweepTargets(set);
    // Every swept entity is one the functions may write policies on ...
    for (const t of swept) {
      const arns = t.type === 'role' ? iam.roles : iam.users;
      expect(arns.some((arn) => arn.endsWith(`/${t.name}`))).toBe(true);
    }
    // ... and every literal IAM target is swept (only wildcard names, which name no entity, are not).
    const literal = [...iam.roles, ...iam.users].filter((arn) => !/[*?]/.test(arn));
    expect(literal).toHaveLength(swept.length);
    expect(() => policyTargets(set)).toThrow(/wildcard/);
  });
});
