/**
 * `npm start`: the whole break-glass system on this machine.
 *
 * 1. moto (the AWS emulator) on 127.0.0.1:$MOTO_PORT (default 5000);
 * 2. seeded with the table, topic, schedule group, the roles `Responder` and `Security`, an
 *    Identity Center role (`AWSReservedSSO_OnCall_…`) and the profiles' roles;
 * 3. the Lambda handlers behind a local API on 127.0.0.1:$PORT (default 3000);
 * 4. a schedule runner that fires expiry schedules when due, as EventBridge Scheduler would, into
 *    a stand-in for Lambda's asynchronous invocation (retries, then the on-failure queue in moto);
 * 5. the periodic jobs (sweeper; daily review check and export, also on demand through the
 *    sandbox-only routes `POST /_local/check-reviews` and `POST /_local/export`).
 *
 * Once it is ready, nothing ends it but a signal: every timer catches and logs its failures, and
 * an unhandled rejection or exception anywhere is logged and survived. A failure while starting
 * still exits non-zero.
 */

import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { IAMClient } from '@aws-sdk/client-iam';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SQSClient } from '@aws-sdk/client-sqs';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { API_FUNCTIONS, type ApiFunctionName, ROUTES } from '../functions/api/routes.js';
import { ENV } from '../functions/config/env.js';
import { parseProfiles } from '../functions/domain/profile.js';
import { type ApiHandler, createApiServer } from './api-server.js';
import { type CloudTrailRecorder, startCloudTrailStandIn } from './cloudtrail-recorder.js';
import { LambdaAsync, parseRetryDelays } from './lambda-async.js';
import { type Moto, startMoto } from './moto.js';
import { installProcessGuard } from './process-guard.js';
import { ScheduleRunner } from './schedule-runner.js';
import { ACCOUNT, emulatorConfig, REGION, seed } from './seed.js';
import { SANDBOX_ACCOUNT_ALIASES } from './spokes.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

function port(name: string, fallback: number): number {
  const raw = process.env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0 || value > 65535) {
    console.error(`${name} must be a TCP port number (0-65535), got "${raw}"`);
    process.exit(2);
  }
  return value;
}

const describe = (error: unknown) =>
  error instanceof Error ? (error.stack ?? `${error.name}: ${error.message}`) : String(error);

