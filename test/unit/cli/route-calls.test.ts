/**
 * The CLI reaches the drill and activity routes through the route table (`op()` → `callRoute`), against a
 * local fake API that records each request: `breakglass drill` starts a drill (`POST /drills` with its
 * mode) and polls `GET /drills/{id}` until it is done, `drill --last` reads `GET /drills`, and
 * `breakglass activity` reads `GET /grants/{id}/activity` with its paging parameters.
 */
import { createServer, type Server } from 'node:http';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { run } from '../../../cli/breakglass.js';

const GRANT_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const SECURITY = 'arn:aws:sts::123456789012:assumed-role/Security/sam';
const step = (name: string) => ({ name, outcome: 'passed', ms: 5, detail: 'ok' });
const RESULT = {
  id: 'd-1',
  mode: 'expire',
  profile: 'drill',
  by: SECURITY,
  startedAt: '2026-11-24T10:00:00Z',
  finishedAt: '2026-11-24T10:02:00Z',
  outcome: 'PASSED',
  judgedBy: 'AWS IAM',
  steps: [step('activate'), step('credentials')],
  timings: {},
};

let api: Server;
let apiUrl: string;
const calls: Array<{ method: string; url: string; body: string }> = [];
let polls = 0;

beforeAll(async () => {
  api = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += chunk;
    });
    req.on('end', () => {
      calls.push({ method: req.method!, url: req.url!, body });
      res.setHeader('content-type', 'application/json');
      const url = new URL(req.url!, 'http://localhost');
      if (req.method === 'POST' && url.pathname === '/drills') {
        res.statusCode = 202;
        return res.end(JSON.stringify({ drill: { id: 'd-1', mode: 'expire', status: 'RUNNING', steps: [] } }));
      }
      if (req.method === 'GET' && url.pathname === '/drills/d-1') {
        polls++;
        const done = polls >= 2;
        return res.end(
          JSON.stringify({
            drill: {
              id: 'd-1',
              mode: 'expire',
              status: done ? 'PASSED' : 'RUNNING',
              steps: done ? RESULT.steps : [step('activate')],
              ...(done ? { result: RESULT } : {}),
            },
          }),
        );
      }
      if (req.method === 'GET' && url.pathname === '/drills')
        return res.end(JSON.stringify({ last: RESULT, ageDays: 3, recent: [RESULT] }));
      if (req.method === 'GET' && url.pathname === `/grants/${GRANT_ID}/activity`)
        return res.end(
          JSON.stringify({
            activity: [],
            summary: { grantId: GRANT_ID, calls: 0, writes: 0, denied: 0, afterEnd: 0, afterEndAllowed: 0 },
          }),
        );
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'NotFound', message: `no ${req.method} ${req.url}` } }));
    });
  });
  await new Promise<void>((ok) => api.listen(0, '127.0.0.1', ok));
  const address = api.address();
  apiUrl = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
});
afterAll(() => api.close());
beforeEach(() => {
  calls.length = 0;
  polls = 0;
});

function io() {
  const out: string[] = [];
  const err: string[] = [];
  let now = Date.parse('2026-11-24T10:00:00Z');
  return {
    out,
    err,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      isTTY: false,
      now: () => now,
      sleep: async (ms: number) => {
        now += ms;
      },
      env: { BREAKGLASS_ENDPOINT: apiUrl, BREAKGLASS_LOCAL_PRINCIPAL: SECURITY, BREAKGLASS_CONFIG: '/nonexistent' },
      spawn: async () => 0,
    },
  };
}

describe('breakglass drill and activity, through the route table', () => {
  it('starts a drill with POST /drills and its mode, then polls GET /drills/{id} until it is done', async () => {
    // Act
    const t = io();
    const code = await run(['drill', '--expire'], t.io);
    // Assess
    expect(code).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['POST /drills', 'GET /drills/d-1', 'GET /drills/d-1']);
    expect(JSON.parse(calls[0]!.body)).toEqual({ mode: 'expire' });
    expect(t.out.join('\n')).toMatch(/Drill PASSED/);
  });

  it('reads the last drill with GET /drills', async () => {
    const t = io();
    expect(await run(['drill', '--last'], t.io)).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual(['GET /drills']);
    expect(t.out.join('\n')).toMatch(/Last drill: PASSED 3 day/);
  });

  it('reads the activity with GET /grants/{id}/activity and its paging parameters', async () => {
    const t = io();
    const code = await run(['activity', GRANT_ID, '--limit', '5', '--next', 'tok/en'], t.io);
    expect(t.err).toEqual([]);
    expect(code).toBe(0);
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      `GET /grants/${GRANT_ID}/activity?limit=5&nextToken=tok%2Fen`,
    ]);
  });
});
