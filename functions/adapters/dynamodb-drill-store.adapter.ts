/**
 * DRILL results in the one table: `pk = DRILL`, `sk = RESULT#<finishedAt>#<id>`, newest first by query;
 * a requested drill's progress at `sk = RUN#<id>`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { DrillResult, DrillRun, DrillStore } from '../domain/drill.js';
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
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :results)',
        ExpressionAttributeValues: { ':pk': drillKeys.partition, ':results': drillKeys.resultPrefix },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((item) => JSON.parse(String(item.result)) as DrillResult);
  }

  async progress(run: DrillRun): Promise<void> {
    // Its own attribute (`run`, not `result`): the audit report reads finished drills only.
    await this.doc.send(
      new PutCommand({
        TableName: this.options.tableName,
        Item: { ...drillKeys.run(run.id), run: JSON.stringify(run) },
      }),
    );
  }

  async get(id: string): Promise<DrillRun | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.options.tableName, Key: drillKeys.run(id), ConsistentRead: true }),
    );
    return Item ? (JSON.parse(String(Item.run)) as DrillRun) : undefined;
  }
}
