/**
 * Creates, in an emulator, what the CDK stacks create in AWS: the table (same keys and
 * indexes), the alert topic, the schedule group, the expiry function's on-failure queue, and
 * the IAM principals of the demo.
 */
import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DynamoDBClient,
  UpdateContinuousBackupsCommand,
} from '@aws-sdk/client-dynamodb';
import {
  CreatePolicyCommand,
  CreateRoleCommand,
  CreateUserCommand,
  GetRoleCommand,
  IAMClient,
} from '@aws-sdk/client-iam';
import { CreateBucketCommand, PutBucketVersioningCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateScheduleGroupCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { CreateTopicCommand, SNSClient, SubscribeCommand } from '@aws-sdk/client-sns';
import { CreateQueueCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GSI, KEY_ATTRIBUTES } from '../functions/adapters/table-schema.js';
import type { ProfileSet } from '../functions/domain/profile.js';
import { PROFILE_ROLE_PATH, profileRolePools } from '../functions/domain/profile-roles.js';
import { profilesIn, seedSpoke, spokeAccounts } from './spokes.js';

export const ACCOUNT = '123456789012';
export const REGION = 'us-east-1';

/** Client settings for the emulator. The keys are moto's dummies, not credentials. */
export function emulatorConfig(endpoint: string) {
  return { endpoint, region: REGION, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

export interface Seeded {
  readonly tableName: string;
  readonly tableArn: string;
  readonly topicArn: string;
  readonly scheduleGroup: string;
  readonly expiryFunctionArn: string;
  readonly schedulerRoleArn: string;
  /** The bucket that receives the table's exports (versioned, as in the stack). */
  readonly auditBucket: string;
  /** `PROTECTED_RESOURCES` for this deployment: what every grant's policy denies. */
  readonly protectedResources: readonly string[];
  /** The role the credential function runs as: the only principal the profile roles trust. */
  readonly credentialRoleArn: string;
  /** The profile roles created (names). */
  readonly profileRoles: readonly string[];
  /** Spoke account → the profile roles created there. */
  readonly spokeProfileRoles: Readonly<Record<string, readonly string[]>>;
  /** The expiry function's on-failure destination: Lambda's record of an expiry that failed every attempt. */
  readonly expiryFailureQueueArn: string;
  readonly expiryFailureQueueUrl: string;
  /** The drill queue: subscribed to the topic, drills' alerts only (`drill = "true"`). */
  readonly drillQueueUrl: string;
  readonly drillQueueArn: string;
}

/** An Identity Center role as IAM Identity Center creates it (path `/aws-reserved/sso.amazonaws.com/`). */
export const SSO_ROLE = 'AWSReservedSSO_OnCall_0123456789abcdef';
export const SSO_ROLE_PATH = '/aws-reserved/sso.amazonaws.com/';

/**
 * What the sandbox protects, as the stacks build `PROTECTED_RESOURCES`: its table (and indexes),
 * topic, bucket, schedule group, functions, and the roles under `/breakglass/` plus the scheduler's.
 */
export function protectedResourcesFor(names: {
  tableArn: string;
  topicArn: string;
  auditBucket: string;
  scheduleGroup: string;
  schedulerRoleArn: string;
  queueArns?: readonly string[];
}): string[] {
  return [
    names.tableArn,
    `${names.tableArn}/*`,
    names.topicArn,
    `arn:aws:s3:::${names.auditBucket}`,
    `arn:aws:s3:::${names.auditBucket}/*`,
    `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule-group/${names.scheduleGroup}`,
    `arn:aws:scheduler:${REGION}:${ACCOUNT}:schedule/${names.scheduleGroup}/*`,
    `arn:aws:lambda:${REGION}:${ACCOUNT}:function:breakglass-*`,
    `arn:aws:iam::${ACCOUNT}:role/breakglass/*`,
    names.schedulerRoleArn,
    ...(names.queueArns ?? []),
  ];
}

const TRUST = JSON.stringify({
  Version: '2012-10-17',
  Statement: [{ Effect: 'Allow', Principal: { AWS: `arn:aws:iam::${ACCOUNT}:root` }, Action: 'sts:AssumeRole' }],
});

/** Creates a role unless it exists; returns its RoleId (the `AROA…` part of `aws:userid`). */
export async function ensureRole(
  iam: IAMClient,
  roleName: string,
  trust = TRUST,
  path?: string,
  boundaryArn?: string,
): Promise<string> {
  try {
    const { Role } = await iam.send(
      new CreateRoleCommand({
        RoleName: roleName,
        AssumeRolePolicyDocument: trust,
        ...(path ? { Path: path } : {}),
        ...(boundaryArn ? { PermissionsBoundary: boundaryArn } : {}),
      }),
    );
    return Role!.RoleId!;
  } catch (error) {
    if ((error as Error).name !== 'EntityAlreadyExistsException') throw error;
    const { Role } = await iam.send(new GetRoleCommand({ RoleName: roleName }));
    return Role!.RoleId!;
  }
}

/** The grants table as the stack defines it (`table-schema.ts`): keys, every index, on-demand. */
export function tableDefinition(tableName: string): CreateTableCommandInput {
  return {
    TableName: tableName,
    BillingMode: 'PAY_PER_REQUEST',
    AttributeDefinitions: KEY_ATTRIBUTES.map((name) => ({ AttributeName: name, AttributeType: 'S' as const })),
    KeySchema: [
      { AttributeName: 'pk', KeyType: 'HASH' },
      { AttributeName: 'sk', KeyType: 'RANGE' },
    ],
    GlobalSecondaryIndexes: Object.entries(GSI).map(([name, index]) => ({
      IndexName: name,
      KeySchema: [
        { AttributeName: index.partitionKey, KeyType: 'HASH' as const },
        { AttributeName: index.sortKey, KeyType: 'RANGE' as const },
      ],
      Projection: { ProjectionType: 'ALL' as const },
    })),
  };
}

export async function seed(
  endpoint: string,
  names: { suffix?: string; roles?: string[]; users?: string[]; profiles?: ProfileSet } = {},
): Promise<Seeded> {
  const config = emulatorConfig(endpoint);
  const suffix = names.suffix ?? 'sandbox';
  const tableName = `breakglass-${suffix}`;
  const scheduleGroup = `breakglass-${suffix}`;
  const ddb = new DynamoDBClient(config);
  await ddb.send(new CreateTableCommand(tableDefinition(tableName)));
  // Point-in-time recovery, as the stack has it: exports need it.
  await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: tableName,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  const auditBucket = `breakglass-audit-${suffix}`.toLowerCase();
  const s3 = new S3Client({ ...config, forcePathStyle: true });
  await s3.send(new CreateBucketCommand({ Bucket: auditBucket })).catch((e: Error) => {
    if (e.name !== 'BucketAlreadyOwnedByYou' && e.name !== 'BucketAlreadyExists') throw e;
  });
  await s3.send(
    new PutBucketVersioningCommand({ Bucket: auditBucket, VersioningConfiguration: { Status: 'Enabled' } }),
  );
  const { TopicArn } = await new SNSClient(config).send(
    new CreateTopicCommand({ Name: `breakglass-alerts-${suffix}` }),
  );
  await new SchedulerClient(config).send(new CreateScheduleGroupCommand({ Name: scheduleGroup }));
  const expiryFailureQueue = `breakglass-expiry-failures-${suffix}`;
  // A standard queue: Lambda's on-failure destinations do not support FIFO queues.
  const { QueueUrl } = await new SQSClient(config).send(new CreateQueueCommand({ QueueName: expiryFailureQueue }));
  const iam = new IAMClient(config);
  const schedulerRole = `breakglass-scheduler-${suffix}`;
  await ensureRole(
    iam,
    schedulerRole,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'scheduler.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  );
  for (const role of names.roles ?? ['Responder', 'Security']) await ensureRole(iam, role);
  await ensureRole(iam, SSO_ROLE, TRUST, SSO_ROLE_PATH);
  const tableArn = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/${tableName}`;
  const schedulerRoleArn = `arn:aws:iam::${ACCOUNT}:role/${schedulerRole}`;
  const expiryFailureQueueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${expiryFailureQueue}`;
  const protectedResources = protectedResourcesFor({
    tableArn,
    topicArn: TopicArn!,
    auditBucket,
    scheduleGroup,
    schedulerRoleArn,
    queueArns: [expiryFailureQueueArn, `arn:aws:sqs:${REGION}:${ACCOUNT}:breakglass-drill-inbox-${suffix}`],
  });
  const drill = await seedDrill(config, TopicArn!, `breakglass-drill-inbox-${suffix}`, names.profiles);
  // The profile roles, from the same pure function the stack uses: no permissions of their own,
  // trusting only the credential function (with sts:SetSourceIdentity).
  const credentialRole = `breakglass-credentials-${suffix}`.slice(0, 64);
  const credentialRoleArn = `arn:aws:iam::${ACCOUNT}:role/${credentialRole}`;
  await ensureRole(
    iam,
    credentialRole,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Principal: { Service: 'lambda.amazonaws.com' }, Action: 'sts:AssumeRole' }],
    }),
  );
  const profileRoleTrust = JSON.stringify({
    Version: '2012-10-17',
    Statement: [
      { Effect: 'Allow', Principal: { AWS: credentialRoleArn }, Action: ['sts:AssumeRole', 'sts:SetSourceIdentity'] },
    ],
  });
  const profileRoles = names.profiles
    ? profileRolePools(profilesIn(names.profiles, ACCOUNT), protectedResources).flatMap((p) => p.roleNames)
    : [];
  // The drill profile's roles get their permissions boundary as the stack builds it (profile-roles.ts), so a
  // drill judges it as IAM would, and a boundary stripped by hand fails the drill (test/e2e/drill.test.ts).
  const drillProfile = names.profiles?.profiles.find((p) => p.drill);
  let drillBoundaryArn: string | undefined;
  if (drillProfile) {
    const { boundaryDocument, boundaryName } = await import('../infra/constructs/profile-roles.js');
    drillBoundaryArn = `arn:aws:iam::${ACCOUNT}:policy/breakglass/${boundaryName(drillProfile.name)}`;
    await iam
      .send(
        new CreatePolicyCommand({
          PolicyName: boundaryName(drillProfile.name),
          Path: '/breakglass/',
          PolicyDocument: JSON.stringify(boundaryDocument(drillProfile, protectedResources)),
        }),
      )
      .catch((e: Error) => {
        if (e.name !== 'EntityAlreadyExistsException') throw e;
      });
  }
  for (const role of profileRoles) {
    const isDrill = drillProfile && role.startsWith(`breakglass-${drillProfile.name}-`);
    await ensureRole(iam, role, profileRoleTrust, PROFILE_ROLE_PATH, isDrill ? drillBoundaryArn : undefined);
  }
  // Spokes (sandbox/spokes.ts): the accounts the profiles name, each with its manager role and profile roles.
  const spokeProfileRoles: Record<string, string[]> = {};
  for (const account of names.profiles ? spokeAccounts(names.profiles) : [])
    spokeProfileRoles[account] = await seedSpoke(endpoint, account, {
      profiles: names.profiles!,
      protectedResources,
      credentialRoleArn,
      lifecycleRoleArns: [`arn:aws:iam::${ACCOUNT}:root`],
    });
  for (const user of names.users ?? []) {
    await iam.send(new CreateUserCommand({ UserName: user })).catch((e: Error) => {
      if (e.name !== 'EntityAlreadyExistsException') throw e;
    });
  }
  return {
    tableName,
    tableArn,
    topicArn: TopicArn!,
    scheduleGroup,
    expiryFunctionArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:breakglass-expiry-${suffix}`,
    schedulerRoleArn,
    auditBucket,
    protectedResources,
    credentialRoleArn,
    profileRoles,
    spokeProfileRoles,
    expiryFailureQueueArn,
    expiryFailureQueueUrl: QueueUrl!,
    ...drill,
  };
}

/**
 * The drill's resources, as `infra/constructs/drills.ts` creates them: the drill queue subscribed to
 * the topic with the filter policy `{"drill": ["true"]}`, and the queue the drill profile reads (its
 * one resource, when it is an SQS queue of this account).
 */
async function seedDrill(
  config: ReturnType<typeof emulatorConfig>,
  topicArn: string,
  inbox: string,
  profiles: ProfileSet | undefined,
): Promise<{ drillQueueUrl: string; drillQueueArn: string }> {
  const sqs = new SQSClient(config);
  const { QueueUrl } = await sqs.send(new CreateQueueCommand({ QueueName: inbox }));
  const drillQueueArn = `arn:aws:sqs:${REGION}:${ACCOUNT}:${inbox}`;
  await new SNSClient(config).send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: 'sqs',
      Endpoint: drillQueueArn,
      Attributes: { FilterPolicy: JSON.stringify({ drill: ['true'] }) },
    }),
  );
  for (const profile of profiles?.profiles.filter((p) => p.drill) ?? []) {
    const target = /^arn:aws:sqs:[^:]+:\d{12}:([\w-]+)$/.exec(profile.statements[0]?.resources[0] ?? '')?.[1];
    if (target) await sqs.send(new CreateQueueCommand({ QueueName: target }));
  }
  return { drillQueueUrl: QueueUrl!, drillQueueArn };
}