async function main(): Promise<void> {
  const motoPort = port('MOTO_PORT', 5000);
  const apiPort = port('PORT', 3000);
  const profilesFile = resolve(process.env[ENV.profilesFile] ?? join(root, 'config', 'profiles.json'));
  let retryDelaysMs: number[];
  try {
    retryDelaysMs = parseRetryDelays(process.env.SANDBOX_LAMBDA_RETRY_DELAYS_MS);
  } catch (error) {
    console.error((error as Error).message);
    process.exit(2);
  }
  // How often the schedule runner polls the group (Scheduler fires to the second: 1 s is close enough).
  const pollMs = Number(process.env.SANDBOX_SCHEDULER_POLL_MS ?? 1000);
  if (!Number.isInteger(pollMs) || pollMs < 10 || pollMs > 60_000) {
    console.error(
      `SANDBOX_SCHEDULER_POLL_MS must be a whole number of milliseconds between 10 and 60000, got "${process.env.SANDBOX_SCHEDULER_POLL_MS}"`,
    );
    process.exit(2);
  }

  let ready = false;
  let stopping: Promise<void> | undefined;
  let moto: Moto | undefined;
  let runner: ScheduleRunner | undefined;
  let lambda: LambdaAsync | undefined;
  let sweeper: NodeJS.Timeout | undefined;
  let daily: NodeJS.Timeout | undefined;
  let server: ReturnType<typeof createApiServer> | undefined;
  let trail: CloudTrailRecorder | undefined;
  let summaries: NodeJS.Timeout | undefined;
  const shutdown = (code: number) =>
    (stopping ??= (async () => {
      if (sweeper) clearInterval(sweeper);
      if (daily) clearInterval(daily);
      if (summaries) clearInterval(summaries);
      await trail?.stop().catch(() => undefined);
      await runner?.stop().catch(() => undefined);
      await lambda?.stop().catch(() => undefined);
      server?.close();
      server?.closeAllConnections();
      await moto?.stop().catch(() => undefined);
      process.exit(code);
    })());
  process.on('SIGINT', () => void shutdown(0));
  process.on('SIGTERM', () => void shutdown(0));
  // Whatever escapes (a rejected promise nobody awaited, a throw in a callback) is logged and survived
  // once the sandbox runs; while starting, it is a failed start.
  installProcessGuard({ isReady: () => ready, onFatal: () => void shutdown(1), log: (line) => console.error(line) });

  try {
    moto = await startMoto({ port: motoPort });
    const seeded = await seed(moto.endpoint, {
      profiles: parseProfiles(JSON.parse(readFileSync(profilesFile, 'utf8')), profilesFile),
    });
    // The handlers read their configuration from the environment, exactly as in Lambda.
    Object.assign(process.env, {
      AWS_ENDPOINT_URL: moto.endpoint,
      AWS_REGION: REGION,
      AWS_ACCESS_KEY_ID: 'testing', // moto's dummy keys; the emulator checks no signature
      AWS_SECRET_ACCESS_KEY: 'testing',
      [ENV.tableName]: seeded.tableName,
      [ENV.topicArn]: seeded.topicArn,
      [ENV.scheduleGroup]: seeded.scheduleGroup,
      [ENV.expiryFunctionArn]: seeded.expiryFunctionArn,
      [ENV.schedulerRoleArn]: seeded.schedulerRoleArn,
      [ENV.securityPrincipals]: process.env[ENV.securityPrincipals] ?? `arn:aws:iam::${ACCOUNT}:role/Security`,
      [ENV.reviewerPrincipals]:
        process.env[ENV.reviewerPrincipals] ??
        process.env[ENV.securityPrincipals] ??
        `arn:aws:iam::${ACCOUNT}:role/Security`,
      [ENV.profilesFile]: profilesFile,
      [ENV.tableArn]: seeded.tableArn,
      [ENV.auditBucket]: seeded.auditBucket,
      [ENV.protectedResources]: seeded.protectedResources.join(','),
      [ENV.accountId]: ACCOUNT,
      [ENV.drillQueueUrl]: seeded.drillQueueUrl,
      [ENV.accountAliases]: process.env[ENV.accountAliases] ?? JSON.stringify(SANDBOX_ACCOUNT_ALIASES),
    });
    const load = async (name: string) =>
      ((await import(`../functions/handlers/${name}.js`)) as { handler: ApiHandler }).handler;
    const expiry = (await import('../functions/handlers/expire-grant.js')).handler;

    const config = emulatorConfig(moto.endpoint);
    // Scheduler invokes the expiry function asynchronously: Lambda retries a throwing handler, then
    // sends its record to the on-failure queue (the stack's destination queue; here in moto).
    lambda = new LambdaAsync({ sqs: new SQSClient(config), retryDelaysMs, log: (line) => console.log(line) });
    lambda.register(
      seeded.expiryFunctionArn,
      (event, context) => expiry(event as { grantId?: unknown }, context as never),
      { onFailureArn: seeded.expiryFailureQueueArn },
    );
    runner = new ScheduleRunner({
      client: new SchedulerClient(config),
      groupName: seeded.scheduleGroup,
      intervalMs: pollMs,
      deliver: (targetArn, input) => lambda!.invoke(targetArn, input),
      onFired: (f) =>
        console.log(
          `[scheduler] ${f.ok ? 'fired' : 'FAILED to invoke'} ${f.name} due ${f.dueAt.toISOString()} lag ${f.firedAt.getTime() - f.dueAt.getTime()}ms attempt ${f.attempt}${f.error ? ` ${f.error}` : ''}`,
        ),
      onError: (message) => console.log(`[scheduler] ${message}`),
      onVanished: (name) => console.log(`[scheduler] ${name} was deleted before it fired (revoked); not fired`),
    });
    runner.start();

    // The sweeper, as the stacks schedule it (every 5 minutes there; every SWEEP_INTERVAL_SECONDS here).
    // Its metrics line is printed only when the run did something or failed.
    const sweepModule = await import('../functions/handlers/sweep.js');
    const sweep = sweepModule.createSweepHandler(sweepModule.wired.ports, sweepModule.wired.targets, {
      writeMetrics: (line) => {
        const m = JSON.parse(line) as Record<string, number>;
        if (!m.SweepSucceeded || m.SweeperOrphansRemoved || m.SchedulesRepaired)
          console.log(
            `[sweeper] metrics SweepSucceeded=${m.SweepSucceeded} SweeperOrphansRemoved=${m.SweeperOrphansRemoved} SchedulesRepaired=${m.SchedulesRepaired} SweeperStepFailures=${m.SweeperStepFailures}`,
          );
      },
    });
    const sweepEvery = Number(process.env.SWEEP_INTERVAL_SECONDS ?? 60) * 1000;
    let sweeping = false;
    sweeper = setInterval(() => {
      if (sweeping) return; // one run at a time, as one scheduled Lambda would mostly be
      sweeping = true;
      void sweep()
        .then(
          (r) =>
            (r.removed.length || r.expired.length || r.schedulesRepaired.length || r.closed.length) &&
            console.log(
              `[sweeper] removed ${r.removed.length} policies, expired ${r.expired.length} grants, repaired ${r.schedulesRepaired.length} schedules, closed ${r.closed.length} activations`,
            ),
          (e: unknown) => console.log(`[sweeper] run failed: ${e instanceof Error ? e.message : String(e)}`),
        )
        .finally(() => (sweeping = false));
    }, sweepEvery);

    // The daily jobs, as the stacks schedule them; here also on demand (sandbox-only routes below).
    const checkReviews = (await import('../functions/handlers/check-reviews.js')).lambdaHandler;
    const exportTable = (await import('../functions/handlers/export-table.js')).lambdaHandler;
    daily = setInterval(() => {
      void Promise.resolve()
        .then(() => checkReviews())
        .catch((e: unknown) => console.log(`[reviews] failed: ${describe(e)}`));
      void Promise.resolve()
        .then(() => exportTable())
        .catch((e: unknown) => console.log(`[export] failed: ${describe(e)}`));
    }, 86_400_000);
    const job =
      (run: () => Promise<unknown>): ApiHandler =>
      async () => {
        try {
          return {
            statusCode: 200,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(await run()),
          };
        } catch (error) {
          return {
            statusCode: 500,
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify({ error: { code: 'JobFailed', message: (error as Error).message } }),
          };
        }
      };

    // Action logging: the stand-in for CloudTrail (calls through it with vended credentials are recorded),
    // and the end-of-grant summaries every minute (ACTIVITY_SETTLE_MINUTES after a grant's end; default 15).
    const standIn = await startCloudTrailStandIn({
      target: moto.endpoint,
      account: ACCOUNT,
      port: port('CLOUDTRAIL_STANDIN_PORT', 5001),
      iam: new IAMClient(config),
      log: (line) => console.log(line),
    });
    trail = standIn.recorder;
    const announce = (await import('../functions/handlers/announce-activity.js')).lambdaHandler;
    summaries = setInterval(
      () => void announce({}).catch((e: unknown) => console.log(`[activity summaries] ${describe(e)}`)),
      60_000,
    );

    // The API's routes from the route table (as the stacks build them), then the sandbox-only jobs. The
    // credentials route tells the CloudTrail stand-in which access keys belong to which grant; the drill
    // start launches the drill function through the model of Lambda's asynchronous invocation.
    const sandboxHandlers: Partial<Record<ApiFunctionName, ApiHandler>> = {
      startDrill: await drillStartHandler(config, lambda),
    };
    const apiRoutes = await Promise.all(
      ROUTES.map(async (r) => {
        const handler = sandboxHandlers[r.function] ?? (await load(API_FUNCTIONS[r.function].handler));
        return {
          method: r.method,
          resource: r.path,
          handler: r.function === 'issueCredentials' ? standIn.recordCredentials(handler) : handler,
        };
      }),
    );
    server = createApiServer(
      [
        ...apiRoutes,
        { method: 'POST', resource: '/_local/check-reviews', handler: job(() => checkReviews()) },
        {
          method: 'POST',
          resource: '/_local/export',
          handler: job(async () => ({ ...(await exportTable()), bucket: seeded.auditBucket })),
        },
      ],
      new IAMClient(config),
      (line) => console.log(line),
    );
    await new Promise<void>((ok, fail) => {
      server!.once('error', (e: NodeJS.ErrnoException) =>
        fail(
          e.code === 'EADDRINUSE' ? new Error(`Port ${apiPort} on 127.0.0.1 is in use; set PORT to another port`) : e,
        ),
      );
      server!.listen(apiPort, '127.0.0.1', ok);
    });
    const address = server.address();
    const actualApiPort = typeof address === 'object' && address ? address.port : apiPort;
    console.log(`break-glass sandbox ready
  emulator (moto): ${moto.endpoint}
  API:             http://127.0.0.1:${actualApiPort}
  profiles:        ${profilesFile}
  table ${seeded.tableName} · topic ${seeded.topicArn} · schedule group ${seeded.scheduleGroup}
  expiry failures (Lambda on-failure destination): ${seeded.expiryFailureQueueUrl} · Lambda retries after ${retryDelaysMs.join(', ') || 'no'} ms
  audit bucket s3://${seeded.auditBucket} (POST /_local/export exports the table there)
  CloudTrail stand-in: http://127.0.0.1:${standIn.port} — the sandbox's stand-in for CloudTrail: point AWS_ENDPOINT_URL
    here; calls signed with vended break-glass credentials become CloudTrail records (breakglass activity <id>)
  try: curl -s -H 'X-Local-Principal: arn:aws:sts::${ACCOUNT}:assumed-role/Responder/alice' http://127.0.0.1:${actualApiPort}/profiles
Ctrl-C stops everything.`);
    ready = true;
  } catch (error) {
    console.error(`sandbox failed to start: ${(error as Error).message}`);
    await shutdown(1);
  }
}

