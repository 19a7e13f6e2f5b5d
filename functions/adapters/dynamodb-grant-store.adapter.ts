/**
 * GrantStore over one DynamoDB table (items and indexes: `table-schema.ts`).
 *
 * Every write that touches a grant is a transaction: the grant update (conditional on its
 * version) and the new event (conditional on not existing) succeed or fail together. Events
 * are only ever Put with `attribute_not_exists`, never updated or deleted.
 */

import { randomUUID } from 'node:crypto';
import {
  ConditionalCheckFailedException,
  DynamoDBClient,
  type DynamoDBClientConfig,
  TransactionCanceledException,
} from '@aws-sdk/client-dynamodb';
import {
  BatchGetCommand,
  DeleteCommand,
  DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  TransactWriteCommand,
  type TransactWriteCommandInput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { sealEvent } from '../domain/audit-chain.js';
import type { AuditEvent, NewAuditEvent } from '../domain/audit-event.js';
import {
  BusyError,
  type ClaimName,
  ClaimRefusedError,
  ConcurrentUpdateError,
  IdempotencyReplayError,
  ValidationError,
} from '../domain/errors.js';
import { claimScope, type Grant, type GrantStatus, grantPerson } from '../domain/grant.js';
import type {
  ActivationClaims,
  AppendOptions,
  ControlStore,
  FreezeState,
  GrantChanges,
  GrantPage,
  GrantStore,
  HeldSlot,
  IdempotencyRecord,
  LeaseLock,
  PersonHolds,
} from '../domain/ports.js';
import { clientDefaults } from './client-defaults.js';
import { type IndexName, toEvent, toGrant } from './table-schema.js';

export const GSI_BY_STATUS: IndexName = 'byStatus';
export const GSI_BY_CREATED: IndexName = 'byCreated';

const LEDGER_KEY = { pk: 'LEDGER', sk: 'SEQUENCE' };
const grantKey = (id: string) => ({ pk: `GRANT#${id}`, sk: 'GRANT' });
const eventKey = (id: string, seq: number) => ({ pk: `GRANT#${id}`, sk: `EVENT#${String(seq).padStart(6, '0')}` });
/** A profile's slots share one partition, so one strongly consistent query lists them all. */
export const slotKey = (profile: string, slot: number) => ({
  pk: `SLOT#${profile}`,
  sk: `SLOT#${String(slot).padStart(4, '0')}`,
});
const FREEZE_KEY = { pk: 'CONTROL#FREEZE', sk: 'STATE' };
const ENDING: readonly string[] = ['EXPIRED', 'REVOKED', 'FAILED'];
/** A person's holds (`ActivationClaims`): one item, `held` (every grant) and one set per profile. */
const PERSON = 'PERSON#';
const personKey = (person: string) => ({ pk: `${PERSON}${person}`, sk: 'HOLDS' });
const PROFILE_HOLD = 'profile:';

/** The kill switch as stored: absent (never set), or neither everything nor this profile frozen. */
function freezeCheck(table: string, profile: string) {
  return {
    ConditionCheck: {
      TableName: table,
      Key: FREEZE_KEY,
      ConditionExpression: 'attribute_not_exists(pk) OR (#all <> :true AND NOT contains(#profiles, :profile))',
      ExpressionAttributeNames: { '#all': 'all', '#profiles': 'profiles' },
      ExpressionAttributeValues: { ':true': true, ':profile': profile },
    },
  };
}

/** The key, names and grant id of an update of the grant's person's holds. */
function personHoldsUpdate(table: string, grant: Grant) {
  return {
    TableName: table,
    Key: personKey(grantPerson(grant)),
    ExpressionAttributeNames: {
      '#held': 'held',
      '#profile': `${PROFILE_HOLD}${claimScope(grant.profile, grant.account)}`,
    },
    ExpressionAttributeValues: { ':id': new Set([grant.id]) } as Record<string, unknown>,
  };
}

/** A person's holds item (or none) as `PersonHolds`. */
function toHolds(item: Record<string, unknown> | undefined): PersonHolds {
  const byProfile: Record<string, string[]> = {};
  for (const [name, value] of Object.entries(item ?? {}))
    if (name.startsWith(PROFILE_HOLD) && value instanceof Set && value.size)
      byProfile[name.slice(PROFILE_HOLD.length)] = [...value].map(String);
  const held = item?.held;
  return { grants: held instanceof Set ? [...held].map(String) : [], byProfile };
}

/** Keys per BatchGetItem (its maximum), and attempts at the keys it leaves unprocessed before giving up. */
const BATCH_GET_LIMIT = 100;
const BATCH_GET_ATTEMPTS = 5;

/** Whether this change ends a grant that holds claims (a PENDING or ACTIVE one). */
function releasesHolds(grant: Grant, changes: GrantChanges): boolean {
  return (
    changes.status !== undefined &&
    ENDING.includes(changes.status) &&
    (grant.status === 'PENDING' || grant.status === 'ACTIVE')
  );
}

export interface DynamoGrantStoreOptions {
  readonly tableName: string;
  readonly awsSdkV3Client?: DynamoDBClient;
  readonly clientConfig?: DynamoDBClientConfig;
}

export class DynamoGrantStore implements GrantStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoGrantStoreOptions) {
    this.table = options.tableName;
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async create(
    grant: Grant,
    event: NewAuditEvent,
    idempotency?: IdempotencyRecord,
    claims?: ActivationClaims,
  ): Promise<Grant> {
    const numbered = { ...grant, sequence: await this.nextSequence(), eventCount: 0 };
    const first = sealEvent(numbered, event);
    const stored: Grant = { ...numbered, eventCount: 1, lastHash: first.hash };
    // One transaction: the claims' conditions and the record (TransactWriteItems: up to 100 actions, all or
    // none, no two on the same item, a ConditionCheck tests an item it does not write; on cancellation,
    // CancellationReasons holds one reason per action, in request order:
    // https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_TransactWriteItems.html).
    const labelled: Array<[ClaimName | 'record', NonNullable<TransactWriteCommandInput['TransactItems']>[number]]> = [];
    if (claims) {
      // The kill switch as stored: absent (never set), or neither everything nor this profile frozen.
      labelled.push(['frozen', freezeCheck(this.table, grant.profile)]);
    }
    if (idempotency) {
      labelled.push([
        'idempotency',
        {
          Put: {
            TableName: this.table,
            Item: { pk: `IDEMPOTENCY#${idempotency.key}`, sk: 'KEY', ...idempotency, createdAt: grant.createdAt },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
    }
    if (claims) {
      const person = personHoldsUpdate(this.table, grant);
      labelled.push([
        'person',
        {
          Update: {
            ...person,
            UpdateExpression: 'ADD #held :id, #profile :id',
            // String sets: DynamoDB stores no empty set (deleting the last element removes the attribute);
            // `size` of a set is its element count. Both tests cover an emulator that keeps an empty one.
            ConditionExpression:
              '(attribute_not_exists(#profile) OR size(#profile) = :zero) AND (attribute_not_exists(#held) OR size(#held) < :max)',
            ExpressionAttributeValues: { ...person.ExpressionAttributeValues, ':zero': 0, ':max': claims.maxActive },
          },
        },
      ]);
      labelled.push([
        'slot',
        {
          Put: {
            TableName: this.table,
            Item: {
              ...slotKey(claimScope(grant.profile, grant.account), claims.slot),
              slot: claims.slot,
              grantId: grant.id,
              at: grant.createdAt,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ]);
    }
    labelled.push(
      [
        'record',
        {
          Put: {
            TableName: this.table,
            Item: { ...grantKey(grant.id), entity: 'grant', ...stored },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
      [
        'record',
        {
          Put: {
            TableName: this.table,
            Item: { ...eventKey(grant.id, 1), ...first },
            ConditionExpression: 'attribute_not_exists(pk)',
          },
        },
      ],
    );
    try {
      await this.doc.send(new TransactWriteCommand({ TransactItems: labelled.map(([, item]) => item) }));
    } catch (error) {
      await this.voidSequence(numbered.sequence, grant.id, error);
      if (!(error instanceof TransactionCanceledException)) throw error;
      const reasons = error.CancellationReasons ?? [];
      const failed = (label: string) =>
        labelled.some(([l], i) => l === label && reasons[i]?.Code === 'ConditionalCheckFailed');
      // The grant already there: a timed-out attempt the SDK retried may have landed (activateGrant checks).
      if (failed('record'))
        throw new ConcurrentUpdateError('A grant with this id exists already', {
          cause: error,
        });
      const refused: ClaimName[] = (['frozen', 'idempotency', 'person', 'slot'] as const).filter(failed);
      if (reasons.some((r) => r.Code === 'TransactionConflict')) refused.push('conflict');
      if (!claims) {
        if (refused.includes('idempotency')) {
          const prior = await this.idempotency(idempotency!.key);
          if (prior) throw new IdempotencyReplayError('This Idempotency-Key was already used', prior.grantId);
        }
        if (refused.length)
          throw new ConcurrentUpdateError('The grant changed while this request was writing it; read it again', {
            cause: error,
          });
        throw error;
      }
      if (refused.length) throw new ClaimRefusedError(`Refused: ${refused.join(', ')}`, refused, { cause: error });
      throw error;
    }
    return stored;
  }

  async backfillHolds(grant: Grant): Promise<boolean> {
    const person = personHoldsUpdate(this.table, grant);
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              ConditionCheck: {
                TableName: this.table,
                Key: grantKey(grant.id),
                ConditionExpression: '#status = :active',
                ExpressionAttributeNames: { '#status': 'status' },
                ExpressionAttributeValues: { ':active': 'ACTIVE' },
              },
            },
            {
              Update: {
                ...person,
                UpdateExpression: 'ADD #held :id, #profile :id',
                // Only when missing, so that a sweep over grants that have their holds writes nothing.
                ConditionExpression: 'attribute_not_exists(#held) OR NOT contains(#held, :grantId)',
                ExpressionAttributeValues: { ...person.ExpressionAttributeValues, ':grantId': grant.id },
              },
            },
          ],
        }),
      );
      return true;
    } catch (error) {
      // Ended meanwhile, or its holds are there: nothing to add.
      if (error instanceof TransactionCanceledException) return false;
      throw error;
    }
  }

  async personHolds(person: string): Promise<PersonHolds> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: personKey(person), ConsistentRead: true }),
    );
    return toHolds(Item);
  }

