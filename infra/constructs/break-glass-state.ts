/**
 * The stateful half: what must survive a redeploy and is retained when the stack is deleted.
 * The grants table (PITR, deletion protection), the KMS-encrypted alert topic, the encrypted
 * dead-letter queue for failed expiries, and the audit bucket for DynamoDB exports (and the
 * auditors' Athena results, expired after 30 days).
 */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption, type ITable } from 'aws-cdk-lib/aws-dynamodb';
import { AnyPrincipal, Effect, PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key, type IKey } from 'aws-cdk-lib/aws-kms';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type IBucket } from 'aws-cdk-lib/aws-s3';
import { Subscription, SubscriptionProtocol, Topic, type ITopic } from 'aws-cdk-lib/aws-sns';
import { Queue, QueueEncryption, type IQueue } from 'aws-cdk-lib/aws-sqs';
import { NagSuppressions } from 'cdk-nag';
import { Construct } from 'constructs';
import { GSI, TTL_ATTRIBUTE } from '../../functions/adapters/table-schema.js';
import { ATHENA_RESULTS_PREFIX } from '../athena-queries.js';
import { FUNCTION_ROLE_PATH } from './breakglass-function.js';
import { Stack } from 'aws-cdk-lib';

export interface BreakGlassStateProps {
  /** E-mail address subscribed to the alert topic. @default no subscription */
  readonly alertEmail?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

export class BreakGlassState extends Construct {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly topicKey: IKey;
  readonly expiryDeadLetterQueue: IQueue;
  readonly auditBucket: IBucket;

  constructor(scope: Construct, id: string, props: BreakGlassStateProps = {}) {
    super(scope, id);
    const removalPolicy = props.removalPolicy ?? RemovalPolicy.RETAIN;

    this.table = new Table(this, 'Grants', {
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
      table.addGlobalSecondaryIndex({ indexName, partitionKey: { name: index.partitionKey, type: AttributeType.STRING }, sortKey: { name: index.sortKey, type: AttributeType.STRING } });
    }

    // A customer-managed key: CloudWatch alarms cannot publish to a topic under the AWS-managed SNS key.
    const key = new Key(this, 'AlertKey', { enableKeyRotation: true, description: 'break-glass alert topic', removalPolicy });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topicKey = key;
    const topic = new Topic(this, 'Alerts', { displayName: 'break-glass alerts', masterKey: key, enforceSSL: true });
    this.topic = topic;
    // Only the break-glass functions (roles under their path) and CloudWatch alarms may publish:
    // a forged "all clear" alert from anyone else is refused.
    const stack = Stack.of(this);
    topic.addToResourcePolicy(
      new PolicyStatement({
        sid: 'OnlyBreakGlassPublishes',
        effect: Effect.DENY,
        principals: [new AnyPrincipal()],
        actions: ['sns:Publish'],
        resources: [topic.topicArn],
        conditions: {
          Bool: { 'aws:PrincipalIsAWSService': 'false' },
          ArnNotLike: { 'aws:PrincipalArn': `arn:${stack.partition}:iam::${stack.account}:role${FUNCTION_ROLE_PATH}*` },
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
    if (props.alertEmail) new Subscription(this, 'AlertEmail', { topic, protocol: SubscriptionProtocol.EMAIL, endpoint: props.alertEmail });

    const dlq = new Queue(this, 'ExpiryDeadLetters', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
      removalPolicy,
    });
    this.expiryDeadLetterQueue = dlq;
    NagSuppressions.addResourceSuppressions(dlq, [
      { id: 'AwsSolutions-SQS3', reason: 'This queue is itself the dead-letter queue of the expiry schedules; its messages raise an alarm.' },
    ]);

    const accessLogs = new Bucket(this, 'AuditAccessLogs', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_PREFERRED,
      removalPolicy,
    });
    NagSuppressions.addResourceSuppressions(accessLogs, [
      { id: 'AwsSolutions-S1', reason: 'This bucket receives the audit bucket\'s server access logs; logging it too would recurse.' },
    ]);
    this.auditBucket = new Bucket(this, 'AuditExports', {
      encryption: BucketEncryption.S3_MANAGED,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      enforceSSL: true,
      versioned: true,
      serverAccessLogsBucket: accessLogs,
      serverAccessLogsPrefix: 'audit-exports/',
      // Athena results are copies of audit data made for one question: they do not outlive the question.
      lifecycleRules: [{ id: 'ExpireAthenaResults', prefix: `${ATHENA_RESULTS_PREFIX}/`, expiration: Duration.days(30), noncurrentVersionExpiration: Duration.days(1) }],
      removalPolicy,
    });
  }
}
