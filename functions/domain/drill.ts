/**
 * Drills: rehearse the whole break-glass path with a harmless drill profile (`"drill": true`, one
 * read-only action on one resource the deployment owns), before an outage needs it.
 *
 * 1. activate — a grant of the drill profile, recorded and announced like any other (its alerts carry
 *    the `drill` message attribute);
 * 2. credentials — the drill takes the grant's credentials and makes the granted call: it must succeed
 *    (retried while IAM propagates the new policy); *time to access* = request → first allowed call;
 * 3. outside — a read-only call outside the profile (same service, same resource): it must be denied;
 * 4. end — `revoke`: revoke, then call again until denied (*time to revoke*); `expire`: a one-minute
 *    grant left to expire (*expiry lag* = scheduled expiry → EXPIRED recorded), then the call is denied;
 * 5. alerts — ACTIVATED, CREDENTIALS_ISSUED and REVOKED/EXPIRED reached the topic (read back through
 *    the drill queue's subscription; *alert delivery* = the slowest of them), and the grant's audit
 *    chain verifies;
 * 6. record — a DRILL result with each step's outcome and timings. A failed step is a CRITICAL alert
 *    naming the step and the fix.
 *
 * Who judged each call is said in the result (`judgedBy`): in AWS, IAM itself; in the sandbox, a policy
 * evaluator over the role's policies as the emulator holds them (the emulator does not judge IAM).
 */
import { type ActivationRules, activateGrant, type Caller } from './activate-grant.js';
import type { Alert } from './alert.js';
import { verifyChain } from './audit-chain.js';
import { DrillNotFoundError, ForbiddenError, ValidationError } from './errors.js';
import type { Grant } from './grant.js';
import { type CredentialSettings, issueCredentials } from './issue-credentials.js';
import { describeError } from './lifecycle.js';
import type { CredentialVendor, Ports, VendedCredentials } from './ports.js';
import { parsePrincipalArn, principalMatchesAny } from './principal.js';
import { DRILL_ACTIONS, type Profile, type ProfileSet } from './profile.js';
import { profileRoleArn } from './profile-roles.js';
import { DRILL_ID_PATTERN, type DrillMode, drillRequestSchema, parseRequest } from './requests.js';
import { revokeGrant } from './revoke-grant.js';

export { DRILL_MODES, type DrillMode } from './requests.js';
export const DRILL_STEPS = ['activate', 'credentials', 'outside', 'end', 'alerts', 'record'] as const;
export type DrillStepName = (typeof DRILL_STEPS)[number];

export interface DrillStep {
  readonly name: DrillStepName;
  readonly outcome: 'passed' | 'failed' | 'skipped';
  /** How long the step took. */
  readonly ms: number;
  readonly detail: string;
  /** What to do about a failed step. */
  readonly fix?: string;
}

export interface DrillTimings {
  /** Activation request → first allowed granted call. */
  readonly timeToAccessMs?: number;
  /** Revoke request → first denied call (`revoke`). */
  readonly timeToRevokeMs?: number;
  /** Planned expiry → EXPIRED recorded (`expire`). */
  readonly expiryLagMs?: number;
  /** Event → received on the drill queue, the slowest of the drill's alerts. */
  readonly alertDeliveryMs?: number;
}

export interface DrillResult {
  readonly id: string;
  readonly mode: DrillMode;
  readonly profile: string;
  /** Who ran it: a security principal, or `schedule`. */
  readonly by: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly outcome: 'PASSED' | 'FAILED';
  readonly failedStep?: DrillStepName;
  readonly grantId?: string;
  readonly steps: readonly DrillStep[];
  readonly timings: DrillTimings;
  /** Who judged the calls: `AWS IAM`, `emulator IAM` or `policy evaluator`. */
  readonly judgedBy: string;
}

