/**
 * Reconciliation, every few minutes: IAM and the table must agree, and whatever disagrees
 * is closed.
 *
 * 1. policies — every `breakglass-*` inline policy on the entities the profiles name must belong
 *    to an ACTIVE grant on that entity (or to an activation still in flight); any other one
 *    (a failed expiry, a lost rollback, a policy put by hand with our prefix) is detached,
 *    recorded (SWEPT) and announced;
 * 2. grants — an ACTIVE grant past its expiry (plus a grace for the schedule) is expired by the
 *    sweeper; one whose schedule is missing gets it back (SCHEDULE_REPAIRED);
 * 3. activations that never finished — a grant still PENDING past the in-flight window (even its
 *    FAILED record could not be written) is closed as FAILED, whatever it left detached and cancelled.
 *
 * Step 1 runs per account (hub and spokes, `accounts.ts`): at most {@link SWEEP_ACCOUNT_PARALLELISM}
 * accounts at a time, at most {@link SWEEP_PARALLELISM} targets at a time within one (IAM's rate
 * limits are per account). A spoke that is missing or refuses is one failure for that account; its
 * other targets are skipped and every other account is still swept.
 *
 * A failure (AccessDenied, throttling, …) in one step, or on one target or grant, never stops the
 * others: every step runs, and the report names the steps that failed (`failedSteps`) so the
 * handler can fail the run after doing all it could.
 */

import { type AccountDirectory, profileAccounts } from './accounts.js';
import type { NewAuditEvent } from './audit-event.js';
import { eligibleEntities } from './eligible-entities.js';
import { SpokeUnavailableError } from './errors.js';
import { expireGrant } from './expire-grant.js';
import { claimScope, type Grant, grantPerson, grantTarget, POLICY_PREFIX } from './grant.js';
import { announce, appendEvent, describeError } from './lifecycle.js';
import type { HeldSlot, PersonHolds, PolicyTarget, Ports } from './ports.js';
import type { ProfileSet } from './profile.js';
import { profileRolePools } from './profile-roles.js';

export const SWEEP_ACTOR = 'system:sweeper';
/** An activation this recent may still be between its attach and its ACTIVE record. */
export const IN_FLIGHT_MS = 2 * 60_000;
/** The schedule gets this long past expiry before the sweeper expires a grant itself. */
export const EXPIRY_GRACE_MS = 60_000;

export type SweepPorts = Omit<Ports, 'newId' | 'control' | 'locks' | 'alertLimiter' | 'activity'>;

/** The sweep's steps, in order, as the failed-run error and the log name them. */
export const SWEEP_STEPS = ['policies', 'grants', 'activations', 'slots'] as const;
export type SweepStep = (typeof SWEEP_STEPS)[number];

export interface SweepReport {
  readonly targets: number;
  policies: number;
  /** ACTIVE grants whose person's holds were missing (recorded before holds existed) and were added. */
  holdsBackfilled?: number;
  readonly removed: Array<{ target: string; policyName: string; why: string }>;
  readonly expired: string[];
  readonly schedulesRepaired: string[];
  /** PENDING grants closed as FAILED. */
  readonly closed: string[];
  /** Spoke accounts that were missing or refused during step 1 (each also one line of `errors`). */
  readonly unreachableAccounts?: string[];
  /** Profile slots freed whose grant had ended without freeing them (`<profile>#<slot>`). */
  readonly slotsReclaimed?: string[];
  /** One line per failure, prefixed with its step. */
  readonly errors: string[];
  /** Steps with at least one failure, in step order; empty when the sweep succeeded. */
  readonly failedSteps: SweepStep[];
  /** ACTIVE grants after the grants step (those it expired excluded); absent when that step could not list them. */
  activeGrants?: number;
}

/**
 * The sweeper's custom metrics (CloudWatch, namespace `BreakGlass`, no dimensions), one value each per run.
 * The stack's alarms watch these names.
 */
