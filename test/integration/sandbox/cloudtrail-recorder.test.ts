/**
 * The sandbox's stand-in for CloudTrail against moto: real SDK clients signed with a vended access
 * key call moto through the recorder; each call becomes a CloudTrail-shaped record that the real
 * capture use case stores under its grant. Calls signed with any other key pass through unrecorded.
 */
import { randomUUID } from 'node:crypto';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { IAMClient, ListRolesCommand } from '@aws-sdk/client-iam';
import { CreateBucketCommand, GetObjectCommand, ListBucketsCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { DynamoActivityStore } from '../../../functions/adapters/dynamodb-activity.adapter.js';
import { DynamoGrantStore } from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { verifyActivity } from '../../../functions/domain/activity.js';
import { captureActivity } from '../../../functions/domain/activity-capture.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { CloudTrailRecorder, describeCall, errorOf } from '../../../sandbox/cloudtrail-recorder.js';
import { emulatorConfig } from '../../../sandbox/seed.js';
import { setUpWorld, type TestWorld } from '../../support/emulator.js';
import { MemoryNotifier } from '../../support/fakes.js';

const ACCOUNT = '123456789012';
const VENDED = { accessKeyId: 'ASIASANDBOXVENDED001', secretAccessKey: 'secret', sessionToken: 'token' };
const OTHER = { accessKeyId: 'AKIAHANDLERSOWNKEY01', secretAccessKey: 'secret' };

let world: TestWorld;
let recorder: CloudTrailRecorder;
let endpoint: string;
let grants: DynamoGrantStore;
let activity: DynamoActivityStore;
let grant: Grant;

beforeAll(async () => {
  world = await setUpWorld(inject('motoEndpoint'));
  const dynamo = new DynamoDBClient(emulatorConfig(world.endpoint));
  grants = new DynamoGrantStore({ tableName: world.tableName, awsSdkV3Client: dynamo });
  activity = new DynamoActivityStore({ tableName: world.tableName, awsSdkV3Client: dynamo });
  const id = randomUUID();
  const now = new Date();
  grant = await grants.create(
    {
      id,
      profile: 'demo',
      owner: 'platform@example.com',
      principalArn: `arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice`,
      targetType: 'role',
      targetName: 'breakglass-demo-0',
      status: 'ACTIVE',
      reason: 'the sandbox stand-in for CloudTrail',
      durationMinutes: 60,
      createdAt: new Date(now.getTime() - 60_000).toISOString(),
      expiresAt: new Date(now.getTime() + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
      policyName: `breakglass-${id}`,
      scheduleName: `breakglass-${id}`,
      version: 1,
      eventCount: 0,
    },
    { type: 'REQUESTED', at: now.toISOString(), actor: 'test', outcome: 'SUCCESS' },
  );
  const ports = {
    store: grants,
    activity,
    notifier: new MemoryNotifier(),
    clock: { now: () => new Date() },
    log: console,
  };
  recorder = new CloudTrailRecorder({
    target: world.endpoint,
    account: ACCOUNT,
    // As EventBridge hands an event to the capture function (one event, no queue).
    deliver: async (event) => {
      const report = await captureActivity(ports, [{ id: String(event.id), event }]);
      if (report.results[0]?.outcome !== 'stored') throw new Error(JSON.stringify(report.results));
    },
  });
  endpoint = `http://127.0.0.1:${await recorder.start(0)}`;
  recorder.register(VENDED.accessKeyId, {
    grantId: grant.id,
    roleArn: `arn:aws:iam::${ACCOUNT}:role/breakglass/profile/breakglass-demo-0`,
    roleId: 'AROASANDBOXPROFILE01',
    sessionName: `bg-${grant.id}`,
    issuedAt: now.toISOString().replace(/\.\d{3}Z$/, 'Z'),
  });
});

afterAll(async () => {
  await recorder?.stop();
});

const client = <T>(Kind: new (c: object) => T, credentials: object) =>
  new Kind({ region: 'eu-west-1', endpoint, credentials, forcePathStyle: true, maxAttempts: 1 });

describe('the CloudTrail stand-in', () => {
  it("turns the vended session's calls into CloudTrail records stored under its grant, and nobody else's", async () => {
    // Act: three calls with the vended key (a write, a read, a failing read), two with another key.
    const s3 = client(S3Client, VENDED);
    const bucket = `ct-${randomUUID().slice(0, 8)}`;
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await s3.send(new ListBucketsCommand({}));
    await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: 'missing.txt' }))).rejects.toThrow();
    await client(S3Client, OTHER).send(new ListBucketsCommand({}));
    await client(IAMClient, OTHER).send(new ListRolesCommand({}));
    await recorder.settle();
    // Assess: the grant's activity, through the real adapter
    const { activity: calls } = await activity.page(grant.id, { limit: 25 });
    expect(calls.map((c) => c.action).sort()).toEqual(['CreateBucket', 'GetObject', 'ListBuckets']);
    for (const c of calls) {
      expect(c).toMatchObject({
        grantId: grant.id,
        service: 's3.amazonaws.com',
        region: 'eu-west-1',
        account: ACCOUNT,
        attribution: 'session',
        identity: `arn:aws:sts::${ACCOUNT}:assumed-role/breakglass-demo-0/bg-${grant.id}`,
        afterEnd: false,
      });
      expect(c.sourceIp).toBe('127.0.0.1');
      expect(c.userAgent).toMatch(/aws-sdk-js/);
    }
    const byAction = Object.fromEntries(calls.map((c) => [c.action, c]));
    expect(byAction.ListBuckets!.readOnly).toBe(true);
    expect(byAction.CreateBucket!.readOnly).toBe(false);
    expect(byAction.GetObject!.errorCode).toBe('NoSuchKey');
    expect(byAction.GetObject!.resources).toEqual([`arn:aws:s3:::${bucket}/missing.txt`]);
    const summary = await activity.summary(grant.id);
    expect(summary).toMatchObject({ calls: 3, writes: 1 });
    expect(verifyActivity(summary, await activity.all(grant.id))).toMatchObject({ ok: true, calls: 3 });
    expect(recorder.delivered).toBe(3);
  });

  it("records a spoke grant's session in the spoke's account, stored under that grant only", async () => {
    // Prepare: a grant in the spoke, and its vended key registered with the spoke's account.
    const SPOKE = '210987654321';
    const spokeKey = { accessKeyId: 'ASIASANDBOXSPOKE0001', secretAccessKey: 'secret', sessionToken: 'token' };
    const id = randomUUID();
    const spokeGrant = await grants.create(
      {
        ...grant,
        id,
        account: SPOKE,
        targetName: 'breakglass-spoke-logs-0',
        policyName: `breakglass-${id}`,
        scheduleName: `breakglass-${id}`,
      },
      { type: 'REQUESTED', at: new Date().toISOString(), actor: 'test', outcome: 'SUCCESS' },
    );
    recorder.register(spokeKey.accessKeyId, {
      grantId: id,
      account: SPOKE,
      roleArn: `arn:aws:iam::${SPOKE}:role/breakglass/profile/breakglass-spoke-logs-0`,
      roleId: 'AROASANDBOXSPOKE0001',
      sessionName: `bg-${id}`,
      issuedAt: new Date().toISOString().replace(/\.\d{3}Z$/, 'Z'),
    });
    const before = (await activity.summary(grant.id)).calls;
    // Act
    await client(S3Client, spokeKey).send(new ListBucketsCommand({}));
    await recorder.settle();
    // Assess: the spoke's account throughout, and the hub grant untouched.
    const [record] = await activity.all(spokeGrant.id);
    expect(record).toMatchObject({
      account: SPOKE,
      action: 'ListBuckets',
      identity: `arn:aws:sts::${SPOKE}:assumed-role/breakglass-spoke-logs-0/bg-${id}`,
      attribution: 'session',
    });
    expect((await activity.summary(spokeGrant.id)).calls).toBe(1);
    expect((await activity.summary(grant.id)).calls).toBe(before);
  });

  it('records in the documented CloudTrail shape', () => {
    const call = describeCall(
      'POST',
      new URL('http://local/'),
      {
        authorization:
          'AWS4-HMAC-SHA256 Credential=ASIAX/20261124/eu-west-1/iam/aws4_request, SignedHeaders=host, Signature=abc',
        'content-type': 'application/x-www-form-urlencoded',
      },
      'Action=CreateUser&Version=2010-05-08&UserName=mallory',
    )!;
    expect(call).toEqual({
      service: 'iam',
      region: 'eu-west-1',
      accessKeyId: 'ASIAX',
      action: 'CreateUser',
      parameters: { userName: 'mallory' },
    });
    const record = recorder.record(
      {
        grantId: grant.id,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/breakglass/profile/r`,
        roleId: 'AROAR',
        sessionName: 'bg-x',
        issuedAt: '2026-11-24T10:00:00Z',
      },
      call,
      {
        sourceIp: '127.0.0.1',
        status: 403,
        responseBody: '<ErrorResponse><Error><Code>AccessDenied</Code><Message>no</Message></Error></ErrorResponse>',
      },
    );
    expect(Object.keys(record)).toEqual(
      expect.arrayContaining([
        'eventVersion',
        'userIdentity',
        'eventTime',
        'eventSource',
        'eventName',
        'awsRegion',
        'sourceIPAddress',
        'errorCode',
        'requestParameters',
        'requestID',
        'eventID',
        'readOnly',
        'eventType',
        'managementEvent',
        'recipientAccountId',
      ]),
    );
    expect(record).toMatchObject({
      eventSource: 'iam.amazonaws.com',
      eventName: 'CreateUser',
      errorCode: 'AccessDenied',
      readOnly: false,
      userIdentity: {
        type: 'AssumedRole',
        principalId: 'AROAR:bg-x',
        sessionContext: { sessionIssuer: { arn: `arn:aws:iam::${ACCOUNT}:role/breakglass/profile/r` } },
      },
    });
    expect(recorder.envelope(record)).toMatchObject({
      'detail-type': 'AWS API Call via CloudTrail',
      source: 'aws.iam',
      account: ACCOUNT,
      detail: record,
    });
    const spokeRecord = recorder.record(
      {
        grantId: grant.id,
        account: '210987654321',
        roleArn: 'arn:aws:iam::210987654321:role/breakglass/profile/r',
        roleId: 'AROAR',
        sessionName: 'bg-x',
        issuedAt: '2026-11-24T10:00:00Z',
      },
      call,
      { sourceIp: '127.0.0.1', status: 200, responseBody: '' },
    );
    expect(spokeRecord).toMatchObject({
      recipientAccountId: '210987654321',
      userIdentity: { accountId: '210987654321', arn: 'arn:aws:sts::210987654321:assumed-role/r/bg-x' },
    });
    expect(recorder.envelope(spokeRecord).account).toBe('210987654321');
    expect(
      errorOf(400, '{"__type":"com.amazonaws.dynamodb.v20120810#ResourceNotFoundException","message":"x"}'),
    ).toEqual({ errorCode: 'ResourceNotFoundException', errorMessage: 'x' });
  });
});
