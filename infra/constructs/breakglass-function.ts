/**
 * One function construct with the house defaults: Node.js 22 on ARM64, esbuild bundling
 * without Docker, source maps, X-Ray tracing, its own log group with retention. Access to a
 * resource and the environment variable naming it are given in one call (`use*`), so they
 * cannot drift apart.
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { PolicyStatement, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, Runtime, Tracing } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { GSI_BY_CREATED, GSI_BY_STATUS } from '../../functions/adapters/dynamodb-grant-store.adapter.js';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

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
}

/**
 * IAM path of every break-glass function role. The alert topic's policy lets only roles
 * under this path (and CloudWatch alarms) publish, without a reference between the stacks.
 */
export const FUNCTION_ROLE_PATH = '/breakglass/';

/** DynamoDB actions by use: no function may delete an item; events are written with conditions. */
export const TABLE_READ = ['dynamodb:GetItem', 'dynamodb:Query'] as const;
export const TABLE_WRITE = ['dynamodb:GetItem', 'dynamodb:Query', 'dynamodb:PutItem', 'dynamodb:UpdateItem', 'dynamodb:ConditionCheckItem'] as const;

export class BreakGlassFunction extends Construct {
  readonly fn: NodejsFunction;

  constructor(scope: Construct, id: string, props: BreakGlassFunctionProps) {
    super(scope, id);
    const logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_YEAR,
      removalPolicy: RemovalPolicy.RETAIN,
    });
    // Its own role, without the AWS-managed basic execution policy: it writes to its own log group only.
    const role = new Role(this, 'Role', { assumedBy: new ServicePrincipal('lambda.amazonaws.com'), description: props.description, path: FUNCTION_ROLE_PATH });
    logGroup.grantWrite(role);
    this.fn = new NodejsFunction(this, 'Function', {
      role,
      entry: join(HANDLERS, `${props.handlerFile}.ts`),
      handler: 'handler',
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      tracing: Tracing.ACTIVE,
      logGroup,
      environment: { NODE_OPTIONS: '--enable-source-maps' },
      bundling: {
        format: OutputFormat.CJS,
        minify: true,
        logLevel: LogLevel.ERROR,
        sourceMap: true,
        target: 'node22',
        // The profiles cdk synth validated travel inside the bundle; the function validates them again at cold start.
        define: { __BREAKGLASS_PROFILES__: JSON.stringify(props.profiles) },
      },
    });
    NagSuppressions.addResourceSuppressions(
      role,
      [
        { id: 'AwsSolutions-IAM5', reason: 'X-Ray PutTraceSegments/PutTelemetryRecords support no resource-level permissions.', appliesTo: ['Resource::*'] },
        { id: 'AwsSolutions-IAM5', reason: 'Publishing to the KMS-encrypted alert topic needs kms:GenerateDataKey* on that one key (granted by Topic.grantPublish).', appliesTo: ['Action::kms:GenerateDataKey*'] },
      ],
      true,
    );
    NagSuppressions.addResourceSuppressions(this.fn, [
      { id: 'AwsSolutions-L1', reason: 'Node.js 22 is the runtime this code is built and tested for (esbuild target node22); moving to a newer runtime is a deliberate, tested change.' },
    ]);
  }

  /** Read (or read/write) the grants table, and know its name. */
  useTable(table: ITable, actions: readonly string[]): this {
    this.fn.addEnvironment('TABLE_NAME', table.tableName);
    const indexes = [GSI_BY_STATUS, GSI_BY_CREATED].map((name) => `${table.tableArn}/index/${name}`);
    this.fn.addToRolePolicy(new PolicyStatement({ actions: [...actions], resources: [table.tableArn, ...indexes] }));
    return this;
  }

  /** Publish alerts to the topic, and know its ARN. */
  useTopic(topic: ITopic): this {
    this.fn.addEnvironment('TOPIC_ARN', topic.topicArn);
    topic.grantPublish(this.fn);
    return this;
  }

  addEnvironment(key: string, value: string): this {
    this.fn.addEnvironment(key, value);
    return this;
  }
}