/** One call made with the drill's credentials. */
export interface ProbeCall {
  readonly credentials: VendedCredentials;
  /** The profile role the session is on, and the session (`bg-<grantId>`). */
  readonly roleArn: string;
  readonly sessionName: string;
  readonly action: string;
  readonly resource: string;
}

export interface ProbeVerdict {
  readonly allowed: boolean;
  /** e.g. the error code of a denied call. */
  readonly detail: string;
}

/** Makes the drill's calls with its credentials and says whether they were allowed. */
export interface DrillProbe {
  /** Who judges: `AWS IAM` (a real call), `emulator IAM`, `policy evaluator`. */
  readonly judgedBy: string;
  call(call: ProbeCall): Promise<ProbeVerdict>;
}

/** An alert as the drill queue received it. */
export interface ReceivedAlert {
  readonly eventType: string;
  readonly grantId: string;
  /** When the event happened (the alert's `at`), and when the queue had it (SQS SentTimestamp). */
  readonly at?: string;
  readonly receivedAt: string;
}

/** The drill queue: a subscription of the alert topic the stack owns, filtered to drills. */
export interface DrillInbox {
  /**
   * Reads the queue until every one of `eventTypes` for `grantId` has arrived or `waitMs` has passed;
   * returns what arrived for the grant (and deletes it; other drills' messages are left alone).
   */
  collect(grantId: string, eventTypes: readonly string[], waitMs: number): Promise<ReceivedAlert[]>;
}

/** Where DRILL results are kept (the table). */
export interface DrillStore {
  record(result: DrillResult): Promise<void>;
  /** Newest first (finished drills only). */
  latest(limit: number): Promise<DrillResult[]>;
  /** Saves a drill's progress (`GET /drills/{id}`), overwriting the last saved. */
  progress(run: DrillRun): Promise<void>;
  /** A drill's progress, or undefined. */
  get(id: string): Promise<DrillRun | undefined>;
}

/**
 * A drill requested with `POST /drills`: answered 202 at once, run by the drill function invoked
 * asynchronously, because API Gateway ends an integration after 29 seconds (docs/drills.md).
 */
export interface DrillRequest {
  readonly id: string;
  readonly mode: DrillMode;
  /** The security principal who asked. */
  readonly by: string;
  readonly requestedAt: string;
}

/** A drill as `GET /drills/{id}` shows it: the steps so far, then the DRILL result. */
export interface DrillRun {
  readonly id: string;
  readonly mode: DrillMode;
  readonly by: string;
  readonly requestedAt: string;
  readonly status: 'RUNNING' | 'PASSED' | 'FAILED';
  readonly steps: readonly DrillStep[];
  readonly result?: DrillResult;
}

/** Starts the drill function on a request without waiting for it (Lambda's `Event` invocation in AWS). */
export interface DrillLauncher {
  launch(request: DrillRequest): Promise<void>;
}

export interface DrillDependencies {
  readonly ports: Ports;
  readonly vendor: CredentialVendor;
  readonly settings: CredentialSettings;
  readonly rules: ActivationRules;
  readonly probe: DrillProbe;
  readonly inbox: DrillInbox;
  readonly drills: DrillStore;
  readonly securityPrincipals: readonly string[];
  /** Waits (a timer in Lambda; a fake clock's advance in tests). */
  readonly sleep: (ms: number) => Promise<void>;
}

export interface DrillOptions {
  readonly mode?: DrillMode;
  /** How long to keep calling while IAM propagates a change. @default 60000 */
  readonly propagationMs?: number;
  /** Between two calls while waiting for propagation. @default 2000 */
  readonly pollMs?: number;
  /** How long to wait for the alerts. @default 30000 */
  readonly alertWaitMs?: number;
  /** How long past the planned expiry to wait for EXPIRED. @default 120000 */
  readonly expiryWaitMs?: number;
  /** The drill's id (a requested drill's); @default a new id */
  readonly id?: string;
  /** Told the steps after each one, and the result at the end (best effort: a failure to save is logged). */
  readonly onProgress?: (steps: readonly DrillStep[], result?: DrillResult) => Promise<void>;
}