  async personHoldsMany(persons: readonly string[]): Promise<Map<string, PersonHolds>> {
    const items = await this.batchGet([...new Set(persons)].map(personKey));
    return new Map(items.map((item) => [String(item.pk).slice(PERSON.length), toHolds(item)]));
  }

  async getMany(ids: readonly string[]): Promise<Map<string, Grant>> {
    const items = await this.batchGet([...new Set(ids)].map(grantKey));
    return new Map(items.map((item) => [String(item.id), toGrant(item)]));
  }

  /**
   * Items by key, strongly consistent, 100 keys per BatchGetItem, with the keys DynamoDB left unprocessed asked
   * again. BatchGetItem "can retrieve up to 16 MB of data, which can contain as many as 100 items" (more keys is a
   * ValidationException), returns a partial result with `UnprocessedKeys` when throttled or over the size limit,
   * and "performs eventually consistent reads on every table in the request" unless `ConsistentRead` is true
   * (DynamoDB API Reference, BatchGetItem: https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
   * The emulator never leaves keys unprocessed; test/unit/adapters/grant-store-batch.test.ts covers that path.
   */
  private async batchGet(keys: ReadonlyArray<{ pk: string; sk: string }>): Promise<Array<Record<string, unknown>>> {
    const items: Array<Record<string, unknown>> = [];
    for (let i = 0; i < keys.length; i += BATCH_GET_LIMIT) {
      let pending: Array<Record<string, unknown>> = keys.slice(i, i + BATCH_GET_LIMIT);
      for (let attempt = 0; pending.length; attempt++) {
        if (attempt === BATCH_GET_ATTEMPTS)
          throw new BusyError(
            `DynamoDB left ${pending.length} of ${keys.length} keys unread after ${BATCH_GET_ATTEMPTS} attempts (throttled)`,
          );
        if (attempt) await new Promise((r) => setTimeout(r, 50 * 2 ** attempt));
        const { Responses, UnprocessedKeys } = await this.doc.send(
          new BatchGetCommand({ RequestItems: { [this.table]: { Keys: pending, ConsistentRead: true } } }),
        );
        items.push(...(Responses?.[this.table] ?? []));
        pending = UnprocessedKeys?.[this.table]?.Keys ?? [];
      }
    }
    return items;
  }