export const SWEEP_METRICS = {
  /** 1 when every step succeeded, else 0. */
  succeeded: 'SweepSucceeded',
  /** Break-glass policies detached because no ACTIVE grant owned them. */
  orphansRemoved: 'SweeperOrphansRemoved',
  /** ACTIVE grants whose lost expiry schedule was re-created. */
  schedulesRepaired: 'SchedulesRepaired',
  /** Failures over all steps: one per target, policy, grant or whole step that failed. */
  stepFailures: 'SweeperStepFailures',
} as const;

export type SweepMetricName = (typeof SWEEP_METRICS)[keyof typeof SWEEP_METRICS];

/** The values of {@link SWEEP_METRICS} for one run. */
export function sweepMetrics(report: SweepReport): Record<SweepMetricName, number> {
  return {
    [SWEEP_METRICS.succeeded]: report.failedSteps.length ? 0 : 1,
    [SWEEP_METRICS.orphansRemoved]: report.removed.length,
    [SWEEP_METRICS.schedulesRepaired]: report.schedulesRepaired.length,
    [SWEEP_METRICS.stepFailures]: report.errors.length,
  } as Record<SweepMetricName, number>;
}

/** The failed run's message: the failed steps, and the first failures of each. */
export function describeSweepFailure(report: SweepReport): string {
  const parts = report.failedSteps.map((step) => {
    const mine = report.errors.filter((e) => e.startsWith(`${step}: `));
    return `${step} (${mine.length} failure${mine.length === 1 ? '' : 's'}: ${mine
      .slice(0, 3)
      .map((e) => e.slice(step.length + 2))
      .join('; ')}${mine.length > 3 ? '; …' : ''})`;
  });
  return `Sweep failed in ${report.failedSteps.length === 1 ? 'step' : 'steps'} ${parts.join(', ')}; the other steps were done`;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Runs `fn` over `items` with at most `limit` at a time (IAM and DynamoDB calls are I/O-bound). */
export async function eachLimited<T>(
  items: readonly T[],
  limit: number,
  fn: (item: T) => Promise<void>,
): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) await fn(items[next++]!);
    }),
  );
}

/** Parallel calls per sweep, and per account in step 1: well under IAM's and DynamoDB's rate limits. */
export const SWEEP_PARALLELISM = 8;
/** Accounts swept at a time in step 1 (each with its own IAM rate limits and, for a spoke, its own manager session). */
export const SWEEP_ACCOUNT_PARALLELISM = 8;