export interface DrillInput {
  /** The caller of `POST /drills`, or undefined for the schedule. */
  readonly caller?: Caller;
  readonly body?: unknown;
  /** The principal the schedule runs as (recorded as the drill grant's requester). */
  readonly scheduleArn?: string;
}

/** The fix to suggest when a step fails. */
export const DRILL_FIXES: Record<DrillStepName, string> = {
  activate:
    'check the drill profile (config profiles "drill": true), its profile roles (breakglass-<profile>-<n>), the kill switch (GET /freeze) and the activation function logs',
  credentials:
    "check the profile role's trust policy (only the credential function may assume it), its permissions boundary, and that the drill profile's resource exists",
  outside:
    "the profile role can do more than the profile allows: look for managed or inline policies on the role other than the grant's and remove them",
  end: 'access outlived the grant: check the revoke/expiry function logs, the expiry schedule group and its dead-letter queue, and run the sweeper',
  alerts:
    'check the alert topic, its drill subscription (the drill queue and its queue policy) and the topic key policy; or the audit chain of the grant (GET /grants/{id}) if it no longer verifies',
  record: 'check the drill function can write to the table',
};

/** The mode of a `POST /drills` body, parsed with the route table's schema (`drillRequestSchema`); no body: `revoke`. */
function parseMode(body: unknown): DrillMode {
  if (body === undefined || body === null) return 'revoke';
  return parseRequest(drillRequestSchema, body).mode ?? 'revoke';
}

/** The deployment's drill profile. */
export function drillProfile(profiles: ProfileSet): Profile | undefined {
  return profiles.profiles.find((p) => p.drill);
}

/** Security principals only (or the schedule). */
export function authorizeDrill(securityPrincipals: readonly string[], caller: Caller, action = 'run a drill'): void {
  const principal = parsePrincipalArn(caller.arn);
  if (!principal || !principalMatchesAny(securityPrincipals, principal))
    throw new ForbiddenError(`Only a security principal may ${action}`);
}

