/**
 * Property: whatever the request body, the statements granted are the profile's, with only
 * the two guards added; no byte of the body reaches the policy.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { BreakGlassError } from '../../../functions/domain/errors.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const demo = profiles.profiles[0]!;
const expectedStatements = demo.statements.map((s) => ({
  Sid: s.sid,
  Effect: s.effect,
  Action: s.actions,
  Resource: s.resources,
}));

const hostileString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'binary' }),
  fc.constantFrom('*', 'iam:*', '"},{"Effect":"Allow","Action":"*"', 'arn:aws:iam::*:role/*', '\u0000\n\r', ''),
);
const anyValue = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(hostileString),
  fc.dictionary(hostileString, hostileString),
);
const body = fc.record(
  {
    profile: fc.oneof(fc.constant('demo'), anyValue),
    reason: fc.oneof(
      fc.constant('checkout is failing for every customer'),
      fc.string({ minLength: 10, maxLength: 300 }).map((s) => `outage: ${s} xyzw`),
      anyValue,
    ),
    durationMinutes: fc.oneof(fc.integer({ min: 1, max: 120 }), anyValue),
    ticket: fc.oneof(fc.constant('INC-7'), anyValue),
    statements: anyValue,
    actions: anyValue,
    Statement: anyValue,
    policy: anyValue,
    resources: anyValue,
  },
  { requiredKeys: [] },
);

describe('property: the request cannot change what is granted', () => {
  it('grants exactly the profile statements, or nothing with a 4xx', async () => {
    await fc.assert(
      fc.asyncProperty(body, async (input) => {
        const ports = fakePorts();
        try {
          const { grant } = await activateGrant(ports, profiles, {
            caller: { arn: ALICE, userId: ALICE_ID },
            body: input,
          });
          const document = ports.access.policies.get(`role/Responder/${grant.policyName}`)!;
          const policy = JSON.parse(document);
          expect(policy.Statement.map(({ Condition: _c, ...s }: Record<string, unknown>) => s)).toEqual(
            expectedStatements,
          );
          for (const s of policy.Statement) {
            expect(s.Condition).toEqual({
              DateLessThan: { 'aws:CurrentTime': grant.expiresAt },
              StringLike: { 'aws:userid': ALICE_ID },
            });
          }
          expect(document).not.toContain(grant.reason);
        } catch (error) {
          expect(error).toBeInstanceOf(BreakGlassError);
          expect((error as BreakGlassError).statusCode).toBeGreaterThanOrEqual(400);
          expect((error as BreakGlassError).statusCode).toBeLessThan(500);
          expect(ports.access.policies.size).toBe(0);
        }
      }),
      { numRuns: 500 },
    );
  });
});
