/**
 * Action logging, domain side: real CloudTrail record shapes (see `cloudtrail-fixtures.ts`) through
 * the capture use case over in-memory ports; redaction and bounds; dedupe; after-end flags and the
 * CRITICAL alert; integrity; the read side's authorization and pagination.
 */
import { describe, expect, it } from 'vitest';
import {
  type ActivityRecord,
  activityDigest,
  activityHash,
  boundedRequest,
  isSecretName,
  MAX_REQUEST_BYTES,
  redact,
  SECRET_MARKERS,
  verifyActivity,
} from '../../../functions/domain/activity.js';
import {
  ACTIVITY_AFTER_END,
  type CaptureInput,
  captureActivity,
  registerGrantSession,
} from '../../../functions/domain/activity-capture.js';
import { getActivity } from '../../../functions/domain/activity-query.js';
import { ForbiddenError, GrantNotFoundError, ValidationError } from '../../../functions/domain/errors.js';
import type { Grant } from '../../../functions/domain/grant.js';
import {
  assumedRoleIdentity,
  assumeRole,
  createUserDenied,
  getObject,
  iamUserIdentity,
  PROFILE_ROLE,
  profileSession,
  ssoSession,
  stopInstances,
  viaEventBridge,
} from '../../support/cloudtrail-fixtures.js';
import { ACCOUNT, fakePorts, MemoryActivityStore, SECURITY } from '../../support/fakes.js';

const CREATED = '2026-11-24T10:00:00.250Z';
const EXPIRES = '2026-11-24T10:30:00Z';
const REQUESTER = `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`;

let ids = 0;
const newGrantId = () => `00000000-0000-4000-8000-${String(++ids).padStart(12, '0')}`;

function grantOf(overrides: Partial<Grant> = {}): Grant {
  const id = overrides.id ?? newGrantId();
  return {
    id,
    profile: 'demo',
    owner: 'platform@example.com',
    principalArn: REQUESTER,
    targetType: 'role',
    targetName: PROFILE_ROLE,
    status: 'ACTIVE',
    reason: 'orders API is failing',
    durationMinutes: 30,
    createdAt: CREATED,
    expiresAt: EXPIRES,
    policyName: `breakglass-${id}`,
    scheduleName: `breakglass-${id}`,
    version: 1,
    eventCount: 0,
    ...overrides,
  };
}

function world() {
  const ports = fakePorts();
  const activity = new MemoryActivityStore();
  const capture = { store: ports.store, activity, notifier: ports.notifier, clock: ports.clock, log: ports.log };
  const add = async (overrides: Partial<Grant> = {}) =>
    ports.store.create(grantOf(overrides), { type: 'REQUESTED', at: CREATED, actor: REQUESTER, outcome: 'SUCCESS' });
  let n = 0;
  const deliver = (...records: Array<Parameters<typeof viaEventBridge>[0]>): CaptureInput[] =>
    records.map((r) => ({ id: `msg-${++n}`, event: viaEventBridge(r) }));
  return { ports, activity, capture, add, deliver };
}