  /**
   * A ledger number whose grant was never written: recorded (`LEDGER` / `VOID#<n>`, best effort), so
   * the ledger shows why the number has no grant instead of an unexplained gap.
   */
  private async voidSequence(sequence: number, grantId: string, error: unknown): Promise<void> {
    const why = error instanceof Error ? `${error.name}: ${error.message}`.slice(0, 300) : String(error).slice(0, 300);
    await this.doc
      .send(
        new PutCommand({
          TableName: this.table,
          Item: {
            ...LEDGER_KEY,
            sk: `VOID#${String(sequence).padStart(12, '0')}`,
            sequence,
            grantId,
            at: new Date().toISOString(),
            error: why,
          },
          ConditionExpression: 'attribute_not_exists(pk)',
        }),
      )
      .catch(() => undefined); // DynamoDB failing here too: the report shows a gap, as documented
  }

  /** The next ledger number: one atomic counter across all grants (`LEDGER` / `SEQUENCE`). */
  private async nextSequence(): Promise<number> {
    const { Attributes } = await this.doc.send(
      new UpdateCommand({
        TableName: this.table,
        Key: LEDGER_KEY,
        UpdateExpression: 'ADD #last :one',
        ExpressionAttributeNames: { '#last': 'last' },
        ExpressionAttributeValues: { ':one': 1 },
        ReturnValues: 'UPDATED_NEW',
      }),
    );
    return Number(Attributes!.last);
  }

