/**
 * `breakglass`: the responder's command line for the worst hour.
 *
 *   breakglass activate --profile P --reason "…" [--ticket INC-1] [--minutes N] [-- <command> …]
 *   breakglass credentials <id>           (AWS CLI credential_process JSON)
 *   breakglass console <id>               (an AWS console sign-in URL)
 *   breakglass status [id] [--watch]      breakglass list [--active]
 *   breakglass extend <id> --minutes N --reason "…"
 *   breakglass revoke <id> [--reason "…"]  breakglass profiles
 *   breakglass freeze|unfreeze [--profile P] --reason "…"   breakglass revoke-all --reason "…"   (security)
 *   breakglass review <id> --outcome justified|unjustified --notes "…"                         (reviewers)
 *   breakglass audit [--requester ARN] [--profile P] [--type T] [--from T] [--to T] [--limit N]  (auditors)
 *   breakglass activity <id> [--limit N] [--next T] [--from-cloudtrail [--regions r1,r2]]       (requester, security, reviewers)
 *
 * Exit codes: 0 ok · 2 usage · 3 not allowed (401/403/423) · 4 not found · 5 conflict or limit (409)
 * · 6 invalid request (400/413) · 7 service failure (5xx) · 8 cannot reach the API or no credentials · 1 other.
 */
