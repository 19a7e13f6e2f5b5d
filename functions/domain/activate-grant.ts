/**
 * Activation: an on-call engineer asks for one profile's access, for a bounded time.
 *
 * 1. validate — profile exists, caller eligible and the profile not frozen by configuration (else DENIED:
 *    recorded, announced under a per-caller rate limit), reason, ticket, duration;
 * 2. record — the PENDING grant and its REQUESTED event, before IAM is touched, in one transaction with
 *    its claims (`ActivationClaims`): a free slot of the profile (none free: the profile's limit is
 *    reached), the person's holds (an ACTIVE grant of the same profile for the same person is returned
 *    instead of stacking a second policy; at most `maxActivePerPrincipal` in all), the kill switch
 *    (frozen: DENIED as above), the idempotency key. The common path reads nothing; what a refused
 *    claim means is read only then (`settleRefusal`), and the profile's held slots before a new try;
 * 3. attach — the inline policy built from the profile alone, guarded by expiry time, bound to
 *    one session and closed by the self-protection Deny; on the slot's profile role (default:
 *    bound to `bg-<grantId>`, the session `POST /grants/{id}/credentials` opens), or on the
 *    caller's own role or user (`grantTo: "caller"`: bound to the caller's session);
 * 4. schedule — the one-time expiry;
 * 5. announce — mark ACTIVE with its ACTIVATED event, publish the alert.
 *
 * Any failure after step 2 is rolled back (schedule deleted, policy detached), recorded
 * as FAILED with the step that failed, announced, and answered with a 503.
 */

import { createHash } from 'node:crypto';
import { type AccountDirectory, resolveAccount, spokeNote } from './accounts.js';
import { registerGrantSession } from './activity-capture.js';
import type { NewAuditEvent } from './audit-event.js';
import {
  BusyError,
  ClaimRefusedError,
  ConcurrentUpdateError,
  DrillOnlyError,
  FrozenError,
  IdempotencyReplayError,
  LimitExceededError,
  NotEligibleError,
  PolicySizeLimitError,
  ProfileNotFoundError,
  ProtectedRoleError,
  StepFailedError,
  UnauthenticatedError,
  ValidationError,
} from './errors.js';
import { claimScope, expiryFrom, type Grant, grantTarget, isoSeconds, policyNameFor } from './grant.js';
import { admitDenialAlert, announce, describeError, recordFailure } from './lifecycle.js';
import {
  buildGrantPolicy,
  guardsFor,
  INLINE_POLICY_LIMITS,
  iamPolicySize,
  policyHash,
  serializePolicy,
  summarizeGrants,
} from './policy-builder.js';
import type { FreezeState, IdempotencyRecord, PolicyTarget, Ports } from './ports.js';
import { isProtectedRole, type Principal, parsePrincipalArn, personOf, principalMatchesAny } from './principal.js';
import { findProfile, type Profile, type ProfileSet } from './profile.js';
import { grantSessionName, grantSessionUserId, profileRolePool, roleForSlot } from './profile-roles.js';
import {
  type ActivationRequest,
  activationRequestSchema,
  checkReason,
  clip,
  parseRequest,
  REASON_MAX,
  TICKET_MAX,
} from './requests.js';

/** The authenticated caller, as API Gateway reports it. */
export interface Caller {
  /** `requestContext.identity.userArn`. */
  readonly arn: string;
  /** `requestContext.identity.caller`: `<roleId>:<sessionName>` for an assumed role. */
  readonly userId?: string;
}

export interface ActivationInput {
  readonly caller: Caller;
  readonly body: unknown;
  readonly requestId?: string;
  /** The `Idempotency-Key` header: a retried request with the same key returns the same grant. */
  readonly idempotencyKey?: string;
  /** Set by the drill use case only (`drill.ts`): a drill profile is activated by a drill and nothing else. */
  readonly drill?: boolean;
}

