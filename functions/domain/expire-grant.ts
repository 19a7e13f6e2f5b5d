/**
 * Expiry: the scheduler's one-time schedule fires at `expiresAt`.
 *
 * 1. load — an unknown or already-ended grant is a no-op (a second delivery changes nothing);
 * 2. detach — remove the inline policy (absent is fine); then, if credentials were issued, deny the
 *    grant's session until they expire (ended-sessions.ts);
 * 3. record — EXPIRED with its event, conditional on the version read in step 1 (on a conflict:
 *    re-read, detach again, record again — an extension that won the race re-attached the policy);
 * 4. announce.
 *
 * A failed detach is recorded and announced, then rethrown so Lambda retries the asynchronous
 * invocation (and, when retries run out, sends the event to the on-failure queue).
 */
import type { NewAuditEvent } from './audit-event.js';
import { denyEndedSessions } from './ended-sessions.js';
import { ConcurrentUpdateError } from './errors.js';
import { type Grant, grantTarget, isTerminal } from './grant.js';
import { announce, appendEvent, failureEvent } from './lifecycle.js';
import type { Ports } from './ports.js';

export type ExpiryOutcome = 'expired' | 'already-ended' | 'not-found' | 'not-due';

/** A delivery this much before expiry is treated as early (clock skew allowance). */
export const EARLY_TOLERANCE_MS = 5_000;
export const EXPIRY_ACTOR = 'system:expiry';

/** Expiry needs no scheduler: the schedule deletes itself after it fires. */
export type ExpiryPorts = Omit<Ports, 'scheduler' | 'newId' | 'control' | 'locks' | 'alertLimiter' | 'activity'>;

export async function expireGrant(
  ports: ExpiryPorts,
  grantId: string,
  actor: string = EXPIRY_ACTOR,
): Promise<{ outcome: ExpiryOutcome; grant?: Grant }> {
  // 1. load
  let grant = await ports.store.get(grantId);
  if (!grant) {
    ports.log.warn({ msg: 'expiry for an unknown grant; nothing to do', grantId });
    return { outcome: 'not-found' };
  }
  if (isTerminal(grant.status) || grant.status === 'DENIED') return { outcome: 'already-ended', grant };
  const now = ports.clock.now();
  if (grant.status === 'ACTIVE' && now.getTime() < Date.parse(grant.expiresAt) - EARLY_TOLERANCE_MS) {
    ports.log.warn({ msg: 'expiry delivered early; ignored', grantId, expiresAt: grant.expiresAt });
    return { outcome: 'not-due', grant };
  }

  // 2. detach
  try {
    await ports.access.detach(grantTarget(grant), grant.policyName);
  } catch (error) {
    const failed = failureEvent('EXPIRY_FAILED', now.toISOString(), 'DetachPolicy', error, { actor });
    const written = await appendEvent(ports, grant, {
      ...failed,
      details: { ...failed.details, note: `the policy stops working at ${grant.expiresAt} regardless` },
    });
    await announce(ports, written ?? grant, failed);
    throw error;
  }
  // Written before the record, while the grant still holds its slot (whose policy this is).
  let sessions = await denyEndedSessions(ports, grant);

  // 3. record
  const { policyName, expiresAt } = grant;
  const eventFor = (facts: Record<string, string>): NewAuditEvent => ({
    type: 'EXPIRED',
    at: now.toISOString(),
    actor,
    outcome: 'SUCCESS',
    details: {
      policyName,
      expiresAt,
      lateBySeconds: String(Math.max(0, Math.round((now.getTime() - Date.parse(expiresAt)) / 1000))),
      ...facts,
    },
  });
  let event = eventFor(sessions);
  for (let attempt = 0; ; attempt++) {
    try {
      event = eventFor(sessions);
      grant = await ports.store.append(grant, event, {
        status: 'EXPIRED',
        endedAt: now.toISOString(),
        reviewState: 'DUE',
      });
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError) || attempt >= 2) throw error;
      const fresh = await ports.store.get(grantId);
      if (!fresh || isTerminal(fresh.status)) return { outcome: 'already-ended', ...(fresh ? { grant: fresh } : {}) };
      grant = fresh;
      // Someone wrote in between — an extension, which re-attaches the policy before it records:
      // detach again, so the EXPIRED record never stands beside a policy that still works.
      await ports.access.detach(grantTarget(grant), grant.policyName);
      sessions = await denyEndedSessions(ports, grant);
    }
  }

  // 4. announce
  await announce(ports, grant, event);
  ports.log.info({ msg: 'grant expired', grantId, lagMs: now.getTime() - Date.parse(grant.expiresAt) });
  return { outcome: 'expired', grant };
}
