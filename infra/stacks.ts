/**
 * The standalone deployment: a stateful stack (retained data, and the auditors' query layer
 * over it) and a stateless stack (functions, API, schedules, alarms) that receives the
 * stateful resources as typed props.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { Construct } from 'constructs';
import type { ProfileSet } from '../functions/domain/profile.js';
import { BreakGlassAuditQueries } from './constructs/break-glass-audit-queries.js';
import { BreakGlassService, type BreakGlassServiceProps } from './constructs/break-glass-service.js';
import { type AuditObjectLock, BreakGlassState } from './constructs/break-glass-state.js';

export interface StatefulStackProps extends StackProps {
  /** @default no e-mail subscription */
  readonly alertEmail?: string;
  /** Who may subscribe to the alert topic (with the deployment itself). @default none */
  readonly securityPrincipals?: readonly string[];
  /** A role that may write the grants table besides the functions. @default none */
  readonly tableAdminRoleArn?: string;
  /** @default { mode: 'GOVERNANCE', days: 400 } */
  readonly auditObjectLock?: AuditObjectLock;
  /** Glue database of the auditors' query layer. @default 'breakglass_audit' */
  readonly auditDatabaseName?: string;
  /** Athena workgroup of the auditors' query layer. @default 'breakglass-audit' */
  readonly auditWorkGroupName?: string;
}

export class BreakGlassStatefulStack extends Stack {
  public readonly table: ITable;
  public readonly topic: ITopic;
  public readonly expiryDeadLetterQueue: IQueue;
  public readonly expiryFailureQueue: IQueue;
  public readonly auditBucket: IBucket;
  public readonly auditQueries: BreakGlassAuditQueries;
  /** The stateful resources the functions do not use but no grant may reach (PROTECTED_RESOURCES). */
  public readonly otherStateful: BreakGlassServiceProps['otherStateful'];

  constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    super(scope, id, props);
    const state = new BreakGlassState(this, 'State', {
      ...(props.alertEmail ? { alertEmail: props.alertEmail } : {}),
      ...(props.securityPrincipals ? { securityPrincipals: props.securityPrincipals } : {}),
      ...(props.tableAdminRoleArn ? { tableAdminRoleArn: props.tableAdminRoleArn } : {}),
      ...(props.auditObjectLock ? { auditObjectLock: props.auditObjectLock } : {}),
    });
    this.table = state.table;
    this.topic = state.topic;
    this.expiryDeadLetterQueue = state.expiryDeadLetterQueue;
    this.expiryFailureQueue = state.expiryFailureQueue;
    this.auditBucket = state.auditBucket;
    this.auditQueries = new BreakGlassAuditQueries(this, 'AuditQueries', {
      bucket: state.auditBucket,
      resultsBucket: state.athenaResultsBucket,
      ...(props.auditDatabaseName ? { databaseName: props.auditDatabaseName } : {}),
      ...(props.auditWorkGroupName ? { workGroupName: props.auditWorkGroupName } : {}),
    });
    this.otherStateful = {
      keys: [state.topicKey],
      buckets: [state.accessLogsBucket, state.athenaResultsBucket],
      auditDatabaseName: this.auditQueries.databaseName,
      auditWorkGroupName: this.auditQueries.workGroupName,
    };
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'AuditBucketName', { value: this.auditBucket.bucketName });
    new CfnOutput(this, 'ExpiryDeadLetterQueueUrl', {
      value: this.expiryDeadLetterQueue.queueUrl,
      description: 'Scheduler could not invoke the expiry function (README, Operations)',
    });
    new CfnOutput(this, 'ExpiryFailureQueueUrl', {
      value: this.expiryFailureQueue.queueUrl,
      description: "the expiry function failed after Lambda's retries (README, Operations)",
    });
    new CfnOutput(this, 'AuditTable', {
      value: `${this.auditQueries.databaseName}.${this.auditQueries.tableName}`,
      description: 'Glue table over the daily exports (database.table)',
    });
    new CfnOutput(this, 'AuditWorkGroup', {
      value: this.auditQueries.workGroupName,
      description: 'Athena workgroup with the saved audit queries',
    });
  }
}

export interface StatelessStackProps extends StackProps {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly expiryDeadLetterQueue: IQueue;
  readonly expiryFailureQueue: IQueue;
  readonly auditBucket: IBucket;
  readonly otherStateful: BreakGlassServiceProps['otherStateful'];
  readonly profiles: { readonly raw: unknown; readonly profiles: ProfileSet };
  /** @default none */
  readonly securityPrincipals?: readonly string[];
  /** @default securityPrincipals (synth fails when both are empty) */
  readonly reviewerPrincipals?: readonly string[];
  /** @default 3 */
  readonly reviewDeadlineDays?: number;
  /** @default false */
  readonly allowBroadEligibility?: boolean;
  /** Profiles frozen by configuration (`*` for all). @default none */
  readonly frozenProfiles?: readonly string[];
  /** @default 3 */
  readonly maxActivePerPrincipal?: number;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
  /** Create the account-wide API Gateway CloudWatch role and turn on execution logs. @default false */
  readonly apiGatewayCloudWatchRole?: boolean;
  /** Account id → alias for grants and alerts (`-c accountAliases`). @default none */
  readonly accountAliases?: Readonly<Record<string, string>>;
}

export class BreakGlassStatelessStack extends Stack {
  public readonly service: BreakGlassService;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    this.service = new BreakGlassService(this, 'Service', {
      table: props.table,
      topic: props.topic,
      expiryDeadLetterQueue: props.expiryDeadLetterQueue,
      expiryFailureQueue: props.expiryFailureQueue,
      auditBucket: props.auditBucket,
      otherStateful: props.otherStateful,
      profiles: { raw: props.profiles.raw, set: props.profiles.profiles },
      ...(props.apiGatewayCloudWatchRole !== undefined
        ? { apiGatewayCloudWatchRole: props.apiGatewayCloudWatchRole }
        : {}),
      ...(props.securityPrincipals ? { securityPrincipals: props.securityPrincipals } : {}),
      ...(props.reviewerPrincipals ? { reviewerPrincipals: props.reviewerPrincipals } : {}),
      ...(props.reviewDeadlineDays !== undefined ? { reviewDeadlineDays: props.reviewDeadlineDays } : {}),
      ...(props.allowBroadEligibility !== undefined ? { allowBroadEligibility: props.allowBroadEligibility } : {}),
      ...(props.frozenProfiles ? { frozenProfiles: props.frozenProfiles } : {}),
      ...(props.maxActivePerPrincipal !== undefined ? { maxActivePerPrincipal: props.maxActivePerPrincipal } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
      ...(props.accountAliases ? { accountAliases: props.accountAliases } : {}),
    });
  }
}
