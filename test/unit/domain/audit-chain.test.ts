import { describe, expect, it } from 'vitest';
import { anchorHash, eventHash, verifyChain } from '../../../functions/domain/audit-chain.js';
import type { AuditEvent } from '../../../functions/domain/audit-event.js';
import { buildGrant, defaultPlan, seededRandom } from '../../support/export-fixture.js';

/** A revoked, reviewed grant with two filler events: six events, written as the store writes them. */
function storedGrant() {
  const plan = {
    ...defaultPlan(0, 10, seededRandom(7)),
    outcome: 'REVOKED' as const,
    review: 'justified' as const,
    fillerEvents: 2,
  };
  return buildGrant(plan, 42);
}

const shuffle = <T>(items: readonly T[], random = seededRandom(3)): T[] => {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
};

describe('verifyChain', () => {
  it('accepts a chain as the store writes it and returns its head and length', () => {
    const { grant, events } = storedGrant();
    expect(events.map((e) => e.type)).toEqual([
      'REQUESTED',
      'ALERT_FAILED',
      'ALERT_FAILED',
      'ACTIVATED',
      'REVOKED',
      'REVIEWED',
    ]);
    expect(verifyChain(grant, events)).toEqual({ ok: true, events: 6, head: events.at(-1)!.hash });
  });

  it('accepts the events in any order', () => {
    const { grant, events } = storedGrant();
    for (let seed = 1; seed <= 5; seed++) {
      const shuffled = shuffle(events, seededRandom(seed));
      expect(verifyChain(grant, shuffled).ok).toBe(true);
    }
  });

  it('accepts stored items that still carry their table keys', () => {
    const { grant, events } = storedGrant();
    const items = events.map((e) => ({ pk: `GRANT#${grant.id}`, sk: `EVENT#${String(e.seq).padStart(6, '0')}`, ...e }));
    expect(verifyChain({ pk: `GRANT#${grant.id}`, sk: 'GRANT', entity: 'grant', ...grant } as never, items).ok).toBe(
      true,
    );
  });

  it('reports an event whose content was changed at that event', () => {
    const { grant, events } = storedGrant();
    const edited = events.map((e) => (e.seq === 4 ? { ...e, reason: 'nothing to see here' } : e));
    expect(verifyChain(grant, shuffle(edited))).toEqual({
      ok: false,
      seq: 4,
      problem: 'event 4 was changed after it was written',
    });
  });

  it('reports an edited event whose hash was recomputed at the next event, which no longer links to it', () => {
    const { grant, events } = storedGrant();
    const edited = events.map((e) => {
      if (e.seq !== 3) return e;
      const changed: Omit<AuditEvent, 'hash'> & { hash?: string } = { ...e, actor: 'someone-else' };
      delete changed.hash;
      return { ...changed, hash: eventHash(changed) } as AuditEvent;
    });
    expect(verifyChain(grant, edited)).toEqual({ ok: false, seq: 4, problem: 'event 4 does not link to event 3' });
  });

  it('reports a deleted event in the middle as missing at its seq', () => {
    const { grant, events } = storedGrant();
    expect(
      verifyChain(
        grant,
        events.filter((e) => e.seq !== 2),
      ),
    ).toEqual({ ok: false, seq: 2, problem: 'event 2 is missing' });
  });

  it('reports a deleted last event at the grant record, whose count and head disagree', () => {
    const { grant, events } = storedGrant();
    expect(verifyChain(grant, events.slice(0, -1))).toEqual({
      ok: false,
      seq: 0,
      problem: 'the grant record counts 6 events but 5 exist',
    });
  });

  it('reports a deleted last event even when the count on the record was lowered too', () => {
    const { grant, events } = storedGrant();
    expect(verifyChain({ ...grant, eventCount: 5 }, events.slice(0, -1))).toEqual({
      ok: false,
      seq: 0,
      problem: "the grant record's head hash does not match its last event",
    });
  });

  it('reports a duplicated event', () => {
    const { grant, events } = storedGrant();
    expect(verifyChain(grant, [...events, events[2]!])).toMatchObject({
      ok: false,
      seq: 4,
      problem: 'event 3 appears twice',
    });
  });

  it("reports a change to the grant's facts (its reason) at the first event", () => {
    const { grant, events } = storedGrant();
    const verdict = verifyChain({ ...grant, reason: 'routine maintenance' }, events);
    expect(verdict).toMatchObject({ ok: false, seq: 1 });
    expect(verdict.ok === false && verdict.problem).toMatch(/first event does not link to the grant record/);
  });

  it('ignores changes to fields outside the anchor, such as the review outcome on the record', () => {
    // What the chain cannot see; the audit report compares such fields with the events instead.
    const { grant, events } = storedGrant();
    const edited = { ...grant, reviewOutcome: 'unjustified' as const };
    expect(anchorHash(edited)).toBe(anchorHash(grant));
    expect(verifyChain(edited, events).ok).toBe(true);
  });
});