/** Deployment-wide rules for activation (configuration, not profile data). */
export interface ActivationRules {
  /** Profiles frozen by configuration (`FROZEN_PROFILES`); `*` freezes all. */
  readonly frozenByConfig: readonly string[];
  /** At most this many ACTIVE grants per person (`personOf`). */
  readonly maxActivePerPrincipal: number;
  /** ARN patterns of break-glass's own resources (`PROTECTED_RESOURCES`), denied in every policy. */
  readonly protectedResources: readonly string[];
  /**
   * How long an activation waits for the same person's activation of the same profile already in flight
   * before answering 503 Busy (`BREAKGLASS_LEASE_WAIT_MS`). @default 8000
   */
  readonly pendingWaitMs?: number;
  /** The hub's account and the aliases of accounts (`accounts.ts`); without it, grants name no account. */
  readonly accounts?: AccountDirectory;
}

const NOT_FROZEN: FreezeState = { all: false, profiles: [], version: 0 };

export const DEFAULT_RULES: ActivationRules = { frozenByConfig: [], maxActivePerPrincipal: 3, protectedResources: [] };

export interface ActivationResult {
  readonly grant: Grant;
  /** True when an ACTIVE grant of this profile for this caller already existed and is returned instead. */
  readonly existing?: boolean;
  /** Things that went wrong without taking the access away (e.g. the alert could not be sent). */
  readonly warnings: readonly string[];
}

/** Default duration when the request names none: an hour, or the profile's maximum if shorter. */
export const DEFAULT_DURATION_MINUTES = 60;

/** Why activations of this profile are frozen, or undefined. */
export function frozenReason(
  profile: string,
  state: FreezeState,
  frozenByConfig: readonly string[],
): string | undefined {
  if (frozenByConfig.includes('*') || frozenByConfig.includes(profile))
    return 'frozen by configuration (FROZEN_PROFILES)';
  if (state.all || state.profiles.includes(profile))
    return `frozen by ${state.by ?? 'security'}${state.reason ? `: ${state.reason}` : ''}`;
  return undefined;
}

