/**
 * The stateful half: what must survive a redeploy and is retained when the stack is deleted.
 * The grants table (PITR, deletion protection, a resource policy that lets only break-glass's
 * own functions write), the KMS-encrypted alert topic (only security principals subscribe),
 * the encrypted queues for failed expiries (Scheduler's dead letters, Lambda's on-failure
 * records), the audit bucket for DynamoDB exports (Object Lock), and the auditors' Athena
 * results bucket (expired after 30 days).
 */
import { DefaultStackSynthesizer, Duration, Fn, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { AttributeType, BillingMode, type ITable, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyDocument, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { type IKey, Key } from 'aws-cdk-lib/aws-kms';
import {
  BlockPublicAccess,
  Bucket,
  BucketEncryption,
  type IBucket,
  ObjectLockRetention,
  ObjectOwnership,
} from 'aws-cdk-lib/aws-s3';
import { type ITopic, Subscription, SubscriptionProtocol, Topic } from 'aws-cdk-lib/aws-sns';
import { type IQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { GSI, TTL_ATTRIBUTE } from '../../functions/adapters/table-schema.js';
import { ATHENA_RESULTS_PREFIX } from '../athena-queries.js';
import { assertSameAccount, principalArnPatterns } from '../principals.js';
import { FUNCTION_ROLE_PATH } from './breakglass-function.js';

/**
 * DynamoDB actions that change items. A transaction (`TransactWriteItems`) is authorized as
 * the Put/Update/Delete it holds, so it needs no action of its own (DynamoDB developer guide,
 * "Using IAM with DynamoDB transactions"); PartiQL writes have their own actions ("IAM
 * security policies with PartiQL for DynamoDB").
 */
export const TABLE_DATA_WRITE_ACTIONS = [
  'dynamodb:PutItem',
  'dynamodb:UpdateItem',
  'dynamodb:DeleteItem',
  'dynamodb:BatchWriteItem',
  'dynamodb:PartiQLInsert',
  'dynamodb:PartiQLUpdate',
  'dynamodb:PartiQLDelete',
] as const;

/** Object Lock of the audit exports: mode and default retention of every new object version. */
export interface AuditObjectLock {
  /** GOVERNANCE: a principal with `s3:BypassGovernanceRetention` can still delete; COMPLIANCE: nobody, root included, until the days pass. */
  readonly mode: 'GOVERNANCE' | 'COMPLIANCE';
  readonly days: number;
}

export interface BreakGlassStateProps {
  /** E-mail address subscribed to the alert topic. @default no subscription */
  readonly alertEmail?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /**
   * ARN patterns of the security principals: the only ones (with the deployment's own
   * CloudFormation role) who may subscribe to the alert topic. @default none: only the deployment subscribes
   */
  readonly securityPrincipals?: readonly string[];
  /**
   * A role that may write the grants table besides break-glass's functions: the break-glass of
   * last resort, e.g. to repair an item by hand. @default none
   */
  readonly tableAdminRoleArn?: string;
  /** @default { mode: 'GOVERNANCE', days: 400 } */
  readonly auditObjectLock?: AuditObjectLock;
}

export class BreakGlassState extends Construct {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly topicKey: IKey;
  readonly expiryDeadLetterQueue: IQueue;
  /** Lambda's on-failure destination for the expiry function's asynchronous invocations. */
  readonly expiryFailureQueue: IQueue;
  readonly auditBucket: IBucket;
  readonly athenaResultsBucket: IBucket;
  /** Server access logs of the audit buckets. */
  readonly accessLogsBucket: IBucket;

  constructor(scope: Construct, id: string, props: BreakGlassStateProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;
    const stack = Stack.of(this);
    const functionRoles = `arn:${stack.partition}:iam::${stack.account}:role${FUNCTION_ROLE_PATH}*`;

    // Only break-glass's own functions (roles under FUNCTION_ROLE_PATH, a pattern: naming the
    // roles of the stateless stack here would make the stacks depend on each other both ways)
    // and an optional admin role may change items. An IAM administrator can still change this
    // policy (dynamodb:PutResourcePolicy): CloudFormation needs that to deploy it (docs/operations.md).
    if (props.tableAdminRoleArn)
      assertSameAccount([{ source: 'tableAdminRoleArn', pattern: props.tableAdminRoleArn }], stack.account);
    const writers = [functionRoles, ...(props.tableAdminRoleArn ? [props.tableAdminRoleArn] : [])];
    this.table = new Table(this, 'Grants', {
      resourcePolicy: new PolicyDocument({
        statements: [
          new PolicyStatement({
            sid: 'OnlyBreakGlassWritesItems',
            effect: Effect.DENY,
            principals: [new AnyPrincipal()],
            actions: [...TABLE_DATA_WRITE_ACTIONS],
            // '*' is this table: a resource policy cannot name its own table's ARN without a cycle (CDK DynamoDB README).
            resources: ['*'],
            conditions: { ArnNotLike: { 'aws:PrincipalArn': writers } },
          }),
        ],
      }),
      partitionKey: { name: 'pk', type: AttributeType.STRING },
      sortKey: { name: 'sk', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      // Only the alert-limit items carry it (`DynamoAlertLimiter`); grants and events never expire.
      timeToLiveAttribute: TTL_ATTRIBUTE,
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy,
    });
    const table = this.table as Table;
    for (const [indexName, index] of Object.entries(GSI)) {
      table.addGlobalSecondaryIndex({
        indexName,
        partitionKey: { name: index.partitionKey, type: AttributeType.STRING },
        sortKey: { name: index.sortKey, type: AttributeType.STRING },
      });
    }

    // A customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
    const key = new Key(this, 'AlertKey', {
      enableKeyRotation: true,
      description: 'break-glass alert topic',
      removalPolicy,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topicKey = key;
    const topic = new Topic(this, 'Alerts', { displayName: 'break-glass alerts', masterKey: key, enforceSSL: true });
    this.topic = topic;
    // Only the break-glass functions (roles under their path) and CloudWatch alarms may publish:
    // a forged "all clear" alert from anyone else is refused.
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyBreakGlassPublishes',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
          ArnNotLike: { 'aws:PrincipalArn': functionRoles },
        },
      }),
    );
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'AlarmsPublish',
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: { StringEquals: { 'aws:SourceAccount': stack.account } },
      }),
    );
    // Only security principals, and the deployment itself (its CloudFormation execution role, for
    // the stack's own subscriptions), may add a subscription: a new endpoint reads every alert.
    // sns:Subscribe is the only subscription action a topic policy can hold (SNS developer guide,
    // "Valid Amazon SNS policy actions"); Unsubscribe and SetSubscriptionAttributes are authorized
    // by ownership and IAM alone (docs/security.md, Least privilege: what SNS cannot express).
    const subscribers = [...principalArnPatterns(props.securityPrincipals ?? []), ...deploymentRoles(stack)];
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlySecuritySubscribes',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sns:Subscribe'],
        resources: [topic.topicArn],
        conditions: { ArnNotLike: { 'aws:PrincipalArn': subscribers } },
      }),
    );
    if (props.alertEmail)
      new Subscription(this, 'AlertEmail', { topic, protocol: SubscriptionProtocol.EMAIL, endpoint: props.alertEmail });

    const dlq = new Queue(this, 'ExpiryDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.expiryDeadLetterQueue = dlq;
    NagSuppressions.addResourceSuppressions(dlq, [
      {
        id: 'AwsSolutions-SQS3',
        reason: 'This queue is itself the dead-letter queue of the expiry schedules; its messages raise an alarm.',
      },
    ]);
    // EventBridge Scheduler invokes Lambda asynchronously: once Lambda has accepted the event,
    // Scheduler's retries and dead-letter queue are done with it. What the expiry function
    // fails to do after its own retries lands here (Lambda destination record; docs/operations.md).
    const failures = new Queue(this, 'ExpiryFailures', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.expiryFailureQueue = failures;
    NagSuppressions.addResourceSuppressions(failures, [
      {
        id: 'AwsSolutions-SQS3',
        reason:
          "This queue is itself a dead-letter destination (the expiry function's on-failure destination); its messages raise an alarm.",
      },
    ]);

    const accessLogs = new Bucket(this, 'AuditAccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy,
    });
    this.accessLogsBucket = accessLogs;
    NagSuppressions.addResourceSuppressions(accessLogs, [
      {
        id: 'AwsSolutions-S1',
        reason: "This bucket receives the audit bucket's server access logs; logging it too would recurse.",
      },
    ]);
    // Object Lock: no role can delete or overwrite an export version before its retention ends
    // (GOVERNANCE: except one allowed s3:BypassGovernanceRetention; COMPLIANCE: nobody). It
    // needs versioning. On a bucket created before Object Lock was enabled, only versions
    // written afterwards carry the default retention (docs/operations.md, Deploy).
    const lock = props.auditObjectLock ?? { mode: 'GOVERNANCE', days: 400 };
    if (!(Number.isInteger(lock.days) && lock.days >= 1 && lock.days <= 36500))
      throw new Error(
        `break-glass: auditObjectLockDays must be a whole number of days from 1 to 36500, got ${lock.days}`,
      );
    this.auditBucket = new Bucket(this, 'AuditExports', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectLockEnabled: true,
      objectLockDefaultRetention:
        lock.mode === 'COMPLIANCE'
          ? ObjectLockRetention.compliance(Duration.days(lock.days))
          : ObjectLockRetention.governance(Duration.days(lock.days)),
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'audit-exports/',
      removalPolicy,
    });
    // Athena results are copies of audit data made for one question: they do not outlive the
    // question, so they live in their own bucket, without Object Lock, expired after 30 days.
    this.athenaResultsBucket = new Bucket(this, 'AthenaResults', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'athena-results/',
      lifecycleRules: [
        { id: 'ExpireAthenaResults', prefix: `${ATHENA_RESULTS_PREFIX}/`, expiration: Duration.days(30) },
      ],
      removalPolicy,
    });
  }
}

/**
 * The role CloudFormation deploys with (the bootstrap's execution role), which creates the
 * stack's own subscriptions; none when the stack uses another synthesizer.
 */
function deploymentRoles(stack: Stack): string[] {
  const synthesizer = stack.synthesizer;
  if (!(synthesizer instanceof DefaultStackSynthesizer)) return [];
  // The synthesizer's ARN holds `${AWS::AccountId}`-style placeholders when the environment is unresolved.
  return [Fn.sub(synthesizer.cloudFormationExecutionRoleArn)];
}
