/**
 * AlertLimiter over the grants table: one small item per key (`ALERTLIMIT#<sha256(key)>` /
 * `STATE`) holding when the last alert went and how many were held back since.
 *
 * Race-safe without a read: the right to announce is claimed by one conditional update
 * ("no alert yet, or the last one is at least a window old"), which DynamoDB applies atomically
 * to the item, so of concurrent callers exactly one wins; the others' condition fails and they
 * add 1 to the count instead. The winner reads the count it reset (`ReturnValues: ALL_OLD`).
 */
import { createHash } from 'node:crypto';
import { ConditionalCheckFailedException, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { AlertAdmission, AlertLimiter } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';
import type { DynamoGrantStoreOptions } from './dynamodb-grant-store.adapter.js';
import { TTL_ATTRIBUTE } from './table-schema.js';

/** Default window: one alert per key per 5 minutes. */
export const DEFAULT_ALERT_WINDOW_SECONDS = 300;

/**
 * How long an item outlives its window before DynamoDB's TTL may delete it. The decision never
 * relies on the deletion: TTL "typically deletes expired items within two days of expiration" and
 * "items that have expired and not been deleted will still show up in reads"
 * (https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_UpdateTimeToLive.html), so
 * the condition compares `lastAlertAt` itself; TTL only keeps the table from collecting old callers.
 */
const KEEP_SECONDS = 24 * 3600;

export const alertLimitKey = (key: string) => ({
  pk: `ALERTLIMIT#${createHash('sha256').update(key).digest('hex')}`,
  sk: 'STATE',
});

export class DynamoAlertLimiter implements AlertLimiter {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly windowSeconds: number;

  constructor(options: DynamoGrantStoreOptions & { windowSeconds?: number }) {
    this.table = options.tableName;
    this.windowSeconds = options.windowSeconds ?? DEFAULT_ALERT_WINDOW_SECONDS;
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client);
  }

  async admit(key: string, at: Date): Promise<AlertAdmission> {
    const now = at.getTime();
    const ttl = Math.floor(now / 1000) + this.windowSeconds + KEEP_SECONDS;
    const names = { '#last': 'lastAlertAt', '#suppressed': 'suppressed', '#key': 'limitKey', '#ttl': TTL_ATTRIBUTE };
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: alertLimitKey(key),
          UpdateExpression: 'SET #last = :now, #suppressed = :zero, #key = :key, #ttl = :ttl',
          ConditionExpression: 'attribute_not_exists(#last) OR #last <= :cutoff',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: {
            ':now': now,
            ':zero': 0,
            ':key': key,
            ':ttl': ttl,
            ':cutoff': now - this.windowSeconds * 1000,
          },
          ReturnValues: 'ALL_OLD',
        }),
      );
      const suppressed = Number(Attributes?.suppressed ?? 0);
      const since =
        typeof Attributes?.lastAlertAt === 'number' ? new Date(Attributes.lastAlertAt).toISOString() : undefined;
      return { announce: true, suppressed, ...(since ? { since } : {}), windowSeconds: this.windowSeconds };
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error;
    }
    // Someone announced within the window: count this one for the next alert's summary.
    await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: alertLimitKey(key),
        UpdateExpression: 'SET #key = :key, #ttl = :ttl ADD #suppressed :one',
        ExpressionAttributeNames: { '#suppressed': 'suppressed', '#key': 'limitKey', '#ttl': TTL_ATTRIBUTE },
        ExpressionAttributeValues: { ':one': 1, ':key': key, ':ttl': ttl },
      }),
    );
    return { announce: false, windowSeconds: this.windowSeconds };
  }
}