/** Runs one drill and records its result. Never throws for a failed step: the result says it. */
export async function runDrill(
  deps: DrillDependencies,
  profiles: ProfileSet,
  input: DrillInput,
  options: DrillOptions = {},
): Promise<DrillResult> {
  const { ports } = deps;
  if (input.caller) authorizeDrill(deps.securityPrincipals, input.caller);
  const runner: Caller | undefined = input.caller ?? (input.scheduleArn ? { arn: input.scheduleArn } : undefined);
  if (!runner) throw new ValidationError('A drill needs a caller or the schedule');
  const mode = options.mode ?? parseMode(input.body);
  const profile = drillProfile(profiles);
  if (!profile)
    throw new ValidationError('No drill profile is deployed: add a profile with "drill": true (docs/drills.md)');
  const statement = profile.statements[0]!;
  const action = statement.actions[0]!;
  const resource = statement.resources[0]!;
  const outsideAction = DRILL_ACTIONS[action]!;
  const propagationMs = options.propagationMs ?? 60_000;
  const pollMs = options.pollMs ?? 2_000;
  const now = () => ports.clock.now().getTime();

  const id = options.id ?? ports.newId();
  const progress = async (result?: DrillResult) => {
    try {
      await options.onProgress?.(result?.steps ?? steps, result);
    } catch (error) {
      ports.log.error({ msg: 'could not save the drill progress', drillId: id, error: describeError(error) });
    }
  };
  const startedAt = ports.clock.now().toISOString();
  const steps: DrillStep[] = [];
  const timings: { -readonly [K in keyof DrillTimings]: DrillTimings[K] } = {};
  let grant: Grant | undefined;
  let credentials: VendedCredentials | undefined;
  let roleArn = '';

  /** Runs one step; false when it failed (the remaining steps are then skipped). */
  const step = async (name: DrillStepName, run: () => Promise<string>): Promise<boolean> => {
    const began = now();
    try {
      const detail = await run();
      steps.push({ name, outcome: 'passed', ms: now() - began, detail });
      await progress();
      return true;
    } catch (error) {
      steps.push({ name, outcome: 'failed', ms: now() - began, detail: describeError(error), fix: DRILL_FIXES[name] });
      await progress();
      return false;
    }
  };
  const probe = (callAction: string) =>
    deps.probe.call({
      credentials: credentials!,
      roleArn,
      sessionName: grant!.sessionName!,
      action: callAction,
      resource,
    });
  /** Calls until the verdict is `allowed` (or the propagation time is up); the time of the first such verdict. */
  const until = async (allowed: boolean, callAction: string): Promise<{ at: number; verdict: ProbeVerdict }> => {
    const deadline = now() + propagationMs;
    for (;;) {
      const verdict = await probe(callAction);
      if (verdict.allowed === allowed || now() >= deadline) return { at: now(), verdict };
      await deps.sleep(pollMs);
    }
  };

  const requested = now();
  const ok =
    (await step('activate', async () => {
      const result = await activateGrant(
        ports,
        profiles,
        {
          caller: runner,
          body: {
            profile: profile.name,
            reason: `Break-glass drill ${id} (${mode}) by ${runner.arn}`,
            durationMinutes: mode === 'expire' ? 1 : Math.min(15, profile.maxDurationMinutes),
          },
          drill: true,
        },
        deps.rules,
      );
      grant = result.grant;
      if (grant.status !== 'ACTIVE') throw new Error(`the drill grant is ${grant.status}`);
      roleArn = profileRoleArn(deps.settings.partition, deps.settings.accountId, grant.targetName);
      return `grant ${grant.id} ACTIVE on ${grant.targetName} until ${grant.expiresAt}${result.warnings.length ? `; warnings: ${result.warnings.join('; ')}` : ''}`;
    })) &&
    (await step('credentials', async () => {
      const issued = await issueCredentials(
        { ...ports, vendor: deps.vendor },
        profiles,
        deps.settings,
        { grantId: grant!.id, caller: runner, drill: true },
        deps.rules,
      );
      credentials = issued.credentials;
      const { at, verdict } = await until(true, action);
      if (!verdict.allowed) throw new Error(`${action} on ${resource} was denied: ${verdict.detail}`);
      timings.timeToAccessMs = at - requested;
      return `${action} on ${resource} allowed (judged by ${deps.probe.judgedBy})`;
    })) &&
    (await step('outside', async () => {
      const verdict = await probe(outsideAction);
      if (verdict.allowed)
        throw new Error(`${outsideAction} on ${resource} was ALLOWED: the grant gives more than its profile`);
      return `${outsideAction} on ${resource} denied: ${verdict.detail} (judged by ${deps.probe.judgedBy})`;
    })) &&
    (await step('end', async () => {
      if (mode === 'revoke') {
        const revokeAt = now();
        grant = await revokeGrant(ports, deps.securityPrincipals, {
          grantId: grant!.id,
          caller: runner,
          body: { reason: `drill ${id}: end of the rehearsal` },
        });
        const { at, verdict } = await until(false, action);
        if (verdict.allowed) throw new Error(`${action} still allowed ${at - revokeAt} ms after the revocation`);
        timings.timeToRevokeMs = at - revokeAt;
        return `revoked; ${action} denied after ${at - revokeAt} ms: ${verdict.detail}`;
      }
      const planned = Date.parse(grant!.expiresAt);
      if (planned > now()) await deps.sleep(planned - now());
      const deadline = planned + (options.expiryWaitMs ?? 120_000);
      let current = await ports.store.get(grant!.id);
      while (current?.status === 'ACTIVE' && now() < deadline) {
        await deps.sleep(pollMs);
        current = await ports.store.get(grant!.id);
      }
      if (current?.status !== 'EXPIRED')
        throw new Error(`grant still ${current?.status ?? 'missing'} ${now() - planned} ms after its planned expiry`);
      grant = current;
      timings.expiryLagMs = Math.max(0, Date.parse(current.endedAt ?? new Date(now()).toISOString()) - planned);
      const { verdict } = await until(false, action);
      if (verdict.allowed) throw new Error(`${action} still allowed after the expiry`);
      return `expired ${timings.expiryLagMs} ms after its planned expiry; ${action} denied: ${verdict.detail}`;
    })) &&
    (await step('alerts', async () => {
      const ending = mode === 'revoke' ? 'REVOKED' : 'EXPIRED';
      const wanted = ['ACTIVATED', 'CREDENTIALS_ISSUED', ending];
      const received = await deps.inbox.collect(grant!.id, wanted, options.alertWaitMs ?? 30_000);
      const missing = wanted.filter((t) => !received.some((r) => r.eventType === t));
      if (missing.length) throw new Error(`alerts not received on the drill queue: ${missing.join(', ')}`);
      const lags = received
        .filter((r) => r.at !== undefined)
        .map((r) => Date.parse(r.receivedAt) - Date.parse(r.at!))
        .filter(Number.isFinite);
      if (lags.length) timings.alertDeliveryMs = Math.max(0, ...lags);
      const stored = await ports.store.get(grant!.id);
      const verdict = verifyChain(stored ?? {}, await ports.store.events(grant!.id));
      if (!verdict.ok)
        throw new Error(`the audit chain of grant ${grant!.id} does not verify: ${JSON.stringify(verdict)}`);
      return `${wanted.join(', ')} received; audit chain verifies (${stored?.eventCount ?? '?'} events)`;
    }));

  // Whatever failed, the drill leaves no access behind.
  if (!ok && grant?.status === 'ACTIVE') {
    await revokeGrant(ports, deps.securityPrincipals, {
      grantId: grant.id,
      caller: runner,
      body: { reason: `drill ${id} failed: cleaning up` },
    }).catch((error: unknown) =>
      ports.log.error({ msg: 'drill could not revoke its grant', grantId: grant?.id, error: describeError(error) }),
    );
  }
  for (const name of DRILL_STEPS)
    if (!steps.some((s) => s.name === name) && name !== 'record')
      steps.push({ name, outcome: 'skipped', ms: 0, detail: 'an earlier step failed' });

  const base = {
    id,
    mode,
    profile: profile.name,
    by: input.caller?.arn ?? 'schedule',
    startedAt,
    ...(grant ? { grantId: grant.id } : {}),
    timings,
    judgedBy: deps.probe.judgedBy,
  };
  const recordStep = async (result: DrillResult) => {
    const began = now();
    try {
      await deps.drills.record(result);
      return undefined;
    } catch (error) {
      return {
        name: 'record' as const,
        outcome: 'failed' as const,
        ms: now() - began,
        detail: describeError(error),
        fix: DRILL_FIXES.record,
      };
    }
  };
  const failed = steps.find((s) => s.outcome === 'failed');
  let result: DrillResult = {
    ...base,
    finishedAt: ports.clock.now().toISOString(),
    outcome: failed ? 'FAILED' : 'PASSED',
    ...(failed ? { failedStep: failed.name } : {}),
    steps: [...steps, { name: 'record', outcome: 'passed', ms: 0, detail: 'DRILL result written' }],
  };
  const notRecorded = await recordStep(result);
  if (notRecorded)
    result = {
      ...result,
      outcome: 'FAILED',
      failedStep: result.failedStep ?? 'record',
      steps: [...steps, notRecorded],
    };
  if (result.outcome === 'FAILED') await alertFailure(ports, result);
  await progress(result);
  return result;
}

