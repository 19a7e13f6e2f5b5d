/**
 * Text a request carries: every string well-formed Unicode (else 400 before anything is
 * recorded), tickets one printable line, and what a DENIED attempt keeps of the caller's text.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { NotEligibleError, ValidationError } from '../../../functions/domain/errors.js';
import { extendGrant } from '../../../functions/domain/extend-grant.js';
import { clip, parseRequest, revokeRequestSchema, wellFormed } from '../../../functions/domain/requests.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ALICE, ALICE_ID, fakePorts, MALLORY, testProfiles } from '../../support/fakes.js';

const profiles = testProfiles();
const reason = 'orders API returns 500s, need logs';
const alice = { arn: ALICE, userId: ALICE_ID };
const mallory = { arn: MALLORY, userId: 'AROAEXAMPLEINTERN123:mallory' };

describe('well-formed Unicode', () => {
  it.each([
    [
      'a lone high surrogate in the reason',
      { profile: 'demo', reason: `${reason} \ud800` },
      /body\.reason is not well-formed Unicode/,
    ],
    [
      'a lone low surrogate in the ticket',
      { profile: 'demo', reason, ticket: 'INC-1\udc00' },
      /body\.ticket is not well-formed/,
    ],
    ['a reversed pair', { profile: 'demo', reason: `${reason} \ude00\ud83d` }, /body\.reason/],
    ['a lone surrogate in a field name', { profile: 'demo', reason, 'x\ud800': 1 }, /field name/],
    [
      'a lone surrogate deep in an unknown field',
      { profile: 'demo', reason, extra: [{ a: ['ok', '\udfff'] }] },
      /body\.extra\[0\]\.a\[1\]/,
    ],
  ])(
    'refuses %s with 400, recording and announcing nothing, even for an ineligible caller',
    async (_name, body, message) => {
      for (const caller of [alice, mallory]) {
        const ports = fakePorts();
        const error = await activateGrant(ports, profiles, { caller, body }).catch((e) => e);
        expect(error).toBeInstanceOf(ValidationError);
        expect(error.statusCode).toBe(400);
        expect(error.message).toMatch(message);
        expect(ports.store.grants.size).toBe(0);
        expect(ports.notifier.alerts).toHaveLength(0);
      }
    },
  );

  it('accepts well-formed astral characters (surrogate pairs)', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, {
      caller: alice,
      body: { profile: 'demo', reason: `${reason} 🔥😀` },
    });
    expect(grant.reason).toBe(`${reason} 🔥😀`);
  });

  it('refuses lone surrogates on the other bodies too (revoke, extend)', async () => {
    const ports = fakePorts();
    const { grant } = await activateGrant(ports, profiles, { caller: alice, body: { profile: 'demo', reason } });
    await expect(
      revokeGrant(ports, [], { grantId: grant.id, caller: alice, body: { reason: 'done with it \ud800' } }),
    ).rejects.toThrowError(/not well-formed/);
    await expect(
      extendGrant(ports, profiles, {
        grantId: grant.id,
        caller: alice,
        body: { minutes: 5, reason: 'need more time \ud800' },
      }),
    ).rejects.toThrowError(/not well-formed/);
    expect(ports.store.types(grant.id)).toEqual(['REQUESTED', 'ACTIVATED']);
    expect(() => parseRequest(revokeRequestSchema, { reason: 'fine 😀 text' })).not.toThrow();
  });

  it('survives a deeply nested body without overflowing the stack', () => {
    let deep: unknown = '\ud800';
    for (let i = 0; i < 100_000; i++) deep = [deep];
    const error = (() => {
      try {
        parseRequest(revokeRequestSchema, { reason: 'x', deep });
      } catch (e) {
        return e as Error;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect(error!.message.length).toBeLessThan(300);
  });

  it('clips without splitting a surrogate pair', () => {
    expect(clip('ab😀', 3)).toBe('ab');
    expect(clip('ab😀', 4)).toBe('ab😀');
    expect(wellFormed(clip('😀'.repeat(600), 999))).toBe(true);
  });
});

describe('tickets', () => {
  it.each([
    'INC-1\n',
    'INC-1\rX',
    'INC\u0000',
    'INC-1\u2028',
    'INC-1\u2029',
    'INC\u0085',
    'INC\u001b[31m',
    'INC\u202e1',
    'INC\t1',
  ])('refuses a ticket with control or line-separator characters (%j) with 400', async (ticket) => {
    const ports = fakePorts();
    const profilesWithout = testProfiles({ ticket: { required: false } });
    const error = await activateGrant(ports, profilesWithout, {
      caller: alice,
      body: { profile: 'demo', reason, ticket },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/ticket must be one line of printable text/);
    expect(ports.store.grants.size).toBe(0);
  });

  it("keeps a denied attempt's ticket only when it matches the profile's pattern, and says when it was dropped", async () => {
    const ports = fakePorts();
    const kept = await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'db', reason, ticket: 'INC-42' },
    }).catch((e) => e);
    const dropped = await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'db', reason, ticket: 'see https://evil.example/phish' },
    }).catch((e) => e);
    expect(kept).toBeInstanceOf(NotEligibleError);
    expect(dropped).toBeInstanceOf(NotEligibleError);
    expect(ports.store.grants.get(kept.grantId)!.ticket).toBe('INC-42');
    expect(ports.store.grants.get(dropped.grantId)!.ticket).toBeUndefined();
    expect(ports.store.eventLog.get(dropped.grantId)![0]!.details).toMatchObject({
      why: expect.any(String),
      ticketDropped: expect.stringMatching(/not kept: ticket must match \^INC-\[0-9\]\+\$/),
    });
    expect(ports.store.eventLog.get(kept.grantId)![0]!.details!.ticketDropped).toBeUndefined();
  });

  it("refuses a denied attempt's ticket with a newline before recording anything", async () => {
    const ports = fakePorts();
    const error = await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'demo', reason, ticket: 'INC-1\nStatus: REVOKED' },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(ports.store.grants.size).toBe(0);
    expect(ports.notifier.alerts).toHaveLength(0);
  });

  it('refuses a reason over REASON_MAX characters as sent, before anything is recorded (the limit API Gateway also applies)', async () => {
    const ports = fakePorts();
    const error = await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'demo', reason: `${'x'.repeat(999)}😀 and more` },
    }).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.message).toMatch(/reason must be at most 1000 characters/);
    expect(ports.store.grants.size).toBe(0);
    expect(ports.notifier.alerts).toHaveLength(0);
  });

  it("records a denied attempt's reason of exactly REASON_MAX characters whole", async () => {
    const ports = fakePorts();
    const error = await activateGrant(ports, profiles, {
      caller: mallory,
      body: { profile: 'demo', reason: `${'x'.repeat(998)}😀` },
    }).catch((e) => e);
    const denied = ports.store.grants.get(error.grantId)!;
    expect(denied.reason).toBe(`${'x'.repeat(998)}😀`);
    expect(ports.notifier.alerts).toHaveLength(1);
  });
});