/**
 * The handler of the drill start (`startDrill` in the route table), as deployed but for its launcher: the
 * drill function runs through the model of Lambda's asynchronous invocation (lambda-async.ts), without
 * retries (the stack sets none: a drill is not repeated). Its probe differs: the emulator does not judge
 * IAM, so a policy evaluator does (sandbox/drill-probe.ts says why).
 */
async function drillStartHandler(config: ReturnType<typeof emulatorConfig>, lambda: LambdaAsync): Promise<ApiHandler> {
  const { createDrillHandler, drillInbox } = await import('../functions/handlers/run-drill.js');
  const { createStartDrillHandler } = await import('../functions/handlers/start-drill.js');
  const wiring = await import('../functions/handlers/wiring.js');
  const { httpErrors } = await import('../functions/handlers/http.js');
  const { EvaluatingDrillProbe } = await import('./drill-probe.js');
  const { randomUUID } = await import('node:crypto');
  const middy = (await import('@middy/core')).default;
  const probe = new EvaluatingDrillProbe({ iam: new IAMClient(config), sqs: new SQSClient(config) });
  const run = createDrillHandler(
    () => ({
      ports: wiring.allPorts(),
      vendor: wiring.vendor(),
      settings: wiring.credentialSettings(),
      rules: wiring.activationRules(),
      probe,
      inbox: drillInbox(),
      drills: wiring.drillStore(),
      securityPrincipals: wiring.securityPrincipals(),
      sleep: (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
    }),
    wiring.checkedProfiles,
    // The emulator has no propagation delay: poll often, and give up on a call sooner than in AWS.
    {
      writeMetrics: (line) => console.log(`[drill] metrics ${line}`),
      drill: { pollMs: 250, propagationMs: 3_000, alertWaitMs: 15_000 },
    },
  );
  const runnerArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:breakglass-run-drill`;
  lambda.register(runnerArn, (event) => run(event as Parameters<typeof run>[0]), { retryAttempts: 0 });
  const start = createStartDrillHandler(
    () => ({
      securityPrincipals: wiring.securityPrincipals(),
      drills: wiring.drillStore(),
      launcher: {
        launch: async (request) => {
          lambda.invoke(runnerArn, { source: 'breakglass.drill-start', request });
        },
      },
      clock: wiring.clock,
      newId: randomUUID,
    }),
    wiring.checkedProfiles,
  );
  const post = middy<APIGatewayProxyEvent, APIGatewayProxyResult>()
    .use(httpErrors())
    .handler(start as (e: APIGatewayProxyEvent) => Promise<APIGatewayProxyResult>);
  return post as unknown as ApiHandler;
}

void main();