/** What starting a drill needs. */
export interface StartDrillDependencies {
  readonly securityPrincipals: readonly string[];
  readonly drills: DrillStore;
  readonly launcher: DrillLauncher;
  readonly clock: Ports['clock'];
  readonly newId: () => string;
}

/**
 * `POST /drills`: 1. authorize (security principals) → 2. validate the body → 3. save the drill as
 * RUNNING → 4. launch the drill function on it, without waiting. The caller polls `GET /drills/{id}`.
 */
export async function startDrill(
  deps: StartDrillDependencies,
  profiles: ProfileSet,
  input: { readonly caller: Caller; readonly body?: unknown },
): Promise<DrillRun> {
  authorizeDrill(deps.securityPrincipals, input.caller);
  const mode = parseMode(input.body);
  if (!drillProfile(profiles))
    throw new ValidationError('No drill profile is deployed: add a profile with "drill": true (docs/drills.md)');
  const request: DrillRequest = {
    id: deps.newId(),
    mode,
    by: input.caller.arn,
    requestedAt: deps.clock.now().toISOString(),
  };
  const run: DrillRun = { ...request, status: 'RUNNING', steps: [] };
  await deps.drills.progress(run);
  await deps.launcher.launch(request);
  return run;
}

/** The progress of a requested drill, as the drill function saves it after each step. */
export async function getDrill(drills: DrillStore, id: string): Promise<DrillRun> {
  if (!DRILL_ID_PATTERN.test(id)) throw new ValidationError('A drill id is letters, digits and dashes');
  const run = await drills.get(id);
  if (!run) throw new DrillNotFoundError(`No drill ${id}`);
  return run;
}

