/**
 * One function construct with the house defaults: Node.js 22 on ARM64, esbuild bundling
 * without Docker, source maps, X-Ray tracing, its own log group with retention. Access to a
 * resource and the environment variable naming it are given in one call (`use*`), so they
 * cannot drift apart.
 */

import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { type BundlingOptions, NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { GSI_BY_CREATED, GSI_BY_STATUS } from '../../functions/adapters/dynamodb-grant-store.adapter.js';
import type { IndexName } from '../../functions/adapters/table-schema.js';
import { ENV } from '../../functions/config/env.js';
import { RESOURCE_PREFIX } from '../protected-resources.js';
import { functionBundling } from './bundling.js';

const HANDLERS = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'functions', 'handlers');

export interface BreakGlassFunctionProps {
  /** Handler file in `functions/handlers/`, without extension, e.g. `create-grant`. */
  readonly handlerFile: string;
  readonly description: string;
  /** The validated profile file, inlined into the bundle. */
  readonly profiles: unknown;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** @default 512 */
  readonly memorySize?: number;
  /** @default none: the account's unreserved concurrency */
  readonly reservedConcurrentExecutions?: number;
  /**
   * The function's name; its log group is `/aws/lambda/<name>`. Named, not generated: every
   * policy break-glass writes denies `function:breakglass-*` (protected-resources.ts), which a
   * generated name would escape. @default `breakglass-<handlerFile>`
   */
  readonly functionName?: string;
  /** The Powertools logger's level (`POWERTOOLS_LOG_LEVEL`); change it on a function to debug, no redeploy of code needed. @default 'INFO' */
  readonly logLevel?: 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';
}

/**
 * IAM path of every break-glass function role. The alert topic's policy lets only roles
 * under this path (and CloudWatch alarms) publish, and the table's policy lets only them
 * write items, without a reference from the stateful stack to the stateless one (which would
 * make each depend on the other). Creating a role under this path is an IAM administrator's act.
 */
export const FUNCTION_ROLE_PATH = '/breakglass/function/';

/** API Gateway ends an integration after 29 s; a function behind it stops first, so its own error is logged. */
export const API_FUNCTION_TIMEOUT = Duration.seconds(25);

/** DynamoDB actions by use: no function may delete an item; events are written with conditions. */
export const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
export const TABLE_WRITE = [
  'dynamodb:GetItem',
  'dynamodb:Query',
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:ConditionCheckItem',
] as const;
/**
 * Read one grant, then append to it (the review, the issue of credentials) (`GrantStore.append`: one transaction of an
 * Update of the grant and a conditional Put of the event). No Query, and no ConditionCheck:
 * that transaction holds none.
 */
export const TABLE_APPEND = ['dynamodb:GetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'] as const;
/** The review appends to one grant: {@link TABLE_APPEND}. */
export const TABLE_REVIEW = TABLE_APPEND;
/** What a DynamoDB export needs in the bucket it writes to (DynamoDB developer guide, "Requesting a table export"). */
export const EXPORT_OBJECT_ACTIONS = ['s3:AbortMultipartUpload', 's3:PutObject', 's3:PutObjectAcl'] as const;

