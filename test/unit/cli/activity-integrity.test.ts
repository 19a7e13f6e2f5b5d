/** `breakglass activity` and `breakglass review` warn when the activity does not verify against the review's seal. */
import { describe, expect, it } from 'vitest';
import { integrityLines } from '../../../cli/activity.js';

describe('integrityLines', () => {
  it('warns with the problem when the activity does not verify, and says nothing otherwise', () => {
    const problem = 'the activity no longer matches the digest the review sealed at 2026-11-24T11:00:00.000Z';
    expect(integrityLines({ integrity: { ok: false, problem } })).toEqual([
      `⚠ The activity does not verify: ${problem}`,
    ]);
    expect(integrityLines({ integrity: { ok: true } })).toEqual([]);
    expect(integrityLines({})).toEqual([]);
  });
});
