/**
 * The whole system as one construct, for teams that embed break-glass in their own CDK app:
 *
 * ```ts
 * const profiles = loadProfileFile('breakglass-profiles.json');
 * new BreakGlass(this, 'BreakGlass', {
 *   profiles,
 *   alertEmail: 'security@example.com',
 *   securityPrincipals: ['arn:aws:iam::123456789012:role/Security'],
 * });
 * ```
 */
import type { RemovalPolicy } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import type { ProfileSet } from '../../functions/domain/profile.js';
import { BreakGlassAuditQueries } from './break-glass-audit-queries.js';
import { BreakGlassService, type BreakGlassServiceOptions, serviceOptions } from './break-glass-service.js';
import { type AuditObjectLock, BreakGlassState } from './break-glass-state.js';

/** The service's options (`BreakGlassServiceOptions`, declared once) and what the stateful half takes. */
export interface BreakGlassProps extends BreakGlassServiceOptions {
  /** The profile file as read and as validated (see `loadProfileFile`). */
  readonly profiles: { readonly raw: unknown; readonly profiles: ProfileSet };
  /** @default no e-mail subscription */
  readonly alertEmail?: string;
  /** Glue database of the auditors' query layer; unique per account and region. @default 'breakglass_audit' */
  readonly auditDatabaseName?: string;
  /** Athena workgroup of the auditors' query layer; unique per account and region. @default 'breakglass-audit' */
  readonly auditWorkGroupName?: string;
  /** @default RemovalPolicy.RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** A role that may write the grants table besides the functions (last resort). @default none */
  readonly tableAdminRoleArn?: string;
  /** Object Lock of the audit exports. @default { mode: 'GOVERNANCE', days: 400 } */
  readonly auditObjectLock?: AuditObjectLock;
}

export class BreakGlass extends Construct {
  readonly state: BreakGlassState;
  readonly service: BreakGlassService;
  readonly auditQueries: BreakGlassAuditQueries;

  constructor(scope: Construct, id: string, props: BreakGlassProps) {
    super(scope, id);
    this.state = new BreakGlassState(this, 'State', {
      ...(props.alertEmail ? { alertEmail: props.alertEmail } : {}),
      ...(props.removalPolicy ? { removalPolicy: props.removalPolicy } : {}),
      ...(props.securityPrincipals ? { securityPrincipals: props.securityPrincipals } : {}),
      ...(props.tableAdminRoleArn ? { tableAdminRoleArn: props.tableAdminRoleArn } : {}),
      ...(props.auditObjectLock ? { auditObjectLock: props.auditObjectLock } : {}),
    });
    this.auditQueries = new BreakGlassAuditQueries(this, 'AuditQueries', {
      bucket: this.state.auditBucket,
      resultsBucket: this.state.athenaResultsBucket,
      ...(props.auditDatabaseName ? { databaseName: props.auditDatabaseName } : {}),
      ...(props.auditWorkGroupName ? { workGroupName: props.auditWorkGroupName } : {}),
    });
    this.service = new BreakGlassService(this, 'Service', {
      profiles: { raw: props.profiles.raw, set: props.profiles.profiles },
      table: this.state.table,
      topic: this.state.topic,
      expiryDeadLetterQueue: this.state.expiryDeadLetterQueue,
      expiryFailureQueue: this.state.expiryFailureQueue,
      auditBucket: this.state.auditBucket,
      otherStateful: {
        keys: [this.state.topicKey],
        buckets: [this.state.accessLogsBucket, this.state.athenaResultsBucket],
        auditDatabaseName: this.auditQueries.databaseName,
        auditWorkGroupName: this.auditQueries.workGroupName,
      },
      ...serviceOptions(props),
    });
  }
}