  async heldSlots(profile: string): Promise<HeldSlot[]> {
    const slots: HeldSlot[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk',
          ExpressionAttributeValues: { ':pk': `SLOT#${profile}` },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? [])
        slots.push({ slot: Number(item.slot), grantId: String(item.grantId), at: String(item.at) });
      start = page.LastEvaluatedKey;
    } while (start);
    return slots;
  }

  async releaseSlot(profile: string, slot: number, grantId: string): Promise<void> {
    try {
      await this.doc.send(
        new DeleteCommand({
          TableName: this.table,
          Key: slotKey(profile, slot),
          ConditionExpression: 'grantId = :g',
          ExpressionAttributeValues: { ':g': grantId },
        }),
      );
    } catch (error) {
      if (!(error instanceof ConditionalCheckFailedException)) throw error; // gone, or another grant's now
    }
  }

  async idempotency(key: string): Promise<IdempotencyRecord | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: { pk: `IDEMPOTENCY#${key}`, sk: 'KEY' }, ConsistentRead: true }),
    );
    return Item ? { key: Item.key, grantId: Item.grantId, fingerprint: Item.fingerprint } : undefined;
  }

  async append(
    grant: Grant,
    event: NewAuditEvent,
    changes: GrantChanges = {},
    options: AppendOptions = {},
  ): Promise<Grant> {
    const sealed = sealEvent(grant, event);
    // An undefined change leaves the field as stored (it is not written): the grant returned says so too.
    const defined = Object.fromEntries(
      Object.entries(changes).filter(([, value]) => value !== undefined),
    ) as GrantChanges;
    const next: Grant = {
      ...grant,
      ...defined,
      version: grant.version + 1,
      eventCount: sealed.seq,
      lastHash: sealed.hash,
    };
    const names: Record<string, string> = {
      '#version': 'version',
      '#eventCount': 'eventCount',
      '#lastHash': 'lastHash',
    };
    const values: Record<string, unknown> = {
      ':expected': grant.version,
      ':version': next.version,
      ':eventCount': next.eventCount,
      ':lastHash': sealed.hash,
      ':prevHash': sealed.prevHash,
    };
    const sets = ['#version = :version', '#eventCount = :eventCount', '#lastHash = :lastHash'];
    for (const [key, value] of Object.entries(defined)) {
      names[`#${key}`] = key;
      values[`:${key}`] = value;
      sets.push(`#${key} = :${key}`);
    }
    const items: NonNullable<TransactWriteCommandInput['TransactItems']> = [
      {
        Update: {
          TableName: this.table,
          Key: grantKey(grant.id),
          UpdateExpression: `SET ${sets.join(', ')}`,
          // The head hash too: an event can only ever link to the one really before it.
          ConditionExpression: '#version = :expected AND #lastHash = :prevHash',
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      },
      {
        Put: {
          TableName: this.table,
          Item: { ...eventKey(grant.id, sealed.seq), ...sealed },
          ConditionExpression: 'attribute_not_exists(pk)',
        },
      },
      // The end of a PENDING or ACTIVE grant releases its person's holds with it: unconditional, and
      // idempotent (deleting an absent element from a set changes nothing), so it can never block an end.
      ...(releasesHolds(grant, changes)
        ? [
            {
              Update: { ...personHoldsUpdate(this.table, grant), UpdateExpression: 'DELETE #held :id, #profile :id' },
            },
          ]
        : []),
    ];
    // The kill switch (activation's ACTIVE mark): a ConditionCheck on the freeze item, last, so its
    // cancellation reason is the last one (CancellationReasons are in request order, TransactWriteItems API).
    if (options.unlessFrozen) items.push(freezeCheck(this.table, grant.profile));
    try {
      await this.transact({ TransactItems: items });
    } catch (error) {
      const reasons = (error as { cause?: { CancellationReasons?: Array<{ Code?: string }> } }).cause
        ?.CancellationReasons;
      if (options.unlessFrozen && reasons?.[items.length - 1]?.Code === 'ConditionalCheckFailed')
        throw new ClaimRefusedError('Refused: frozen', ['frozen'], { cause: error });
      throw error;
    }
    // A grant that ends frees its slot right after the write that ends it. Best effort: a slot
    // left held only makes the limit stricter, and the sweeper reclaims it.
    if (grant.slot !== undefined && changes.status !== undefined && ENDING.includes(changes.status)) {
      await this.releaseSlot(claimScope(grant.profile, grant.account), grant.slot, grant.id).catch(() => undefined);
    }
    return next;
  }

  async markEnding(grantId: string, at: string): Promise<Grant | undefined> {
    try {
      const { Attributes } = await this.doc.send(
        new UpdateCommand({
          TableName: this.table,
          Key: grantKey(grantId),
          UpdateExpression: 'SET #endingSince = if_not_exists(#endingSince, :at), #version = #version + :one',
          ConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#endingSince': 'endingSince', '#version': 'version', '#status': 'status' },
          ExpressionAttributeValues: { ':at': at, ':one': 1, ':active': 'ACTIVE' },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes ? toGrant(Attributes) : undefined;
    } catch (error) {
      if (error instanceof ConditionalCheckFailedException) return undefined;
      throw error;
    }
  }

  async get(id: string): Promise<Grant | undefined> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: grantKey(id), ConsistentRead: true }),
    );
    return Item ? toGrant(Item) : undefined;
  }

  async events(id: string): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          KeyConditionExpression: 'pk = :pk AND begins_with(sk, :prefix)',
          ExpressionAttributeValues: { ':pk': `GRANT#${id}`, ':prefix': 'EVENT#' },
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      for (const item of page.Items ?? []) events.push(toEvent(item));
      start = page.LastEvaluatedKey;
    } while (start);
    return events;
  }

  async active(): Promise<Grant[]> {
    const grants: Grant[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.doc.send(
        new QueryCommand({
          TableName: this.table,
          IndexName: GSI_BY_STATUS,
          KeyConditionExpression: '#status = :active',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':active': 'ACTIVE' },
          ExclusiveStartKey: start,
        }),
      );
      grants.push(...(page.Items ?? []).map(toGrant));
      start = page.LastEvaluatedKey;
    } while (start);
    return grants;
  }

  async list(query: { status?: GrantStatus; limit: number; nextToken?: string }): Promise<GrantPage> {
    const byStatus = query.status !== undefined;
    const page = await this.doc.send(
      new QueryCommand({
        TableName: this.table,
        IndexName: byStatus ? GSI_BY_STATUS : GSI_BY_CREATED,
        KeyConditionExpression: byStatus ? '#status = :v' : '#entity = :v',
        ExpressionAttributeNames: byStatus ? { '#status': 'status' } : { '#entity': 'entity' },
        ExpressionAttributeValues: { ':v': byStatus ? query.status : 'grant' },
        ScanIndexForward: false,
        Limit: query.limit,
        ExclusiveStartKey: query.nextToken ? decodeToken(query.nextToken, byStatus ? 'status' : 'entity') : undefined,
      }),
    );
    return {
      grants: (page.Items ?? []).map(toGrant),
      ...(page.LastEvaluatedKey
        ? { nextToken: Buffer.from(JSON.stringify(page.LastEvaluatedKey)).toString('base64url') }
        : {}),
    };
  }

  private async transact(input: TransactWriteCommandInput): Promise<void> {
    try {
      await this.doc.send(new TransactWriteCommand(input));
    } catch (error) {
      // A failed condition, or another transaction on the same items at the same moment: either way someone else wrote first.
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')
      ) {
        throw new ConcurrentUpdateError('The grant changed while this request was writing it; read it again', {
          cause: error,
        });
      }
      throw error;
    }
  }
}