export async function activateGrant(
  ports: Ports,
  profiles: ProfileSet,
  input: ActivationInput,
  rules: ActivationRules = DEFAULT_RULES,
): Promise<ActivationResult> {
  // 1. validate
  const request = parseRequest(activationRequestSchema, input.body);
  const profile = findProfile(profiles, request.profile);
  if (!profile)
    throw new ProfileNotFoundError(
      `No profile named "${request.profile.slice(0, 64)}". GET /profiles lists the ones you may activate.`,
    );

  const principal = parsePrincipalArn(input.caller.arn);
  const now = ports.clock.now();
  if (profile.drill && !input.drill) {
    const grantId = await recordDenial(
      ports,
      profile,
      input,
      now,
      principal,
      'a drill profile, activated by drills only',
    );
    throw new DrillOnlyError(
      `Profile "${profile.name}" is a drill profile: only a drill activates it (POST /drills or breakglass drill, security principals). This attempt was recorded.`,
      grantId,
    );
  }
  if (input.drill && !profile.drill) throw new ValidationError(`Profile "${profile.name}" is not a drill profile`);
  // A drill profile has no eligible principals: the drill use case has authorised its runner.
  if (!principal || (!input.drill && !principalMatchesAny(profile.eligible, principal))) {
    const grantId = await recordDenial(
      ports,
      profile,
      input,
      now,
      principal,
      principal ? "not in the profile's eligible principals" : 'the caller is not an IAM role session or user',
    );
    throw new NotEligibleError(
      `${input.caller.arn} is not eligible for profile "${profile.name}". This attempt was recorded and announced.`,
      grantId,
    );
  }
  // Frozen by configuration: known without a read. The stored kill switch is a condition of the record (step 2).
  const frozen = frozenReason(profile.name, NOT_FROZEN, rules.frozenByConfig);
  if (frozen) await refuseFrozen(ports, profile, input, now, principal, frozen);
  const toCaller = profile.grantTo === 'caller';
  if (toCaller && principal.kind === 'assumed-role' && isProtectedRole(principal.entityName)) {
    // IAM answers PutRolePolicy on these roles with UnmodifiableEntity: refuse before touching anything.
    throw new ProtectedRoleError(
      `Profile "${profile.name}" grants to the caller's own role, and IAM does not allow changing ${principal.entityName} (an Identity Center or service-linked role). Ask the profile owner to use its profile role ("grantTo": "profileRole"), then fetch credentials with \`breakglass credentials <id>\`.`,
    );
  }
  const userId = toCaller ? sessionUserId(principal, input.caller.userId) : undefined;
  const pool = toCaller ? undefined : profileRolePool(profile, rules.protectedResources);
  const person = personOf(principal);
  const reason = checkReason(request.reason);
  const ticket = checkTicket(profile, request.ticket);
  const { account, alias: accountAlias } = resolveAccount(
    profile,
    request.account,
    rules.accounts,
    principal.accountId,
  );
  const durationMinutes = request.durationMinutes ?? Math.min(DEFAULT_DURATION_MINUTES, profile.maxDurationMinutes);
  if (durationMinutes < 1 || durationMinutes > profile.maxDurationMinutes) {
    throw new ValidationError(
      `durationMinutes must be between 1 and ${profile.maxDurationMinutes} for profile "${profile.name}"`,
    );
  }

  const idempotency = idempotencyRecord(principal.arn, input.idempotencyKey, request);
  {
    // 2. record — the grant, its event and its claims in one transaction (`ActivationClaims`): a free slot of the
    //    profile, the person's holds (none of this profile, fewer than the cap), the kill switch's state, the
    //    idempotency key. Nothing is read first; a refused claim is settled below.
    const id = ports.newId();
    const expiresAt = isoSeconds(expiryFrom(now, durationMinutes));
    const boundTo = toCaller ? userId : grantSessionUserId(id);
    const policy = serializePolicy(
      buildGrantPolicy(profile, {
        expiresAt,
        ...(boundTo ? { userId: boundTo } : {}),
        ...guardsFor(profile),
        protectedResources: rules.protectedResources,
      }),
    );
    const base = { actor: principal.arn, ...(input.requestId ? { requestId: input.requestId } : {}) };
    const requested: NewAuditEvent = {
      ...base,
      type: 'REQUESTED',
      at: now.toISOString(),
      reason,
      outcome: 'SUCCESS',
      details: { expiresAt, durationMinutes: String(durationMinutes) },
    };
    const pendingAt = (slot: number): Grant => {
      const target: PolicyTarget = pool
        ? { type: 'role', name: roleForSlot(pool, slot), ...(account ? { account } : {}) }
        : { type: principal.kind === 'user' ? 'user' : 'role', name: principal.entityName };
      return {
        id,
        profile: profile.name,
        owner: profile.owner,
        principalArn: principal.arn,
        person,
        grantTo: profile.grantTo,
        ...(profile.drill ? { drill: true } : {}),
        slot,
        targetType: target.type,
        targetName: target.name,
        ...(account ? { account } : {}),
        ...(accountAlias ? { accountAlias } : {}),
        status: 'PENDING',
        reason,
        ...(ticket ? { ticket } : {}),
        durationMinutes,
        createdAt: now.toISOString(),
        expiresAt,
        policyName: policyNameFor(id),
        scheduleName: id,
        ...(boundTo ? { sessionUserId: boundTo } : {}),
        ...(pool ? { sessionName: grantSessionName(id) } : {}),
        policyDocument: policy,
        grants: summarizeGrants(profile),
        extensions: 0,
        version: 0,
        eventCount: 0,
        ...(input.requestId ? { requestId: input.requestId } : {}),
      };
    };
    let grant: Grant | undefined;
    let waited = 0;
    const scope = claimScope(profile.name, account);
    const hint = slotHint(ports.store, scope);
    for (let attempt = 0; !grant; attempt++) {
      // The first try reads nothing: it avoids the slots this process last saw held (a hint; a held slot is
      // refused by its condition anyway). After a refusal, or when the hint leaves none free, the held slots are
      // read (one query), so that the next pick is free.
      let free = freeSlots(profile, hint);
      if (attempt > 0 || free.length === 0) {
        hint.clear();
        for (const held of await ports.store.heldSlots(scope)) hint.add(held.slot);
        free = freeSlots(profile, hint);
      }
      if (free.length === 0)
        throw new LimitExceededError(
          `Profile "${profile.name}" already has ${profile.maxActiveGrants} ACTIVE grants${account ? ` in account ${account}` : ''} (its limit)`,
        );
      if (attempt >= SLOT_ATTEMPTS)
        throw new BusyError(`Too many activations of "${profile.name}" at once; retry in a moment`);
      // A random free slot, so that concurrent activations rarely pick the same one.
      const slot = free[Math.floor(Math.random() * free.length)]!;
      try {
        grant = await ports.store.create(
          pendingAt(slot),
          requested,
          idempotency ? { ...idempotency, grantId: id } : undefined,
          { slot, maxActive: rules.maxActivePerPrincipal },
        );
        hint.add(slot);
      } catch (error) {
        if (error instanceof ClaimRefusedError) {
          const settled = await settleRefusal(ports, error, {
            profile,
            person,
            principal,
            input,
            now,
            idempotency,
            rules,
            waited,
            scope,
            ...(account ? { account } : {}),
          });
          if ('result' in settled) return settled.result;
          waited = settled.waited;
          continue;
        }
        // A timed-out attempt the SDK retried may have landed: then the grant is ours.
        const landed =
          error instanceof ConcurrentUpdateError ? await ports.store.get(id).catch(() => undefined) : undefined;
        if (landed?.status === 'PENDING' && landed.person === person) grant = landed;
        else throw error;
      }
    }
    const target: PolicyTarget = grantTarget(grant);

    // 3. attach
    try {
      if (pool) {
        // A profile role: its slots guarantee the room (profile-roles.ts), so no IAM read, one write.
        await ports.access.attach(target, grant.policyName, policy);
      } else {
        // Action logging: a caller-mode session is named by the caller, not by break-glass, so its calls are
        // tied to this grant by its aws:userid within the grant's window (activity-capture.ts). Before the
        // policy exists, so no call it allows goes unattributed; a failure here rolls the activation back.
        await registerGrantSession(ports.activity, grant);
        // The caller's own role or user: IAM limits the aggregate size of its inline policies, and
        // several grants on one shared role add up: check and put under a lease on the entity.
        await ports.locks.withLease(`${target.type}/${target.name}`, async () => {
          const used = await ports.access.inlinePolicyUsage(target, grant!.policyName);
          const limit = INLINE_POLICY_LIMITS[target.type];
          if (used + iamPolicySize(policy) > limit) {
            throw new PolicySizeLimitError(
              `The policy (${iamPolicySize(policy)} characters) does not fit on ${target.type} ${target.name}: its inline policies already use ${used} of IAM's ${limit}. Revoke a grant on it, or ask the profile owner to narrow the profile.`,
            );
          }
          await ports.access.attach(target, grant!.policyName, policy);
        });
      }
    } catch (error) {
      if (error instanceof PolicySizeLimitError || error instanceof BusyError) {
        // Nothing was attached; refuse clearly and keep the record complete.
        await recordFailure(ports, grant, 'AttachPolicy', error, { rolledBack: true, base });
        throw error instanceof BusyError
          ? new BusyError(`${error.message} Grant ${id} is recorded as FAILED; retry.`)
          : new PolicySizeLimitError(`${error.message} Grant ${id} is recorded as FAILED.`);
      }
      // A timed-out call may still have landed: detach anyway so no policy outlives the FAILED record.
      const rolledBack = await ports.access.detach(target, grant.policyName).then(
        () => true,
        () => false,
      );
      await recordFailure(ports, grant, 'AttachPolicy', error, { rolledBack, base });
      throw new StepFailedError(
        'AttachPolicy',
        `${spokeNote(error)}Could not attach the break-glass policy to ${target.type} ${target.name}${target.account ? ` in account ${target.account}` : ''}; no access was granted. Grant ${id} is recorded as FAILED. Retry in a moment.`,
        { cause: error },
      );
    }

    // 4. schedule
    try {
      await ports.scheduler.schedule(grant.scheduleName, expiresAt, id);
    } catch (error) {
      const rolledBack = await ports.access.detach(target, grant.policyName).then(
        () => true,
        () => false,
      );
      await recordFailure(ports, grant, 'ScheduleExpiry', error, { rolledBack, base });
      throw new StepFailedError(
        'ScheduleExpiry',
        `Could not schedule the automatic expiry, so the access was withdrawn${rolledBack ? '' : ' (detach failed; the policy stops working at its expiry time regardless)'}. Grant ${id} is recorded as FAILED. Retry in a moment.`,
        { cause: error },
      );
    }

    // 5. announce
    const activated: NewAuditEvent = {
      ...base,
      type: 'ACTIVATED',
      at: ports.clock.now().toISOString(),
      reason,
      outcome: 'SUCCESS',
      details: {
        expiresAt,
        policyName: grant.policyName,
        target: `${target.type}/${target.name}`,
        ...(target.account ? { account: target.account } : {}),
        policySha256: policyHash(policy),
        ...(boundTo ? { boundTo } : {}),
      },
    };
    try {
      // The kill switch is a condition of this write too: a freeze that landed while this activation was in
      // flight (after its claims, so revoke-all did not see it ACTIVE) stops it here, and it is rolled back.
      grant = await ports.store.append(grant, activated, { status: 'ACTIVE' }, { unlessFrozen: true });
    } catch (error) {
      const cancelled = await ports.scheduler.cancel(grant.scheduleName).then(
        () => true,
        () => false,
      );
      const rolledBack =
        (await ports.access.detach(target, grant.policyName).then(
          () => true,
          () => false,
        )) && cancelled;
      if (error instanceof ClaimRefusedError && error.refused.includes('frozen')) {
        const frozen = new FrozenError(
          `Activations of "${profile.name}" were frozen while this one was in progress: the access was withdrawn${rolledBack ? '' : ' (rollback incomplete: the policy stops working at its expiry time regardless)'}. Grant ${id} is recorded as FAILED. Ask security to unfreeze.`,
          id,
        );
        await recordFailure(ports, grant, 'RecordActivation', frozen, { rolledBack, base });
        throw frozen;
      }
      await recordFailure(ports, grant, 'RecordActivation', error, { rolledBack, base });
      throw new StepFailedError(
        'RecordActivation',
        `Could not record the activation, so the access was withdrawn. Grant ${id}. Retry in a moment.`,
        { cause: error },
      );
    }
    const warnings: string[] = [];
    const alerted = await announce(ports, grant, activated);
    if (!alerted)
      warnings.push('The activation alert could not be published; security has not been notified. Tell them directly.');
    return { grant, warnings };
  }
}

