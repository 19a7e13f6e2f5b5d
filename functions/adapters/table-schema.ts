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
 *
 * Every index projects ALL attributes; all keys are strings.
 */
export const TABLE_KEY = { partitionKey: 'pk', sortKey: 'sk' } as const;

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
export const KEY_ATTRIBUTES: readonly string[] = [...new Set([TABLE_KEY.partitionKey, TABLE_KEY.sortKey, ...Object.values(GSI).flatMap((i) => [i.partitionKey, i.sortKey])])];
