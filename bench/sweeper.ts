/**
 * Sweeper time per 1,000 ACTIVE grants, on an emulator of its own (`npm run bench`, or alone with
 * `BENCH_ONLY=sweep`), with its AWS calls counted by a proxy in front of it.
 *
 * The grants (caller mode, on 50 roles) are seeded as an activation leaves them — the record, the person's
 * holds, the policy, the schedule — with plain writes: activating them would mostly measure the emulator's
 * transactions, which copy the whole table each time (`sandbox/moto-server.py`). One sweep then finds every
 * policy owned and every schedule present: the steady state, which runs every five minutes.
 */
import { randomUUID } from 'node:crypto';
import { loadavg } from 'node:os';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import { DynamoGrantStore } from '../functions/adapters/dynamodb-grant-store.adapter.js';
import { IamPolicyAdapter } from '../functions/adapters/iam-policy.adapter.js';
import { SchedulerAdapter } from '../functions/adapters/scheduler.adapter.js';
import { SnsNotifier } from '../functions/adapters/sns-notifier.adapter.js';
import { POLICY_PREFIX } from '../functions/domain/grant.js';
import { parseProfiles } from '../functions/domain/profile.js';
import { SWEEP_PARALLELISM, type SweepReport, slotScopes, sweep, sweepTargets } from '../functions/domain/sweep.js';
import { freePort, startMoto } from '../sandbox/moto.js';
import { ACCOUNT, emulatorConfig, seed } from '../sandbox/seed.js';
import { startCountingProxy } from './counting-proxy.js';

export interface SweepBench {
  readonly grants: number;
  readonly report: SweepReport;
  readonly millis: number;
  /** AWS calls of the sweep, by action. */
  readonly calls: ReadonlyArray<readonly [string, number]>;
  /** The 1, 5 and 15 minute load averages when the sweep started. */
  readonly load: readonly number[];
}

export async function runSweepBench(grants: number): Promise<SweepBench> {
  const moto = await startMoto({ port: await freePort(), quiet: true });
  const proxy = await startCountingProxy(moto.endpoint);
  try {
    const roles = Array.from({ length: 50 }, (_, i) => `BenchRole${i}`);
    const profiles = parseProfiles(
      {
        version: 1,
        profiles: [
          {
            name: 'bench',
            description: 'sweeper benchmark',
            owner: 'bench@example.com',
            maxDurationMinutes: 60,
            maxActiveGrants: Math.max(grants, 1),
            eligible: roles.map((r) => `arn:aws:iam::${ACCOUNT}:role/${r}`),
            statements: [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bench/*'] }],
            grantTo: 'caller',
          },
        ],
      },
      'sweeper bench profiles',
    );
    const seeded = await seed(moto.endpoint, { suffix: 'sweep', roles, profiles });
    // The sweep's clients go through the counting proxy; the seeding's do not.
    const ports = (endpoint: string) => {
      const clientConfig = emulatorConfig(endpoint);
      return {
        store: new DynamoGrantStore({ tableName: seeded.tableName, clientConfig }),
        access: new IamPolicyAdapter({ clientConfig }),
        scheduler: new SchedulerAdapter({
          groupName: seeded.scheduleGroup,
          targetArn: seeded.expiryFunctionArn,
          roleArn: seeded.schedulerRoleArn,
          clientConfig,
        }),
        notifier: new SnsNotifier({ topicArn: seeded.topicArn, clientConfig }),
        clock: { now: () => new Date() },
        profileRisks: () => [],
        hubAccount: ACCOUNT,
        log: { error: () => {}, warn: () => {}, info: () => {} },
      };
    };
    const direct = ports(moto.endpoint);
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(emulatorConfig(moto.endpoint)));
    const put = (Item: Record<string, unknown>) => doc.send(new PutCommand({ TableName: seeded.tableName, Item }));
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bench/*' }],
    });
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < grants) {
          const i = next++;
          const id = randomUUID();
          const role = roles[i % roles.length]!;
          const now = new Date().toISOString();
          const expiresAt = new Date(Date.now() + 30 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
          const principalArn = `arn:aws:sts::${ACCOUNT}:assumed-role/${role}/seed${i}`;
          await put({
            pk: `GRANT#${id}`,
            sk: 'GRANT',
            entity: 'grant',
            id,
            profile: 'bench',
            owner: 'bench@example.com',
            principalArn,
            targetType: 'role',
            targetName: role,
            status: 'ACTIVE',
            reason: 'seeded for the sweeper benchmark',
            durationMinutes: 30,
            createdAt: now,
            activatedAt: now,
            expiresAt,
            policyName: `${POLICY_PREFIX}${id}`,
            scheduleName: id,
            version: 1,
            eventCount: 2,
          });
          // The person's holds as the activation's transaction writes them (`held` and one set per profile).
          await put({ pk: `PERSON#${principalArn}`, sk: 'HOLDS', held: new Set([id]), 'profile:bench': new Set([id]) });
          await direct.access.attach({ type: 'role', name: role }, `${POLICY_PREFIX}${id}`, policy);
          await direct.scheduler.schedule(id, expiresAt, id);
        }
      }),
    );
    const load = loadavg();
    proxy.reset();
    const t = performance.now();
    const report = await sweep(
      ports(proxy.endpoint),
      sweepTargets(profiles, seeded.protectedResources),
      slotScopes(profiles),
    );
    const millis = performance.now() - t;
    return { grants, report, millis, calls: [...proxy.counts.entries()].sort((a, b) => b[1] - a[1]), load };
  } finally {
    await proxy.close();
    await moto.stop();
  }
}

export function formatSweepBench(bench: SweepBench): Array<[string, string]> {
  const { report, millis, calls, grants } = bench;
  const total = calls.reduce((n, [, v]) => n + v, 0);
  return [
    [
      `sweeper, ${report.policies} policies of ${grants} ACTIVE grants on ${report.targets} roles (at most ${SWEEP_PARALLELISM} calls at a time)`,
      `${millis.toFixed(1)} ms (${((millis / Math.max(grants, 1)) * 1000).toFixed(1)} ms per 1,000 grants; ${report.errors.length} errors, ${report.removed.length} removed, ${report.holdsBackfilled ?? 0} holds backfilled)`,
    ],
    [
      'AWS calls of that sweep',
      `${total} (${(total / Math.max(grants, 1)).toFixed(2)} per grant: ${calls.map(([k, v]) => `${k} ${v}`).join(', ')})`,
    ],
    ['load average (1, 5, 15 min) when the sweep started', bench.load.map((l) => l.toFixed(1)).join(', ')],
  ];
}
