/**
 * DynamoActivityStore failure paths the emulator cannot produce: moto serializes item operations, so
 * two transactions on one summary never conflict there. DynamoDB cancels a TransactWriteItems that
 * "conflicts with a concurrent TransactWriteItems request" (API reference, TransactionCanceledException,
 * reason code TransactionConflict): the store retries it, and reports a duplicate only for its own
 * put's failed condition.
 */

import { DynamoDBClient, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, TransactWriteCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoActivityStore } from '../../../functions/adapters/dynamodb-activity.adapter.js';
import { composeActivity, parseCall } from '../../../functions/domain/activity.js';
import { assumedRoleIdentity, getObject, profileSession } from '../../support/cloudtrail-fixtures.js';

const ddb = mockClient(DynamoDBDocumentClient);
const GRANT = '00000000-0000-4000-8000-000000000001';
const record = composeActivity(
  parseCall(getObject(assumedRoleIdentity(profileSession(GRANT)), '2026-11-24T10:05:00Z')),
  { grantId: GRANT, attribution: 'session', endSecond: '2026-11-24T10:30:00Z', capturedAt: '2026-11-24T10:10:00.000Z' },
);
const cancelled = (...codes: string[]) =>
  new TransactionCanceledException({
    message: 'Transaction cancelled',
    $metadata: {},
    CancellationReasons: codes.map((Code) => ({ Code })),
  });
const store = () =>
  new DynamoActivityStore({
    tableName: 't',
    awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }),
    sleep: async () => {},
  });

beforeEach(() => ddb.reset());

describe('DynamoActivityStore.record', () => {
  it('retries a TransactionConflict on the summary and stores the call once', async () => {
    ddb
      .on(TransactWriteCommand)
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .rejectsOnce(cancelled('None', 'TransactionConflict'))
      .resolves({});
    ddb.on(UpdateCommand).resolves({});
    expect(await store().record(record)).toBe('stored');
    expect(ddb.commandCalls(TransactWriteCommand)).toHaveLength(3);
    // Then first/last are widened, each by a conditional SET.
    expect(ddb.commandCalls(UpdateCommand).map((c) => c.args[0].input.ConditionExpression)).toEqual([
      'attribute_exists(pk) AND (attribute_not_exists(#t) OR #t > :t)',
      'attribute_exists(pk) AND (attribute_not_exists(#t) OR #t < :t)',
    ]);
  });

  it('answers duplicate when its own put finds the call stored, and still widens first/last (repairs a crash in between)', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('ConditionalCheckFailed', 'None'));
    ddb.on(UpdateCommand).resolves({});
    expect(await store().record(record)).toBe('duplicate');
    expect(ddb.commandCalls(UpdateCommand)).toHaveLength(2);
  });

  it('gives up after repeated conflicts so the queue redelivers', async () => {
    ddb.on(TransactWriteCommand).rejects(cancelled('None', 'TransactionConflict'));
    await expect(store().record(record)).rejects.toBeInstanceOf(TransactionCanceledException);
    expect(ddb.commandCalls(TransactWriteCommand).length).toBe(12);
  });
});
