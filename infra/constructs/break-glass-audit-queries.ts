/**
 * The auditors' query layer over the daily table exports: a Glue database and table (partition
 * projection on the export day, so no crawler and no partition upkeep), an Athena workgroup whose
 * results stay encrypted under `athena-results/` of their own bucket (the audit bucket is under
 * Object Lock: results there could not expire), and the saved queries of `infra/athena-queries.ts`.
 *
 * It sits beside the audit bucket in the stateful half: it describes that bucket's data, needs
 * nothing of the functions, and keeps the workgroup's query history when the stateless half is
 * redeployed. It holds no data itself, so it is deleted with its stack (the exports and results
 * stay in the retained bucket) and a redeploy can create it again under the same names.
 */
import { Stack } from 'aws-cdk-lib';
import { CfnNamedQuery, CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { CfnDatabase, CfnTable } from 'aws-cdk-lib/aws-glue';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { EXPORT_PREFIX } from '../../functions/domain/export-audit.js';
import {
  ATHENA_RESULTS_PREFIX,
  AUDIT_DATABASE,
  AUDIT_TABLE,
  AUDIT_WORKGROUP,
  auditQueries,
  ITEM_COLUMN_TYPE,
} from '../athena-queries.js';

export interface BreakGlassAuditQueriesProps {
  /** The audit bucket the daily exports land in (`exports/dt=<day>/`). */
  readonly bucket: IBucket;
  /** The bucket Athena writes query results to (under `athena-results/`); not the audit bucket. */
  readonly resultsBucket: IBucket;
  /** Glue database name; unique per account and region. @default 'breakglass_audit' */
  readonly databaseName?: string;
  /** Athena workgroup name; unique per account and region. @default 'breakglass-audit' */
  readonly workGroupName?: string;
  /** First day partition projection reads (`yyyy-MM-dd`). @default '2024-01-01' */
  readonly firstExportDay?: string;
}

export class BreakGlassAuditQueries extends Construct {
  readonly databaseName: string;
  readonly tableName: string = AUDIT_TABLE;
  readonly workGroupName: string;
  readonly workGroup: CfnWorkGroup;
  readonly namedQueries: readonly CfnNamedQuery[];

  constructor(scope: Construct, id: string, props: BreakGlassAuditQueriesProps) {
    super(scope, id);
    const stack = Stack.of(this);
    this.databaseName = props.databaseName ?? AUDIT_DATABASE;
    this.workGroupName = props.workGroupName ?? AUDIT_WORKGROUP;
    const firstDay = props.firstExportDay ?? '2024-01-01';
    if (!/^\d{4}-\d{2}-\d{2}$/.test(firstDay))
      throw new Error(`firstExportDay must be a day as yyyy-MM-dd, got "${firstDay}"`);
    const exportsRoot = `s3://${props.bucket.bucketName}/${EXPORT_PREFIX}/`;

    const database = new CfnDatabase(this, 'Database', {
      catalogId: stack.account,
      databaseInput: {
        name: this.databaseName,
        description: 'break-glass: daily exports of the grants table, for auditors',
      },
    });
    const table = new CfnTable(this, 'Exports', {
      catalogId: stack.account,
      databaseName: database.ref,
      tableInput: {
        name: this.tableName,
        description: 'break-glass: the grants table as exported each day (DynamoDB JSON); each day is a full copy',
        tableType: 'EXTERNAL_TABLE',
        partitionKeys: [{ name: 'dt', type: 'string', comment: 'export day (UTC), yyyy-MM-dd' }],
        parameters: {
          classification: 'json',
          compressionType: 'gzip',
          // Partition projection: the days are computed, not registered; a day without an export reads as empty.
          'projection.enabled': 'true',
          'projection.dt.type': 'date',
          'projection.dt.format': 'yyyy-MM-dd',
          'projection.dt.range': `${firstDay},NOW`,
          'projection.dt.interval': '1',
          'projection.dt.interval.unit': 'DAYS',
          'storage.location.template': `${exportsRoot}dt=\${dt}/`,
        },
        storageDescriptor: {
          location: exportsRoot,
          inputFormat: 'org.apache.hadoop.mapred.TextInputFormat',
          outputFormat: 'org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat',
          serdeInfo: {
            serializationLibrary: 'org.openx.data.jsonserde.JsonSerDe',
            // The export's manifest and checksum files sit beside the data: they read as empty rows.
            parameters: { 'ignore.malformed.json': 'true' },
          },
          columns: [
            {
              name: 'item',
              type: ITEM_COLUMN_TYPE,
              comment: 'the DynamoDB item: every attribute as {s} or {n}; details as {m}',
            },
          ],
        },
      },
    });

    const key = props.resultsBucket.encryptionKey;
    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: this.workGroupName,
      description: "break-glass: auditors' queries over the daily table exports",
      state: 'ENABLED',
      workGroupConfiguration: {
        // Nobody can send this workgroup's results elsewhere or unencrypted.
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${props.resultsBucket.bucketName}/${ATHENA_RESULTS_PREFIX}/`,
          expectedBucketOwner: stack.account,
          encryptionConfiguration: key
            ? { encryptionOption: 'SSE_KMS', kmsKey: key.keyArn }
            : { encryptionOption: 'SSE_S3' },
        },
      },
    });

    this.namedQueries = auditQueries(this.databaseName, this.tableName).map((query) => {
      const named = new CfnNamedQuery(this, query.id, {
        name: query.name,
        description: query.description,
        database: this.databaseName,
        workGroup: this.workGroup.ref,
        queryString: query.sql,
      });
      named.addResourceDependency(table);
      return named;
    });
  }
}