/** The CRITICAL alert of a failed drill: the step, what happened, the fix. Not tagged `drill`: it is for everyone. */
export function drillFailureAlert(result: DrillResult): Alert {
  const failed = result.steps.find((s) => s.outcome === 'failed');
  const step = failed?.name ?? result.failedStep ?? 'record';
  const subject = `[break-glass CRITICAL] DRILL FAILED at step ${step} (${result.profile})`.slice(0, 100);
  const body = [
    `Event:      DRILL_FAILED (CRITICAL)`,
    `Drill:      ${result.id} (${result.mode}) by ${result.by}`,
    `Profile:    ${result.profile}`,
    `Grant:      ${result.grantId ?? '(none)'}`,
    `Step:       ${step}`,
    `What:       ${(failed?.detail ?? '').replace(/\s+/g, ' ').slice(0, 1000)}`,
    `Fix:        ${DRILL_FIXES[step]}`,
    `Judged by:  ${result.judgedBy}`,
    '',
    'The break-glass path may not work when it is needed. GET /drills shows the last result.',
  ].join('\n');
  return {
    subject,
    body,
    machine: {
      version: 1,
      eventType: 'DRILL_FAILED',
      severity: 'CRITICAL',
      at: result.finishedAt,
      drill: { ...result },
      fix: DRILL_FIXES[step],
    },
    attributes: {
      eventType: 'DRILL_FAILED',
      profile: result.profile,
      principal: result.by,
      severity: 'CRITICAL',
      grantId: result.grantId ?? result.id,
    },
  };
}

async function alertFailure(ports: Ports, result: DrillResult): Promise<void> {
  try {
    await ports.notifier.publish(drillFailureAlert(result));
  } catch (error) {
    ports.log.error({
      msg: 'could not publish the failed drill alert',
      drillId: result.id,
      error: describeError(error),
    });
  }
}

/** The last drill and how old it is, for `GET /drills` and the audit report. */
export interface DrillSummary {
  readonly last?: DrillResult;
  readonly ageDays?: number;
  readonly recent: readonly DrillResult[];
}

export async function listDrills(drills: DrillStore, clock: Ports['clock'], limit = 10): Promise<DrillSummary> {
  const recent = await drills.latest(limit);
  const last = recent[0];
  return {
    ...(last
      ? {
          last,
          ageDays: Math.round(((clock.now().getTime() - Date.parse(last.finishedAt)) / 86_400_000) * 100) / 100,
        }
      : {}),
    recent,
  };
}
