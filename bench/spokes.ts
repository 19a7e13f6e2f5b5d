/**
 * `npm run bench:spokes`: hub and spokes on the emulator (its own moto, on a free port).
 *
 * 1. Activation latency of a spoke grant vs a hub grant (same profile shape; the spoke pays one
 *    AssumeRole per account per manager session, then the same one IAM write): medians and ratio.
 * 2. The sweeper over BENCH_SPOKE_ACCOUNTS (default 50) spoke accounts with BENCH_SPOKE_GRANTS
 *    (default 20) ACTIVE grants each: the time of one sweep, and the bound it ran under.
 *
 * Figures depend on the machine (moto serialises much of its work on two shared cores): compare
 * them with each other, not with AWS.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { parseProfiles } from '../functions/domain/profile.js';
import { freePort, startMoto } from '../sandbox/moto.js';
import { seed } from '../sandbox/seed.js';

const ACCOUNTS = Number(process.env.BENCH_SPOKE_ACCOUNTS ?? 50);
const GRANTS = Number(process.env.BENCH_SPOKE_GRANTS ?? 20);
const LATENCY_RUNS = Number(process.env.BENCH_SPOKE_LATENCY_RUNS ?? 30);
const HUB = '123456789012';
const SPOKE = '210987654321';
type Handler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

async function main(): Promise<void> {
  const moto = await startMoto({ port: await freePort(), quiet: true });
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
        // One profile per fan-out account (a profile's maxActiveGrants counts across all its accounts).
        ...fanAccounts.map((account, i) => ({
          ...base,
          name: `fan-${i}`,
          description: 'sweep fan-out',
          accounts: [account],
          maxActiveGrants: GRANTS,
        })),
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
      AWS_ENDPOINT_URL: moto.endpoint,
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

    // 2. sweep over ACCOUNTS × GRANTS ACTIVE grants (activations 8 at a time)
    const fill = performance.now();
    const jobs = fanAccounts.flatMap((a, i) => Array.from({ length: GRANTS }, () => [`fan-${i}`, a] as const));
    let next = 0;
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        while (next < jobs.length) {
          const [profile, account] = jobs[next++]!;
          await activate(profile, account);
        }
      }),
    );
    const filled = performance.now() - fill;
    const wiring = await import('../functions/handlers/wiring.js');
    const { sweep, sweepTargets, SWEEP_ACCOUNT_PARALLELISM, SWEEP_PARALLELISM } = await import(
      '../functions/domain/sweep.js'
    );
    const targets = sweepTargets(wiring.profiles(), wiring.protectedResources(), wiring.accountDirectory()).filter(
      (t) => t.account && t.account !== HUB && t.account !== SPOKE,
    );
    const t = performance.now();
    const report = await sweep(
      {
        store: wiring.store(),
        access: wiring.access(),
        scheduler: wiring.scheduler(),
        notifier: wiring.notifier(),
        clock: { now: () => new Date() },
        profileRisks: () => [],
        log: { error: () => {}, warn: () => {}, info: () => {} },
      },
      targets,
    );
    const swept = performance.now() - t;
    console.log = log;
    console.log('## Hub and spokes (bench/spokes.ts)\n');
    console.log('| Measure | Value |\n|---|---|');
    console.log(`| Hub activation, median of ${LATENCY_RUNS} | ${h.toFixed(1)} ms |`);
    console.log(`| Spoke activation, median of ${LATENCY_RUNS} | ${s.toFixed(1)} ms |`);
    console.log(`| Spoke / hub ratio | ${(s / h).toFixed(2)} |`);
    console.log(`| Spoke activation, first (assumes the manager role) | ${spoke[0]!.toFixed(1)} ms |`);
    console.log(`| Filling ${ACCOUNTS} spokes × ${GRANTS} grants (8 at a time) | ${(filled / 1000).toFixed(1)} s |`);
    console.log(
      `| One sweep: ${report.targets} roles in ${ACCOUNTS} accounts, ${report.policies} policies, bound ${SWEEP_ACCOUNT_PARALLELISM} accounts × ${SWEEP_PARALLELISM} calls | ${(swept / 1000).toFixed(1)} s (${report.errors.length} errors, ${report.removed.length} removed) |`,
    );
  } finally {
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
