/**
 * CloudTrail records as AWS documents them, wrapped as EventBridge delivers them.
 *
 * Shapes follow the AWS CloudTrail User Guide, "CloudTrail record contents" and "CloudTrail
 * userIdentity element" (https://docs.aws.amazon.com/awscloudtrail/latest/userguide/cloudtrail-event-reference-user-identity.html):
 * an `AssumedRole` identity has `principalId` `<roleId>:<sessionName>` and `arn`
 * `arn:aws:sts::<acct>:assumed-role/<role>/<session>`, with `sessionContext.sessionIssuer` naming the
 * role (its path included). IAM Identity Center sessions are sessions of `AWSReservedSSO_<permission
 * set>_<hash>` roles named after the user. `readOnly`, `managementEvent`, `resources[]` (`ARN`,
 * `accountId`, `type`), `errorCode`/`errorMessage` and `responseElements` are as documented; the
 * EventBridge envelope (detail-type "AWS API Call via CloudTrail", `detail` = the record) follows the
 * EventBridge User Guide, "AWS service events delivered via AWS CloudTrail".
 */
export const ACCT = '123456789012';
export const PROFILE_ROLE = 'bg-demo';
export const PROFILE_ROLE_ID = 'AROAPROFILEROLE000001';

let n = 0;
/** A fresh CloudTrail eventID (a UUID, as CloudTrail issues). */
export function eventId(): string {
  n += 1;
  return `e0000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

export interface Session {
  readonly role: string;
  readonly roleId: string;
  readonly session: string;
  readonly path?: string;
}

export const profileSession = (grantId: string): Session => ({
  role: PROFILE_ROLE,
  roleId: PROFILE_ROLE_ID,
  session: `bg-${grantId}`,
  path: '/breakglass/profile/',
});
/** An IAM Identity Center user's session (caller mode). */
export const ssoSession: Session = {
  role: 'AWSReservedSSO_AdministratorAccess_8e1a2b3c4d5e6f70',
  roleId: 'AROASSOADMINROLE00001',
  session: 'alice@example.com',
  path: '/aws-reserved/sso.amazonaws.com/',
};

export function assumedRoleIdentity(s: Session) {
  return {
    type: 'AssumedRole',
    principalId: `${s.roleId}:${s.session}`,
    arn: `arn:aws:sts::${ACCT}:assumed-role/${s.role}/${s.session}`,
    accountId: ACCT,
    accessKeyId: 'ASIAEXAMPLEKEY000001',
    sessionContext: {
      sessionIssuer: {
        type: 'Role',
        principalId: s.roleId,
        arn: `arn:aws:iam::${ACCT}:role${s.path ?? '/'}${s.role}`,
        accountId: ACCT,
        userName: s.role,
      },
      attributes: { creationDate: '2026-11-24T10:00:00Z', mfaAuthenticated: 'false' },
    },
  };
}

export function iamUserIdentity(userName: string, userId: string) {
  return {
    type: 'IAMUser',
    principalId: userId,
    arn: `arn:aws:iam::${ACCT}:user/${userName}`,
    accountId: ACCT,
    accessKeyId: 'AKIAEXAMPLEKEY000001',
    userName,
  };
}

type Identity = ReturnType<typeof assumedRoleIdentity> | ReturnType<typeof iamUserIdentity>;

/** S3 GetObject (a data event: read-only, resources listed). */
export function getObject(identity: Identity, eventTime: string, id = eventId()) {
  return {
    eventVersion: '1.09',
    userIdentity: identity,
    eventTime,
    eventSource: 's3.amazonaws.com',
    eventName: 'GetObject',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: '[aws-cli/2.15.0 Python/3.11.6 Linux/6.1 exe/x86_64]',
    requestParameters: {
      bucketName: 'incident-logs',
      Host: 'incident-logs.s3.us-east-1.amazonaws.com',
      key: 'app/2026-11-24.log',
    },
    responseElements: null,
    additionalEventData: { bytesTransferredOut: 1024 },
    requestID: 'EXAMPLE123456789',
    eventID: id,
    readOnly: true,
    resources: [
      { type: 'AWS::S3::Object', ARN: 'arn:aws:s3:::incident-logs/app/2026-11-24.log' },
      { accountId: ACCT, type: 'AWS::S3::Bucket', ARN: 'arn:aws:s3:::incident-logs' },
    ],
    eventType: 'AwsApiCall',
    managementEvent: false,
    recipientAccountId: ACCT,
    eventCategory: 'Data',
  };
}

/** EC2 StopInstances: a write management event (no resources[] in the record). */
export function stopInstances(identity: Identity, eventTime: string, id = eventId()) {
  return {
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime,
    eventSource: 'ec2.amazonaws.com',
    eventName: 'StopInstances',
    awsRegion: 'eu-west-1',
    sourceIPAddress: '198.51.100.7',
    userAgent: 'aws-sdk-js/3.0 ua/2.1 os/linux',
    requestParameters: { instancesSet: { items: [{ instanceId: 'i-0abc123def4567890' }] }, force: false },
    responseElements: {
      requestId: 'r-1',
      instancesSet: { items: [{ instanceId: 'i-0abc123def4567890', currentState: { code: 64, name: 'stopping' } }] },
    },
    requestID: 'r-1',
    eventID: id,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCT,
    eventCategory: 'Management',
  };
}

/** IAM CreateUser refused: beyond the grant's scope (errorCode AccessDenied, as IAM logs it). */
export function createUserDenied(identity: Identity, eventTime: string, id = eventId()) {
  return {
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime,
    eventSource: 'iam.amazonaws.com',
    eventName: 'CreateUser',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2.15.0',
    errorCode: 'AccessDenied',
    errorMessage: `User: ${identity.arn} is not authorized to perform: iam:CreateUser on resource: arn:aws:iam::${ACCT}:user/backdoor because no identity-based policy allows the iam:CreateUser action`,
    requestParameters: { userName: 'backdoor' },
    responseElements: null,
    requestID: 'r-2',
    eventID: id,
    readOnly: false,
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCT,
    eventCategory: 'Management',
  };
}

/** STS AssumeRole: its responseElements carry credentials, which must never be kept. */
export function assumeRole(identity: Identity, eventTime: string, id = eventId()) {
  return {
    eventVersion: '1.08',
    userIdentity: identity,
    eventTime,
    eventSource: 'sts.amazonaws.com',
    eventName: 'AssumeRole',
    awsRegion: 'us-east-1',
    sourceIPAddress: '192.0.2.10',
    userAgent: 'aws-cli/2.15.0',
    requestParameters: {
      roleArn: `arn:aws:iam::${ACCT}:role/Deployer`,
      roleSessionName: 'deploy',
      durationSeconds: 3600,
    },
    responseElements: {
      credentials: {
        accessKeyId: 'ASIARESPONSEKEY00001',
        sessionToken: 'FwoGZXIvYXdzEXAMPLESESSIONTOKEN',
        expiration: 'Nov 24, 2026, 11:00:00 AM',
      },
      assumedRoleUser: {
        assumedRoleId: 'AROADEPLOYER:deploy',
        arn: `arn:aws:sts::${ACCT}:assumed-role/Deployer/deploy`,
      },
    },
    requestID: 'r-3',
    eventID: id,
    readOnly: true,
    resources: [{ ARN: `arn:aws:iam::${ACCT}:role/Deployer`, accountId: ACCT, type: 'AWS::IAM::Role' }],
    eventType: 'AwsApiCall',
    managementEvent: true,
    recipientAccountId: ACCT,
    eventCategory: 'Management',
  };
}

/** The EventBridge event wrapping a record. */
export function viaEventBridge(record: { eventID: string; eventSource: string; eventTime: string; awsRegion: string }) {
  return {
    version: '0',
    id: `eb-${record.eventID}`,
    'detail-type': 'AWS API Call via CloudTrail',
    source: `aws.${record.eventSource.split('.')[0]}`,
    account: ACCT,
    time: record.eventTime,
    region: record.awsRegion,
    resources: [],
    detail: record,
  };
}