import { spawn as spawnProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { type ParseArgsConfig, parseArgs } from 'node:util';
import type { OperationId } from '../functions/api/routes.js';
import { activityFromCloudTrail, activityLines, integrityLines } from './activity.js';
import { type ApiResponse, type ClientOptions, ConfigError, callRoute, NetworkError } from './client.js';
import { type DrillRunBody, drillLines, type LastDrillBody, lastDrillLines, pollDrill } from './drill.js';
import type {
  ActivityBody,
  CredentialsBody,
  EventsBody,
  FreezeBody,
  GrantBody,
  GrantsBody,
  GrantWithEventsBody,
  ProfilesBody,
  RevokeAllBody,
  WireCredentials,
  WireError,
  WireGrant,
} from './wire.js';

export const EXIT = {
  ok: 0,
  other: 1,
  usage: 2,
  denied: 3,
  notFound: 4,
  conflict: 5,
  invalid: 6,
  service: 7,
  unreachable: 8,
} as const;

class UsageError extends Error {}

const GLOBAL: NonNullable<ParseArgsConfig['options']> = {
  endpoint: { type: 'string' },
  region: { type: 'string' },
  'aws-profile': { type: 'string' },
  principal: { type: 'string' },
  sign: { type: 'boolean' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const COMMANDS: Record<string, { usage: string; summary: string; options: NonNullable<ParseArgsConfig['options']> }> = {
  activate: {
    usage:
      'breakglass activate --profile <name> [--account <id>] --reason "<why>" [--ticket <id>] [--minutes <n>] [--idempotency-key <key>] [-- <command> [args…]]',
    summary:
      'Get the access a profile grants, for a bounded time (with "-- <command>": run it with the grant\'s credentials). The reason is recorded and sent to security.',
    options: {
      profile: { type: 'string' },
      reason: { type: 'string' },
      ticket: { type: 'string' },
      account: { type: 'string' },
      minutes: { type: 'string' },
      'idempotency-key': { type: 'string' },
    },
  },
  credentials: {
    usage: 'breakglass credentials <grant-id>',
    summary:
      "Temporary credentials of your grant's profile role, as AWS CLI credential_process JSON (credential_process = breakglass credentials <id>).",
    options: {},
  },
  console: {
    usage: 'breakglass console <grant-id> [--destination <console url>]',
    summary:
      "An AWS console sign-in URL for your grant's session (federation endpoint: BREAKGLASS_FEDERATION_ENDPOINT).",
    options: { destination: { type: 'string' } },
  },
  status: {
    usage: 'breakglass status [<grant-id>] [--watch]',
    summary: 'One grant with its audit trail (or all ACTIVE grants); --watch shows a live countdown until it ends.',
    options: { watch: { type: 'boolean' } },
  },
  list: {
    usage: 'breakglass list [--active] [--status <S>] [--limit <n>]',
    summary: 'Grants, newest first.',
    options: { active: { type: 'boolean' }, status: { type: 'string' }, limit: { type: 'string' } },
  },
  extend: {
    usage: 'breakglass extend <grant-id> --minutes <n> --reason "<why>"',
    summary: "More time on your ACTIVE grant, within the profile's limits.",
    options: { minutes: { type: 'string' }, reason: { type: 'string' } },
  },
  revoke: {
    usage: 'breakglass revoke <grant-id> [--reason "<why>"]',
    summary: "End a grant now (yours, or anyone's if you are security).",
    options: { reason: { type: 'string' } },
  },
  profiles: {
    usage: 'breakglass profiles',
    summary: 'The profiles you may activate, and exactly what each grants.',
    options: {},
  },
  freeze: {
    usage: 'breakglass freeze [--profile <name>] --reason "<why>"',
    summary: "Security: refuse all activations (or one profile's) until unfrozen.",
    options: { profile: { type: 'string' }, reason: { type: 'string' } },
  },
  unfreeze: {
    usage: 'breakglass unfreeze [--profile <name>] --reason "<why>"',
    summary: 'Security: allow activations again.',
    options: { profile: { type: 'string' }, reason: { type: 'string' } },
  },
  'revoke-all': {
    usage: 'breakglass revoke-all [--profile <name>] --reason "<why>"',
    summary: 'Security: revoke every ACTIVE grant and report each result.',
    options: { profile: { type: 'string' }, reason: { type: 'string' } },
  },
  review: {
    usage: 'breakglass review <grant-id> --outcome justified|unjustified --notes "<what you checked>"',
    summary:
      'Reviewers: judge an ended grant (never your own), from 15 minutes after its end (CloudTrail delivers late; a 409 says from when). Recorded and announced.',
    options: { outcome: { type: 'string' }, notes: { type: 'string' } },
  },
  audit: {
    usage:
      'breakglass audit [--requester <arn>] [--profile <name>] [--type <EVENT>] [--from <iso>] [--to <iso>] [--limit <n>] [--next <token>]',
    summary: 'Audit events across grants, newest first (without a filter: the last 7 days).',
    options: {
      requester: { type: 'string' },
      profile: { type: 'string' },
      type: { type: 'string' },
      from: { type: 'string' },
      to: { type: 'string' },
      limit: { type: 'string' },
      next: { type: 'string' },
    },
  },
  activity: {
    usage:
      'breakglass activity <grant-id> [--limit <n>] [--next <token>] | breakglass activity <grant-id> --from-cloudtrail [--regions <r1,r2>]',
    summary:
      'What was done with a grant: every AWS call, newest first (--from-cloudtrail: straight from CloudTrail event history, with your AWS credentials).',
    options: {
      limit: { type: 'string' },
      next: { type: 'string' },
      'from-cloudtrail': { type: 'boolean' },
      regions: { type: 'string' },
    },
  },
  drill: {
    usage: 'breakglass drill [--expire] | breakglass drill --last',
    summary:
      'Security: rehearse the whole path with the drill profile and print each step (--expire: let a one-minute grant expire; --last: the last drill and its age).',
    options: { expire: { type: 'boolean' }, last: { type: 'boolean' } },
  },
};

const GLOBAL_HELP = `Global options:
  --endpoint <url>      API endpoint (or BREAKGLASS_ENDPOINT, or "endpoint" in ~/.config/breakglass/config.json)
  --region <region>     for signing (default: AWS_REGION, or read from the endpoint host)
  --aws-profile <name>  AWS named profile for credentials (default: the standard credential chain)
  --principal <arn>     local sandbox only: who you are (or BREAKGLASS_LOCAL_PRINCIPAL)
  --json                print the API's JSON response, for scripts
  -h, --help            help for a command`;

function mainHelp(): string {
  const lines = Object.entries(COMMANDS).map(([name, c]) => `  ${name.padEnd(11)} ${c.summary}`);
  return `breakglass: emergency AWS access that shuts by itself.\n\nUsage: breakglass <command> [options]\n\nCommands:\n${lines.join('\n')}\n\n${GLOBAL_HELP}\n\nExit codes: 0 ok, 2 usage, 3 not allowed, 4 not found, 5 conflict/limit, 6 invalid request, 7 service failure, 8 unreachable/no credentials.`;
}

interface Io {
  /** Runs a command with this environment, its stdio the terminal's; resolves to its exit code. */
  spawn?: (command: string, args: string[], env: NodeJS.ProcessEnv) => Promise<number>;
  out: (text: string) => void;
  err: (text: string) => void;
  isTTY: boolean;
  now: () => number;
  sleep: (ms: number) => Promise<void>;
  env: NodeJS.ProcessEnv;
}

function loadConfigFile(env: NodeJS.ProcessEnv): { endpoint?: string; region?: string; principal?: string } {
  const file = env.BREAKGLASS_CONFIG ?? join(env.HOME ?? homedir(), '.config', 'breakglass', 'config.json');
  if (!existsSync(file)) return {};
  try {
    return JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    throw new ConfigError(`Cannot read ${file}: it must be JSON like {"endpoint": "https://…/v1"}`);
  }
}

/** "in 29m 58s" / "3m ago". */
export function relative(ms: number): string {
  const abs = Math.abs(ms);
  const h = Math.floor(abs / 3_600_000);
  const m = Math.floor((abs % 3_600_000) / 60_000);
  const s = Math.floor((abs % 60_000) / 1000);
  const text = h ? `${h}h ${m}m` : m ? `${m}m ${String(s).padStart(2, '0')}s` : `${s}s`;
  return ms >= 0 ? `in ${text}` : `${text} ago`;
}

const localTime = (iso: string) => new Date(iso).toLocaleString(undefined, { hour12: false });

function exitFor(status: number): number {
  if (status === 401 || status === 403 || status === 423) return EXIT.denied;
  if (status === 404) return EXIT.notFound;
  if (status === 409) return EXIT.conflict;
  if (status >= 400 && status < 500) return EXIT.invalid;
  if (status >= 500) return EXIT.service;
  return EXIT.ok;
}

const HINT: Record<number, string> = {
  401: 'Your request was not signed by an IAM principal. Check your AWS credentials (aws sts get-caller-identity).',
  403: 'You are not allowed. `breakglass profiles` lists what you may activate; the attempt may have been recorded.',
  423: 'Activations are frozen by security. Contact them; existing grants are unaffected.',
  404: 'Check the id (`breakglass list`) or the profile name (`breakglass profiles`).',
  409: 'The grant is not in a state that allows this, or a limit was reached. `breakglass status <id>` shows where it stands.',
  503: 'An AWS step failed and was rolled back. Retry in a moment.',
};

function grantLines(g: WireGrant, now: number): string[] {
  return [
    `  grant    ${g.id}`,
    `  profile  ${g.profile} (owner ${g.owner})`,
    `  status   ${g.status}${g.status === 'ACTIVE' ? `, expires ${localTime(g.expiresAt)} (${relative(Date.parse(g.expiresAt) - now)})` : g.endedAt ? `, ended ${localTime(g.endedAt)}` : ''}`,
    `  who      ${g.principalArn}`,
    `  reason   ${g.reason}${g.ticket ? `  [${g.ticket}]` : ''}`,
    ...(g.grants ? [`  grants   ${g.grants}`] : []),
    `  policy   ${g.policyName} on ${g.targetType} ${g.targetName}`,
    ...(g.account ? [`  account  ${g.account}${g.accountAlias ? ` (${g.accountAlias})` : ''}`] : []),
  ];
}

function nextSteps(g: WireGrant): string[] {
  const steps: Array<[string, string]> = [
    ...(g.grantTo === 'profileRole'
      ? ([
          [`breakglass credentials ${g.id}`, 'credentials of your grant (credential_process)'],
          [`breakglass console ${g.id}`, 'console sign-in URL'],
        ] as Array<[string, string]>)
      : []),
    [`breakglass status ${g.id} --watch`, 'live countdown'],
    [`breakglass extend ${g.id} --minutes 15 --reason "…"`, 'more time'],
    [`breakglass revoke ${g.id} --reason "done"`, 'when you are finished'],
  ];
  const width = Math.max(...steps.map(([c]) => c.length));
  return ['', 'Next:', ...steps.map(([c, why]) => `  ${c.padEnd(width)}   ${why}`)];
}

export async function run(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  if (!command || command === '--help' || command === '-h' || command === 'help') {
    const topic = command === 'help' ? rest[0] : undefined;
    io.out(
      topic && COMMANDS[topic]
        ? `${COMMANDS[topic]!.usage}\n\n${COMMANDS[topic]!.summary}\n\n${GLOBAL_HELP}`
        : mainHelp(),
    );
    return command ? EXIT.ok : EXIT.usage;
  }
  const spec = COMMANDS[command];
  if (!spec) {
    io.err(`Unknown command "${command}".\n\n${mainHelp()}`);
    return EXIT.usage;
  }
  let values: Record<string, string | boolean | undefined>;
  let positionals: string[];
  // `activate … -- <command> [args…]`: everything after `--` is the command to run.
  const dash = command === 'activate' ? rest.indexOf('--') : -1;
  const commandLine = dash >= 0 ? rest.slice(dash + 1) : undefined;
  const args = dash >= 0 ? rest.slice(0, dash) : rest;
  if (commandLine && commandLine.length === 0) {
    io.err(`Nothing to run after "--".\n\nUsage: ${spec.usage}`);
    return EXIT.usage;
  }
  try {
    ({ values, positionals } = parseArgs({
      args,
      options: { ...GLOBAL, ...spec.options },
      allowPositionals: true,
      strict: true,
    }) as { values: Record<string, string | boolean | undefined>; positionals: string[] });
  } catch (error) {
    io.err(`${(error as Error).message}\n\nUsage: ${spec.usage}`);
    return EXIT.usage;
  }
  if (values.help) {
    io.out(`Usage: ${spec.usage}\n\n${spec.summary}\n\n${GLOBAL_HELP}`);
    return EXIT.ok;
  }

  try {
    const file = loadConfigFile(io.env);
    const endpoint = (values.endpoint as string | undefined) ?? io.env.BREAKGLASS_ENDPOINT ?? file.endpoint;
    if (!endpoint)
      throw new ConfigError(
        'No API endpoint: pass --endpoint, set BREAKGLASS_ENDPOINT, or put {"endpoint": "…"} in ~/.config/breakglass/config.json',
      );
    const region = (values.region as string | undefined) ?? io.env.AWS_REGION ?? file.region;
    const principal = (values.principal as string | undefined) ?? io.env.BREAKGLASS_LOCAL_PRINCIPAL ?? file.principal;
    const client: ClientOptions = {
      endpoint,
      ...(region ? { region } : {}),
      ...(values['aws-profile'] ? { awsProfile: values['aws-profile'] as string } : {}),
      ...(principal ? { localPrincipal: principal } : {}),
      ...(values.sign ? { forceSign: true } : {}),
    };
    return await execute(command, values, positionals, client, io, commandLine);
  } catch (error) {
    if (error instanceof UsageError) {
      io.err(`${error.message}\n\nUsage: ${spec.usage}`);
      return EXIT.usage;
    }
    if (error instanceof ConfigError || error instanceof NetworkError) {
      io.err(`breakglass: ${error.message}`);
      return EXIT.unreachable;
    }
    io.err(`breakglass: unexpected error: ${(error as Error).message}`);
    return EXIT.other;
  }
}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value.trim() === '') throw new UsageError(`--${name} is required`);
  return value;
}

function minutes(values: Record<string, unknown>, name: string, needed: boolean): number | undefined {
  const raw = values[name];
  if (raw === undefined) {
    if (needed) throw new UsageError(`--${name} is required`);
    return undefined;
  }
  if (typeof raw !== 'string' || !/^\d+$/.test(raw))
    throw new UsageError(`--${name} must be a whole number of minutes`);
  return Number(raw);
}

function idArg(positionals: string[]): string {
  const id = positionals[0];
  if (!id) throw new UsageError('the grant id is required');
  return id;
}

async function execute(
  command: string,
  values: Record<string, unknown>,
  positionals: string[],
  client: ClientOptions,
  io: Io,
  commandLine?: string[],
): Promise<number> {
  // Routes of the API's route table, by operation id.
  const op = (
    operationId: OperationId,
    args: Parameters<typeof callRoute>[2] = {},
    extra: Partial<ClientOptions> = {},
  ) => callRoute({ ...client, ...extra }, operationId, args);
  const finish = <T = never>(res: ApiResponse, human: (body: T) => string[]): number => {
    if (values.json) {
      io.out(JSON.stringify(res.body, null, 2));
      return exitFor(res.status);
    }
    if (res.status >= 400) {
      const body = res.body as WireError | undefined;
      const error = body?.error ?? {
        code: `HTTP${res.status}`,
        message: body?.message ?? body?.Message ?? 'request failed',
      };
      io.err(
        `✖ ${error.message} (${error.code}, HTTP ${res.status}${error.requestId ? `, request ${error.requestId}` : ''})`,
      );
      const hint = HINT[res.status];
      if (hint) io.err(`  ${hint}`);
      return exitFor(res.status);
    }
    io.out(human(res.body as T).join('\n'));
    return EXIT.ok;
  };

  switch (command) {
    case 'activate': {
      const body = {
        profile: required(values, 'profile'),
        reason: required(values, 'reason'),
        ...(values.ticket ? { ticket: values.ticket } : {}),
        ...(values.account ? { account: values.account } : {}),
        ...(values.minutes !== undefined ? { durationMinutes: minutes(values, 'minutes', false) } : {}),
      };
      // One key per activation: if the network drops the answer, the retry returns the same grant.
      const idempotencyKey = (values['idempotency-key'] as string | undefined) ?? randomUUID();
      const res = await op('activateGrant', { body }, { idempotencyKey }).catch(async (error: unknown) => {
        if (!(error instanceof NetworkError)) throw error;
        io.err('… no answer, retrying once with the same Idempotency-Key');
        await io.sleep(2000);
        return op('activateGrant', { body }, { idempotencyKey });
      });
      if (commandLine) {
        // The command owns stdout: the activation reports on stderr.
        if (res.status >= 400) return finish(res, () => []);
        const g = (res.body as GrantBody).grant;
        io.err(
          `${(res.body as GrantBody).existing ? '● You already hold' : '✔ Granted'} ${g.profile} until ${localTime(g.expiresAt)} (grant ${g.id}).`,
        );
        let env: NodeJS.ProcessEnv = io.env;
        if (g.grantTo === 'profileRole') {
          const issued = await op('issueCredentials', { params: { id: g.id } });
          if (issued.status >= 400) return finish(issued, () => []);
          env = credentialEnv(io.env, (issued.body as CredentialsBody).credentials);
        }
        if (!io.spawn) throw new UsageError('running a command is not available here');
        return io.spawn(commandLine[0]!, commandLine.slice(1), env);
      }
      return finish<GrantBody>(res, (b) => {
        const g = b.grant;
        const head = b.existing
          ? `● You already hold ${g.profile}; nothing new was granted.`
          : `✔ Granted ${g.profile} until ${localTime(g.expiresAt)} (${relative(Date.parse(g.expiresAt) - io.now())}).`;
        return [head, ...grantLines(g, io.now()), ...(b.warnings ?? []).map((w) => `⚠ ${w}`), ...nextSteps(g)];
      });
    }
    case 'credentials': {
      const id = idArg(positionals);
      const res = await op('issueCredentials', { params: { id } });
      if (res.status >= 400) return finish({ ...res }, () => []);
      // Exactly the credential_process format, and nothing else on stdout.
      io.out(JSON.stringify(credentialProcess((res.body as CredentialsBody).credentials)));
      return EXIT.ok;
    }
    case 'console': {
      const id = idArg(positionals);
      const res = await op('issueCredentials', { params: { id } });
      if (res.status >= 400) return finish(res, () => []);
      const federation = io.env.BREAKGLASS_FEDERATION_ENDPOINT ?? FEDERATION_ENDPOINT;
      const destination = (values.destination as string | undefined) ?? 'https://console.aws.amazon.com/';
      io.out(
        await consoleUrl((res.body as CredentialsBody).credentials, { federation, destination, issuer: 'breakglass' }),
      );
      return EXIT.ok;
    }
    case 'status': {
      if (!positionals[0]) {
        const res = await op('listGrants', { query: { status: 'ACTIVE', limit: '100' } });
        return finish<GrantsBody>(res, (b) =>
          b.grants.length
            ? [
                'ACTIVE grants:',
                ...b.grants.map(
                  (g) =>
                    `  ${g.id}  ${g.profile.padEnd(16)} ${g.principalArn.split('/').pop()!.padEnd(12)} expires ${localTime(g.expiresAt)} (${relative(Date.parse(g.expiresAt) - io.now())})`,
                ),
              ]
            : ['No ACTIVE grants.'],
        );
      }
      const id = idArg(positionals);
      const res = await op('getGrant', { params: { id } });
      if (!values.watch || res.status >= 400 || values.json) {
        return finish<GrantWithEventsBody>(res, (b) => [
          ...grantLines(b.grant, io.now()),
          '',
          'Audit trail:',
          ...b.events.map(
            (e) =>
              `  ${String(e.seq).padStart(3)}  ${e.at}  ${e.type.padEnd(18)} ${e.actor}${e.reason && e.type !== 'REQUESTED' && e.type !== 'ACTIVATED' ? `  "${e.reason}"` : ''}`,
          ),
          ...(b.grant.status === 'ACTIVE' ? nextSteps(b.grant) : []),
        ]);
      }
      // --watch: a live countdown until the grant ends.
      let grant = (res.body as GrantBody).grant;
      let lastFetch = io.now();
      for (;;) {
        const left = Date.parse(grant.expiresAt) - io.now();
        const line =
          grant.status === 'ACTIVE'
            ? `${grant.profile} ACTIVE, expires ${localTime(grant.expiresAt)}: ${left > 0 ? `${relative(left).replace(/^in /, '')} left` : 'expiring…'}`
            : `${grant.profile} ${grant.status}${grant.endedAt ? ` at ${localTime(grant.endedAt)}` : ''}`;
        if (io.isTTY) io.out(`\r\x1b[2K${line}`);
        else io.out(line);
        if (grant.status !== 'ACTIVE' && grant.status !== 'PENDING') {
          if (io.isTTY) io.out('\n');
          return EXIT.ok;
        }
        await io.sleep(1000);
        if (io.now() - lastFetch >= (left < 5_000 ? 1_000 : 15_000)) {
          const again = await op('getGrant', { params: { id } });
          if (again.status >= 400) return finish(again, () => []);
          grant = (again.body as GrantBody).grant;
          lastFetch = io.now();
        }
      }
    }
    case 'list': {
      const status = values.active ? 'ACTIVE' : (values.status as string | undefined);
      const limit = values.limit as string | undefined;
      const res = await op('listGrants', { query: { status, limit } });
      return finish<GrantsBody>(res, (b) => [
        `${'GRANT'.padEnd(36)}  ${'STATUS'.padEnd(8)}  ${'PROFILE'.padEnd(16)}  ${'WHO'.padEnd(14)}  EXPIRES`,
        ...b.grants.map(
          (g) =>
            `${g.id}  ${g.status.padEnd(8)}  ${g.profile.padEnd(16)}  ${String(g.principalArn.split('/').pop()).padEnd(14)}  ${g.expiresAt}`,
        ),
        ...(b.nextToken ? ['(more: use --json and nextToken)'] : []),
      ]);
    }
    case 'extend': {
      const id = idArg(positionals);
      const res = await op('extendGrant', {
        params: { id },
        body: { minutes: minutes(values, 'minutes', true), reason: required(values, 'reason') },
      });
      return finish<GrantBody>(res, (b) => [
        `✔ Extended ${b.grant.profile} until ${localTime(b.grant.expiresAt)} (${relative(Date.parse(b.grant.expiresAt) - io.now())}).`,
        ...grantLines(b.grant, io.now()),
      ]);
    }
    case 'revoke': {
      const id = idArg(positionals);
      const reason = (values.reason as string | undefined) ?? 'Revoked from the CLI: done';
      const res = await op('revokeGrant', { params: { id }, body: { reason } });
      return finish<GrantBody>(res, (b) => [
        `✔ Revoked ${b.grant.profile}; the policy is detached.`,
        ...grantLines(b.grant, io.now()),
      ]);
    }
    case 'drill': {
      if (values.last) return finish<LastDrillBody>(await op('listDrills'), lastDrillLines);
      // 202 at once; the drill runs in its own function and the CLI polls it (cli/drill.ts).
      const started = await op('startDrill', { body: { mode: values.expire ? 'expire' : 'revoke' } });
      if (started.status >= 400) return finish(started, () => []);
      const id = (started.body as DrillRunBody).drill.id;
      io.err(`Drill ${id} started (${values.expire ? 'expire: about two minutes' : 'revoke'}); waiting for it…`);
      const { res, timedOut } = await pollDrill((drill) => op('getDrill', { params: { id: drill } }), io, id, {
        onStep: (line) => io.err(line),
      });
      if (timedOut) {
        io.err(`✖ Drill ${id} still RUNNING: its function was stopped? See breakglass drill --last and its logs.`);
        return EXIT.service;
      }
      const code = finish<DrillRunBody>(res, (b) =>
        b.drill.result
          ? drillLines(b.drill.result)
          : [`✖ Drill ${id} FAILED before its first step: ${b.drill.steps.map((s) => s.detail).join('; ')}`],
      );
      return res.status < 400 && (res.body as DrillRunBody).drill.status === 'FAILED' ? EXIT.service : code;
    }
    case 'profiles': {
      const res = await op('listProfiles');
      return finish<ProfilesBody>(res, (b) =>
        b.profiles.length
          ? b.profiles.flatMap((p) => [
              `${p.name}  (max ${p.maxDurationMinutes}m, owner ${p.owner}${p.ticket?.required ? `, ticket ${p.ticket.pattern}` : ''}${p.mfa?.required ? ', MFA' : ''})`,
              `  ${p.description}`,
              ...(p.accounts?.length
                ? [`  accounts ${p.accounts.map((a) => (a.alias ? `${a.id} (${a.alias})` : a.id)).join(', ')}`]
                : []),
              ...p.statements.map((s) => `  ${s.effect} ${s.actions.join(', ')} on ${s.resources.join(', ')}`),
              `  breakglass activate --profile ${p.name}${(p.accounts?.length ?? 0) > 1 ? ' --account <id>' : ''} --reason "…"${p.ticket?.required ? ' --ticket …' : ''}`,
              '',
            ])
          : ['You are not eligible for any profile.'],
      );
    }
    case 'freeze':
    case 'unfreeze': {
      const res = await op(command, {
        body: { ...(values.profile ? { profile: values.profile } : {}), reason: required(values, 'reason') },
      });
      return finish<FreezeBody>(res, (b) => [
        `✔ ${command === 'freeze' ? 'Frozen' : 'Unfrozen'}. Now frozen: ${b.freeze.all ? 'ALL profiles' : b.freeze.profiles.length ? b.freeze.profiles.join(', ') : 'nothing'}.`,
      ]);
    }
    case 'revoke-all': {
      const res = await op('revokeAll', {
        body: { ...(values.profile ? { profile: values.profile } : {}), reason: required(values, 'reason') },
      });
      const code = finish<RevokeAllBody>(res, (b) => [
        `Revoked ${b.revoked}, failed ${b.failed}.`,
        ...b.results.map(
          (r) =>
            `  ${r.outcome === 'revoked' ? '✔' : '✖'} ${r.id}  ${r.profile}${r.account ? `  ${r.account}${r.accountAlias ? ` (${r.accountAlias})` : ''}` : ''}  ${r.principalArn}${r.error ? `  ${r.error}` : ''}${r.sessionLiveUntil ? `  ⚠ its issued session could not be denied: it keeps resource-policy access until ${r.sessionLiveUntil}` : ''}`,
        ),
      ]);
      return res.status === 207 ? EXIT.service : code;
    }
    case 'review': {
      const id = idArg(positionals);
      const outcome = required(values, 'outcome');
      if (outcome !== 'justified' && outcome !== 'unjustified')
        throw new UsageError('--outcome must be justified or unjustified');
      // What was done with the grant, shown before the outcome is recorded (the review seals its digest).
      const seen = await op('getActivity', { params: { id }, query: { limit: '20' } });
      if (seen.status === 200) {
        const body = seen.body as ActivityBody;
        io.out(activityLines(body.activity, body.summary, 'action log').join('\n'));
        for (const warning of integrityLines(body)) io.err(warning);
      } else io.err(`(activity not shown: HTTP ${seen.status})`);
      const res = await op('reviewGrant', { params: { id }, body: { outcome, notes: required(values, 'notes') } });
      return finish<GrantBody>(res, (b) => [
        `✔ Reviewed ${b.grant.profile} of ${b.grant.principalArn}: ${b.grant.reviewOutcome}. Recorded and announced.`,
      ]);
    }
    case 'audit': {
      const pick: Array<[string, string]> = [
        ['requester', 'requester'],
        ['profile', 'profile'],
        ['type', 'eventType'],
        ['from', 'from'],
        ['to', 'to'],
        ['limit', 'limit'],
        ['next', 'nextToken'],
      ];
      const params = new URLSearchParams();
      for (const [flag, param] of pick) if (typeof values[flag] === 'string') params.set(param, values[flag] as string);
      const res = await op('queryAudit', { query: Object.fromEntries(params) });
      return finish<EventsBody>(res, (b) => [
        ...(b.events.length
          ? b.events.map(
              (e) =>
                `${e.at}  ${e.type.padEnd(18)} ${e.profile.padEnd(16)} ${String(e.requester.split('/').pop()).padEnd(12)} ${e.grantId}${e.actor !== e.requester ? `  by ${e.actor}` : ''}`,
            )
          : ['No events match.']),
        ...(b.nextToken ? [`(more: breakglass audit … --next ${b.nextToken})`] : []),
      ]);
    }
    case 'activity': {
      const id = idArg(positionals);
      if (values['from-cloudtrail']) {
        const res = await op('getGrant', { params: { id } });
        if (res.status >= 400) return finish(res, () => []);
        const regions =
          typeof values.regions === 'string'
            ? values.regions
                .split(',')
                .map((r) => r.trim())
                .filter(Boolean)
            : client.region
              ? [client.region]
              : [];
        if (!regions.length)
          throw new UsageError(
            '--from-cloudtrail needs a region: pass --regions, --region or set AWS_REGION (CloudTrail event history is per region)',
          );
        const answer = await activityFromCloudTrail((res.body as GrantBody).grant, {
          regions,
          ...(client.awsProfile ? { awsProfile: client.awsProfile } : {}),
          now: io.now,
          sleep: io.sleep,
          progress: (t) => io.err(t),
        });
        return finish<ActivityBody>({ status: 200, body: answer }, (b) =>
          activityLines(
            b.activity,
            b.summary,
            `CloudTrail event history (${regions.join(', ')}), session ${answer.session}`,
          ),
        );
      }
      const res = await op('getActivity', {
        params: { id },
        query: {
          limit: typeof values.limit === 'string' ? values.limit : undefined,
          nextToken: typeof values.next === 'string' ? values.next : undefined,
        },
      });
      return finish<ActivityBody>(res, (b) => [
        ...activityLines(b.activity, b.summary, 'break-glass activity log'),
        ...integrityLines(b),
        ...(b.nextToken ? [`(more: breakglass activity ${id} --next ${b.nextToken})`] : []),
      ]);
    }
    default:
      throw new UsageError(`Unknown command ${command}`);
  }
}

/**
 * The AWS CLI's `credential_process` output: `Version` 1, `AccessKeyId`, `SecretAccessKey`,
 * `SessionToken`, `Expiration` (ISO 8601) — "Sourcing credentials with an external process",
 * AWS CLI User Guide.
 */
export function credentialProcess(c: WireCredentials): {
  Version: 1;
  AccessKeyId: string;
  SecretAccessKey: string;
  SessionToken: string;
  Expiration: string;
} {
  return {
    Version: 1,
    AccessKeyId: c.accessKeyId,
    SecretAccessKey: c.secretAccessKey,
    SessionToken: c.sessionToken,
    Expiration: c.expiration,
  };
}

/** The environment a command runs with: the grant's credentials, and no profile that could override them. */
export function credentialEnv(env: NodeJS.ProcessEnv, c: WireCredentials): NodeJS.ProcessEnv {
  const { AWS_PROFILE: _p, AWS_DEFAULT_PROFILE: _d, ...rest } = env;
  return {
    ...rest,
    AWS_ACCESS_KEY_ID: c.accessKeyId,
    AWS_SECRET_ACCESS_KEY: c.secretAccessKey,
    AWS_SESSION_TOKEN: c.sessionToken,
    AWS_CREDENTIAL_EXPIRATION: c.expiration,
  };
}

/** The documented federation endpoint (IAM User Guide, "Enable custom identity broker access to the AWS console"). */
export const FEDERATION_ENDPOINT = 'https://signin.aws.amazon.com/federation';

/**
 * A console sign-in URL, as the IAM User Guide's custom identity broker describes it:
 * 1. `GET <federation>?Action=getSigninToken&Session=<URL-encoded JSON {sessionId, sessionKey, sessionToken}>`
 *    answers `{"SigninToken": "…"}`;
 * 2. `<federation>?Action=login&Issuer=<issuer>&Destination=<console URL>&SigninToken=<token>` signs in.
 * No `SessionDuration` is sent: the console session is then bounded by the credentials themselves.
 */
export async function consoleUrl(
  c: WireCredentials,
  options: { federation: string; destination: string; issuer: string },
): Promise<string> {
  const session = JSON.stringify({
    sessionId: c.accessKeyId,
    sessionKey: c.secretAccessKey,
    sessionToken: c.sessionToken,
  });
  const tokenUrl = `${options.federation}?Action=getSigninToken&Session=${encodeURIComponent(session)}`;
  let res: Response;
  try {
    res = await fetch(tokenUrl, { signal: AbortSignal.timeout(30_000) });
  } catch (error) {
    throw new NetworkError(
      `Cannot reach the federation endpoint ${new URL(options.federation).origin}: ${(error as Error).message}`,
    );
  }
  const body = (await res.json().catch(() => ({}))) as { SigninToken?: unknown };
  if (!res.ok || typeof body.SigninToken !== 'string')
    throw new NetworkError(`The federation endpoint gave no sign-in token (HTTP ${res.status})`);
  return `${options.federation}?Action=login&Issuer=${encodeURIComponent(options.issuer)}&Destination=${encodeURIComponent(options.destination)}&SigninToken=${encodeURIComponent(body.SigninToken)}`;
}

/** Process entry: wires real stdout/stderr and exits with the command's code. */
export async function main(): Promise<void> {
  const code = await run(process.argv.slice(2), {
    out: (t) => process.stdout.write(t.endsWith('\n') || t.startsWith('\r') ? t : `${t}\n`),
    err: (t) => process.stderr.write(`${t}\n`),
    isTTY: Boolean(process.stdout.isTTY),
    now: () => Date.now(),
    sleep: (ms) => new Promise((r) => setTimeout(r, ms)),
    env: process.env,
    spawn: (command, args, env) =>
      new Promise((resolve) => {
        const child = spawnProcess(command, args, { env, stdio: 'inherit' });
        child.on('error', (error) => {
          process.stderr.write(`breakglass: cannot run ${command}: ${error.message}\n`);
          resolve(127);
        });
        child.on('exit', (code, signal) => resolve(code ?? (signal ? 128 : 1)));
      }),
  });
  process.exitCode = code;
}