/** A token is the page's last key; anything that is not exactly such a key is refused. */
function decodeToken(token: string, indexKey: 'status' | 'entity'): Record<string, string> {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw new ValidationError('nextToken is not a token this API issued');
  }
  const expected = ['pk', 'sk', indexKey, 'createdAt'].sort().join(',');
  if (
    typeof parsed !== 'object' ||
    parsed === null ||
    Array.isArray(parsed) ||
    Object.keys(parsed).sort().join(',') !== expected ||
    !Object.values(parsed).every((v) => typeof v === 'string' && v.length < 200)
  ) {
    throw new ValidationError('nextToken is not a token for this query (was it issued for another status filter?)');
  }
  return parsed as Record<string, string>;
}

/**
 * The kill switch, in the same table: one state item, and one immutable history item per
 * change (`CONTROL#FREEZE` / `EVENT#<version>`), written together in a transaction.
 */
export class DynamoControlStore implements ControlStore {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoGrantStoreOptions) {
    this.table = options.tableName;
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client, { marshallOptions: { removeUndefinedValues: true } });
  }

  async freezeState(): Promise<FreezeState> {
    const { Item } = await this.doc.send(
      new GetCommand({ TableName: this.table, Key: FREEZE_KEY, ConsistentRead: true }),
    );
    if (!Item) return { all: false, profiles: [], version: 0 };
    const { pk: _pk, sk: _sk, ...state } = Item;
    return state as FreezeState;
  }

  async setFreeze(next: Omit<FreezeState, 'version'>, expectedVersion: number): Promise<FreezeState> {
    const state: FreezeState = { ...next, version: expectedVersion + 1 };
    try {
      await this.doc.send(
        new TransactWriteCommand({
          TransactItems: [
            {
              Put: {
                TableName: this.table,
                Item: { ...FREEZE_KEY, ...state },
                ConditionExpression: expectedVersion === 0 ? 'attribute_not_exists(pk)' : '#version = :expected',
                ...(expectedVersion === 0
                  ? {}
                  : {
                      ExpressionAttributeNames: { '#version': 'version' },
                      ExpressionAttributeValues: { ':expected': expectedVersion },
                    }),
              },
            },
            {
              Put: {
                TableName: this.table,
                Item: {
                  pk: FREEZE_KEY.pk,
                  sk: `EVENT#${String(state.version).padStart(6, '0')}`,
                  type: 'FREEZE_CHANGED',
                  ...state,
                },
                ConditionExpression: 'attribute_not_exists(pk)',
              },
            },
          ],
        }),
      );
    } catch (error) {
      // A failed condition, or another transaction on the same items at the same moment: either way someone else wrote first.
      if (
        error instanceof TransactionCanceledException &&
        error.CancellationReasons?.some((r) => r.Code === 'ConditionalCheckFailed' || r.Code === 'TransactionConflict')
      ) {
        throw new ConcurrentUpdateError('The freeze state changed meanwhile; read it again', { cause: error });
      }
      throw error;
    }
    return state;
  }
}

