/**
 * ActivityStore over the grants table (keys: `table-schema.ts` → `activityKeys`).
 *
 * - A call is Put with `attribute_not_exists(pk)` under a key made of its own `eventTime` and
 *   CloudTrail `eventID`, in one transaction with an `ADD` to the grant's summary counters: a
 *   redelivered copy fails the condition, cancels the transaction and counts nothing (`duplicate`),
 *   so the counters stay exact however often and however concurrently a call is delivered.
 * - Two transactions on the same summary at the same moment: DynamoDB cancels one ("There is an
 *   ongoing TransactWriteItems operation that conflicts with a concurrent TransactWriteItems
 *   request", API reference of TransactionCanceledException; reason code `TransactionConflict`). moto
 *   serializes item operations and never produces it, so the unit test mocks it. It is retried here
 *   with jittered backoff, then left to the queue's redelivery (safe: duplicates count nothing).
 * - `firstCallAt` / `lastCallAt` are a minimum and a maximum: conditional `SET`s that only move them
 *   outward, run after the transaction and again for duplicates, so a crash between the two is
 *   repaired by the redelivery. Records are never updated or deleted.
 */
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import {
  type ActivityRecord,
  type ActivitySummary,
  activitySortKey,
  emptySummary,
  summaryIncrements,
} from '../domain/activity.js';
import { ValidationError } from '../domain/errors.js';
import type { ActivityPage, ActivityStore, SessionGrant } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';
import { activityKeys } from './table-schema.js';

/** Attempts of one call's transaction against `TransactionConflict` before the delivery is failed (and redelivered). */
const CONFLICT_ATTEMPTS = 12;

export interface DynamoActivityStoreOptions {
  readonly tableName: string;
  readonly awsSdkV3Client?: DynamoDBClient;
  readonly clientConfig?: DynamoDBClientConfig;
  /** Waits between conflict retries (tests shorten them). */
  readonly sleep?: (ms: number) => Promise<void>;
}