describe('capture: attribution', () => {
  it('ties a profile-role session bg-<grantId> to its grant and keeps what the call did', async () => {
    // Prepare
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    // Act
    const report = await captureActivity(
      w.capture,
      w.deliver(getObject(identity, '2026-11-24T10:05:00Z'), stopInstances(identity, '2026-11-24T10:06:00Z')),
    );
    // Assess
    expect(report.results.map((r) => r.outcome)).toEqual(['stored', 'stored']);
    const [read, write] = await w.activity.all(grant.id);
    expect(read).toMatchObject({
      grantId: grant.id,
      eventTime: '2026-11-24T10:05:00Z',
      account: ACCOUNT,
      region: 'us-east-1',
      service: 's3.amazonaws.com',
      action: 'GetObject',
      readOnly: true,
      managementEvent: false,
      resources: ['arn:aws:s3:::incident-logs/app/2026-11-24.log', 'arn:aws:s3:::incident-logs'],
      sourceIp: '192.0.2.10',
      userAgent: '[aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64]',
      attribution: 'session',
      afterEnd: false,
      identity: identity.arn,
    });
    expect(write).toMatchObject({
      service: 'ec2.amazonaws.com',
      action: 'StopInstances',
      readOnly: false,
      managementEvent: true,
      region: 'eu-west-1',
    });
    expect(JSON.parse(write!.requestParameters!)).toEqual({
      force: false,
      instancesSet: { items: [{ instanceId: 'i-0abc123def4567890' }] },
    });
    expect(await w.activity.summary(grant.id)).toEqual({
      grantId: grant.id,
      calls: 2,
      writes: 1,
      denied: 0,
      afterEnd: 0,
      afterEndAllowed: 0,
      firstCallAt: '2026-11-24T10:05:00Z',
      lastCallAt: '2026-11-24T10:06:00Z',
    });
  });

  it('names the grant from principalId alone (AROA…:bg-<grantId>) when the ARN is absent', async () => {
    const w = world();
    const grant = await w.add();
    const { arn: _arn, ...identity } = assumedRoleIdentity(profileSession(grant.id));
    const report = await captureActivity(w.capture, w.deliver(getObject(identity as never, '2026-11-24T10:05:00Z')));
    expect(report.results[0]).toMatchObject({ outcome: 'stored', grantIds: [grant.id] });
  });

  it('ignores a session of another role named after a grant, and a session naming a grant that does not exist', async () => {
    const w = world();
    const grant = await w.add();
    const impostor = assumedRoleIdentity({
      role: 'Developer',
      roleId: 'AROADEVELOPER0000001',
      session: `bg-${grant.id}`,
    });
    const ghost = assumedRoleIdentity(profileSession(newGrantId()));
    const report = await captureActivity(
      w.capture,
      w.deliver(getObject(impostor, '2026-11-24T10:05:00Z'), getObject(ghost, '2026-11-24T10:05:00Z')),
    );
    expect(report.results.map((r) => r.outcome)).toEqual(['ignored', 'ignored']);
    expect(report.results[0]!.reason).toMatch(/role Developer, not of the grant's role bg-demo/);
    expect(report.results[1]!.reason).toMatch(/does not exist/);
    expect(await w.activity.all(grant.id)).toHaveLength(0);
  });

  it('caller mode: ties an Identity Center session to its grant by aws:userid, only within the grant window', async () => {
    // Prepare: alice's AWSReservedSSO_… session holds a grant on that role (caller mode).
    const w = world();
    const identity = assumedRoleIdentity(ssoSession);
    const grant = await w.add({
      principalArn: identity.arn,
      targetName: ssoSession.role,
      sessionUserId: identity.principalId,
    });
    await registerGrantSession(w.activity, grant);
    // Act: one call in the window, one before it, one after it.
    const report = await captureActivity(
      w.capture,
      w.deliver(
        stopInstances(identity, '2026-11-24T10:10:00Z'),
        stopInstances(identity, '2026-11-24T09:59:59Z'),
        stopInstances(identity, '2026-11-24T10:30:01Z'),
      ),
    );
    // Assess: the session's own calls outside the window are not break-glass activity.
    expect(report.results.map((r) => r.outcome)).toEqual(['stored', 'ignored', 'ignored']);
    const [record] = await w.activity.all(grant.id);
    expect(record).toMatchObject({ attribution: 'userid', identity: identity.arn, afterEnd: false });
    expect(w.ports.notifier.alerts).toHaveLength(0);
  });

  it('caller mode: ties an IAM user by its ARN, and a call to every grant the session held at that moment', async () => {
    const w = world();
    const user = iamUserIdentity('oncall', 'AIDAONCALLUSER000001');
    const first = await w.add({ principalArn: user.arn, targetType: 'user', targetName: 'oncall' });
    const second = await w.add({
      principalArn: user.arn,
      targetType: 'user',
      targetName: 'oncall',
      profile: 'db',
      createdAt: '2026-11-24T10:01:00.000Z',
    });
    await registerGrantSession(w.activity, first);
    await registerGrantSession(w.activity, second);
    const report = await captureActivity(w.capture, w.deliver(getObject(user, '2026-11-24T10:02:00Z')));
    expect(report.results[0]).toMatchObject({ outcome: 'stored' });
    expect([...report.results[0]!.grantIds].sort()).toEqual([first.id, second.id].sort());
    expect(await w.activity.all(first.id)).toHaveLength(1);
    expect(await w.activity.all(second.id)).toHaveLength(1);
  });

  it('rejects what is not a CloudTrail API call, and keeps going with the rest of the batch', async () => {
    const w = world();
    const grant = await w.add();
    const good = getObject(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:05:00Z');
    const report = await captureActivity(w.capture, [
      { id: 'a', event: { ...viaEventBridge(good), 'detail-type': 'AWS Console Sign In via CloudTrail' } },
      { id: 'b', event: viaEventBridge({ ...good, eventID: undefined } as never) },
      { id: 'c', event: 'not an event' },
      { id: 'd', event: viaEventBridge({ ...good, eventTime: 'yesterday' }) },
      { id: 'e', event: viaEventBridge(good) },
    ]);
    expect(report.results.map((r) => r.outcome)).toEqual(['rejected', 'rejected', 'rejected', 'rejected', 'stored']);
  });

  it('reports a failed store as failed for that delivery only', async () => {
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    w.activity.failRecord = Object.assign(new Error('Rate exceeded'), {
      name: 'ProvisionedThroughputExceededException',
    });
    const report = await captureActivity(w.capture, w.deliver(getObject(identity, '2026-11-24T10:05:00Z')));
    expect(report.results[0]).toMatchObject({ outcome: 'failed' });
    expect(report.results[0]!.reason).toMatch(/ProvisionedThroughputExceeded/);
  });
});

describe('capture: what is kept', () => {
  it('keeps an AccessDenied attempt beyond the grant with its error, counted as denied', async () => {
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    await captureActivity(w.capture, w.deliver(createUserDenied(identity, '2026-11-24T10:07:00Z')));
    const [record] = await w.activity.all(grant.id);
    expect(record).toMatchObject({ action: 'CreateUser', errorCode: 'AccessDenied', readOnly: false });
    expect(record!.errorMessage).toMatch(/not authorized to perform: iam:CreateUser/);
    expect(await w.activity.summary(grant.id)).toMatchObject({ calls: 1, writes: 1, denied: 1 });
  });

  it('never keeps responseElements: the credentials AssumeRole returned are nowhere in the record', async () => {
    const w = world();
    const grant = await w.add();
    await captureActivity(
      w.capture,
      w.deliver(assumeRole(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:07:00Z')),
    );
    const [record] = await w.activity.all(grant.id);
    const stored = JSON.stringify(record);
    expect(stored).not.toContain('FwoGZXIvYXdzEXAMPLESESSIONTOKEN');
    expect(stored).not.toContain('ASIARESPONSEKEY00001');
    expect(record).not.toHaveProperty('responseElements');
    expect(JSON.parse(record!.requestParameters!)).toEqual({
      durationSeconds: 3600,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/Deployer`,
      roleSessionName: 'deploy',
    });
  });

  it('drops secret-named fields at every depth, case-insensitively, and lists their paths', () => {
    const request = {
      userName: 'bob',
      Password: 'hunter2',
      passwordResetRequired: true,
      nested: { clientSecret: 's1', items: [{ SessionToken: 't1', keep: 'k' }, { 'private-key': 'p' }] },
      KeyMaterial: 'AAAA',
      SecretString: '{"db":"pw"}',
      authToken: 'x',
      Credentials: { accessKeyId: 'AKIA' },
      keyId: 'alias/app',
      key: 'logs/app.log',
    };
    const { value, redacted } = redact(request);
    expect(value).toEqual({
      userName: 'bob',
      nested: { items: [{ keep: 'k' }, {}] },
      keyId: 'alias/app',
      key: 'logs/app.log',
    });
    expect(redacted.sort()).toEqual(
      [
        'Credentials',
        'KeyMaterial',
        'Password',
        'SecretString',
        'authToken',
        'nested.clientSecret',
        'nested.items[0].SessionToken',
        'nested.items[1].private-key',
        'passwordResetRequired',
      ].sort(),
    );
    expect(JSON.stringify(value)).not.toMatch(/hunter2|s1|t1|AAAA|pw/);
    // The documented rule, exactly.
    expect(SECRET_MARKERS).toEqual([
      'password',
      'passwd',
      'passphrase',
      'secret',
      'token',
      'credential',
      'privatekey',
      'keymaterial',
      'plaintext',
      'apikey',
      'authorization',
      'userdata',
    ]);
    expect(['x-api-key', 'UserData', 'Plaintext', 'Authorization'].every(isSecretName)).toBe(true);
    expect(['keyId', 'key', 'bucketName', 'roleArn'].some(isSecretName)).toBe(false);
  });

  it('bounds requestParameters to 2 KiB of UTF-8, cutting long values first and marking the cut', () => {
    const huge = {
      policyDocument: 'x'.repeat(10_000),
      tags: Array.from({ length: 500 }, (_, i) => ({ key: `k${i}`, value: 'é'.repeat(50) })),
    };
    const kept = boundedRequest(huge);
    expect(kept.requestTruncated).toBe(true);
    expect(Buffer.byteLength(kept.requestParameters!, 'utf8')).toBeLessThanOrEqual(MAX_REQUEST_BYTES);
    expect(kept.requestParameters).not.toContain('\uFFFD'); // no character split in half
    const small = boundedRequest({ bucketName: 'b' });
    expect(small).toEqual({ requestParameters: '{"bucketName":"b"}' });
  });

  it('derives the resources from the request when CloudTrail lists none', async () => {
    const w = world();
    const grant = await w.add();
    const record = {
      ...getObject(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:05:00Z'),
      resources: undefined,
    };
    await captureActivity(w.capture, w.deliver(record as never));
    const [stored] = await w.activity.all(grant.id);
    expect(stored!.resources).toEqual(['arn:aws:s3:::incident-logs/app/2026-11-24.log']);
  });
});

describe('capture: duplicates', () => {
  it('stores an event delivered twice (in one batch and again later) once, counted once', async () => {
    const w = world();
    const grant = await w.add();
    const call = stopInstances(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:05:00Z');
    const first = await captureActivity(w.capture, w.deliver(call, call));
    const again = await captureActivity(w.capture, w.deliver(call));
    expect([...first.results, ...again.results].map((r) => r.outcome)).toEqual(['stored', 'duplicate', 'duplicate']);
    expect(await w.activity.all(grant.id)).toHaveLength(1);
    expect(await w.activity.summary(grant.id)).toMatchObject({ calls: 1, writes: 1 });
  });
});

describe('capture: calls after the grant ended', () => {
  it('keeps a late *delivery* of a call made in time unflagged: only eventTime counts', async () => {
    const w = world();
    const grant = await w.add();
    w.ports.clock.current = new Date('2026-11-24T10:50:00Z'); // delivered 20 minutes after expiry
    await captureActivity(
      w.capture,
      w.deliver(stopInstances(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:29:59Z')),
    );
    const [record] = await w.activity.all(grant.id);
    expect(record).toMatchObject({ afterEnd: false, capturedAt: '2026-11-24T10:50:00.000Z' });
    expect(w.ports.notifier.alerts).toHaveLength(0);
  });

  it('a call in the end second itself is not after the end; one second later it is', async () => {
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    await captureActivity(
      w.capture,
      w.deliver(getObject(identity, '2026-11-24T10:30:00Z'), getObject(identity, '2026-11-24T10:30:01Z')),
    );
    const records = await w.activity.all(grant.id);
    expect(records.map((r) => [r.eventTime, r.afterEnd])).toEqual([
      ['2026-11-24T10:30:00Z', false],
      ['2026-11-24T10:30:01Z', true],
    ]);
  });

  it('raises one CRITICAL alert per grant for allowed calls after the end, none for denied ones', async () => {
    // Prepare
    const w = world();
    const grant = await w.add({ status: 'EXPIRED', endedAt: '2026-11-24T10:30:02.120Z' });
    const identity = assumedRoleIdentity(profileSession(grant.id));
    // Act
    const report = await captureActivity(
      w.capture,
      w.deliver(
        createUserDenied(identity, '2026-11-24T10:31:00Z'),
        stopInstances(identity, '2026-11-24T10:32:00Z'),
        getObject(identity, '2026-11-24T10:33:00Z'),
      ),
    );
    // Assess
    expect(report.alerts).toHaveLength(1);
    const [alert] = w.ports.notifier.alerts;
    expect(alert!.attributes).toMatchObject({
      eventType: ACTIVITY_AFTER_END,
      severity: 'CRITICAL',
      grantId: grant.id,
      profile: 'demo',
      principal: REQUESTER,
    });
    expect(alert!.subject).toBe('[break-glass CRITICAL] 2 call(s) ALLOWED after demo of alice ended');
    expect(alert!.subject.length).toBeLessThanOrEqual(100);
    expect(alert!.body).toContain('ec2:StopInstances');
    expect(alert!.body).toContain('s3:GetObject');
    expect(alert!.body).not.toContain('CreateUser');
    expect(alert!.machine).toMatchObject({
      eventType: ACTIVITY_AFTER_END,
      total: 2,
      grant: { id: grant.id, endSecond: '2026-11-24T10:30:00Z' },
    });
    expect(await w.activity.summary(grant.id)).toMatchObject({ calls: 3, afterEnd: 3, afterEndAllowed: 2, denied: 1 });
  });

  it('uses the revocation, not the planned expiry, as the end of a revoked grant', async () => {
    const w = world();
    const grant = await w.add({ status: 'REVOKED', endedAt: '2026-11-24T10:12:00.500Z' });
    await captureActivity(
      w.capture,
      w.deliver(getObject(assumedRoleIdentity(profileSession(grant.id)), '2026-11-24T10:15:00Z')),
    );
    expect((await w.activity.all(grant.id))[0]!.afterEnd).toBe(true);
    expect(w.ports.notifier.alerts).toHaveLength(1);
  });

  it('fails the deliveries whose CRITICAL alert could not be published, and alerts on their redelivery', async () => {
    const w = world();
    const grant = await w.add({ status: 'EXPIRED', endedAt: '2026-11-24T10:30:01.000Z' });
    const identity = assumedRoleIdentity(profileSession(grant.id));
    const late = stopInstances(identity, '2026-11-24T10:40:00Z');
    const fine = stopInstances(identity, '2026-11-24T10:10:00Z');
    w.ports.notifier.fail = new Error('SNS down');
    const first = await captureActivity(w.capture, w.deliver(late, fine));
    expect(first.results.map((r) => r.outcome)).toEqual(['failed', 'stored']);
    w.ports.notifier.fail = undefined;
    const redelivered = await captureActivity(w.capture, w.deliver(late));
    expect(redelivered.results[0]!.outcome).toBe('duplicate');
    expect(w.ports.notifier.alerts).toHaveLength(1);
    expect(await w.activity.summary(grant.id)).toMatchObject({ calls: 2, afterEndAllowed: 1 });
  });
});

describe('integrity', () => {
  it('hashes each record; a changed record or a missing one shows; the digest ignores delivery order', async () => {
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    const calls = [
      getObject(identity, '2026-11-24T10:01:00Z'),
      stopInstances(identity, '2026-11-24T10:02:00Z'),
      createUserDenied(identity, '2026-11-24T10:03:00Z'),
    ];
    await captureActivity(w.capture, w.deliver(...calls));
    const records = await w.activity.all(grant.id);
    const summary = await w.activity.summary(grant.id);
    const verdict = verifyActivity(summary, records);
    expect(verdict).toMatchObject({ ok: true, calls: 3 });
    expect(activityDigest(grant.id, [...records].reverse()).root).toBe((verdict as { root: string }).root);
    expect(records.every((r) => r.hash === activityHash(r))).toBe(true);

    const edited: ActivityRecord[] = records.map((r, i) =>
      i === 1 ? { ...r, errorCode: undefined, action: 'DescribeInstances' } : r,
    );
    expect(verifyActivity(summary, edited)).toMatchObject({
      ok: false,
      problem: expect.stringMatching(/was changed after it was written/),
    });
    expect(verifyActivity(summary, records.slice(1))).toMatchObject({
      ok: false,
      problem: 'the summary counts 3 calls but 2 records exist',
    });
    expect(activityDigest(grant.id, records.slice(1)).root).not.toBe((verdict as { root: string }).root);
  });
});

describe('read side: GET /grants/{id}/activity', () => {
  async function withCalls(count: number) {
    const w = world();
    const grant = await w.add();
    const identity = assumedRoleIdentity(profileSession(grant.id));
    const calls = Array.from({ length: count }, (_, i) =>
      getObject(identity, `2026-11-24T10:${String(1 + i).padStart(2, '0')}:00Z`),
    );
    await captureActivity(w.capture, w.deliver(...[...calls].reverse())); // any delivery order
    const ports = { store: w.ports.store, activity: w.activity };
    const readers = {
      security: [`arn:aws:iam::${ACCOUNT}:role/Security`],
      reviewers: [`arn:aws:iam::${ACCOUNT}:role/Reviewer`],
    };
    return { w, grant, ports, readers };
  }

  it('pages newest first with no call lost or repeated, and the summary on each page', async () => {
    const { grant, ports, readers } = await withCalls(7);
    const seen: string[] = [];
    const sizes: number[] = [];
    let nextToken: string | undefined;
    do {
      const page = await getActivity(ports, readers, {
        grantId: grant.id,
        caller: { arn: REQUESTER },
        query: { limit: '3', ...(nextToken ? { nextToken } : {}) },
      });
      expect(page.summary).toMatchObject({ calls: 7 });
      sizes.push(page.activity.length);
      seen.push(...page.activity.map((a) => a.eventTime));
      nextToken = page.nextToken;
    } while (nextToken);
    expect(sizes).toEqual([3, 3, 1]);
    expect(seen).toEqual([...seen].sort().reverse());
    expect(new Set(seen).size).toBe(7);
  });

  it('refuses a token issued for another grant, a bad limit and unknown parameters with 400s', async () => {
    const { grant, ports, readers, w } = await withCalls(3);
    const other = await w.add();
    await captureActivity(
      w.capture,
      w.deliver(
        getObject(assumedRoleIdentity(profileSession(other.id)), '2026-11-24T10:01:00Z'),
        getObject(assumedRoleIdentity(profileSession(other.id)), '2026-11-24T10:02:00Z'),
      ),
    );
    const foreign = (
      await getActivity(ports, readers, { grantId: other.id, caller: { arn: REQUESTER }, query: { limit: '1' } })
    ).nextToken!;
    const ask = (query: Record<string, string>) =>
      getActivity(ports, readers, { grantId: grant.id, caller: { arn: REQUESTER }, query });
    await expect(ask({ nextToken: foreign })).rejects.toThrow(ValidationError);
    await expect(ask({ limit: '0' })).rejects.toThrow(ValidationError);
    await expect(ask({ limit: '101' })).rejects.toThrow(ValidationError);
    await expect(ask({ limit: '2x' })).rejects.toThrow(ValidationError);
    await expect(ask({ nextToken: 'not/a token' })).rejects.toThrow(ValidationError);
    await expect(ask({ from: '2026-11-24' })).rejects.toThrow(/unknown query parameter/);
    await expect(
      getActivity(ports, readers, { grantId: '../etc', caller: { arn: REQUESTER }, query: {} }),
    ).rejects.toThrow(ValidationError);
  });

  it('lets the requester, security and reviewers read; refuses anyone else; 404 for no grant', async () => {
    const { grant, ports, readers } = await withCalls(1);
    const read = (arn: string) => getActivity(ports, readers, { grantId: grant.id, caller: { arn }, query: {} });
    expect((await read(REQUESTER)).activity).toHaveLength(1);
    expect((await read(`arn:aws:sts::${ACCOUNT}:assumed-role/Security/sam`)).activity).toHaveLength(1);
    expect((await read(`arn:aws:sts::${ACCOUNT}:assumed-role/Reviewer/rita`)).activity).toHaveLength(1);
    await expect(read(`arn:aws:sts::${ACCOUNT}:assumed-role/Responder/bob`)).rejects.toThrow(ForbiddenError);
    await expect(
      getActivity(ports, readers, { grantId: newGrantId(), caller: { arn: SECURITY }, query: {} }),
    ).rejects.toThrow(GrantNotFoundError);
  });
});
