/**
 * The kill switch, for security principals only:
 * - freeze / unfreeze activations of every profile or of one (recorded and announced);
 * - revoke every ACTIVE grant (optionally of one profile), reporting each result.
 * Existing grants are untouched by a freeze; only `revokeAll` ends them.
 */

import type { Caller } from './activate-grant.js';
import type { Alert } from './alert.js';
import { oneLine } from './alert.js';
import { ConcurrentUpdateError, ForbiddenError, ProfileNotFoundError } from './errors.js';
import type { Grant } from './grant.js';
import type { FreezeState, Ports } from './ports.js';
import { parsePrincipalArn, principalMatchesAny } from './principal.js';
import { findProfile, type ProfileSet } from './profile.js';
import { checkStopReason, controlRequestSchema, parseRequest } from './requests.js';
import { revokeGrant } from './revoke-grant.js';
import { eachLimited, SWEEP_ACCOUNT_PARALLELISM } from './sweep.js';

/** Accounts the kill switch revokes in at a time: the sweeper's bound (each account has its own IAM rate limits). */
export const REVOKE_ALL_ACCOUNT_PARALLELISM = SWEEP_ACCOUNT_PARALLELISM;
/**
 * Grants revoked at once within one account. Not one by one: revoke-all answers inside API Gateway's 29-second
 * integration timeout, and a few dozen grants revoked in a row would not fit. Not unbounded: IAM's control-plane
 * rate limits are per account (the SDK retries a throttled call with backoff). Each revocation writes only its
 * own policy and its own slot's ended-sessions policy, so revocations in parallel never write the same document.
 */
export const REVOKE_ALL_PER_ACCOUNT_PARALLELISM = 4;

function authorize(securityPrincipals: readonly string[], caller: Caller, action: string): void {
  const principal = parsePrincipalArn(caller.arn);
  if (!principal || !principalMatchesAny(securityPrincipals, principal)) {
    throw new ForbiddenError(`Only a security principal may ${action}`);
  }
}

export interface FreezeInput {
  readonly caller: Caller;
  readonly body: unknown;
}

/** Freezes (`frozen: true`) or unfreezes activations, of one profile or of all. */
export async function setFreeze(
  ports: Ports,
  profiles: ProfileSet,
  securityPrincipals: readonly string[],
  input: FreezeInput,
  frozen: boolean,
): Promise<FreezeState> {
  authorize(securityPrincipals, input.caller, frozen ? 'freeze activations' : 'unfreeze activations');
  const request = parseRequest(controlRequestSchema, input.body);
  const reason = checkStopReason(request.reason);
  if (request.profile !== undefined && !findProfile(profiles, request.profile))
    throw new ProfileNotFoundError(`No profile named "${request.profile.slice(0, 64)}"`);
  for (let attempt = 0; ; attempt++) {
    const current = await ports.control.freezeState();
    const others = current.profiles.filter((p) => p !== request.profile);
    const next = {
      all: request.profile === undefined ? frozen : current.all,
      profiles:
        request.profile === undefined
          ? frozen
            ? current.profiles
            : []
          : frozen
            ? [...others, request.profile]
            : others,
      reason,
      by: input.caller.arn,
      at: ports.clock.now().toISOString(),
    };
    try {
      const state = await ports.control.setFreeze(next, current.version);
      await ports.notifier.publish(freezeAlert(state, frozen, request.profile)).catch((error: unknown) => {
        ports.log.error({ msg: 'could not publish the freeze alert', error: String(error) });
      });
      return state;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= 2) throw error;
    }
  }
}

function freezeAlert(state: FreezeState, frozen: boolean, profile: string | undefined): Alert {
  const scope = profile ? `profile ${profile}` : 'ALL profiles';
  const who = state.by?.split('/').pop() ?? 'security';
  return {
    subject: oneLine(
      `[break-glass CRITICAL] ${who} ${frozen ? 'FROZE' : 'unfroze'} activations of ${scope}`,
      100,
    ).replace(/[^\x20-\x7e]/g, '?'),
    body: [
      `Event:      ${frozen ? 'FROZEN' : 'UNFROZEN'} (CRITICAL)`,
      `Scope:      ${scope}`,
      `By:         ${state.by}`,
      `Reason:     ${oneLine(state.reason ?? '', 1000)}`,
      `At:         ${state.at}`,
      `Now frozen: ${state.all ? 'all profiles' : state.profiles.length ? state.profiles.join(', ') : 'nothing'}`,
      '',
      'Existing grants keep their access until they expire, without extensions; POST /revoke-all ends them now.',
    ].join('\n'),
    machine: {
      version: 1,
      eventType: frozen ? 'FROZEN' : 'UNFROZEN',
      severity: 'CRITICAL',
      scope: profile ?? '*',
      state,
    },
    attributes: {
      eventType: frozen ? 'FROZEN' : 'UNFROZEN',
      profile: profile ?? '*',
      principal: state.by ?? '-',
      severity: 'CRITICAL',
      grantId: '-',
    },
  };
}

