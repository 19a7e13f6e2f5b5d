/** DRILL results in the one table: `pk = DRILL`, `sk = RESULT#<finishedAt>#<id>`, newest first by query. */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DrillResult, DrillStore } from '../domain/drill.js';
import { clientDefaults } from './client-defaults.js';
import { drillKeys } from './table-schema.js';

export class DynamoDrillStore implements DrillStore {
  private readonly doc: DynamoDBDocumentClient;

  constructor(
    private readonly options: {
      tableName: string;
      awsSdkV3Client?: DynamoDBClient;
      clientConfig?: DynamoDBClientConfig;
    },
  ) {
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async record(result: DrillResult): Promise<void> {
    // The result as one JSON string: no attribute of it can key an index, and the export's readers
    // (audit report) parse one field.
    await this.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { ...drillKeys.result(result.finishedAt, result.id), result: JSON.stringify(result) },
      }),
    );
  }

  async latest(limit: number): Promise<DrillResult[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.options.tableName,
        KeyConditionExpression: 'pk = :pk',
        ExpressionAttributeValues: { ':pk': drillKeys.partition },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => JSON.parse(String(item.result)) as DrillResult);
  }
}
