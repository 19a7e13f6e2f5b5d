import { describe, expect, it } from 'vitest';
import { InvalidTransitionError } from '../../../functions/domain/errors.js';
import {
  assertTransition,
  canTransition,
  expiryFrom,
  GRANT_STATUSES,
  isoSeconds,
  isTerminal,
} from '../../../functions/domain/grant.js';

describe('grant state machine', () => {
  it.each([
    ['PENDING', 'ACTIVE'],
    ['PENDING', 'FAILED'],
    ['PENDING', 'EXPIRED'],
    ['ACTIVE', 'EXPIRED'],
    ['ACTIVE', 'REVOKED'],
  ] as const)('allows %s -> %s', (from, to) => expect(canTransition(from, to)).toBe(true));

  it('allows nothing out of a terminal state', () => {
    for (const from of ['EXPIRED', 'REVOKED', 'FAILED', 'DENIED'] as const) {
      expect(isTerminal(from)).toBe(true);
      for (const to of GRANT_STATUSES) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('refuses ACTIVE -> PENDING and names both states', () => {
    expect(() => assertTransition({ id: 'g1', status: 'ACTIVE' }, 'PENDING')).toThrowError(InvalidTransitionError);
    expect(() => assertTransition({ id: 'g1', status: 'EXPIRED' }, 'REVOKED')).toThrowError(
      /g1 is EXPIRED; it cannot become REVOKED/,
    );
  });

  it('truncates expiry to the whole second so the policy and at() agree', () => {
    const expires = expiryFrom(new Date('2026-11-24T10:00:00.987Z'), 30);
    expect(isoSeconds(expires)).toBe('2026-11-24T10:30:00Z');
  });
});
