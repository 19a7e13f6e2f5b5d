/**
 * Integration-test helpers: seed the shared moto server with resources unique to one test
 * file, point the handlers at them through the environment, and read back the state.
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DynamoDBClient, QueryCommand } from '@aws-sdk/client-dynamodb';
import {
  GetRoleCommand,
  GetRolePolicyCommand,
  GetUserCommand,
  GetUserPolicyCommand,
  IAMClient,
  ListRolePoliciesCommand,
  ListUserPoliciesCommand,
} from '@aws-sdk/client-iam';
import { GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { ENV } from '../../functions/config/env.js';
import { parseProfiles } from '../../functions/domain/profile.js';
import { emulatorConfig, type Seeded, seed } from '../../sandbox/seed.js';
import { motoData } from './moto-data.js';

export interface TestWorld extends Seeded {
  readonly endpoint: string;
  readonly suffix: string;
  readonly responderRole: string;
  readonly securityRole: string;
  readonly user: string;
  readonly iam: IAMClient;
  readonly ddb: DynamoDBClient;
  readonly scheduler: SchedulerClient;
}

/** Seeds unique resources and a profile file naming them; sets the handlers' environment. */
export async function setUpWorld(
  endpoint: string,
  extra: { profiles?: (suffix: string) => unknown[]; roles?: (suffix: string) => string[] } = {},
): Promise<TestWorld> {
  const suffix = randomBytes(4).toString('hex');
  const responderRole = `Responder-${suffix}`;
  const securityRole = `Security-${suffix}`;
  const user = `oncall-${suffix}`;
  const dir = mkdtempSync(join(tmpdir(), 'bg-profiles-'));
  const profilesFile = join(dir, 'profiles.json');
  const profileFile = {
    version: 1,
    profiles: [
      {
        name: 'demo',
        description: 'demo access',
        owner: 'platform@example.com',
        maxDurationMinutes: 120,
        maxActiveGrants: 100,
        eligible: [`arn:aws:iam::123456789012:role/${responderRole}`, `arn:aws:iam::123456789012:user/${user}`],
        ticket: { required: false, pattern: '^INC-[0-9]+$' },
        statements: [{ sid: 'ReadLogs', actions: ['s3:GetObject'], resources: ['arn:aws:s3:::incident-logs/*'] }],
        grantTo: 'caller',
      },
      {
        name: 'db',
        description: 'database reboot',
        owner: 'dba@example.com',
        maxDurationMinutes: 30,
        eligible: [`arn:aws:iam::123456789012:role/${responderRole}`],
        ticket: { required: true, pattern: '^INC-[0-9]+$' },
        statements: [{ actions: ['rds:RebootDBInstance'], resources: ['arn:aws:rds:us-east-1:123456789012:db:prod'] }],
        grantTo: 'caller',
      },
      ...(extra.profiles?.(suffix) ?? []),
    ],
  };
  writeFileSync(profilesFile, JSON.stringify(profileFile));
  // The profile roles of profile-role profiles are created from the same pure function the stack uses.
  const seeded = await seed(endpoint, {
    suffix,
    roles: [responderRole, securityRole, `Intern-${suffix}`, ...(extra.roles?.(suffix) ?? [])],
    users: [user],
    profiles: parseProfiles(profileFile),
  });
  Object.assign(process.env, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'testing',
    AWS_SECRET_ACCESS_KEY: 'testing',
    [ENV.tableName]: seeded.tableName,
    [ENV.topicArn]: seeded.topicArn,
    [ENV.scheduleGroup]: seeded.scheduleGroup,
    [ENV.expiryFunctionArn]: seeded.expiryFunctionArn,
    [ENV.schedulerRoleArn]: seeded.schedulerRoleArn,
    [ENV.securityPrincipals]: `arn:aws:iam::123456789012:role/${securityRole}`,
    [ENV.reviewerPrincipals]: `arn:aws:iam::123456789012:role/${securityRole}`,
    [ENV.profilesFile]: profilesFile,
    [ENV.tableArn]: seeded.tableArn,
    [ENV.auditBucket]: seeded.auditBucket,
    [ENV.protectedResources]: seeded.protectedResources.join(','),
    [ENV.accountId]: '123456789012',
  });
  const config = emulatorConfig(endpoint);
  return {
    ...seeded,
    endpoint,
    suffix,
    responderRole,
    securityRole,
    user,
    iam: new IAMClient(config),
    ddb: new DynamoDBClient(config),
    scheduler: new SchedulerClient(config),
  };
}

/** The identity API Gateway would report for a session of a role (RoleId from IAM). */
export async function sessionOf(
  world: TestWorld,
  role: string,
  session: string,
): Promise<{ userArn: string; caller: string }> {
  const { Role } = await world.iam.send(new GetRoleCommand({ RoleName: role }));
  return { userArn: `arn:aws:sts::123456789012:assumed-role/${role}/${session}`, caller: `${Role!.RoleId}:${session}` };
}

