/**
 * Tickets and reasons are the caller's text: they can never add a line to any alert form
 * (subject, e-mail body, Chatbot description, machine JSON), whatever characters they hold.
 */

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { composeAlert, oneLine } from '../../../functions/domain/alert.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { wellFormed } from '../../../functions/domain/requests.js';
import { ALICE, ALICE_ID, fakePorts, testProfiles } from '../../support/fakes.js';

/** Every character that breaks a line somewhere: CR, LF, VT, FF, NEL, LS, PS, and a bidi override. */
const BREAKERS = ['\n', '\r', '\r\n', '\u000b', '\u000c', '\u0085', '\u2028', '\u2029', '\u001b[2J', '\u202e'];
const FORGED = 'Status:     REVOKED';

const grant = (extra: Partial<Grant>): Grant => ({
  id: '00000000-0000-4000-8000-000000000001',
  profile: 'demo',
  owner: 'platform@example.com',
  principalArn: ALICE,
  targetType: 'role',
  targetName: 'Responder',
  status: 'DENIED',
  reason: 'orders API returns 500s, need logs',
  durationMinutes: 30,
  createdAt: '2026-11-24T10:00:00.000Z',
  expiresAt: '2026-11-24T10:00:00.000Z',
  policyName: '',
  scheduleName: '',
  version: 0,
  eventCount: 1,
  ...extra,
});

/** Lines of every text form of an alert, and the machine form's strings. */
function forms(alert: ReturnType<typeof composeAlert>) {
  const chat = alert.chat as { content: { title: string; description: string } };
  return {
    subject: alert.subject,
    body: alert.body.split('\n'),
    chat: chat.content.description.split('\n'),
    machine: JSON.stringify(alert.machine),
  };
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: the test looks for exactly these line-breaking characters.
const LINE_BREAK = /[\r\n\u000b\u000c\u0085\u2028\u2029]/;

describe('alerts render caller text on one line', () => {
  it.each(BREAKERS.map((b) => [JSON.stringify(b), b]))(
    'a ticket and a reason holding %s add no line to any form',
    (_name, breaker) => {
      // Prepare: the text a DENIED attempt may carry (stored before any validation in older records)
      const evil = `INC-1${breaker}${FORGED}${breaker}`;
      const plain = forms(
        composeAlert(grant({ ticket: 'INC-1', reason: 'orders API returns 500s' }), {
          type: 'DENIED',
          at: '2026-11-24T10:00:00.000Z',
          actor: ALICE,
          outcome: 'FAILURE',
        }),
      );
      // Act
      const alert = composeAlert(grant({ ticket: evil, reason: `orders API${breaker}${FORGED}` }), {
        type: 'DENIED',
        at: '2026-11-24T10:00:00.000Z',
        actor: ALICE,
        outcome: 'FAILURE',
        reason: `note${breaker}${FORGED}`,
        details: { why: `x${breaker}${FORGED}` },
      });
      // Assess
      const got = forms(alert);
      expect(got.subject).toMatch(/^[\x20-\x7e]{1,100}$/);
      expect(got.body.filter((l) => l.startsWith('Status:'))).toEqual(['Status:     DENIED']);
      expect(got.body.filter((l) => l.startsWith('Ticket:'))).toHaveLength(1);
      expect(got.body.every((l) => !LINE_BREAK.test(l))).toBe(true);
      // The body gained exactly the Note: and why: lines the event added, nothing else.
      expect(got.body.length).toBe(plain.body.length + 2);
      expect(got.chat.length).toBe(plain.chat.length);
      expect(got.chat.every((l) => !LINE_BREAK.test(l) && !l.startsWith('Status:'))).toBe(true);
      const machine = alert.machine as { grant: { ticket: string; reason: string }; details: Record<string, string> };
      for (const text of [machine.grant.ticket, machine.grant.reason, machine.details.why])
        expect(text).not.toMatch(LINE_BREAK);
      expect(machine.grant.ticket).toContain('Status: REVOKED');
      expect(got.machine).not.toMatch(/\\u202e|\u202e/);
    },
  );

  it('keeps every form one line per field for any generated ticket and reason (property)', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: 'binary', maxLength: 200 }),
        fc.string({ unit: 'binary', maxLength: 200 }),
        (ticket, reason) => {
          const plain = forms(
            composeAlert(grant({ ticket: 'T', reason: 'R' }), {
              type: 'DENIED',
              at: '2026-11-24T10:00:00.000Z',
              actor: ALICE,
              outcome: 'FAILURE',
            }),
          );
          const got = forms(
            composeAlert(grant({ ticket, reason }), {
              type: 'DENIED',
              at: '2026-11-24T10:00:00.000Z',
              actor: ALICE,
              outcome: 'FAILURE',
            }),
          );
          expect(got.body.length).toBe(plain.body.length);
          expect(got.chat.length).toBe(plain.chat.length);
          expect(got.subject).toMatch(/^[\x20-\x7e]{0,100}$/);
          expect(wellFormed(got.machine)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('cuts long text without leaving half a surrogate pair', () => {
    const cut = oneLine(`${'a'.repeat(8)}😀😀😀`, 10);
    expect(cut).toBe('aaaaaaaa…');
    expect(wellFormed(cut)).toBe(true);
    expect(oneLine('bad \ud800 half', 100)).toBe('bad \ufffd half');
    expect(oneLine('family 👨‍👩‍👧 stays', 100)).toBe('family 👨‍👩‍👧 stays');
  });

  it("keeps a ticket stored by an activation out of the subject's and body's structure", async () => {
    // A profile without a pattern accepts any one-line ticket.
    const ports = fakePorts();
    const profiles = testProfiles({ ticket: { required: false } });
    await activateGrant(ports, profiles, {
      caller: { arn: ALICE, userId: ALICE_ID },
      body: { profile: 'demo', reason: 'orders API returns 500s, need logs', ticket: 'CHG 42 <b>x</b> `code`' },
    });
    const body = ports.notifier.alerts[0]!.body.split('\n');
    expect(body.filter((l) => l.startsWith('Ticket:'))).toEqual(['Ticket:     CHG 42 <b>x</b> `code`']);
  });
});