/** How long a racing duplicate waits, by default, for the activation of the same profile it found in flight. */
export const DEFAULT_PENDING_WAIT_MS = 8_000;

interface RefusalContext {
  readonly profile: Profile;
  readonly person: string;
  readonly principal: Principal;
  readonly input: ActivationInput;
  readonly now: Date;
  readonly idempotency: Omit<IdempotencyRecord, 'grantId'> | undefined;
  readonly rules: ActivationRules;
  /** Milliseconds already spent waiting for an activation in flight. */
  readonly waited: number;
  /** The claims' scope (`claimScope`: the profile in the requested account). */
  readonly scope: string;
  /** The requested account, if any. */
  readonly account?: string;
}

/**
 * Why the transaction recording an activation was refused, read only now (the common path reads none of it),
 * in the order the checks had before they became conditions: the kill switch, the idempotency key, the
 * person's holds (the same profile: the grant is returned; the cap: 409), then a slot or a concurrent
 * transaction (try again). Returns the answer, or how long was waited before trying again.
 */
async function settleRefusal(
  ports: Ports,
  refusal: ClaimRefusedError,
  context: RefusalContext,
): Promise<{ result: ActivationResult } | { waited: number }> {
  const { profile, rules } = context;
  let waited = context.waited;
  if (refusal.refused.includes('frozen')) {
    const frozen = frozenReason(profile.name, await ports.control.freezeState(), rules.frozenByConfig);
    if (frozen) await refuseFrozen(ports, profile, context.input, context.now, context.principal, frozen);
    return { waited }; // unfrozen meanwhile
  }
  if (refusal.refused.includes('idempotency') && context.idempotency) {
    const replay = await replayed(ports, context.idempotency);
    if (replay) return { result: replay };
  }
  if (refusal.refused.includes('person')) {
    const holds = await ports.store.personHolds(context.person);
    for (const id of holds.byProfile[context.scope] ?? []) {
      let same = await ports.store.get(id);
      // The same person's activation of this profile in flight: wait for it to end one way or the other.
      while (same?.status === 'PENDING') {
        const budget = rules.pendingWaitMs ?? DEFAULT_PENDING_WAIT_MS;
        if (waited >= budget)
          throw new BusyError(`Your activation of "${profile.name}" is still in progress; retry in a moment`);
        const pause = Math.min(50 * 2 ** Math.min(Math.floor(waited / 50), 4), 500, budget - waited);
        await new Promise((resolve) => setTimeout(resolve, pause));
        waited += pause;
        same = await ports.store.get(id);
      }
      // Only a grant of this profile in the requested account is "the same" (the hold is per scope; checked again).
      if (same?.status === 'ACTIVE' && same.profile === profile.name && same.account === context.account)
        return {
          result: {
            grant: same,
            existing: true,
            warnings: [
              `You already hold an ACTIVE "${profile.name}" grant until ${same.expiresAt}; it is returned instead of a second one. To get more time: POST /grants/${same.id}/extend.`,
            ],
          },
        };
    }
    if (!holds.byProfile[context.scope]?.length && holds.grants.length >= rules.maxActivePerPrincipal)
      throw new LimitExceededError(
        `You already hold ${holds.grants.length} ACTIVE grants (the limit is ${rules.maxActivePerPrincipal}); revoke one you no longer need first`,
      );
  }
  return { waited }; // a slot or the person's item taken by a concurrent activation, or released since: try again
}