export async function userIdentity(world: TestWorld): Promise<{ userArn: string; caller: string }> {
  const { User } = await world.iam.send(new GetUserCommand({ UserName: world.user }));
  return { userArn: User!.Arn!, caller: User!.UserId! };
}

export function apiEvent(options: {
  identity?: { userArn: string; caller: string } | null;
  body?: unknown;
  rawBody?: string;
  pathParameters?: Record<string, string>;
  query?: Record<string, string>;
}): APIGatewayProxyEvent {
  return {
    body: options.rawBody ?? (options.body === undefined ? null : JSON.stringify(options.body)),
    headers: { 'Content-Type': 'application/json' },
    multiValueHeaders: {},
    httpMethod: 'POST',
    isBase64Encoded: false,
    path: '/',
    pathParameters: options.pathParameters ?? null,
    queryStringParameters: options.query ?? null,
    multiValueQueryStringParameters: null,
    stageVariables: null,
    resource: '/',
    requestContext: {
      requestId: `req-${randomBytes(4).toString('hex')}`,
      identity: options.identity ? { userArn: options.identity.userArn, caller: options.identity.caller } : {},
    } as unknown as APIGatewayProxyEvent['requestContext'],
  };
}

/** Inline policies on a role (or user), decoded, by name. */
export async function inlinePolicies(
  world: TestWorld,
  target: { role?: string; user?: string },
): Promise<Record<string, { Statement: Array<Record<string, any>> }>> {
  const out: Record<string, { Statement: Array<Record<string, any>> }> = {};
  if (target.role) {
    const { PolicyNames } = await world.iam.send(new ListRolePoliciesCommand({ RoleName: target.role }));
    for (const name of PolicyNames ?? []) {
      const { PolicyDocument } = await world.iam.send(
        new GetRolePolicyCommand({ RoleName: target.role, PolicyName: name }),
      );
      out[name] = JSON.parse(decodeURIComponent(PolicyDocument!));
    }
  } else if (target.user) {
    const { PolicyNames } = await world.iam.send(new ListUserPoliciesCommand({ UserName: target.user }));
    for (const name of PolicyNames ?? []) {
      const { PolicyDocument } = await world.iam.send(
        new GetUserPolicyCommand({ UserName: target.user, PolicyName: name }),
      );
      out[name] = JSON.parse(decodeURIComponent(PolicyDocument!));
    }
  }
  return out;
}

/** Every item stored for a grant (the grant and its events), straight from DynamoDB. */
export async function tableItems(world: TestWorld, grantId: string): Promise<Array<Record<string, any>>> {
  const { Items } = await world.ddb.send(
    new QueryCommand({
      TableName: world.tableName,
      KeyConditionExpression: 'pk = :pk',
      ExpressionAttributeValues: { ':pk': { S: `GRANT#${grantId}` } },
      ConsistentRead: true,
    }),
  );
  return (Items ?? []).map((i) => unmarshall(i));
}

export interface PublishedMessage {
  readonly subject: string;
  /** The text form (SNS `default`). */
  readonly message: string;
  /** Every per-protocol form, parsed from the SNS JSON message structure. */
  readonly forms: Record<string, string>;
  readonly attributes: Record<string, string>;
}

/** Messages published to a topic, as moto records them (`/moto-api/data.json`). */
export async function publishedMessages(world: TestWorld): Promise<PublishedMessage[]> {
  const data = await motoData<{ sns: { Topic: Array<{ arn: string; sent_notifications: unknown[][] }> } }>(
    world.endpoint,
  );
  const topic = data.sns.Topic.find((t) => t.arn === world.topicArn);
  return (topic?.sent_notifications ?? []).map((n) => {
    // moto records the JSON message structure as sent: {"default": …, "email": …, "https": …}.
    let forms: Record<string, string> = {};
    try {
      forms = JSON.parse(n[1] as string);
    } catch {
      forms = { default: n[1] as string };
    }
    return {
      message: forms.default ?? (n[1] as string),
      forms,
      subject: n[2] as string,
      attributes: Object.fromEntries(
        Object.entries((n[3] ?? {}) as Record<string, { Value: string }>).map(([k, v]) => [k, v.Value]),
      ),
    };
  });
}

export async function schedules(world: TestWorld) {
  const { Schedules } = await world.scheduler.send(new ListSchedulesCommand({ GroupName: world.scheduleGroup }));
  return Promise.all(
    (Schedules ?? []).map((s) =>
      world.scheduler.send(new GetScheduleCommand({ GroupName: world.scheduleGroup, Name: s.Name! })),
    ),
  );
}

export const parse = (res: { body: string }) => JSON.parse(res.body);
