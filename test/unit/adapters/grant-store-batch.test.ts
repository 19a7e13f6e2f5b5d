/**
 * DynamoGrantStore's batched reads (the sweeper's getMany and personHoldsMany) on paths the emulator never takes:
 * more than 100 keys (BatchGetItem refuses more: "Too many items requested for the BatchGetItem call"), and keys
 * left unprocessed (a partial result when throttled or over 16 MB, to be asked again:
 * https://docs.aws.amazon.com/amazondynamodb/latest/APIReference/API_BatchGetItem.html).
 */
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { BatchGetCommand, type BatchGetCommandInput, DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { mockClient } from 'aws-sdk-client-mock';
import { beforeEach, describe, expect, it } from 'vitest';
import { DynamoGrantStore } from '../../../functions/adapters/dynamodb-grant-store.adapter.js';
import { BusyError } from '../../../functions/domain/errors.js';

const ddb = mockClient(DynamoDBDocumentClient);
const store = () =>
  new DynamoGrantStore({ tableName: 't', awsSdkV3Client: new DynamoDBClient({ region: 'us-east-1' }) });
const keysOf = (input: BatchGetCommandInput) => (input.RequestItems!.t!.Keys ?? []) as Array<{ pk: string }>;
const grantItem = (pk: string) => ({ pk, sk: 'GRANT', entity: 'grant', id: pk.slice('GRANT#'.length) });

beforeEach(() => ddb.reset());

describe('DynamoGrantStore batched reads', () => {
  it('reads 250 grants in three strongly consistent requests of at most 100 keys, each id once', async () => {
    // Prepare: the table answers every key it is asked for
    ddb.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => ({
      Responses: { t: keysOf(input).map((k) => grantItem(k.pk)) },
    }));
    const ids = Array.from({ length: 250 }, (_, i) => `g${i}`);

    // Act: every id twice
    const found = await store().getMany([...ids, ...ids]);

    // Assess
    expect([...found.keys()].sort()).toEqual([...ids].sort());
    const calls = ddb.commandCalls(BatchGetCommand).map((c) => c.args[0].input);
    expect(calls.map((input) => keysOf(input).length)).toEqual([100, 100, 50]);
    for (const input of calls) expect(input.RequestItems!.t!.ConsistentRead).toBe(true);
  });

  it('asks again for the keys DynamoDB left unprocessed, and returns them all', async () => {
    // Prepare: the first answer leaves two keys unprocessed
    ddb
      .on(BatchGetCommand)
      .callsFakeOnce((input: BatchGetCommandInput) => ({
        Responses: {
          t: keysOf(input)
            .slice(2)
            .map((k) => grantItem(k.pk)),
        },
        UnprocessedKeys: { t: { Keys: keysOf(input).slice(0, 2), ConsistentRead: true } },
      }))
      .callsFake((input: BatchGetCommandInput) => ({ Responses: { t: keysOf(input).map((k) => grantItem(k.pk)) } }));

    // Act
    const found = await store().getMany(['a', 'b', 'c', 'd']);

    // Assess
    expect([...found.keys()].sort()).toEqual(['a', 'b', 'c', 'd']);
    const calls = ddb.commandCalls(BatchGetCommand).map((c) => keysOf(c.args[0].input).map((k) => k.pk));
    expect(calls).toEqual([
      ['GRANT#a', 'GRANT#b', 'GRANT#c', 'GRANT#d'],
      ['GRANT#a', 'GRANT#b'],
    ]);
  });

  it('gives up with BusyError when keys stay unprocessed, instead of looping', async () => {
    ddb.on(BatchGetCommand).callsFake((input: BatchGetCommandInput) => ({
      Responses: { t: [] },
      UnprocessedKeys: { t: { Keys: keysOf(input) } },
    }));
    await expect(store().personHoldsMany(['alice'])).rejects.toBeInstanceOf(BusyError);
    expect(ddb.commandCalls(BatchGetCommand).length).toBe(5);
  });
});