/** A frozen profile: the attempt is recorded as DENIED and announced, and refused with 423. */
async function refuseFrozen(
  ports: Ports,
  profile: Profile,
  input: ActivationInput,
  now: Date,
  principal: Principal,
  frozen: string,
): Promise<never> {
  const grantId = await recordDenial(ports, profile, input, now, principal, `activations are ${frozen}`);
  throw new FrozenError(
    `Activations of "${profile.name}" are ${frozen}. Ask security to unfreeze. This attempt was recorded and announced.`,
    grantId,
  );
}

/**
 * The slots this process last saw held, per store and profile: a hint for the first pick, never a guarantee
 * (the slot's condition decides). Between reads it only grows (a slot freed elsewhere stays avoided until the
 * next read), and when it leaves no slot free the truth is read; a warm function thus rarely picks a held slot.
 */
const slotHints = new WeakMap<object, Map<string, Set<number>>>();
function slotHint(store: object, profile: string): Set<number> {
  const byProfile = slotHints.get(store) ?? new Map<string, Set<number>>();
  slotHints.set(store, byProfile);
  const hint = byProfile.get(profile) ?? new Set<number>();
  byProfile.set(profile, hint);
  return hint;
}

const freeSlots = (profile: Profile, held: ReadonlySet<number>) =>
  Array.from({ length: profile.maxActiveGrants }, (_, n) => n).filter((n) => !held.has(n));

