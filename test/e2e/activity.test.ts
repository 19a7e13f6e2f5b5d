/**
 * Action logging in the sandbox, as the quick start shows it: a responder activates, takes
 * credentials, makes calls through the sandbox's stand-in for CloudTrail, and sees them in
 * `GET /grants/{id}/activity` (what `breakglass activity` reads); the grant carries the summary; the
 * end-of-grant summary is announced; the review seals the activity digest into the grant's chain.
 */
import { ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activityDigest } from '../../functions/domain/activity.js';
import { type SandboxProcess, startSandbox } from '../support/sandbox-process.js';

const SSO = 'arn:aws:sts::123456789012:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/alice@example.com';
const REVIEWER = 'arn:aws:sts::123456789012:assumed-role/Security/sam';
let sandbox: SandboxProcess;

// Summaries right after a grant's end: the sandbox has no CloudTrail delay to wait for.
beforeAll(async () => {
  sandbox = await startSandbox({ ACTIVITY_SETTLE_MINUTES: '0' });
});
afterAll(async () => sandbox?.stop());

const call = async (method: string, path: string, body?: unknown, principal = SSO) => {
  const res = await fetch(`${sandbox.api}${path}`, {
    method,
    headers: { 'content-type': 'application/json', 'x-local-principal': principal },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, body: (await res.json()) as any };
};
/** Polls until `check` holds (a hang guard, not a speed check). */
async function eventually<T>(read: () => Promise<T>, check: (v: T) => boolean): Promise<T> {
  const deadline = Date.now() + 5 * 60_000;
  for (;;) {
    const value = await read();
    if (check(value)) return value;
    if (Date.now() > deadline) throw new Error(`never true: ${JSON.stringify(value).slice(0, 500)}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

describe('action logging in the sandbox', () => {
  it("shows a responder's calls, the summary, the end-of-grant alert and the review's seal", async () => {
    expect(sandbox.output()).toContain("the sandbox's stand-in for CloudTrail");
    // Activate and take credentials
    const created = await call('POST', '/grants', { profile: 'demo', reason: 'e2e: orders API down, reading logs' });
    expect(created.status).toBe(201);
    const grant = created.body.grant;
    const issued = await call('POST', `/grants/${grant.id}/credentials`);
    expect(issued.status).toBe(200);
    const c = issued.body.credentials;
    const credentials = {
      accessKeyId: c.accessKeyId,
      secretAccessKey: c.secretAccessKey,
      sessionToken: c.sessionToken,
    };
    // Calls with them, through the stand-in
    const options = { endpoint: sandbox.cloudtrail, region: 'us-east-1', credentials, forcePathStyle: true };
    await new STSClient(options).send(new GetCallerIdentityCommand({}));
    await new S3Client(options).send(new ListBucketsCommand({}));
    // They show in the grant's activity
    const seen = await eventually(
      () => call('GET', `/grants/${grant.id}/activity`),
      (r) => r.status === 200 && r.body.activity.length >= 2,
    );
    expect(seen.body.activity.map((a: { action: string }) => a.action).sort()).toEqual([
      'GetCallerIdentity',
      'ListBuckets',
    ]);
    expect(seen.body.activity[0]).toMatchObject({ grantId: grant.id, attribution: 'session', afterEnd: false });
    expect((await call('GET', `/grants/${grant.id}`)).body.activity).toMatchObject({ calls: 2, denied: 0 });
    // The end-of-grant summary, once it ends
    expect((await call('POST', `/grants/${grant.id}/revoke`, { reason: 'e2e: done with the logs' })).status).toBe(200);
    await eventually(
      async () => sandbox.output(),
      // One structured log line (Powertools Logger: "message", then the fields).
      (out) => out.split('\n').some((l) => l.includes('"activity summaries"') && l.includes('"announced":1')),
    );
    // The review seals what it judged
    const reviewed = await call(
      'POST',
      `/grants/${grant.id}/review`,
      { outcome: 'justified', notes: 'read-only calls matching the incident' },
      REVIEWER,
    );
    expect(reviewed.status).toBe(200);
    const after = await call('GET', `/grants/${grant.id}`);
    const sealed = after.body.events.at(-1);
    expect(sealed.type).toBe('REVIEWED');
    const all = await call('GET', `/grants/${grant.id}/activity?limit=100`);
    expect(sealed.details).toMatchObject({
      activityCalls: '2',
      activityDigest: activityDigest(grant.id, all.body.activity).root,
    });
    // Every later read compares the records with that seal.
    expect(all.body.integrity).toMatchObject({ ok: true, sealed: true, calls: 2, lateCalls: 0 });
    expect(after.body.integrity.activity).toMatchObject({ ok: true, sealed: true, calls: 2 });
  });
});
