/**
 * The CLI's credential commands against a local fake API and a local fake federation endpoint
 * (no AWS is reachable): the credential_process JSON, the console sign-in URL in the documented
 * format, and `activate -- <command>` running the command with the grant's credentials.
 */

import { createServer, type IncomingMessage, type Server } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { run } from '../../../cli/breakglass.js';

const GRANT_ID = '0f8fad5b-d9cb-469f-a165-70867728950e';
const CREDS = {
  accessKeyId: 'ASIAEXAMPLE',
  secretAccessKey: 'secret/with+chars=',
  sessionToken: 'token&with=odd/chars+',
  expiration: '2026-11-24T10:30:00Z',
};
const GRANT = {
  id: GRANT_ID,
  profile: 'demo',
  owner: 'o',
  status: 'ACTIVE',
  principalArn: 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice',
  expiresAt: '2026-11-24T10:30:00Z',
  reason: 'r',
  policyName: `breakglass-${GRANT_ID}`,
  targetType: 'role',
  targetName: 'breakglass-demo-0',
  grantTo: 'profileRole',
};

let api: Server;
let federation: Server;
let apiUrl: string;
let federationUrl: string;
const apiCalls: Array<{ method: string; url: string; principal: string | undefined }> = [];
const tokenRequests: URL[] = [];