/** Tries at recording an activation before answering 503 Busy (each try after the first reads the profile's held slots). */
export const SLOT_ATTEMPTS = 12;

const IDEMPOTENCY_KEY = /^[A-Za-z0-9_.:-]{8,128}$/;

/** The Idempotency-Key, scoped to the caller, and a fingerprint of what it asks for. */
function idempotencyRecord(
  principalArn: string,
  key: string | undefined,
  request: ActivationRequest,
): Omit<IdempotencyRecord, 'grantId'> | undefined {
  if (key === undefined) return undefined;
  if (!IDEMPOTENCY_KEY.test(key))
    throw new ValidationError(
      'Idempotency-Key must be 8-128 characters of letters, digits, "_", ".", ":" or "-" (a UUID is ideal)',
    );
  const hash = (text: string) => createHash('sha256').update(text).digest('hex');
  return {
    key: hash(`${principalArn}\n${key}`),
    fingerprint: hash(
      JSON.stringify([
        request.profile,
        request.reason,
        request.durationMinutes ?? null,
        request.ticket ?? null,
        ...(request.account ? [request.account] : []),
      ]),
    ),
  };
}

/** The grant a used Idempotency-Key produced, as it stands now; a different request under the same key is refused. */
async function replayed(
  ports: Ports,
  record: Omit<IdempotencyRecord, 'grantId'>,
): Promise<ActivationResult | undefined> {
  const prior = await ports.store.idempotency(record.key);
  if (!prior) return undefined;
  if (prior.fingerprint !== record.fingerprint) {
    throw new IdempotencyReplayError(
      'This Idempotency-Key was already used for a different request; use a new key for a new request',
      prior.grantId,
    );
  }
  const grant = await ports.store.get(prior.grantId);
  if (!grant) return undefined;
  return {
    grant,
    existing: true,
    warnings: ['A retried request (same Idempotency-Key): this is the grant the first one produced.'],
  };
}