export async function sweep(
  ports: SweepPorts,
  targets: readonly PolicyTarget[],
  slotProfiles: readonly string[] = [],
): Promise<SweepReport> {
  const report: SweepReport = {
    targets: targets.length,
    policies: 0,
    removed: [],
    expired: [],
    schedulesRepaired: [],
    closed: [],
    errors: [],
    failedSteps: [],
  };
  const now = ports.clock.now().getTime();
  const failed = new Set<SweepStep>();
  const fail = (step: SweepStep, subject: string | undefined, error: unknown) => {
    failed.add(step);
    report.errors.push(`${step}: ${subject ? `${subject}: ` : ''}${describeError(error)}`);
  };
  /** Runs one step; whatever it throws is that step's failure, and the next step still runs. */
  const step = async (name: SweepStep, run: () => Promise<void>) => {
    try {
      await run();
    } catch (error) {
      fail(name, undefined, error);
    }
  };

  // 1. policies: list each target's break-glass policies (IAM, account by account), then read the grants they
  //    name in batches (one read per 100 policies, not one per policy), then judge each policy.
  const byAccount = new Map<string, PolicyTarget[]>();
  for (const target of targets)
    byAccount.set(target.account ?? '', [...(byAccount.get(target.account ?? '') ?? []), target]);
  const unreachable: string[] = [];
  const listed: Array<{ target: PolicyTarget; names: string[] }> = [];
  await step('policies', async () => {
    await eachLimited([...byAccount.entries()], SWEEP_ACCOUNT_PARALLELISM, ([account, mine]) =>
      eachLimited(mine, SWEEP_PARALLELISM, async (target) => {
        if (unreachable.includes(account)) return;
        try {
          listed.push({ target, names: await ports.access.listPolicies(target, POLICY_PREFIX) });
        } catch (error) {
          if (error instanceof SpokeUnavailableError) {
            // The whole account is out of reach: one failure for it, and on to the other accounts.
            if (!unreachable.includes(account)) {
              unreachable.push(account);
              fail('policies', `account ${account}`, error);
            }
            return;
          }
          // A role named by a profile may not exist (yet) in this account: nothing to sweep there.
          if ((error as Error).name !== 'NoSuchEntityException') fail('policies', targetLabel(target), error);
        }
      }),
    );
    const ids = listed.flatMap(({ names }) =>
      names.map((n) => n.slice(POLICY_PREFIX.length)).filter((id) => UUID.test(id)),
    );
    const grants = ids.length ? await ports.store.getMany(ids) : new Map<string, Grant>();
    await eachLimited(listed, SWEEP_PARALLELISM, ({ target, names }) => sweepPolicies(target, names, grants));
  });
  if (unreachable.length) Object.assign(report, { unreachableAccounts: unreachable.sort() });

  async function sweepPolicies(target: PolicyTarget, names: string[], grants: Map<string, Grant>): Promise<void> {
    for (const policyName of names) {
      report.policies += 1;
      try {
        const grant = grants.get(policyName.slice(POLICY_PREFIX.length));
        const foreign = grant ? belongsElsewhere(grant, target, ports.hubAccount) : undefined;
        const why = foreign ?? orphanReason(grant, now);
        if (!why) continue;
        // Gone since it was listed (its grant's own end removed it): nothing was left behind, nothing to record.
        if ((await ports.access.detach(target, policyName)) === 'absent') continue;
        report.removed.push({ target: targetLabel(target), policyName, why });
        // A policy named after a grant of another entity or account was put there by someone else (a spoke's
        // admin can name a policy after any hub grant): removed and announced on its own, never written onto
        // that grant, whose record and in-flight activation are not the spoke's to touch.
        await recordSweep(ports, foreign ? undefined : grant, target, policyName, why, Boolean(foreign));
      } catch (error) {
        fail('policies', policyName, error);
      }
    }
  }

  // 2. grants
  await step('grants', async () => {
    const active = await ports.store.active();
    // Grants ACTIVE since before per-person holds existed are counted from the first sweep on. The holds are read
    // first, 100 persons per read, and only a grant missing from its person's holds gets the conditional write: a
    // transaction per ACTIVE grant on every sweep cost a write each (and, in the emulator, a copy of the table each).
    let holds: Map<string, PersonHolds> | undefined;
    try {
      holds = active.length ? await ports.store.personHoldsMany(active.map(grantPerson)) : new Map();
    } catch (error) {
      fail('grants', 'person holds', error);
    }
    await eachLimited(active, SWEEP_PARALLELISM, async (grant) => {
      try {
        if (
          holds &&
          !holds.get(grantPerson(grant))?.grants.includes(grant.id) &&
          (await ports.store.backfillHolds(grant))
        )
          report.holdsBackfilled = (report.holdsBackfilled ?? 0) + 1;
        if (now >= Date.parse(grant.expiresAt) + EXPIRY_GRACE_MS) {
          const { outcome } = await expireGrant(ports, grant.id, SWEEP_ACTOR);
          if (outcome === 'expired') report.expired.push(grant.id);
        } else if (!(await ports.scheduler.exists(grant.scheduleName))) {
          await ports.scheduler.schedule(grant.scheduleName, grant.expiresAt, grant.id);
          const event: NewAuditEvent = {
            type: 'SCHEDULE_REPAIRED',
            at: new Date(now).toISOString(),
            actor: SWEEP_ACTOR,
            outcome: 'SUCCESS',
            details: { expiresAt: grant.expiresAt },
          };
          const written = await appendEvent(ports, grant, event);
          await announce(ports, written ?? grant, event);
          report.schedulesRepaired.push(grant.id);
        }
      } catch (error) {
        fail('grants', grant.id, error);
      }
    });
    report.activeGrants = active.length - report.expired.length;
  });

  // 3. activations that never finished (DynamoDB failed even for the FAILED record): close them.
  await step('activations', async () => {
    const stale = (await ports.store.list({ status: 'PENDING', limit: 100 })).grants.filter(
      (g) => now - Date.parse(g.createdAt) > IN_FLIGHT_MS,
    );
    await eachLimited(stale, SWEEP_PARALLELISM, async (listed) => {
      try {
        // The index is eventually consistent, and step 1 may have closed this grant a moment ago: read it again.
        const grant = await ports.store.get(listed.id);
        if (grant?.status !== 'PENDING') return;
        await ports.access.detach(grantTarget(grant), grant.policyName);
        await ports.scheduler.cancel(grant.scheduleName);
        await recordSweep(ports, grant, grantTarget(grant), grant.policyName, 'activation never completed');
        report.closed.push(grant.id);
      } catch (error) {
        fail('activations', listed.id, error);
      }
    });
  });
  // 4. profile slots held by grants that are no longer ACTIVE or PENDING (their end could not free them): one
  //    query per profile scope, then their grants read in batches (one read per 100 slots, not one per slot).
  const reclaimed: string[] = [];
  const held: Array<{ profile: string; slot: HeldSlot }> = [];
  // (one scope per profile and account it grants in: thousands at a thousand accounts, so several at a time)
  await eachLimited(slotProfiles, SWEEP_PARALLELISM, (profile) =>
    step('slots', async () => {
      for (const slot of await ports.store.heldSlots(profile)) held.push({ profile, slot });
    }),
  );
  if (held.length)
    await step('slots', async () => {
      const grants = await ports.store.getMany(held.map(({ slot }) => slot.grantId));
      for (const { profile, slot } of held) {
        try {
          const grant = grants.get(slot.grantId);
          const stale = grant
            ? grant.status !== 'ACTIVE' && grant.status !== 'PENDING'
            : now - Date.parse(slot.at) > IN_FLIGHT_MS;
          if (!stale) continue;
          await ports.store.releaseSlot(profile, slot.slot, slot.grantId);
          reclaimed.push(`${profile}#${slot.slot}`);
        } catch (error) {
          fail('slots', `${profile}#${slot.slot}`, error);
        }
      }
    });
  if (slotProfiles.length) Object.assign(report, { slotsReclaimed: reclaimed });
  report.failedSteps.push(...SWEEP_STEPS.filter((s) => failed.has(s)));
  if (report.errors.length)
    ports.log.error({ msg: 'sweep finished with errors', failedSteps: report.failedSteps, errors: report.errors });
  return report;
}

