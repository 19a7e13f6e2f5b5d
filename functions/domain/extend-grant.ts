/**
 * Extension: the requester asks for more time on an ACTIVE grant.
 *
 * 1. validate — the requesting person only, still eligible, ACTIVE, not frozen (a freeze refuses
 *    extensions too: recorded on the grant as EXTEND_FAILED, step `Freeze`, announced, 423), not
 *    within the last seconds, extension count and total duration within the profile's limits;
 * 2. re-attach — the policy the grant recorded at activation with the later expiry
 *    (PutRolePolicy replaces it in one call);
 * 3. reschedule — the expiry schedule moves to the new time;
 * 4. record — EXTENDED with the new expiry, conditional on the version read;
 * 5. announce.
 *
 * The record moves last, so the policy and the schedule never hold an *earlier* expiry than
 * the record. A failure undoes steps 2–3 (old policy, old schedule) and answers 503; if the
 * grant ended meanwhile (a revoke between steps 1 and 2), nothing is put back: its policy and
 * schedule are removed and the answer is 409.
 */

import { spokeNote } from './accounts.js';
import { type ActivationRules, type Caller, DEFAULT_RULES, frozenReason } from './activate-grant.js';
import type { NewAuditEvent } from './audit-event.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  FrozenError,
  GrantNotFoundError,
  InvalidTransitionError,
  LimitExceededError,
  StepFailedError,
  ValidationError,
} from './errors.js';
import { type Grant, grantPerson, grantTarget, isoSeconds } from './grant.js';
import { announce, appendEvent, describeError, failureEvent } from './lifecycle.js';
import { policyHash, withExpiry } from './policy-builder.js';
import type { Ports } from './ports.js';
import { parsePrincipalArn, personOf, principalMatchesAny } from './principal.js';
import { findProfile, maxTotalMinutes, type Profile, type ProfileSet } from './profile.js';
import { checkGrantId, checkReason, extensionRequestSchema, parseRequest } from './requests.js';

/** Extensions are refused this close to expiry: activate a new grant instead. */
export const EXTEND_CUTOFF_MS = 15_000;

export interface ExtendInput {
  readonly grantId: string | undefined;
  readonly caller: Caller;
  readonly body: unknown;
  readonly requestId?: string;
}

