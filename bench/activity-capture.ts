/**
 * `npm run bench`, action logging: capture throughput — CloudTrail events per second through the
 * capture use case with the real DynamoDB adapters against the emulator (its own moto), delivered as
 * the deployed queue delivers them: batches of {@link CAPTURE_BATCH_SIZE}, at most
 * {@link CAPTURE_MAX_CONCURRENCY} batches at once, one in ten calls delivered twice.
 * `BENCH_CAPTURE_CALLS` (default 300) over `BENCH_CAPTURE_GRANTS` (default 10) grants.
 *
 * Each call is one TransactWriteItems, and moto deep-copies the whole table before every transaction (to roll
 * it back: `transact_write_items` in moto/dynamodb/models), so against the emulator each call costs more than
 * the one before and the run grows with the square of the calls (measured on 2 shared cores: 200 calls 20 s,
 * 600 calls 162 s; 2,000 calls would take most of an hour, which is what looked like a hang after the table).
 * DynamoDB's transactions do not grow with the table. Hence the small default, and a time bound:
 * `BENCH_CAPTURE_MAX_SECONDS` (default 120), after which no new batch starts and the rate is of what was done.
 */
import { randomUUID } from 'node:crypto';
import { CreateTableCommand, DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoActivityStore } from '../functions/adapters/dynamodb-activity.adapter.js';
import { DynamoGrantStore } from '../functions/adapters/dynamodb-grant-store.adapter.js';
import { type CaptureInput, captureActivity } from '../functions/domain/activity-capture.js';
import type { Grant } from '../functions/domain/grant.js';
import { CAPTURE_BATCH_SIZE, CAPTURE_MAX_CONCURRENCY } from '../infra/constructs/activity-capture.js';
import { startMoto } from '../sandbox/moto.js';
import { emulatorConfig, tableDefinition } from '../sandbox/seed.js';
import {
  assumedRoleIdentity,
  getObject,
  profileSession,
  stopInstances,
  viaEventBridge,
} from '../test/support/cloudtrail-fixtures.js';

export interface CaptureBenchResult {
  readonly calls: number;
  readonly deliveries: number;
  readonly grants: number;
  readonly seconds: number;
  readonly stored: number;
  readonly duplicates: number;
  /** Deliveries captured before the time bound (all of them unless `stopped`). */
  readonly captured: number;
  /** The time bound stopped the run before every batch was captured. */
  readonly stopped: boolean;
}

export async function runCaptureBench(
  calls = Number(process.env.BENCH_CAPTURE_CALLS ?? 300),
  grantCount = Number(process.env.BENCH_CAPTURE_GRANTS ?? 10),
  maxSeconds = Number(process.env.BENCH_CAPTURE_MAX_SECONDS ?? 120),
): Promise<CaptureBenchResult> {
  const moto = await startMoto({ quiet: true });
  try {
    const client = new DynamoDBClient(emulatorConfig(moto.endpoint));
    const tableName = `bench-activity-${randomUUID().slice(0, 8)}`;
    await client.send(new CreateTableCommand(tableDefinition(tableName)));
    const grants = new DynamoGrantStore({ tableName, awsSdkV3Client: client });
    const activity = new DynamoActivityStore({ tableName, awsSdkV3Client: client });
    const now = Date.now();
    const all: Grant[] = [];
    for (let g = 0; g < grantCount; g++) {
      const id = randomUUID();
      all.push(
        await grants.create(
          {
            id,
            profile: 'demo',
            owner: 'platform@example.com',
            principalArn: 'arn:aws:sts::123456789012:assumed-role/Responder/alice',
            targetType: 'role',
            targetName: 'bg-demo',
            status: 'ACTIVE',
            reason: 'bench: capture throughput',
            durationMinutes: 120,
            createdAt: new Date(now - 3_600_000).toISOString(),
            expiresAt: new Date(now + 3_600_000).toISOString().replace(/\.\d{3}Z$/, 'Z'),
            policyName: `breakglass-${id}`,
            scheduleName: `breakglass-${id}`,
            version: 1,
            eventCount: 0,
          },
          { type: 'REQUESTED', at: new Date(now).toISOString(), actor: 'bench', outcome: 'SUCCESS' },
        ),
      );
    }
    const deliveries: CaptureInput[] = [];
    for (let i = 0; i < calls; i++) {
      const grant = all[i % grantCount]!;
      const at = new Date(now - 3_000_000 + i * 1_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
      const identity = assumedRoleIdentity(profileSession(grant.id));
      const record = i % 3 === 0 ? stopInstances(identity, at) : getObject(identity, at);
      deliveries.push({ id: `m${i}`, event: viaEventBridge(record) });
      if (i % 10 === 3) deliveries.push({ id: `m${i}-again`, event: viaEventBridge(record) });
    }
    const batches: CaptureInput[][] = [];
    for (let i = 0; i < deliveries.length; i += CAPTURE_BATCH_SIZE)
      batches.push(deliveries.slice(i, i + CAPTURE_BATCH_SIZE));
    const ports = {
      store: grants,
      activity,
      notifier: { publish: async () => {} },
      clock: { now: () => new Date() },
      log: { info: () => {}, warn: () => {}, error: () => {} },
    };
    let cursor = 0;
    let stored = 0;
    let duplicates = 0;
    let captured = 0;
    const started = performance.now();
    const deadline = started + maxSeconds * 1000;
    await Promise.all(
      Array.from({ length: CAPTURE_MAX_CONCURRENCY }, async () => {
        while (cursor < batches.length && performance.now() < deadline) {
          const batch = batches[cursor++]!;
          const report = await captureActivity(ports, batch);
          captured += batch.length;
          for (const r of report.results) {
            if (r.outcome === 'stored') stored++;
            else if (r.outcome === 'duplicate') duplicates++;
          }
        }
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const stopped = captured < deliveries.length;
    return { calls, deliveries: deliveries.length, grants: grantCount, seconds, stored, duplicates, captured, stopped };
  } finally {
    await moto.stop();
  }
}

export function formatCaptureBench(r: CaptureBenchResult): string {
  return [
    '| action logging | value |',
    '|---|---|',
    `| capture throughput | ${(r.captured / r.seconds).toFixed(0)} events/s (${r.captured} deliveries of ${r.calls} calls over ${r.grants} grants in ${r.seconds.toFixed(1)} s; batches of ${CAPTURE_BATCH_SIZE}, ${CAPTURE_MAX_CONCURRENCY} at once${r.stopped ? `; stopped by the time bound after ${r.captured} of ${r.deliveries} deliveries` : ''}) |`,
    `| stored / duplicates | ${r.stored} / ${r.duplicates}${r.stopped || r.stored === r.calls ? '' : ' (MISMATCH: some calls were not stored once)'} |`,
  ].join('\n');
}

// `tsx bench/activity-capture.ts`: this section alone.
if (process.argv[1]?.endsWith('activity-capture.ts')) {
  runCaptureBench()
    .then((r) => process.stdout.write(`${formatCaptureBench(r)}\n`))
    .catch((error) => {
      process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
      process.exit(1);
    });
}