export class DynamoActivityStore implements ActivityStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;
  private readonly sleep: (ms: number) => Promise<void>;

  constructor(options: DynamoActivityStoreOptions) {
    this.table = options.tableName;
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
    this.sleep = options.sleep ?? ((ms) => new Promise((r) => setTimeout(r, ms)));
  }

  async record(record: ActivityRecord): Promise<'stored' | 'duplicate'> {
    const inc = summaryIncrements(record);
    const outcome = await this.putOnce(record, inc);
    await this.widen(record.grantId, record.eventTime);
    return outcome;
  }

  private async putOnce(
    record: ActivityRecord,
    inc: ReturnType<typeof summaryIncrements>,
  ): Promise<'stored' | 'duplicate'> {
    for (let attempt = 1; ; attempt++) {
      try {
        await this.doc.send(
          new TransactWriteCommand({
            TransactItems: [
              {
                Put: {
                  TableName: this.table,
                  Item: { ...activityKeys.call(record.grantId, activitySortKey(record)), ...record },
                  ConditionExpression: 'attribute_not_exists(pk)',
                },
              },
              {
                Update: {
                  TableName: this.table,
                  Key: activityKeys.summary(record.grantId),
                  UpdateExpression:
                    'SET #grantId = :grantId ADD #calls :calls, #writes :writes, #denied :denied, #afterEnd :afterEnd, #afterEndAllowed :afterEndAllowed',
                  ExpressionAttributeNames: {
                    '#grantId': 'grantId',
                    '#calls': 'calls',
                    '#writes': 'writes',
                    '#denied': 'denied',
                    '#afterEnd': 'afterEnd',
                    '#afterEndAllowed': 'afterEndAllowed',
                  },
                  ExpressionAttributeValues: {
                    ':grantId': record.grantId,
                    ':calls': inc.calls,
                    ':writes': inc.writes,
                    ':denied': inc.denied,
                    ':afterEnd': inc.afterEnd,
                    ':afterEndAllowed': inc.afterEndAllowed,
                  },
                },
              },
            ],
          }),
        );
        return 'stored';
      } catch (error) {
        if (!(error instanceof TransactionCanceledException)) throw error;
        const reasons = error.CancellationReasons ?? [];
        // The put's own condition: this call is already stored (index 0 is the put).
        if (reasons[0]?.Code === 'ConditionalCheckFailed') return 'duplicate';
        if (!reasons.some((r) => r.Code === 'TransactionConflict') || attempt >= CONFLICT_ATTEMPTS) throw error;
        await this.sleep(Math.min(20 * 2 ** Math.min(attempt, 6), 1_000) * (0.5 + Math.random()));
      }
    }
  }

  /** Moves firstCallAt down and lastCallAt up to `at` when it lies outside them (idempotent). */
  private async widen(grantId: string, at: string): Promise<void> {
    for (const [name, op] of [
      ['firstCallAt', '>'],
      ['lastCallAt', '<'],
    ] as const) {
      try {
        await this.doc.send(
          new UpdateCommand({
            TableName: this.table,
            Key: activityKeys.summary(grantId),
            UpdateExpression: 'SET #t = :t',
            ConditionExpression: `attribute_exists(pk) AND (attribute_not_exists(#t) OR #t ${op} :t)`,
            ExpressionAttributeNames: { '#t': name },
            ExpressionAttributeValues: { ':t': at },
          }),
        );
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error; // already as wide: nothing to do
      }
    }
  }

  async summary(grantId: string): Promise<ActivitySummary> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: activityKeys.summary(grantId), ConsistentRead: true }),
    );
    if (!Item) return emptySummary(grantId);
    const n = (v: unknown) => (typeof v === 'number' ? v : 0);
    return {
      grantId,
      calls: n(Item.calls),
      writes: n(Item.writes),
      denied: n(Item.denied),
      afterEnd: n(Item.afterEnd),
      afterEndAllowed: n(Item.afterEndAllowed),
      ...(typeof Item.firstCallAt === 'string' ? { firstCallAt: Item.firstCallAt } : {}),
      ...(typeof Item.lastCallAt === 'string' ? { lastCallAt: Item.lastCallAt } : {}),
    };
  }

  async page(grantId: string, query: { limit: number; nextToken?: string }): Promise<ActivityPage> {
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND begins_with(sk, :calls)',
        ExpressionAttributeValues: { ':pk': activityKeys.partition(grantId), ':calls': 'CALL#' },
        ScanIndexForward: false,
        Limit: query.limit,
        ...(query.nextToken ? { ExclusiveStartKey: decodeToken(query.nextToken, grantId) } : {}),
      }),
    );
    return {
      activity: (page.Items ?? []).map(toRecord),
      ...(page.LastEvaluatedKey
        ? {
            nextToken: Buffer.from(
              JSON.stringify({ pk: page.LastEvaluatedKey.pk, sk: page.LastEvaluatedKey.sk }),
            ).toString('base64url'),
          }
        : {}),
    };
  }

  async all(grantId: string): Promise<ActivityRecord[]> {
    const records: ActivityRecord[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :calls)',
          ExpressionAttributeValues: { ':pk': activityKeys.partition(grantId), ':calls': 'CALL#' },
          ConsistentRead: true,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      records.push(...(page.Items ?? []).map(toRecord));
      start = page.LastEvaluatedKey;
    } while (start);
    return records;
  }

  async announcedAt(grantId: string): Promise<string | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: activityKeys.announced(grantId), ConsistentRead: true }),
    );
    return typeof Item?.announcedAt === 'string' ? Item.announcedAt : undefined;
  }

  async markAnnounced(grantId: string, at: string): Promise<void> {
    try {
      await this.doc.send(
        new PutCommand({
          TableName: this.table,
          Item: { ...activityKeys.announced(grantId), grantId, announcedAt: at },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // announced before: the first time stays
    }
  }

  async registerSession(entry: SessionGrant): Promise<void> {
    // Same key, same content: a repeated registration rewrites nothing that matters.
    await this.doc.send(
      new PutCommand({
        TableName: this.table,
        Item: {
          ...activityKeys.session(entry.sessionKey, entry.createdAt, entry.grantId),
          sessionKey: entry.sessionKey,
          grantId: entry.grantId,
          grantCreatedAt: entry.createdAt,
        },
      }),
    );
  }

  async sessionGrants(sessionKey: string, at: string, limit: number): Promise<SessionGrant[]> {
    const { Items } = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        KeyConditionExpression: 'pk = :pk AND sk BETWEEN :lo AND :hi',
        // Grants created up to the call's second (a grant's createdAt has milliseconds; `~` sorts after them).
        ExpressionAttributeValues: {
          ':pk': activityKeys.sessionPartition(sessionKey),
          ':lo': 'GRANT#',
          ':hi': `GRANT#${at.slice(0, 19)}~`,
        },
        ScanIndexForward: false,
        Limit: limit,
      }),
    );
    return (Items ?? []).map((i) => ({
      sessionKey: i.sessionKey as string,
      grantId: i.grantId as string,
      createdAt: i.grantCreatedAt as string,
    }));
  }
}

function toRecord(item: Record<string, unknown>): ActivityRecord {
  const { pk: _pk, sk: _sk, ...record } = item;
  return record as unknown as ActivityRecord;
}

/** A token is exactly the page's last key, inside this grant's activity; anything else is a 400. */
function decodeToken(token: string, grantId: string): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('nextToken is not a token this API issued');
  }
  const p = parsed as Record<string, unknown> | null;
  if (
    typeof p !== 'object' ||
    p === null ||
    Array.isArray(p) ||
    Object.keys(p).sort().join(',') !== 'pk,sk' ||
    p.pk !== activityKeys.partition(grantId) ||
    typeof p.sk !== 'string' ||
    !/^CALL#[\x21-\x7e]{1,300}$/.test(p.sk)
  ) {
    throw new ValidationError("nextToken is not a token for this grant's activity");
  }
  return p as Record<string, string>;
}
