/**
 * `PROTECTED_RESOURCES`: the ARN patterns of the deployment's own resources, derived at synth in
 * this one function. Every policy break-glass writes ends with a Deny `*` on them, and every
 * profile role's permissions boundary denies them too, so no grant reaches the table, the
 * functions, the keys or the roles that hold grants, whatever its profile allows.
 *
 * Lambda environment variables are limited to 4 KB per function (Lambda developer guide,
 * "Working with Lambda environment variables": "The total size of all environment variables
 * doesn't exceed 4 KB"), so the list is made of patterns, one or two per kind of resource.
 *
 * The functions that read it (activation, extension, kill switch, sweeper) live in the same stack
 * as the functions, rules, log groups and alarms it names; naming those by reference would make a
 * function's environment depend on itself or on a rule that targets it (a CloudFormation cycle).
 * They are therefore *named* with the {@link RESOURCE_PREFIX} (functions `breakglass-*`, rules,
 * alarms, log groups `/aws/lambda/breakglass-*`) and protected by a name pattern, and every role
 * and managed policy lives under the IAM path `/breakglass/`. Only resources that depend on no
 * function are named by reference: the stateful stack's (imported) and the REST API, whose
 * `AWS::ApiGateway::RestApi` depends on nothing (methods and deployment depend on it, not it on
 * them). The API is protected by its management ARN (`apigateway:<region>::/restapis/<id>*`), not
 * its `execute-api` invoke ARN, which responders need to revoke or extend during a grant.
 */
import { type Stack, Token } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';

/** Prefix of every named resource of the stateless stack (functions, rules, alarms, log groups). */
export const RESOURCE_PREFIX = 'breakglass';
/** IAM path of every role and managed policy break-glass creates (functions, scheduler, profile roles, boundaries). */
export const IAM_PATH = '/breakglass/';
/** The spokes' StackSet's name (one per hub; `infra/spoke-stacks.ts`): its stack instances are protected by it. */
export const SPOKE_STACK_SET_NAME = 'breakglass-spokes';
/** Path of the scheduler's role (under {@link IAM_PATH}). */
export const SCHEDULER_ROLE_PATH = '/breakglass/scheduler/';

/** One entry: the ARN pattern as deployed, and a string at least as long once deployed (for sizing at synth). */
export interface ProtectedResource {
  readonly arn: string;
  /**
   * The same pattern with every unresolved part replaced by a placeholder of its longest possible
   * length: profile roles and boundaries are sized at synth from these, so a deployed list can
   * only be shorter (then the functions, which size from the real list, need no more roles than exist).
   */
  readonly sizing: string;
}

/** The resources of the stateful stack, passed to the stateless one. */
export interface StatefulResources {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly keys: readonly IKey[];
  readonly queues: readonly IQueue[];
  readonly buckets: readonly IBucket[];
  /** Glue database of the audit query layer (its tables too). */
  readonly auditDatabaseName: string;
  /** Athena workgroup of the audit query layer (its saved queries belong to it). */
  readonly auditWorkGroupName: string;
}

/** What the stateless stack names deterministically, or by a reference that cannot form a cycle. */
export interface ServiceResources {
  readonly scheduleGroupName: string;
  /** `RestApi.restApiId`. */
  readonly restApiId: string;
  /** Event source mappings (action logging's queue → capture function): a reference depends on no policy writer. @default none */
  readonly eventSourceMappingArns?: readonly string[];
  /** The account-wide `AWS::ApiGateway::Account` setting exists in this deployment. */
  readonly apiGatewayAccount: boolean;
  /**
   * The role that setting names (CDK creates it without a path, so `role/breakglass/*` misses it;
   * a reference is safe: it depends on no function). @default none
   */
  readonly apiGatewayCloudWatchRoleArn?: string;
}

/**
 * Longest lengths of the parts a template leaves unresolved: partitions (`aws-us-gov`, 10),
 * regions (14 today, 20 allowed for), account ids (12); the name limits of the services: DynamoDB
 * table 255, SNS topic 256, SQS queue 80, S3 bucket 63 characters, KMS key ids are UUIDs (36);
 * REST API ids are 10 characters.
 */
const BOUND = {
  partition: 10,
  region: 20,
  account: 12,
  tableName: 255,
  topicName: 256,
  queueName: 80,
  bucketName: 63,
  keyId: 36,
  restApiId: 10,
} as const; // IAM role names: 64 (used inline below)

