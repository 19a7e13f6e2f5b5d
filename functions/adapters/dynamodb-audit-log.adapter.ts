/**
 * AuditLog over the grants table's indexes (`table-schema.ts`): one Query per page, never a Scan.
 *
 * The index is chosen by the most selective filter: requester, then profile, then event type;
 * the remaining filters become a FilterExpression on that Query. With no filter but time, the
 * per-day index is walked day by day from `to` back to `from`.
 */
import { DynamoDBClient, type DynamoDBClientConfig } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { AuditEvent } from '../domain/audit-event.js';
import { ValidationError } from '../domain/errors.js';
import type { Grant } from '../domain/grant.js';
import type { AuditLog, AuditQuery, EventPage } from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';
import { GSI, type IndexName, toEvent, toGrant } from './table-schema.js';

/** Queries per request at most: a filter that matches little cannot make one request run long. */
const MAX_QUERIES = 20;

interface Cursor {
  readonly index: IndexName;
  /** For the per-day index: the day being read. */
  readonly day?: string;
  readonly key?: Record<string, string>;
}

export class DynamoAuditLog implements AuditLog {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: { tableName: string; awsSdkV3Client?: DynamoDBClient; clientConfig?: DynamoDBClientConfig }) {
    this.table = options.tableName;
    this.doc = DynamoDBDocumentClient.from(
      options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig }),
    );
  }

  async queryEvents(query: AuditQuery): Promise<EventPage> {
    const [index, value] =
      query.requester !== undefined
        ? (['eventsByRequester', query.requester] as const)
        : query.profile !== undefined
          ? (['eventsByProfile', query.profile] as const)
          : query.eventType !== undefined
            ? (['eventsByType', query.eventType] as const)
            : (['eventsByDay', undefined] as const);
    const cursor = query.nextToken ? decodeCursor(query.nextToken, index, query, value) : undefined;
    // Filters not served by the chosen index.
    const filters: Array<[string, string]> = [];
    if (index === 'eventsByRequester' && query.profile !== undefined) filters.push(['profile', query.profile]);
    if ((index === 'eventsByRequester' || index === 'eventsByProfile') && query.eventType !== undefined)
      filters.push(['type', query.eventType]);

    const events: AuditEvent[] = [];
    let day = index === 'eventsByDay' ? (cursor?.day ?? query.to.slice(0, 10)) : undefined;
    let start = cursor?.key;
    for (let queries = 0; queries < MAX_QUERIES; queries++) {
      const partition = day ?? value!;
      const keyAttr = GSI[index].partitionKey;
      const input: QueryCommandInput = {
        TableName: this.table,
        IndexName: index,
        KeyConditionExpression: '#pk = :pk AND #at BETWEEN :from AND :to',
        ExpressionAttributeNames: {
          '#pk': keyAttr,
          '#at': 'at',
          ...Object.fromEntries(filters.map(([a], i) => [`#f${i}`, a])),
        },
        ExpressionAttributeValues: {
          ':pk': partition,
          ':from': query.from,
          ':to': query.to,
          ...Object.fromEntries(filters.map(([, v], i) => [`:f${i}`, v])),
        },
        ...(filters.length ? { FilterExpression: filters.map((_, i) => `#f${i} = :f${i}`).join(' AND ') } : {}),
        ScanIndexForward: false,
        Limit: query.limit - events.length,
        ...(start ? { ExclusiveStartKey: start } : {}),
      };
      const page = await this.doc.send(new QueryCommand(input));
      for (const item of page.Items ?? []) events.push(toEvent(item));
      start = page.LastEvaluatedKey as Record<string, string> | undefined;
      if (!start && day !== undefined) {
        // This day is done: on to the one before, unless that is before `from`.
        const previous = new Date(Date.parse(`${day}T00:00:00.000Z`) - 86_400_000).toISOString().slice(0, 10);
        day = previous >= query.from.slice(0, 10) ? previous : undefined;
        if (day === undefined) return { events };
        if (events.length >= query.limit) return { events, nextToken: encodeCursor({ index, day }) };
        continue;
      }
      if (!start) return { events };
      if (events.length >= query.limit) break;
    }
    return { events, nextToken: encodeCursor({ index, ...(day ? { day } : {}), ...(start ? { key: start } : {}) }) };
  }

  async reviewsDue(endedBefore: string, limit: number): Promise<Grant[]> {
    const grants: Grant[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: 'byReviewDue' satisfies IndexName,
          KeyConditionExpression: '#state = :due AND #ended < :before',
          ExpressionAttributeNames: { '#state': GSI.byReviewDue.partitionKey, '#ended': GSI.byReviewDue.sortKey },
          ExpressionAttributeValues: { ':due': 'DUE', ':before': endedBefore },
          Limit: limit - grants.length,
          ...(start ? { ExclusiveStartKey: start } : {}),
        }),
      );
      grants.push(...(page.Items ?? []).map(toGrant));
      start = page.LastEvaluatedKey;
    } while (start && grants.length < limit);
    return grants;
  }
}

function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify(cursor)).toString('base64url');
}

/**
 * A cursor is exactly what this adapter issued for this query: same index, same partition value,
 * a position inside the query's time range. Anything else is a 400, never a DynamoDB error.
 */
function decodeCursor(token: string, index: IndexName, query: AuditQuery, value: string | undefined): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('nextToken is not a token this API issued');
  }
  const c = parsed as Partial<Cursor> | null;
  const { partitionKey, sortKey } = GSI[index];
  const keyNames = ['pk', 'sk', partitionKey, sortKey].sort().join(',');
  const isDay = (d: unknown): d is string =>
    typeof d === 'string' &&
    /^\d{4}-\d{2}-\d{2}$/.test(d) &&
    !Number.isNaN(Date.parse(`${d}T00:00:00.000Z`)) &&
    new Date(`${d}T00:00:00.000Z`).toISOString().startsWith(d);
  const shapeOk =
    typeof c === 'object' &&
    c !== null &&
    !Array.isArray(c) &&
    c.index === index &&
    Object.keys(c).every((k) => k === 'index' || k === 'day' || k === 'key') &&
    (index === 'eventsByDay' ? isDay(c.day) : c.day === undefined && c.key !== undefined) &&
    (c.key === undefined ||
      (typeof c.key === 'object' &&
        c.key !== null &&
        Object.keys(c.key).sort().join(',') === keyNames &&
        Object.values(c.key).every((v) => typeof v === 'string' && v.length < 2100)));
  const partition = index === 'eventsByDay' ? c?.day : value;
  const inQuery =
    shapeOk &&
    (index !== 'eventsByDay' || (c!.day! >= query.from.slice(0, 10) && c!.day! <= query.to.slice(0, 10))) &&
    (c!.key === undefined ||
      (c!.key[partitionKey] === partition && c!.key[sortKey]! >= query.from && c!.key[sortKey]! <= query.to));
  if (!inQuery)
    throw new ValidationError('nextToken is not a token for this query (was it issued for other filters or times?)');
  return c as Cursor;
}
