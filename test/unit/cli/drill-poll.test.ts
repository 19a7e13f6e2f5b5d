/**
 * `breakglass drill` polls GET /drills/{id} after the 202 (cli/drill.ts): it stops when the drill is done,
 * tells each step once as it finishes, stops at an error answer, and gives up at its overall bound.
 * Time is a fake clock: no real waiting.
 */
import { describe, expect, it } from 'vitest';
import type { ApiResponse } from '../../../cli/client.js';
import { DRILL_POLL_BOUND_MS, pollDrill } from '../../../cli/drill.js';

function fakeIo() {
  let now = 0;
  return {
    now: () => now,
    sleep: async (ms: number) => {
      now += ms;
    },
  };
}
const step = (name: string) => ({ name, outcome: 'passed', ms: 1, detail: '' });
const body = (status: string, steps: string[]) => ({
  status: 200,
  body: { drill: { id: 'd', mode: 'revoke', status, steps: steps.map(step) } },
});

describe('pollDrill', () => {
  it('polls until the drill is done and tells each step once', async () => {
    // Prepare
    const answers: ApiResponse[] = [
      body('RUNNING', []),
      body('RUNNING', ['activate']),
      body('RUNNING', ['activate', 'credentials']),
      body('PASSED', ['activate', 'credentials', 'outside']),
    ];
    const ids: string[] = [];
    const told: string[] = [];

    // Act
    const { res, timedOut } = await pollDrill(
      async (id) => {
        ids.push(id);
        return answers.shift()!;
      },
      fakeIo(),
      'd',
      { onStep: (line) => told.push(line) },
    );

    // Assess
    expect(timedOut).toBe(false);
    expect((res.body as { drill: { status: string } }).drill.status).toBe('PASSED');
    expect(ids).toEqual(Array(4).fill('d'));
    expect(told).toEqual(['  … activate passed', '  … credentials passed', '  … outside passed']);
  });

  it('gives up at its bound on a drill that stays RUNNING, and stops at an error answer', async () => {
    const io = fakeIo();
    let calls = 0;
    const stuck = await pollDrill(
      async () => {
        calls++;
        return body('RUNNING', []);
      },
      io,
      'd',
    );
    expect(stuck.timedOut).toBe(true);
    expect(io.now()).toBeGreaterThanOrEqual(DRILL_POLL_BOUND_MS);
    expect(calls).toBeGreaterThan(1);
    const gone = await pollDrill(async () => ({ status: 404, body: {} }), fakeIo(), 'd');
    expect(gone).toEqual({ res: { status: 404, body: {} }, timedOut: false });
  });
});