export function protectedResources(
  stack: Stack,
  stateful: StatefulResources,
  service: ServiceResources,
): ProtectedResource[] {
  const pick = (value: string, bound: number) => (Token.isUnresolved(value) ? 'x'.repeat(bound) : value);
  const real = { p: stack.partition, r: stack.region, a: stack.account };
  const size = {
    p: pick(stack.partition, BOUND.partition),
    r: pick(stack.region, BOUND.region),
    a: pick(stack.account, BOUND.account),
  };
  // An ARN whose only tokens are partition, region and account.
  const plain = (f: (v: typeof real) => string): ProtectedResource => ({ arn: f(real), sizing: f(size) });
  // An ARN that is itself a token (a reference to a stateful resource): its sizing is its longest form.
  const ref = (arn: string, longest: (v: typeof real) => string, suffix = ''): ProtectedResource => ({
    arn: `${arn}${suffix}`,
    sizing: Token.isUnresolved(arn) ? `${longest(size)}${suffix}` : `${arn}${suffix}`,
  });
  const x = (n: number) => 'x'.repeat(n);
  const tableArn = (v: typeof real) => `arn:${v.p}:dynamodb:${v.r}:${v.a}:table/${x(BOUND.tableName)}`;
  const topicArn = (v: typeof real) => `arn:${v.p}:sns:${v.r}:${v.a}:${x(BOUND.topicName)}`;
  const queueArn = (v: typeof real) => `arn:${v.p}:sqs:${v.r}:${v.a}:${x(BOUND.queueName)}`;
  const bucketArn = (v: typeof real) => `arn:${v.p}:s3:::${x(BOUND.bucketName)}`;
  const keyArn = (v: typeof real) => `arn:${v.p}:kms:${v.r}:${v.a}:key/${x(BOUND.keyId)}`;
  const group = service.scheduleGroupName;
  const db = stateful.auditDatabaseName;
  const restApi = Token.isUnresolved(service.restApiId)
    ? { real: service.restApiId, size: x(BOUND.restApiId) }
    : { real: service.restApiId, size: service.restApiId };
  return [
    // Stateful: references, each with a trailing `*` that takes in what lives under it (the table's indexes,
    // streams and exports; the topic's subscriptions; a bucket's objects) in one pattern instead of two: the
    // list is most of Lambda's 4 KB of environment. A `*` also takes in a resource whose generated name
    // merely starts with this one's, which only protects more.
    ref(stateful.table.tableArn, tableArn, '*'),
    ref(stateful.topic.topicArn, topicArn, '*'),
    ...stateful.keys.map((k) => ref(k.keyArn, keyArn)),
    ...stateful.queues.map((q) => ref(q.queueArn, queueArn)),
    ...stateful.buckets.map((b) => ref(b.bucketArn, bucketArn, '*')),
    plain((v) => `arn:${v.p}:glue:${v.r}:${v.a}:database/${db}`),
    plain((v) => `arn:${v.p}:glue:${v.r}:${v.a}:table/${db}/*`),
    plain((v) => `arn:${v.p}:athena:${v.r}:${v.a}:workgroup/${stateful.auditWorkGroupName}`),
    // Stateless: names and paths (see the module comment for why not references).
    plain((v) => `arn:${v.p}:lambda:${v.r}:${v.a}:function:${RESOURCE_PREFIX}-*`),
    // Every account (`*`): a grant in a spoke must not reach that spoke's break-glass either (its manager role, its
    // profile roles and their inline policies, its boundaries), nor a break-glass role of another account (assuming a
    // spoke's profile role would be a second grant). One pattern serves the hub and every spoke, so the list does
    // not grow with spokes (Lambda's 4 KB). A wildcard may stand for any ARN segment (IAM User Guide, "IAM JSON policy
    // elements: Resource", "Using wildcards in resource ARNs"). Safe because these are Denies: in an account without
    // break-glass a `/breakglass/` path names nothing of anyone else's that a grant needs.
    plain((v) => `arn:${v.p}:iam::*:role${IAM_PATH}*`),
    plain((v) => `arn:${v.p}:iam::*:policy${IAM_PATH}*`),
    plain((v) => `arn:${v.p}:logs:${v.r}:${v.a}:log-group:/aws/lambda/${RESOURCE_PREFIX}-*`),
    plain((v) => `arn:${v.p}:logs:${v.r}:${v.a}:log-group:/aws/apigateway/${RESOURCE_PREFIX}-*`),
    // Rules (`rule/breakglass-*`, `rule/breakglass-activity/…` on the activity bus, a spoke's forwarding rule)
    // and the activity bus (`event-bus/breakglass-activity`), in any account and region: one pattern.
    plain((v) => `arn:${v.p}:events:*:*:*/${RESOURCE_PREFIX}-*`),
    plain((v) => `arn:${v.p}:cloudwatch:${v.r}:${v.a}:alarm:${RESOURCE_PREFIX}-*`),
    // Dashboards are global ("All dashboards in your account are global, not region-specific", CloudFormation
    // AWS::CloudWatch::Dashboard): no region in their ARN (Service Authorization Reference, CloudWatch, dashboard).
    plain((v) => `arn:${v.p}:cloudwatch::${v.a}:dashboard/${RESOURCE_PREFIX}*`),
    plain((v) => `arn:${v.p}:scheduler:${v.r}:${v.a}:schedule-group/${group}`),
    plain((v) => `arn:${v.p}:scheduler:${v.r}:${v.a}:schedule/${group}/*`),
    {
      arn: `arn:${real.p}:apigateway:${real.r}::/restapis/${restApi.real}*`,
      sizing: `arn:${size.p}:apigateway:${size.r}::/restapis/${restApi.size}*`,
    },
    // The stacks that deploy break-glass, in any account and region: the hub's (BreakGlassStateful, BreakGlassStateless,
    // BreakGlassSpokeStackSet), a spoke's own (BreakGlassSpoke-<account>) and the StackSet's stack instances, which
    // StackSets names `StackSet-<stack set name>-<id>`: a grant may not update or delete the spoke it runs in.
    plain((v) => `arn:${v.p}:cloudformation:*:*:stack/BreakGlass*`),
    plain((v) => `arn:${v.p}:cloudformation:*:*:stack/StackSet-${SPOKE_STACK_SET_NAME}-*`),
    ...(service.eventSourceMappingArns ?? []).map((arn) =>
      ref(arn, (v) => `arn:${v.p}:lambda:${v.r}:${v.a}:event-source-mapping:${x(36)}`),
    ),
    ...(service.apiGatewayAccount ? [plain((v) => `arn:${v.p}:apigateway:${v.r}::/account`)] : []),
    ...(service.apiGatewayCloudWatchRoleArn
      ? [ref(service.apiGatewayCloudWatchRoleArn, (v) => `arn:${v.p}:iam::${v.a}:role/${x(64)}`)]
      : []),
  ];
}