async function listen(server: Server): Promise<string> {
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

beforeAll(async () => {
  api = createServer((req: IncomingMessage, res) => {
    apiCalls.push({
      method: req.method!,
      url: req.url!,
      principal: req.headers['x-local-principal'] as string | undefined,
    });
    req.resume();
    req.on('end', () => {
      res.setHeader('content-type', 'application/json');
      if (req.method === 'POST' && req.url === `/grants/${GRANT_ID}/credentials`)
        return res.end(JSON.stringify({ credentials: CREDS, grant: GRANT }));
      if (req.method === 'POST' && req.url === '/grants') {
        res.statusCode = 201;
        res.end(JSON.stringify({ grant: GRANT }));
        return;
      }
      res.statusCode = 404;
      res.end(JSON.stringify({ error: { code: 'GrantNotFound', message: 'No grant' } }));
    });
  });
  // The federation endpoint, as documented: getSigninToken takes the session JSON and answers a token.
  federation = createServer((req, res) => {
    const url = new URL(req.url!, 'http://localhost');
    tokenRequests.push(url);
    const session = JSON.parse(url.searchParams.get('Session') ?? '{}');
    const ok =
      url.pathname === '/federation' &&
      url.searchParams.get('Action') === 'getSigninToken' &&
      session.sessionId === CREDS.accessKeyId &&
      session.sessionKey === CREDS.secretAccessKey &&
      session.sessionToken === CREDS.sessionToken;
    res.statusCode = ok ? 200 : 400;
    res.end(JSON.stringify(ok ? { SigninToken: 'SIGNIN/TOKEN+1=' } : { error: 'bad request' }));
  });
  apiUrl = await listen(api);
  federationUrl = `${await listen(federation)}/federation`;
});
afterAll(() => {
  api.close();
  federation.close();
});

function io(extraEnv: Record<string, string> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const spawned: Array<{ command: string; args: string[]; env: NodeJS.ProcessEnv }> = [];
  return {
    out,
    err,
    spawned,
    io: {
      out: (t: string) => out.push(t),
      err: (t: string) => err.push(t),
      isTTY: false,
      now: () => Date.parse('2026-11-24T10:00:00Z'),
      sleep: async () => {},
      env: {
        BREAKGLASS_ENDPOINT: apiUrl,
        BREAKGLASS_LOCAL_PRINCIPAL: GRANT.principalArn,
        BREAKGLASS_CONFIG: '/nonexistent',
        AWS_PROFILE: 'my-usual-profile',
        ...extraEnv,
      },
      spawn: async (command: string, args: string[], env: NodeJS.ProcessEnv) => {
        spawned.push({ command, args, env });
        return 7;
      },
    },
  };
}

describe('breakglass credentials', () => {
  it('prints exactly the credential_process JSON (Version 1, AccessKeyId, SecretAccessKey, SessionToken, Expiration)', async () => {
    const t = io();
    expect(await run(['credentials', GRANT_ID], t.io)).toBe(0);
    expect(t.out).toHaveLength(1);
    expect(JSON.parse(t.out[0]!)).toEqual({
      Version: 1,
      AccessKeyId: CREDS.accessKeyId,
      SecretAccessKey: CREDS.secretAccessKey,
      SessionToken: CREDS.sessionToken,
      Expiration: CREDS.expiration,
    });
    expect(apiCalls.at(-1)).toEqual({
      method: 'POST',
      url: `/grants/${GRANT_ID}/credentials`,
      principal: GRANT.principalArn,
    });
  });

  it('prints nothing on stdout and exits non-zero when the API refuses', async () => {
    const t = io();
    expect(await run(['credentials', '11111111-1111-4111-8111-111111111111'], t.io)).toBe(4);
    expect(t.out).toEqual([]);
    expect(t.err.join('\n')).toMatch(/No grant/);
  });
});

describe('breakglass console', () => {
  it('builds the sign-in URL through the federation endpoint in the documented format', async () => {
    const t = io({ BREAKGLASS_FEDERATION_ENDPOINT: federationUrl });
    expect(await run(['console', GRANT_ID], t.io)).toBe(0);
    // Step 1: getSigninToken with the URL-encoded session JSON
    const tokenRequest = tokenRequests.at(-1)!;
    expect(tokenRequest.searchParams.get('Action')).toBe('getSigninToken');
    expect(JSON.parse(tokenRequest.searchParams.get('Session')!)).toEqual({
      sessionId: CREDS.accessKeyId,
      sessionKey: CREDS.secretAccessKey,
      sessionToken: CREDS.sessionToken,
    });
    // Step 2: the login URL
    const url = new URL(t.out[0]!);
    expect(`${url.origin}${url.pathname}`).toBe(federationUrl);
    expect([...url.searchParams.keys()]).toEqual(['Action', 'Issuer', 'Destination', 'SigninToken']);
    expect(url.searchParams.get('Action')).toBe('login');
    expect(url.searchParams.get('Issuer')).toBe('breakglass');
    expect(url.searchParams.get('Destination')).toBe('https://console.aws.amazon.com/');
    expect(url.searchParams.get('SigninToken')).toBe('SIGNIN/TOKEN+1=');
    expect(t.out[0]).toContain('SigninToken=SIGNIN%2FTOKEN%2B1%3D');
  });

  it('defaults to the documented AWS federation endpoint', async () => {
    const { FEDERATION_ENDPOINT } = await import('../../../cli/breakglass.js');
    expect(FEDERATION_ENDPOINT).toBe('https://signin.aws.amazon.com/federation');
  });
});

describe('breakglass activate -- <command>', () => {
  it("runs the command with the grant's credentials in its environment and returns its exit code", async () => {
    const t = io();
    const code = await run(
      ['activate', '--profile', 'demo', '--reason', 'orders API down, need logs', '--', 'aws', 's3', 'ls'],
      t.io,
    );
    expect(code).toBe(7);
    expect(t.spawned).toHaveLength(1);
    const [spawned] = t.spawned;
    expect(spawned!.command).toBe('aws');
    expect(spawned!.args).toEqual(['s3', 'ls']);
    expect(spawned!.env).toMatchObject({
      AWS_ACCESS_KEY_ID: CREDS.accessKeyId,
      AWS_SECRET_ACCESS_KEY: CREDS.secretAccessKey,
      AWS_SESSION_TOKEN: CREDS.sessionToken,
      AWS_CREDENTIAL_EXPIRATION: CREDS.expiration,
    });
    expect(spawned!.env).not.toHaveProperty('AWS_PROFILE');
    expect(t.out).toEqual([]);
    expect(t.err.join('\n')).toContain(`grant ${GRANT_ID}`);
  });

  it('refuses "--" with nothing after it', async () => {
    const t = io();
    expect(await run(['activate', '--profile', 'demo', '--reason', 'orders API down, need logs', '--'], t.io)).toBe(2);
    expect(t.spawned).toEqual([]);
  });
});
