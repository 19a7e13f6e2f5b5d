/**
 * The one table's keys and indexes, shared by the adapters, the CDK stack and the emulator
 * seed, so the three cannot drift apart.
 *
 * | item            | pk                | sk            | indexes it appears in                                   |
 * |-----------------|-------------------|---------------|---------------------------------------------------------|
 * | grant           | `GRANT#<id>`      | `GRANT`       | byStatus, byCreated, byReviewDue (once ended)           |
 * | event           | `GRANT#<id>`      | `EVENT#<seq>` | eventsByRequester, eventsByProfile, eventsByType, eventsByDay |
 * | ledger counter  | `LEDGER`          | `SEQUENCE`    |                                                         |
 * | kill switch     | `CONTROL#FREEZE`  | `STATE`, `EVENT#<version>` |                                            |
 * | idempotency key | `IDEMPOTENCY#<h>` | `KEY`         |                                                         |
 * | lease           | `LOCK#<name>`     | `LEASE`       |                                                         |
 * | alert limit     | `ALERTLIMIT#<h>`  | `STATE`       | (expires: `ttl`)                                        |
 * | profile slot    | `SLOT#<scope>`    | `SLOT#<nnnn>` |                                                         |
 * | activity call   | `ACTIVITY#<id>`   | `CALL#<eventTime>#<eventID>` | (none: read by grant, newest first)        |
 * | activity summary| `ACTIVITY#<id>`   | `SUMMARY`     |                                                         |
 * | session → grant | `SESSION#<userid>`| `GRANT#<createdAt>#<id>` | (caller mode: attributes calls by `aws:userid`) |
 * | drill result    | `DRILL`           | `RESULT#<finishedAt>#<id>` | (none: `result` is the JSON of `DrillResult`) |
 * | drill progress  | `DRILL`           | `RUN#<id>`                 | (none: `run` is the JSON of `DrillRun`) |
 *
 * Every index projects ALL attributes; all keys are strings. Activity items (`activity.ts`) live in
 * their own partitions, so CloudTrail deliveries never contend with a grant's lifecycle writes, and
 * carry none of the index key attributes (tested), so they never enter an index.
 */
import type { AuditEvent } from '../domain/audit-event.js';
import type { Grant } from '../domain/grant.js';

export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

/** The table's time-to-live attribute (epoch seconds): DynamoDB deletes an item some time after it passes. */
export const TTL_ATTRIBUTE = 'ttl';

export const GSI = {
  byStatus: { partitionKey: 'status', sortKey: 'createdAt' },
  byCreated: { partitionKey: 'entity', sortKey: 'createdAt' },
  byReviewDue: { partitionKey: 'reviewState', sortKey: 'endedAt' },
  eventsByRequester: { partitionKey: 'requester', sortKey: 'at' },
  eventsByProfile: { partitionKey: 'profile', sortKey: 'at' },
  eventsByType: { partitionKey: 'type', sortKey: 'at' },
  eventsByDay: { partitionKey: 'day', sortKey: 'at' },
} as const;
export type IndexName = keyof typeof GSI;

export const INDEX_NAMES = Object.keys(GSI) as IndexName[];

/** Every attribute that keys the table or an index. */
export const KEY_ATTRIBUTES: readonly string[] = [
  ...new Set([
    TABLE_KEY.partitionKey,
    TABLE_KEY.sortKey,
    ...Object.values(GSI).flatMap((i) => [i.partitionKey, i.sortKey]),
  ]),
];

/** A stored grant item as the domain sees it: without the table's keys. */
export function toGrant(item: Record<string, unknown>): Grant {
  const { pk: _pk, sk: _sk, entity: _entity, ...grant } = item;
  return grant as unknown as Grant;
}

/** A stored event item as the domain sees it: without the table's keys (the hash covers the rest). */
export function toEvent(item: Record<string, unknown>): AuditEvent {
  const { pk: _pk, sk: _sk, ...event } = item;
  return event as unknown as AuditEvent;
}

/** Keys of the action-logging items (`activity.ts`). */
export const activityKeys = {
  partition: (grantId: string) => `ACTIVITY#${grantId}`,
  call: (grantId: string, sortKey: string) => ({ pk: `ACTIVITY#${grantId}`, sk: sortKey }),
  summary: (grantId: string) => ({ pk: `ACTIVITY#${grantId}`, sk: 'SUMMARY' }),
  announced: (grantId: string) => ({ pk: `ACTIVITY#${grantId}`, sk: 'ANNOUNCED' }),
  sessionPartition: (sessionKey: string) => `SESSION#${sessionKey}`,
  session: (sessionKey: string, createdAt: string, grantId: string) => ({
    pk: `SESSION#${sessionKey}`,
    sk: `GRANT#${createdAt}#${grantId}`,
  }),
} as const;

/** Keys of the DRILL results (`drill.ts`). */
export const drillKeys = {
  partition: 'DRILL',
  result: (finishedAt: string, id: string) => ({ pk: 'DRILL', sk: `RESULT#${finishedAt}#${id}` }),
  /** A requested drill's progress (`GET /drills/{id}`). */
  run: (id: string) => ({ pk: 'DRILL', sk: `RUN#${id}` }),
  resultPrefix: 'RESULT#',
} as const;