export async function extendGrant(
  ports: Ports,
  profiles: ProfileSet,
  input: ExtendInput,
  rules: Pick<ActivationRules, 'frozenByConfig'> = DEFAULT_RULES,
): Promise<Grant> {
  // 1. validate
  const grantId = checkGrantId(input.grantId);
  const request = parseRequest(extensionRequestSchema, input.body);
  const reason = checkReason(request.reason);
  let grant = await ports.store.get(grantId);
  if (!grant) throw new GrantNotFoundError(`No grant ${grantId}`);
  const caller = parsePrincipalArn(input.caller.arn);
  if (!caller || personOf(caller) !== grantPerson(grant))
    throw new ForbiddenError(`Only the requester (${grant.principalArn}) may extend grant ${grantId}`);
  if (grant.status !== 'ACTIVE')
    throw new InvalidTransitionError(`Grant ${grantId} is ${grant.status}; only an ACTIVE grant can be extended`);
  if (grant.endingSince)
    throw new InvalidTransitionError(
      `Grant ${grantId} is being revoked (since ${grant.endingSince}); it cannot be extended`,
    );
  const profile = findProfile(profiles, grant.profile);
  if (!profile)
    throw new InvalidTransitionError(`Profile "${grant.profile}" no longer exists; the grant cannot be extended`);
  // Eligibility as the profile file says now: someone removed from a profile gets no more time.
  if (!principalMatchesAny(profile.eligible, caller))
    throw new ForbiddenError(
      `${input.caller.arn} is no longer eligible for profile "${profile.name}"; grant ${grantId} cannot be extended`,
    );
  const recorded = grant.policyDocument;
  if (!recorded)
    throw new InvalidTransitionError(
      `Grant ${grantId} was recorded without its policy document (before this version); activate a new grant instead`,
    );
  const now = ports.clock.now();
  const frozen = frozenReason(profile.name, await ports.control.freezeState(), rules.frozenByConfig);
  if (frozen) {
    const refused: NewAuditEvent = {
      actor: input.caller.arn,
      ...(input.requestId ? { requestId: input.requestId } : {}),
      type: 'EXTEND_FAILED',
      at: now.toISOString(),
      reason,
      outcome: 'FAILURE',
      details: { step: 'Freeze', why: `extensions are ${frozen}`, minutes: String(request.minutes) },
    };
    const written = await appendEvent(ports, grant, refused);
    await announce(ports, written ?? grant, refused);
    throw new FrozenError(
      `Extensions of "${profile.name}" are ${frozen}. The grant still expires at ${grant.expiresAt}. This attempt was recorded and announced.`,
      grant.id,
    );
  }
  const oldExpiry = Date.parse(grant.expiresAt);
  if (now.getTime() > oldExpiry - EXTEND_CUTOFF_MS) {
    throw new InvalidTransitionError(
      `Grant ${grantId} expires at ${grant.expiresAt}, too soon to extend safely; activate a new grant`,
    );
  }
  const used = grant.extensions ?? 0;
  if (used >= profile.maxExtensions)
    throw new LimitExceededError(
      `Grant ${grantId} has been extended ${used} time(s); profile "${profile.name}" allows ${profile.maxExtensions}`,
    );
  const limit = Date.parse(grant.createdAt) + maxTotalMinutes(profile) * 60_000;
  const newExpiry = oldExpiry + request.minutes * 60_000;
  if (newExpiry > limit) {
    const room = Math.floor((limit - oldExpiry) / 60_000);
    throw new ValidationError(
      `Profile "${profile.name}" allows ${maxTotalMinutes(profile)} minutes in total; this grant can be extended by at most ${Math.max(room, 0)} more minute(s)`,
    );
  }
  const expiresAt = isoSeconds(new Date(newExpiry));
  const target = grantTarget(grant);
  const base = { actor: input.caller.arn, ...(input.requestId ? { requestId: input.requestId } : {}) };
  // Exactly the policy the grant recorded at activation, with only its expiry moved: never a
  // policy rebuilt from the profile file as it is now.
  const policyAt = (at: string) => withExpiry(recorded, at);

  // 2. re-attach, 3. reschedule
  let step = 'AttachPolicy';
  try {
    await ports.access.attach(target, grant.policyName, policyAt(expiresAt));
    step = 'Reschedule';
    await ports.scheduler.reschedule(grant.scheduleName, expiresAt, grant.id);
  } catch (error) {
    // A revoke (or the expiry) may have ended the grant since step 1: it detached the policy and
    // deleted the schedule (which is why a reschedule fails). Putting the old policy back would
    // hand a REVOKED grant working access until its old expiry, with no schedule left to end it.
    const ended = await endedMeanwhile(ports, grantId);
    if (!ended) await undo(ports, grant, profile, policyAt(grant.expiresAt), step === 'Reschedule');
    await recordExtendFailure(ports, ended ?? grant, step, error, base);
    // Checked again after our own append: a revoke that read the grant before it conflicts and detaches
    // again; one that recorded in between is seen here.
    const endedNow = ended ?? (await endedMeanwhile(ports, grantId));
    if (endedNow) {
      await ports.access.detach(target, grant.policyName).catch(() => undefined);
      await ports.scheduler.cancel(grant.scheduleName).catch(() => undefined);
      throw new InvalidTransitionError(
        endedNow.status === 'ACTIVE'
          ? `Grant ${grantId} is being revoked (since ${endedNow.endingSince}); it was not extended`
          : `Grant ${grantId} became ${endedNow.status} while it was being extended`,
      );
    }
    throw new StepFailedError(
      step,
      `${spokeNote(error)}Could not extend grant ${grantId}; it still expires at ${grant.expiresAt}. Retry in a moment.`,
      { cause: error },
    );
  }

  // 4. record
  const event: NewAuditEvent = {
    ...base,
    type: 'EXTENDED',
    at: now.toISOString(),
    reason,
    outcome: 'SUCCESS',
    details: {
      from: grant.expiresAt,
      to: expiresAt,
      minutes: String(request.minutes),
      policySha256: policyHash(policyAt(expiresAt)),
    },
  };
  try {
    grant = await ports.store.append(grant, event, {
      expiresAt,
      extensions: used + 1,
      durationMinutes: grant.durationMinutes + request.minutes,
      policyDocument: policyAt(expiresAt),
    });
  } catch (error) {
    const fresh = await ports.store.get(grantId).catch(() => undefined);
    if (fresh && (fresh.status !== 'ACTIVE' || fresh.endingSince)) {
      // Expired or revoked (or being revoked) while we extended: our re-attach must not outlive it, and putting the
      // old policy back would undo the revocation's detach.
      await ports.access.detach(target, grant.policyName).catch(() => undefined);
      await ports.scheduler.cancel(grant.scheduleName).catch(() => undefined);
      throw new InvalidTransitionError(
        fresh.status === 'ACTIVE'
          ? `Grant ${grantId} is being revoked (since ${fresh.endingSince}); it was not extended`
          : `Grant ${grantId} became ${fresh.status} while it was being extended`,
      );
    }
    await undo(ports, grant, profile, policyAt(grant.expiresAt), true);
    await recordExtendFailure(ports, fresh ?? grant, 'RecordExtension', error, base);
    if (error instanceof ConcurrentUpdateError) throw error;
    throw new StepFailedError(
      'RecordExtension',
      `Could not record the extension of grant ${grantId}; it still expires at ${grant.expiresAt}. Retry in a moment.`,
      { cause: error },
    );
  }

  // 5. announce
  await announce(ports, grant, event);
  return grant;
}

