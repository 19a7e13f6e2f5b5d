/**
 * `npm run bench`: the figures a platform team asks for, measured on this machine against the
 * emulator (moto), with the real handlers. Prints a Markdown table; nothing is asserted.
 *
 * - activation latency through the sandbox API against the emulator floor (the four writes an activation cannot
 *   avoid), measured in the same run on a fresh sandbox, and their ratio (`bench/sandbox-floor.ts`);
 * - activation latency p50/p99 and AWS calls per activation (counted by a proxy in front of moto);
 * - expiry lag, schedule due → policy gone, p50/max (1-minute grants, fired by the sandbox's runner);
 * - sweeper time per 1,000 ACTIVE grants and its AWS calls, on an emulator of its own (`bench/sweeper.ts`;
 *   `BENCH_ONLY=sweep` runs only that);
 * - each function's bundle size and cold-start module initialisation time;
 * - the audit report over a generated 1,000,000-event export: time and peak RSS (`bench/audit-report.ts`);
 * - action logging's capture throughput, events per second (`bench/activity-capture.ts`).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IAMClient, ListRolePoliciesCommand } from '@aws-sdk/client-iam';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { parseProfiles } from '../functions/domain/profile.js';
import { startMoto } from '../sandbox/moto.js';
import { ScheduleRunner } from '../sandbox/schedule-runner.js';
import { emulatorConfig, ensureRole, seed } from '../sandbox/seed.js';
import { formatCaptureBench, runCaptureBench } from './activity-capture.js';
import { formatAuditBench, runAuditBench } from './audit-report.js';
import { formatBundleBench, runBundleBench } from './bundles.js';
import { startCountingProxy } from './counting-proxy.js';
import { formatFloorBench, runFloorBench } from './sandbox-floor.js';
import { formatSweepBench, runSweepBench } from './sweeper.js';

const ACTIVATIONS = Number(process.env.BENCH_ACTIVATIONS ?? 200);
const EXPIRIES = Number(process.env.BENCH_EXPIRIES ?? 20);
const SWEEP_GRANTS = Number(process.env.BENCH_SWEEP_GRANTS ?? 1000);
const ROLE_ACTIVATIONS = Number(process.env.BENCH_ROLE_ACTIVATIONS ?? 100);
const FLOOR_ACTIVATIONS = Number(process.env.BENCH_FLOOR_ACTIVATIONS ?? 40);

const pct = (values: number[], p: number) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
};
const ms = (n: number) => `${n.toFixed(1)} ms`;
const rows: Array<[string, string]> = [];
const started = Date.now();
/** Progress on stderr: the table comes at the end. */
const progress = (step: string) =>
  process.stderr.write(`[bench] ${step} done after ${((Date.now() - started) / 1000).toFixed(0)} s\n`);