export class BreakGlassFunction extends Construct {
  readonly fn: NodejsFunction;
  /** The handler module bundled (`functions/handlers/<handlerFile>.ts`), and how: read by the bench (bench/bundles.ts). */
  readonly entry: string;
  readonly bundling: BundlingOptions;
  /** The environment every function starts with (before `use*` adds its resources). */
  readonly baseEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: BreakGlassFunctionProps) {
    super(scope, id);
    const functionName = props.functionName ?? `${RESOURCE_PREFIX}-${props.handlerFile}`;
    const logGroup = new LogGroup(this, 'Logs', {
      logGroupName: `/aws/lambda/${functionName}`,
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, without the AWS-managed basic execution policy: it writes to its own log group only.
    const role = new Role(this, 'Role', {
      assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
      description: props.description,
      path: FUNCTION_ROLE_PATH,
    });
    logGroup.grantWrite(role);
    this.entry = join(HANDLERS, `${props.handlerFile}.ts`);
    this.bundling = functionBundling(props.profiles, props.handlerFile);
    this.baseEnvironment = { NODE_OPTIONS: '--enable-source-maps', POWERTOOLS_LOG_LEVEL: props.logLevel ?? 'INFO' };
    this.fn = new NodejsFunction(this, 'Function', {
      role,
      functionName,
      entry: this.entry,
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.reservedConcurrentExecutions !== undefined
        ? { reservedConcurrentExecutions: props.reservedConcurrentExecutions }
        : {}),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: { ...this.baseEnvironment },
      bundling: this.bundling,
    });
    NagSuppressions.addResourceSuppressions(
      role,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.',
          appliesTo: ['Resource::*'],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on that one key (granted by Topic.grantPublish).',
          appliesTo: ['Action::kms:GenerateDataKey*'],
        },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(this.fn, [
      {
        id: 'AwsSolutions-L1',
        reason:
          'Node.js 22 is the runtime this code is built and tested for (esbuild target node22); moving to a newer runtime is a deliberate, tested change.',
      },
    ]);
  }

  /**
   * Read (or read/write) the grants table, and know its name.
   * @param indexes the indexes the actions also apply to (only `Query` uses them). @default byStatus and byCreated
   */
  useTable(
    table: ITable,
    actions: readonly string[],
    indexes: readonly IndexName[] = [GSI_BY_STATUS, GSI_BY_CREATED],
  ): this {
    this.fn.addEnvironment(ENV.tableName, table.tableName);
    this.fn.addToRolePolicy(
      new PolicyStatement({
        actions: [...actions],
        resources: [table.tableArn, ...indexes.map((name) => indexArn(table, name))],
      }),
    );
    return this;
  }

  /** Query the named indexes of the grants table, and nothing else (no item of the table itself), and know its name. */
  queryIndexes(table: ITable, indexes: readonly IndexName[]): this {
    if (!indexes.length) throw new Error('queryIndexes needs at least one index');
    this.fn.addEnvironment(ENV.tableName, table.tableName);
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:Query'], resources: indexes.map((name) => indexArn(table, name)) }),
    );
    return this;
  }

  /**
   * Export the table (point in time) into one prefix of a bucket, and know both. The export
   * writes with the caller's permissions, so the function may write objects under that prefix
   * only, and never read, list or delete.
   */
  exportTableTo(table: ITable, bucket: IBucket, prefix: string): this {
    this.fn.addEnvironment(ENV.tableArn, table.tableArn).addEnvironment(ENV.auditBucket, bucket.bucketName);
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:ExportTableToPointInTime'], resources: [table.tableArn] }),
    );
    // To see whether yesterday's export finished: DescribeExport on this table's exports; ListExports has no resource type.
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: ['dynamodb:DescribeExport'], resources: [`${table.tableArn}/export/*`] }),
    );
    this.fn.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:ListExports'], resources: ['*'] }));
    this.fn.addToRolePolicy(
      new PolicyStatement({ actions: [...EXPORT_OBJECT_ACTIONS], resources: [bucket.arnForObjects(`${prefix}/*`)] }),
    );
    // A KMS-encrypted bucket: uploads (multipart ones too) need a data key, and reading it back to complete the parts.
    bucket.encryptionKey?.grant(this.fn, 'kms:GenerateDataKey', 'kms:Decrypt');
    NagSuppressions.addResourceSuppressions(
      this.fn.role!,
      [
        {
          id: 'AwsSolutions-IAM5',
          reason: `DynamoDB names the export's objects itself (AWSDynamoDB/<export id>/...); the function may only write objects under ${prefix}/ of the audit bucket.`,
          appliesTo: [{ regex: `/^Resource::.*\\/${prefix}\\/\\*$/` }],
        },
        {
          id: 'AwsSolutions-IAM5',
          reason:
            'Export ids are generated by DynamoDB: DescribeExport is limited to this table\'s exports (<table>/export/*); dynamodb:ListExports supports no resource type, so its resource is "*" (read-only, names and statuses of exports).',
          appliesTo: [{ regex: '/^Resource::.*\\/export\\/\\*$/' }, 'Resource::*'],
        },
      ],
      true,
    );
    return this;
  }

  /** Publish alerts to the topic, and know its ARN. */
  useTopic(topic: ITopic): this {
    this.fn.addEnvironment(ENV.topicArn, topic.topicArn);
    topic.grantPublish(this.fn);
    return this;
  }

  addEnvironment(key: string, value: string): this {
    this.fn.addEnvironment(key, value);
    return this;
  }
}

function indexArn(table: ITable, name: IndexName): string {
  return `${table.tableArn}/index/${name}`;
}