function targetLabel(target: PolicyTarget): string {
  return `${target.account ? `${target.account}:` : ''}${target.type}/${target.name}`;
}

/**
 * Why a policy named after `grant` is not that grant's: it sits on another entity, or in another account
 * (a target or grant naming no account is the hub's). Undefined when it is where the grant put it.
 */
function belongsElsewhere(grant: Grant, target: PolicyTarget, hub: string | undefined): string | undefined {
  const found = `found on ${target.type} ${target.name}${target.account ? ` in account ${target.account}` : ''}`;
  if (grant.targetType !== target.type || grant.targetName !== target.name)
    return `named after grant ${grant.id} of ${grant.targetType} ${grant.targetName}, ${found}`;
  // A spoke's entity holds only that spoke's grants (grants naming no account are the hub's); the hub's
  // entities hold grants naming no account or the hub (when the hub is not configured, any naming none).
  const foreign = target.account
    ? grant.account !== target.account
    : grant.account !== undefined && hub !== undefined && grant.account !== hub;
  if (foreign) return `named after grant ${grant.id} of account ${grant.account ?? 'the hub'}, ${found}`;
  return undefined;
}

/** Why a break-glass policy must go, or undefined when it belongs where it is. */
function orphanReason(grant: Grant | undefined, now: number): string | undefined {
  if (!grant) return 'no grant has this policy name (put by hand, or its record is gone)';
  if (grant.status === 'PENDING')
    return now - Date.parse(grant.createdAt) > IN_FLIGHT_MS ? 'activation never completed' : undefined;
  if (grant.status === 'ACTIVE') return undefined; // past-expiry ACTIVE grants are expired in step 2
  return `grant ${grant.id} is ${grant.status}`;
}