/**
 * A lease in the table (`LOCK#<name>` / `LEASE`): taken with a conditional put that succeeds
 * only when no one holds an unexpired lease, released by expiring it. A crashed holder
 * blocks others for at most `leaseMs`.
 */
export class DynamoLeaseLock implements LeaseLock {
  private readonly doc: DynamoDBDocumentClient;
  private readonly table: string;

  constructor(options: DynamoGrantStoreOptions & { leaseMs?: number; waitMs?: number }) {
    this.table = options.tableName;
    const client = options.awsSdkV3Client ?? new DynamoDBClient({ ...clientDefaults(), ...options.clientConfig });
    this.doc = DynamoDBDocumentClient.from(client);
    this.leaseMs = options.leaseMs ?? 10_000;
    this.waitMs = options.waitMs ?? 8_000;
  }
  private readonly leaseMs: number;
  private readonly waitMs: number;

  async withLease<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const key = { pk: `LOCK#${name}`, sk: 'LEASE' };
    const owner = randomUUID();
    const deadline = Date.now() + this.waitMs;
    for (let attempt = 0; ; attempt++) {
      const now = Date.now();
      try {
        await this.doc.send(
          new PutCommand({
            TableName: this.table,
            Item: { ...key, owner, leaseUntil: now + this.leaseMs },
            ConditionExpression: 'attribute_not_exists(pk) OR leaseUntil < :now',
            ExpressionAttributeValues: { ':now': now },
          }),
        );
        break;
      } catch (error) {
        if (!(error instanceof ConditionalCheckFailedException)) throw error;
        if (Date.now() > deadline) throw new BusyError(`Too many activations at once on ${name}`);
        await new Promise((r) => setTimeout(r, Math.min(50 * 2 ** Math.min(attempt, 4), 500) * (0.5 + Math.random())));
      }
    }
    try {
      return await fn();
    } finally {
      await this.doc
        .send(
          new UpdateCommand({
            TableName: this.table,
            Key: key,
            UpdateExpression: 'SET leaseUntil = :zero',
            ConditionExpression: '#owner = :owner',
            ExpressionAttributeNames: { '#owner': 'owner' },
            ExpressionAttributeValues: { ':zero': 0, ':owner': owner },
          }),
        )
        .catch(() => undefined); // lost the lease already (expired): nothing to release
    }
  }
}