export interface RevokeAllResult {
  readonly id: string;
  readonly profile: string;
  readonly principalArn: string;
  /** The account the grant is in (absent for a grant of a deployment that knows no account). */
  readonly account?: string;
  readonly accountAlias?: string;
  readonly outcome: 'revoked' | 'failed';
  readonly error?: string;
  /**
   * Revoked, but the Deny of its issued session could not be written (ended-sessions.ts never blocks the end):
   * the session keeps any resource-policy Allow until this time. Said here, not only in the REVOKED event's
   * details, because whoever pressed the kill switch must know which leaked sessions still work.
   */
  readonly sessionLiveUntil?: string;
}

/**
 * Revokes every ACTIVE grant (of one profile, if given) and reports each result, in the order of
 * the active grants. Accounts are revoked in parallel, {@link REVOKE_ALL_ACCOUNT_PARALLELISM} at a
 * time, with the sweeper's helper; within one account {@link REVOKE_ALL_PER_ACCOUNT_PARALLELISM} at a time (IAM's
 * rate limits are per account).
 * A grant that cannot be revoked (a spoke that is missing or refuses) is recorded as REVOKE_FAILED and
 * announced by `revokeGrant`, reported here as `failed`, and stops nothing else: neither the other
 * grants of its account nor the other accounts.
 */
export async function revokeAll(
  ports: Ports,
  securityPrincipals: readonly string[],
  input: FreezeInput & { requestId?: string },
): Promise<RevokeAllResult[]> {
  authorize(securityPrincipals, input.caller, 'revoke all grants');
  const request = parseRequest(controlRequestSchema, input.body);
  const reason = checkStopReason(request.reason);
  const active = (await ports.store.active()).filter(
    (g) => request.profile === undefined || g.profile === request.profile,
  );
  const byAccount = new Map<string, number[]>();
  active.forEach((g, i) => {
    byAccount.set(g.account ?? '', [...(byAccount.get(g.account ?? '') ?? []), i]);
  });
  const results: RevokeAllResult[] = new Array(active.length);
  await eachLimited([...byAccount.values()], REVOKE_ALL_ACCOUNT_PARALLELISM, async (indexes) => {
    await eachLimited(indexes, REVOKE_ALL_PER_ACCOUNT_PARALLELISM, async (i) => {
      results[i] = await revokeOne(active[i]!);
    });
  });
  return results;

  async function revokeOne(grant: Grant): Promise<RevokeAllResult> {
    const about = {
      id: grant.id,
      profile: grant.profile,
      principalArn: grant.principalArn,
      ...(grant.account ? { account: grant.account } : {}),
      ...(grant.accountAlias ? { accountAlias: grant.accountAlias } : {}),
    };
    try {
      const revoked = await revokeGrant(ports, securityPrincipals, {
        grantId: grant.id,
        caller: input.caller,
        body: { reason: `revoke-all: ${reason}` },
        ...(input.requestId ? { requestId: input.requestId } : {}),
      });
      return { ...about, outcome: 'revoked', ...(await sessionLiveUntil(revoked)) };
    } catch (error) {
      return { ...about, outcome: 'failed', error: error instanceof Error ? error.message : String(error) };
    }
  }

  /** A revoked grant whose session Deny failed: when its session stops working on its own (read from its REVOKED event). */
  async function sessionLiveUntil(revoked: Grant): Promise<{ sessionLiveUntil?: string }> {
    if (revoked.grantTo !== 'profileRole' || !(revoked.credentialsIssued ?? 0)) return {};
    const events = await ports.store.events(revoked.id).catch(() => undefined);
    if (!events) return { sessionLiveUntil: "unknown (the grant's events could not be read)" };
    const until = events.filter((e) => e.type === 'REVOKED').at(-1)?.details?.sessionLiveUntil;
    return until ? { sessionLiveUntil: until } : {};
  }
}
