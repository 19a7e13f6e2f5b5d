/**
 * The standalone deployment: a stateful stack (retained data) and a stateless stack
 * (functions, API, schedules, alarms) that receives the stateful resources as typed props.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { ITopic } from 'aws-cdk-lib/aws-sns';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import type { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import type { ProfileSet } from '../functions/domain/profile.js';
import { BreakGlassService } from './constructs/break-glass-service.js';
import { BreakGlassState } from './constructs/break-glass-state.js';

export interface StatefulStackProps extends StackProps {
  /** @default no e-mail subscription */
  readonly alertEmail?: string;
}

export class BreakGlassStatefulStack extends Stack {
  public readonly table: ITable;
  public readonly topic: ITopic;
  public readonly expiryDeadLetterQueue: IQueue;
  public readonly auditBucket: IBucket;

  constructor(scope: Construct, id: string, props: StatefulStackProps = {}) {
    super(scope, id, props);
    const state = new BreakGlassState(this, 'State', props.alertEmail ? { alertEmail: props.alertEmail } : {});
    this.table = state.table;
    this.topic = state.topic;
    this.expiryDeadLetterQueue = state.expiryDeadLetterQueue;
    this.auditBucket = state.auditBucket;
    new CfnOutput(this, 'TableName', { value: this.table.tableName });
    new CfnOutput(this, 'TopicArn', { value: this.topic.topicArn });
    new CfnOutput(this, 'AuditBucketName', { value: this.auditBucket.bucketName });
  }
}

export interface StatelessStackProps extends StackProps {
  readonly table: ITable;
  readonly topic: ITopic;
  readonly expiryDeadLetterQueue: IQueue;
  readonly profiles: { readonly raw: unknown; readonly profiles: ProfileSet };
  /** @default none */
  readonly securityPrincipals?: readonly string[];
  /** @default false */
  readonly allowBroadEligibility?: boolean;
  /** Profiles frozen by configuration (`*` for all). @default none */
  readonly frozenProfiles?: readonly string[];
  /** @default 3 */
  readonly maxActivePerPrincipal?: number;
  /** @default RetentionDays.ONE_YEAR */
  readonly logRetention?: RetentionDays;
}

export class BreakGlassStatelessStack extends Stack {
  public readonly service: BreakGlassService;

  constructor(scope: Construct, id: string, props: StatelessStackProps) {
    super(scope, id, props);
    this.service = new BreakGlassService(this, 'Service', {
      table: props.table,
      topic: props.topic,
      expiryDeadLetterQueue: props.expiryDeadLetterQueue,
      profiles: { raw: props.profiles.raw, set: props.profiles.profiles },
      ...(props.securityPrincipals ? { securityPrincipals: props.securityPrincipals } : {}),
      ...(props.allowBroadEligibility !== undefined ? { allowBroadEligibility: props.allowBroadEligibility } : {}),
      ...(props.frozenProfiles ? { frozenProfiles: props.frozenProfiles } : {}),
      ...(props.maxActivePerPrincipal !== undefined ? { maxActivePerPrincipal: props.maxActivePerPrincipal } : {}),
      ...(props.logRetention ? { logRetention: props.logRetention } : {}),
    });
  }
}