async function recordSweep(
  ports: SweepPorts,
  grant: Grant | undefined,
  target: PolicyTarget,
  policyName: string,
  why: string,
  foreign = false,
): Promise<void> {
  const event: NewAuditEvent = {
    type: 'SWEPT',
    at: ports.clock.now().toISOString(),
    actor: SWEEP_ACTOR,
    outcome: 'SUCCESS',
    details: {
      policyName,
      target: `${target.type}/${target.name}`,
      ...(target.account ? { account: target.account } : {}),
      why,
    },
  };
  if (grant) {
    // An activation that never finished may have had its policy attached meanwhile: its review is due.
    const written = await appendEvent(
      ports,
      grant,
      event,
      grant.status === 'PENDING' ? { status: 'FAILED', endedAt: event.at, reviewState: 'DUE' } : undefined,
    );
    await announce(ports, written ?? grant, event);
    return;
  }
  // No record to append to (or one that is not this policy's): the alert (and the log) carry it.
  ports.log.error({
    msg: 'removed a break-glass policy with no grant of its own',
    why,
    policyName,
    target: `${target.type}/${target.name}`,
    ...(target.account ? { account: target.account } : {}),
  });
  await announce(
    ports,
    {
      // A foreign policy's name is another grant's id: the finding must not read as that grant's.
      id: foreign ? '-' : policyName.slice(POLICY_PREFIX.length).slice(0, 64) || '-',
      profile: '(unknown)',
      owner: '(unknown)',
      principalArn: `${target.type}/${target.name}`,
      targetType: target.type,
      targetName: target.name,
      ...(target.account ? { account: target.account } : {}),
      status: 'FAILED',
      reason: '(no record)',
      durationMinutes: 0,
      createdAt: '-',
      expiresAt: '-',
      policyName,
      scheduleName: '-',
      version: 0,
      eventCount: 0,
    },
    event,
  );
}

/**
 * The scopes whose slots the sweeper reclaims (`claimScope`): each profile alone (grants naming no account)
 * and the profile in each account it grants in.
 */
export function slotScopes(set: ProfileSet, directory: AccountDirectory = {}): string[] {
  return set.profiles.flatMap((p) => [p.name, ...profileAccounts(p, directory).map((a) => claimScope(p.name, a))]);
}

/**
 * Roles and users named literally by the eligibility of `grantTo: "caller"` profiles (wildcard
 * names cannot be listed), and every profile role (given `PROTECTED_RESOURCES`, which sizes the pools).
 */
export function sweepTargets(
  set: ProfileSet,
  protectedResources?: readonly string[],
  directory: AccountDirectory = {},
): PolicyTarget[] {
  const seen = new Map<string, PolicyTarget>();
  if (protectedResources) {
    for (const pool of profileRolePools(set, protectedResources)) {
      const profile = set.profiles.find((p) => p.name === pool.profile)!;
      const accounts = profileAccounts(profile, directory);
      // The hub's own targets carry no account (as before accounts); a spoke's carry its id.
      for (const account of accounts.length ? accounts.map((a) => (a === directory.hub ? undefined : a)) : [undefined])
        for (const name of pool.roleNames)
          seen.set(`${account ?? ''}/role/${name}`, { type: 'role', name, ...(account ? { account } : {}) });
    }
  }
  // Wildcard names match entities the sweeper cannot name (the stacks refuse them unless allowBroadEligibility).
  for (const entity of eligibleEntities(set).filter((e) => !e.wildcard))
    seen.set(`/${entity.kind}/${entity.name}`, { type: entity.kind, name: entity.name });
  return [...seen.values()];
}