/** A ticket is checked against the profile's pattern whenever one is given, and required when the profile says so. */
function checkTicket(profile: Profile, raw: string | undefined): string | undefined {
  const ticket = raw?.trim();
  if (!ticket) {
    if (profile.ticket.required)
      throw new ValidationError(`profile "${profile.name}" requires a ticket matching ${profile.ticket.pattern}`);
    return undefined;
  }
  const problem = ticketProblem(profile, ticket);
  if (problem) throw new ValidationError(problem);
  return ticket;
}

/** Why a (trimmed, non-empty) ticket is not acceptable for the profile, or undefined. Control characters never pass the schema. */
function ticketProblem(profile: Profile, ticket: string): string | undefined {
  if (ticket.length > TICKET_MAX) return `ticket must be at most ${TICKET_MAX} characters`;
  if (profile.ticket.pattern && !new RegExp(profile.ticket.pattern).test(ticket))
    return `ticket must match ${profile.ticket.pattern} for profile "${profile.name}"`;
  return undefined;
}

/**
 * The `aws:userid` of an assumed-role session, `<roleId>:<sessionName>`, checked against the ARN.
 * Without it the policy would reach everyone who assumes the role, so its absence is refused.
 */
function sessionUserId(principal: Principal, userId: string | undefined): string | undefined {
  if (principal.kind !== 'assumed-role') return undefined;
  if (
    !userId ||
    !/^AROA[A-Z0-9]{4,124}:/.test(userId) ||
    userId.slice(userId.indexOf(':') + 1) !== principal.sessionName
  ) {
    throw new UnauthenticatedError(
      'The caller identity is incomplete: the role session id is missing, so access cannot be limited to your session',
    );
  }
  return userId;
}

/**
 * A denied attempt is a security event: a DENIED grant with its event, always recorded, and
 * announced under the per-caller rate limit. Its text is the caller's, unvalidated: the ticket is
 * kept only if the profile would accept it (else dropped, and the event says so).
 */
async function recordDenial(
  ports: Ports,
  profile: Profile,
  input: ActivationInput,
  now: Date,
  principal: Principal | undefined,
  why: string,
): Promise<string> {
  const id = ports.newId();
  const body = input.body as { reason?: unknown; ticket?: unknown; durationMinutes?: unknown };
  const durationMinutes =
    typeof body.durationMinutes === 'number' && Number.isInteger(body.durationMinutes) && body.durationMinutes > 0
      ? Math.min(body.durationMinutes, 100_000)
      : 0;
  const rawTicket = typeof body.ticket === 'string' ? body.ticket.trim() : '';
  const ticketDropped = rawTicket ? ticketProblem(profile, rawTicket) : undefined;
  const alert = await admitDenialAlert(ports, input.caller.arn, profile.name, now);
  const grant: Grant = {
    id,
    profile: profile.name,
    owner: profile.owner,
    principalArn: input.caller.arn,
    person: principal ? personOf(principal) : input.caller.arn,
    targetType: principal?.kind === 'user' ? 'user' : 'role',
    targetName: principal?.entityName ?? '(none)',
    status: 'DENIED',
    reason: typeof body.reason === 'string' ? clip(body.reason, REASON_MAX) : '',
    ...(rawTicket && !ticketDropped ? { ticket: rawTicket } : {}),
    durationMinutes,
    createdAt: now.toISOString(),
    expiresAt: now.toISOString(),
    endedAt: now.toISOString(),
    policyName: '',
    scheduleName: '',
    version: 0,
    eventCount: 0,
    ...(input.requestId ? { requestId: input.requestId } : {}),
  };
  const event: NewAuditEvent = {
    type: 'DENIED',
    at: now.toISOString(),
    actor: input.caller.arn,
    reason: grant.reason,
    outcome: 'FAILURE',
    ...(input.requestId ? { requestId: input.requestId } : {}),
    details: {
      why,
      ...(ticketDropped ? { ticketDropped: `the ticket given was not kept: ${ticketDropped}` } : {}),
      ...alert.details,
    },
  };
  let written: Grant | undefined;
  try {
    written = await ports.store.create(grant, event);
  } catch (error) {
    ports.log.error({ msg: 'could not record a denied attempt', grantId: id, error: describeError(error) });
  }
  // Unrecorded, it must at least be announced: the rate limit only holds back alerts about recorded attempts.
  if (alert.announce || !written) await announce(ports, written ?? grant, event);
  return id;
}