/** The grant as stored now, if it is no longer ACTIVE (revoked or expired meanwhile); undefined if ACTIVE or unreadable. */
async function endedMeanwhile(ports: Ports, grantId: string): Promise<Grant | undefined> {
  const fresh = await ports.store.get(grantId).catch(() => undefined);
  return fresh && (fresh.status !== 'ACTIVE' || fresh.endingSince) ? fresh : undefined;
}

/** Puts back the old policy and, if it was moved, the old schedule. Best effort: logged on failure. */
async function undo(
  ports: Ports,
  grant: Grant,
  _profile: Profile,
  oldPolicy: string,
  scheduleMoved: boolean,
): Promise<void> {
  await ports.access.attach(grantTarget(grant), grant.policyName, oldPolicy).catch((error: unknown) => {
    // The policy keeps the later expiry; the schedule still fires at the recorded one and detaches it.
    ports.log.error({
      msg: 'could not restore the policy after a failed extension',
      grantId: grant.id,
      error: describeError(error),
    });
  });
  if (scheduleMoved) {
    await ports.scheduler.reschedule(grant.scheduleName, grant.expiresAt, grant.id).catch((error: unknown) => {
      ports.log.error({
        msg: 'could not restore the schedule after a failed extension',
        grantId: grant.id,
        error: describeError(error),
      });
    });
  }
}

async function recordExtendFailure(
  ports: Ports,
  grant: Grant,
  step: string,
  error: unknown,
  base: Pick<NewAuditEvent, 'actor' | 'requestId'>,
): Promise<void> {
  ports.log.error({ msg: 'extension step failed', grantId: grant.id, step, error: describeError(error) });
  const failed = failureEvent('EXTEND_FAILED', ports.clock.now().toISOString(), step, error, base);
  const written = await appendEvent(ports, grant, failed);
  await announce(ports, written ?? grant, failed);
}