async function main(): Promise<void> {
  // `BENCH_ONLY` (a comma list of sections): `bundles` (bundle sizes and module initialisation, no emulator) and/or
  // `sweep` (the sweeper alone, on an emulator of its own).
  const only = process.env.BENCH_ONLY?.split(',').map((s) => s.trim());
  if (only?.length) {
    if (only.includes('bundles')) rows.push(...formatBundleBench(await runBundleBench()));
    if (only.includes('sweep')) rows.push(...formatSweepBench(await runSweepBench(SWEEP_GRANTS)));
    process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
    process.stdout.write(`\n${await machine()}\n`);
    return;
  }
  // First, on a fresh sandbox of its own: the API against the emulator floor.
  rows.push(...formatFloorBench(await runFloorBench(FLOOR_ACTIVATIONS)));
  progress('sandbox API against the emulator floor');
  const moto = await startMoto();
  const proxy = await startCountingProxy(moto.endpoint);
  try {
    const roles = Array.from({ length: 50 }, (_, i) => `BenchRole${i}`);
    const profilesFile = join(mkdtempSync(join(tmpdir(), 'bench-')), 'profiles.json');
    // `bench` grants to the caller's own role (caller mode, IAM-size check under a lease); `benchrole` grants on its
    // profile roles (the default), where activation must read nothing from IAM and write one policy.
    const eligible = roles.map((r) => `arn:aws:iam::123456789012:role/${r}`);
    const statements = [{ actions: ['s3:GetObject'], resources: ['arn:aws:s3:::bench/*'] }];
    const profiles = {
      version: 1,
      profiles: [
        {
          name: 'bench',
          description: 'benchmark',
          owner: 'bench@example.com',
          maxDurationMinutes: 60,
          maxActiveGrants: 1000,
          eligible,
          statements,
          grantTo: 'caller',
        },
        {
          name: 'benchrole',
          description: 'benchmark, profile roles',
          owner: 'bench@example.com',
          maxDurationMinutes: 60,
          maxActiveGrants: ROLE_ACTIVATIONS + 1,
          eligible,
          statements,
        },
      ],
    };
    const seeded = await seed(moto.endpoint, {
      suffix: 'bench',
      roles: ['Security', ...roles],
      profiles: parseProfiles(profiles, 'bench profiles'),
    });
    (await import('node:fs')).writeFileSync(profilesFile, JSON.stringify(profiles));
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
      REVIEWER_PRINCIPALS: 'arn:aws:iam::123456789012:role/Security',
      TABLE_ARN: seeded.tableArn,
      AUDIT_BUCKET: seeded.auditBucket,
      PROTECTED_RESOURCES: seeded.protectedResources.join(','),
      ACCOUNT_ID: '123456789012',
      // Hundreds of simulated Lambdas share this process's connection pool (one each in AWS), and moto on two cores
      // is the bottleneck: give queued requests and the per-role lease the time they need, as the load test does.
      BREAKGLASS_AWS_TIMEOUT_MS: '30000',
      BREAKGLASS_LEASE_WAIT_MS: '45000',
    });
    console.log = () => {}; // the handlers' JSON logs
    const create = (await import('../functions/handlers/create-grant.js')).handler;
    const expire = (await import('../functions/handlers/expire-grant.js')).handler;
    const iam = new IAMClient(emulatorConfig(moto.endpoint));
    const roleIds = new Map<string, string>();
    for (const r of roles) roleIds.set(r, await ensureRole(iam, r));
    const event = (role: string, session: string, minutes: number, profile = 'bench') =>
      ({
        body: JSON.stringify({ profile, reason: 'benchmark activation of a grant', durationMinutes: minutes }),
        headers: {},
        requestContext: {
          requestId: `${role}-${session}`,
          identity: {
            userArn: `arn:aws:sts::123456789012:assumed-role/${role}/${session}`,
            caller: `${roleIds.get(role)}:${session}`,
          },
        },
      }) as never;

    // Activation latency and AWS calls, one at a time (50 principals × 4 sessions).
    await create(event(roles[0]!, 'warmup', 30), {} as never);
    proxy.reset();
    const latencies: number[] = [];
    for (let i = 0; i < ACTIVATIONS; i++) {
      const t = performance.now();
      const res = await create(event(roles[i % roles.length]!, `s${Math.floor(i / roles.length)}`, 30), {} as never);
      latencies.push(performance.now() - t);
      if (res.statusCode !== 201) throw new Error(`activation ${i}: ${res.statusCode} ${res.body}`);
    }
    const calls = proxy.total() / ACTIVATIONS;
    const breakdown = [...proxy.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(v / ACTIVATIONS).toFixed(1)}`)
      .join(', ');
    rows.push([
      `activation latency p50 / p99 (${ACTIVATIONS} sequential, emulator)`,
      `${ms(pct(latencies, 50))} / ${ms(pct(latencies, 99))}`,
    ]);
    rows.push(['AWS calls per activation', `${calls.toFixed(1)} (${breakdown})`]);
    progress('sequential activations');

    // Profile-role activations: IAM reads and writes per activation (the trust model's promise: none and one), and
    // whether the cost grows with the number of ACTIVE grants (first half against second half).
    proxy.reset();
    const roleLatencies: number[] = [];
    for (let i = 0; i < ROLE_ACTIVATIONS; i++) {
      const t = performance.now();
      const res = await create(
        event(roles[i % roles.length]!, `r${Math.floor(i / roles.length)}`, 30, 'benchrole'),
        {} as never,
      );
      roleLatencies.push(performance.now() - t);
      if (res.statusCode !== 201) throw new Error(`profile-role activation ${i}: ${res.statusCode} ${res.body}`);
    }
    const per = (pred: (action: string) => boolean) =>
      [...proxy.counts.entries()].filter(([k]) => pred(k)).reduce((n, [, v]) => n + v, 0) / ROLE_ACTIVATIONS;
    const iamReads = per((k) => /^iam:(Get|List)/.test(k));
    const iamWrites = per((k) => /^iam:(Put|Delete|Attach|Detach)/.test(k));
    const half = Math.floor(ROLE_ACTIVATIONS / 2);
    const roleBreakdown = [...proxy.counts.entries()]
      .sort((a, b) => b[1] - a[1])
      .map(([k, v]) => `${k} ${(v / ROLE_ACTIVATIONS).toFixed(1)}`)
      .join(', ');
    rows.push([
      `profile-role activations (${ROLE_ACTIVATIONS} sequential, up to ${ROLE_ACTIVATIONS} ACTIVE at once)`,
      `IAM reads ${iamReads.toFixed(1)}, IAM writes ${iamWrites.toFixed(1)} per activation; p50 ${ms(pct(roleLatencies, 50))}; p50 of the first / second half ${ms(pct(roleLatencies.slice(0, half), 50))} / ${ms(pct(roleLatencies.slice(half), 50))}`,
    ]);
    rows.push([
      'AWS calls per profile-role activation',
      `${(proxy.total() / ROLE_ACTIVATIONS).toFixed(1)} (${roleBreakdown})`,
    ]);
    progress('profile-role activations');

    // Concurrent activations: 200 from 50 principals at once.
    const t0 = performance.now();
    const concurrent = await Promise.all(
      Array.from({ length: ACTIVATIONS }, (_, i) =>
        create(event(roles[i % roles.length]!, `c${Math.floor(i / roles.length)}`, 30), {} as never),
      ),
    );
    const ok = concurrent.filter((r) => r.statusCode === 201).length;
    const refusals = new Map<string, number>();
    for (const r of concurrent.filter((r) => r.statusCode !== 201)) {
      const code = `${r.statusCode} ${JSON.parse(r.body).error?.code ?? ''}`;
      refusals.set(code, (refusals.get(code) ?? 0) + 1);
    }
    rows.push([
      `${ACTIVATIONS} concurrent activations from ${roles.length} roles`,
      `${ok} granted, ${ACTIVATIONS - ok} refused${refusals.size ? ` (${[...refusals].map(([c, n]) => `${n}× ${c}`).join(', ')})` : ''}, ${ms(performance.now() - t0)} wall`,
    ]);
    progress('concurrent activations');

    // Sweeper time per 1,000 grants, on an emulator of its own (bench/sweeper.ts).
    rows.push(...formatSweepBench(await runSweepBench(SWEEP_GRANTS)));
    progress('sweeper');

    // Expiry lag: 1-minute grants fired by the sandbox's schedule runner, due → policy gone.
    const runnerFired = new Map<string, number>();
    const runner = new ScheduleRunner({
      client: new SchedulerClient(emulatorConfig(moto.endpoint)),
      groupName: seeded.scheduleGroup,
      intervalMs: 250,
      deliver: async (_arn, input) => {
        await expire(input as { grantId: string }, {} as never);
        runnerFired.set((input as { grantId: string }).grantId, Date.now());
      },
    });
    const expiring = [] as Array<{ id: string; role: string; policyName: string; expiresAt: number }>;
    for (let i = 0; i < EXPIRIES; i++) {
      const role = `BenchRole${i % roles.length}`;
      const res = await create(event(role, `e${i}`, 1), {} as never);
      const g = JSON.parse(res.body).grant;
      if (g) expiring.push({ id: g.id, role, policyName: g.policyName, expiresAt: Date.parse(g.expiresAt) });
      else process.stderr.write(`[bench] a one-minute activation was refused: ${res.statusCode} ${res.body}\n`);
    }
    if (!expiring.length) throw new Error('no one-minute grant could be activated: expiry lag cannot be measured');
    // Only the 1-minute grants: leave the rest to their own schedules by stopping after these.
    runner.start();
    const lags: number[] = [];
    const deadline = Math.max(...expiring.map((e) => e.expiresAt)) + 30_000;
    const pending = new Set(expiring.map((e) => e.id));
    while (pending.size && Date.now() < deadline) {
      for (const e of expiring.filter((x) => pending.has(x.id) && Date.now() >= x.expiresAt)) {
        const { PolicyNames } = await iam.send(new ListRolePoliciesCommand({ RoleName: e.role }));
        if (!PolicyNames?.includes(e.policyName)) {
          lags.push(Date.now() - e.expiresAt);
          pending.delete(e.id);
        }
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    await runner.stop();
    progress('expiry lag');
    rows.push([
      `expiry lag, due → policy gone (${EXPIRIES} one-minute grants, runner polls every 250 ms)`,
      `p50 ${ms(pct(lags, 50))}, max ${ms(Math.max(...lags))}${pending.size ? `, ${pending.size} NOT removed within 30 s` : ''}`,
    ]);

    // Bundles and module initialisation of every function the stacks deploy, built as they build them (bench/bundles.ts).
    rows.push(...formatBundleBench(await runBundleBench()));
    progress('bundles and module initialisation');
  } finally {
    await proxy.close();
    await moto.stop();
  }
  process.stdout.write(`\n| measure | value |\n|---|---|\n${rows.map(([k, v]) => `| ${k} | ${v} |`).join('\n')}\n`);
  // The auditors' report over a generated export of BENCH_AUDIT_EVENTS (default 1,000,000) events: time and peak RSS.
  process.stdout.write(`\n${formatAuditBench(await runAuditBench())}\n`);
  // Action logging: CloudTrail events per second through the capture function (bench/activity-capture.ts).
  process.stdout.write(`\n${formatCaptureBench(await runCaptureBench())}\n`);
  process.stdout.write(`\n${await machine()}\n`);
}

/** What the figures were measured on, with the load average: the machine may be shared. */
async function machine(): Promise<string> {
  const os = await import('node:os');
  const load = os
    .loadavg()
    .map((l) => l.toFixed(2))
    .join(' ');
  return `node ${process.version}, ${os.cpus().length} cores, load average ${load}, ${new Date().toISOString()}`;
}

main().catch((error) => {
  process.stderr.write(`bench failed: ${(error as Error).stack}\n`);
  process.exit(1);
});
