/** TableExporter over DynamoDB's ExportTableToPointInTime (the table needs point-in-time recovery). */
import {
  DescribeExportCommand,
  DynamoDBClient,
  type DynamoDBClientConfig,
  ExportFormat,
  ExportTableToPointInTimeCommand,
  ListExportsCommand,
} from '@aws-sdk/client-dynamodb';
import type { ExportStatus, TableExporter } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';

export class DynamoTableExporter implements TableExporter {
  private readonly client: DynamoDBClient;

  constructor(
    private readonly options: {
      tableArn: string;
      bucket: string;
      bucketOwner?: string;
      awsSdkV3Client?: DynamoDBClient;
      clientConfig?: DynamoDBClientConfig;
    },
  ) {
    this.client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
  }

  async start(request: { prefix: string; clientToken: string }): Promise<{ exportArn: string }> {
    const { ExportDescription } = await this.client.send(
      new ExportTableToPointInTimeCommand({
        TableArn: this.options.tableArn,
        S3Bucket: this.options.bucket,
        ...(this.options.bucketOwner ? { S3BucketOwner: this.options.bucketOwner } : {}),
        S3Prefix: request.prefix,
        S3SseAlgorithm: 'AES256',
        ExportFormat: ExportFormat.DYNAMODB_JSON,
        ClientToken: request.clientToken,
      }),
    );
    return { exportArn: ExportDescription!.ExportArn! };
  }

  /** The table's exports, newest pages first, until a few days' worth are known (ListExports, then DescribeExport each). */
  async recent(): Promise<ExportStatus[]> {
    const arns: string[] = [];
    let next: string | undefined;
    // ListExports pages hold at most 25; a handful of pages covers well over the two days the check needs.
    for (let page = 0; page < 8; page++) {
      const res = await this.client.send(
        new ListExportsCommand({
          TableArn: this.options.tableArn,
          MaxResults: 25,
          ...(next ? { NextToken: next } : {}),
        }),
      );
      arns.push(...(res.ExportSummaries ?? []).map((s) => s.ExportArn!));
      next = res.NextToken;
      if (!next) break;
    }
    const described = await Promise.all(
      arns.map((arn) => this.client.send(new DescribeExportCommand({ ExportArn: arn }))),
    );
    return described.map(({ ExportDescription: d }) => ({
      exportArn: d!.ExportArn!,
      prefix: d!.S3Prefix ?? '',
      status: d!.ExportStatus ?? 'UNKNOWN',
      ...(d!.FailureCode || d!.FailureMessage
        ? { failure: `${d!.FailureCode ?? ''} ${d!.FailureMessage ?? ''}`.trim() }
        : {}),
    }));
  }
}
