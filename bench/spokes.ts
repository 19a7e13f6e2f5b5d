/**
 * `npm run bench:spokes`: hub and spokes on the emulator (its own moto, on a free port; every call through a
 * counting proxy).
 *
 * 1. Activation latency of a spoke grant vs a hub grant (same profile shape; the spoke pays one
 *    AssumeRole per account per manager session, then the same one IAM write): medians and ratio.
 * 2. The sweeper over BENCH_SPOKE_ACCOUNTS (default 50) spoke accounts with BENCH_SPOKE_GRANTS
 *    (default 20) ACTIVE grants each, all of one profile (`maxActiveGrants` counts per account): the time of
 *    one sweep, the bound it ran under, and its AWS calls. The grants are seeded as an activation leaves
 *    them (record, the person's holds, the slot, the policy in the spoke's profile role, the schedule) with
 *    plain writes: activating 1,000 grants would mostly measure the emulator's transactions, which copy the
 *    whole table each time (`sandbox/moto-server.py`).
 *
 * Figures depend on the machine (moto serialises much of its work on two shared cores): compare
 * them with each other, not with AWS.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { claimScope, POLICY_PREFIX } from '../functions/domain/grant.js';
import { parseProfiles } from '../functions/domain/profile.js';
import { freePort, startMoto } from '../sandbox/moto.js';
import { emulatorConfig, seed } from '../sandbox/seed.js';
import { startCountingProxy } from './counting-proxy.js';

const ACCOUNTS = Number(process.env.BENCH_SPOKE_ACCOUNTS ?? 50);
const GRANTS = Number(process.env.BENCH_SPOKE_GRANTS ?? 20);
const LATENCY_RUNS = Number(process.env.BENCH_SPOKE_LATENCY_RUNS ?? 30);
const HUB = '123456789012';
const SPOKE = '210987654321';
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const moto = await startMoto({ port: await freePort(), quiet: true });
  const proxy = await startCountingProxy(moto.endpoint);
  try {
    const fanAccounts = Array.from({ length: ACCOUNTS }, (_, i) => String(400000000000 + i));
    const statements = [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bench/*'] }];
    const eligible = [`arn:aws:iam::${HUB}:role/BenchRole`];
    const base = { owner: 'bench@example.com', maxDurationMinutes: 60, eligible, statements };
    const file = {
      version: 1,
      profiles: [
        { ...base, name: 'hub', description: 'hub grants', maxActiveGrants: LATENCY_RUNS + 1 },
        { ...base, name: 'spoke', description: 'spoke grants', accounts: [SPOKE], maxActiveGrants: LATENCY_RUNS + 1 },
        // One profile over every fan-out account: its maxActiveGrants (slots, profile roles) counts per account.
        { ...base, name: 'fan', description: 'sweep fan-out', accounts: fanAccounts, maxActiveGrants: GRANTS },
      ],
    };
    const profilesFile = join(mkdtempSync(join(tmpdir(), 'bench-spokes-')), 'profiles.json');
    writeFileSync(profilesFile, JSON.stringify(file));
    const seedStart = Date.now();
    const seeded = await seed(moto.endpoint, {
      suffix: 'spokes',
      roles: ['Security', 'BenchRole'],
      profiles: parseProfiles(file, 'bench profiles'),
    });
    console.error(
      `seeded hub + ${Object.keys(seeded.spokeProfileRoles).length} spokes in ${Date.now() - seedStart} ms`,
    );
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: proxy.endpoint,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'testing',
      AWS_SECRET_ACCESS_KEY: 'testing',
      TABLE_NAME: seeded.tableName,
      TOPIC_ARN: seeded.topicArn,
      SCHEDULE_GROUP: seeded.scheduleGroup,
      EXPIRY_FUNCTION_ARN: seeded.expiryFunctionArn,
      SCHEDULER_ROLE_ARN: seeded.schedulerRoleArn,
      PROFILES_FILE: profilesFile,
      MAX_ACTIVE_PER_PRINCIPAL: '5',
      REVIEWER_PRINCIPALS: `arn:aws:iam::${HUB}:role/Security`,
      TABLE_ARN: seeded.tableArn,
      AUDIT_BUCKET: seeded.auditBucket,
      PROTECTED_RESOURCES: seeded.protectedResources.join(','),
      ACCOUNT_ID: HUB,
      BREAKGLASS_AWS_TIMEOUT_MS: '30000',
    });
    const log = console.log;
    console.log = () => {}; // the handlers' JSON logs
    const create = (await import('../functions/handlers/create-grant.js')).lambdaHandler as unknown as Handler;
    let n = 0;
    const activate = async (profile: string, account?: string) => {
      const session = `bench-${++n}`;
      const t = performance.now();
      const res = await create(
        {
          body: JSON.stringify({
            profile,
            reason: 'benchmark of hub and spoke grants',
            ...(account ? { account } : {}),
          }),
          headers: {},
          requestContext: {
            requestId: `r-${n}`,
            identity: {
              userArn: `arn:aws:sts::${HUB}:assumed-role/BenchRole/${session}`,
              caller: `AROABENCH:${session}`,
            },
          },
        } as unknown as APIGatewayProxyEvent,
        {} as Context,
      );
      if (res.statusCode !== 201) throw new Error(`activation of ${profile} answered ${res.statusCode}: ${res.body}`);
      return performance.now() - t;
    };

    // 1. latency: alternate hub and spoke so both see the same load; the first spoke call assumes the manager role
    const hub: number[] = [];
    const spoke: number[] = [];
    for (let i = 0; i < LATENCY_RUNS; i++) {
      hub.push(await activate('hub'));
      spoke.push(await activate('spoke', SPOKE));
    }
    const h = median(hub);
    const s = median(spoke);

    // 2. sweep over ACCOUNTS × GRANTS ACTIVE grants, seeded 8 at a time as an activation leaves them
    const wiring = await import('../functions/handlers/wiring.js');
    const { profileRolePools, roleForSlot } = await import('../functions/domain/profile-roles.js');
    const { sweep, sweepTargets, slotScopes, SWEEP_ACCOUNT_PARALLELISM, SWEEP_PARALLELISM } = await import(
      '../functions/domain/sweep.js'
    );
    const { DynamoDBClient } = await import('@aws-sdk/client-dynamodb');
    const { DynamoDBDocumentClient, PutCommand } = await import('@aws-sdk/lib-dynamodb');
    const doc = DynamoDBDocumentClient.from(new DynamoDBClient(emulatorConfig(moto.endpoint)));
    const access = wiring.access();
    const scheduler = wiring.scheduler();
    const pool = profileRolePools(wiring.profiles(), wiring.protectedResources()).find((p) => p.profile === 'fan')!;
    const policy = JSON.stringify({
      Version: '2012-10-17',
      Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::bench/*' }],
    });
    const fill = performance.now();
    const jobs = fanAccounts.flatMap((account) => Array.from({ length: GRANTS }, (_, slot) => ({ account, slot })));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < jobs.length) {
          const { account, slot } = jobs[next++]!;
          const id = randomUUID();
          const now = new Date();
          const expiresAt = new Date(now.getTime() + 30 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
          const person = `arn:aws:sts::${HUB}:assumed-role/BenchRole/fan-${account}-${slot}`;
          const target = { type: 'role' as const, name: roleForSlot(pool, slot), account };
          const grant = {
            id,
            profile: 'fan',
            owner: 'bench@example.com',
            principalArn: person,
            account,
            targetType: target.type,
            targetName: target.name,
            slot,
            status: 'ACTIVE',
            reason: 'seeded for the spoke sweep benchmark',
            durationMinutes: 30,
            createdAt: now.toISOString(),
            activatedAt: now.toISOString(),
            expiresAt,
            policyName: `${POLICY_PREFIX}${id}`,
            scheduleName: id,
            version: 1,
            eventCount: 2,
          };
          const put = (Item: Record<string, unknown>) =>
            doc.send(new PutCommand({ TableName: seeded.tableName, Item }));
          await put({ pk: `GRANT#${id}`, sk: 'GRANT', entity: 'grant', ...grant });
          await put({
            pk: `PERSON#${person}`,
            sk: 'HOLDS',
            held: new Set([id]),
            [`profile:${claimScope('fan', account)}`]: new Set([id]),
          });
          await put({
            pk: `SLOT#${claimScope('fan', account)}`,
            sk: `SLOT#${String(slot).padStart(4, '0')}`,
            slot,
            grantId: id,
            at: grant.createdAt,
          });
          await access.attach(target, grant.policyName, policy);
          await scheduler.schedule(id, expiresAt, id);
        }
      }),
    );
    const filled = performance.now() - fill;
    const directory = wiring.accountDirectory();
    const inFan = (account?: string) => account !== undefined && fanAccounts.includes(account);
    const targets = sweepTargets(wiring.profiles(), wiring.protectedResources(), directory).filter((t) =>
      inFan(t.account),
    );
    const scopes = slotScopes(wiring.profiles(), directory).filter((s) => inFan(s.split('@')[1]));
    const load = loadavg();
    proxy.reset();
    const t = performance.now();
    const report = await sweep(
      {
        store: wiring.store(),
        access,
        scheduler,
        notifier: wiring.notifier(),
        clock: { now: () => new Date() },
        profileRisks: () => [],
        hubAccount: HUB,
        log: { error: () => {}, warn: () => {}, info: () => {} },
      },
      targets,
      scopes,
    );
    const swept = performance.now() - t;
    const calls = [...proxy.counts.entries()].sort((a, b) => b[1] - a[1]);
    const total = calls.reduce((n, [, v]) => n + v, 0);
    console.log = log;
    console.log('## Hub and spokes (bench/spokes.ts)\n');
    console.log('| Measure | Value |\n|---|---|');
    console.log(`| Hub activation, median of ${LATENCY_RUNS} | ${h.toFixed(1)} ms |`);
    console.log(`| Spoke activation, median of ${LATENCY_RUNS} | ${s.toFixed(1)} ms |`);
    console.log(`| Spoke / hub ratio | ${(s / h).toFixed(2)} |`);
    console.log(`| Spoke activation, first (assumes the manager role) | ${spoke[0]!.toFixed(1)} ms |`);
    console.log(
      `| Seeding ${ACCOUNTS} spokes × ${GRANTS} ACTIVE grants (plain writes, 8 at a time) | ${(filled / 1000).toFixed(1)} s |`,
    );
    console.log(
      `| One sweep: ${report.targets} profile roles in ${ACCOUNTS} accounts, ${report.policies} policies, ${report.activeGrants ?? '?'} ACTIVE grants, bound ${SWEEP_ACCOUNT_PARALLELISM} accounts × ${SWEEP_PARALLELISM} calls | ${(swept / 1000).toFixed(1)} s (${report.errors.length} errors, ${report.removed.length} removed, ${report.slotsReclaimed?.length ?? 0} slots reclaimed) |`,
    );
    console.log(
      `| AWS calls of that sweep | ${total} (${(total / Math.max(report.activeGrants ?? report.policies, 1)).toFixed(2)} per ACTIVE grant: ${calls.map(([k, v]) => `${k} ${v} (${((proxy.millis.get(k) ?? 0) / 1000).toFixed(1)} s in the emulator)`).join(', ')}) |`,
    );
    console.log(`| Load average (1, 5, 15 min) when the sweep started | ${load.map((l) => l.toFixed(1)).join(', ')} |`);
    if (report.errors.length) console.error(report.errors.slice(0, 5).join('\n'));
  } finally {
    await proxy.close();
    await moto.stop();
  }
}

main().then(
  () => process.exit(0),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
