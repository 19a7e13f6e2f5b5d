/**
 * Steps every use case shares: announcing an event, and recording a failed step so that a
 * failure is never silent. Neither throws: they run on paths that are already failing.
 */

import { composeAlert } from './alert.js';
import type { EventType, NewAuditEvent } from './audit-event.js';
import { ConcurrentUpdateError } from './errors.js';
import type { Grant } from './grant.js';
import type { Ports } from './ports.js';

/** What the shared lifecycle steps touch. */
export type LifecyclePorts = Pick<Ports, 'store' | 'notifier' | 'clock' | 'log' | 'profileRisks' | 'hubAccount'>;

/** `Name: message`, bounded, for audit details and logs. Never a stack trace. */
export function describeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return text.length > 300 ? `${text.slice(0, 299)}…` : text;
}

/**
 * Appends an event, re-reading the grant once if someone else wrote in between. Used for
 * events that change no state (failures, alert failures), which must not be lost to a race.
 */
export async function appendEvent(
  ports: LifecyclePorts,
  grant: Grant,
  event: NewAuditEvent,
  changes?: Parameters<Ports['store']['append']>[2],
): Promise<Grant | undefined> {
  try {
    return await ports.store.append(grant, event, changes);
  } catch (firstError) {
    let error = firstError;
    if (error instanceof ConcurrentUpdateError) {
      const fresh = await ports.store.get(grant.id).catch(() => undefined);
      // A timed-out write the SDK retried may have landed before its retry was refused: then it is there already.
      if (fresh && fresh.eventCount > grant.eventCount && (await landed(ports, grant.id, event))) return fresh;
      if (fresh) {
        try {
          return await ports.store.append(fresh, event, changes);
        } catch (retryError) {
          error = retryError;
        }
      }
    }
    ports.log.error({
      msg: 'could not record an audit event',
      grantId: grant.id,
      eventType: event.type,
      error: describeError(error),
    });
    return undefined;
  }
}

/** Whether the grant's last event is `event` (same type, time and actor): a write that landed. */
async function landed(ports: LifecyclePorts, grantId: string, event: NewAuditEvent): Promise<boolean> {
  const last = (await ports.store.events(grantId).catch(() => [])).at(-1);
  return last?.type === event.type && last.at === event.at && last.actor === event.actor;
}

/**
 * Publishes the alert for an event. If SNS refuses, the failure itself is recorded as an
 * ALERT_FAILED event (the audit trail shows who was not told) and logged at error level.
 */
export async function announce(ports: LifecyclePorts, grant: Grant, event: NewAuditEvent): Promise<boolean> {
  try {
    await ports.notifier.publish(composeAlert(grant, event, ports.profileRisks(grant.profile), ports.hubAccount));
    return true;
  } catch (error) {
    ports.log.error({
      msg: 'could not publish alert',
      grantId: grant.id,
      eventType: event.type,
      error: describeError(error),
    });
    if (grant.eventCount > 0) {
      await appendEvent(ports, grant, {
        type: 'ALERT_FAILED',
        at: ports.clock.now().toISOString(),
        actor: 'system:notifier',
        outcome: 'FAILURE',
        details: { alertFor: event.type, error: describeError(error) },
      });
    }
    return false;
  }
}

/**
 * The rate-limit key of a refused attempt: the authenticated ARN and the (configured) profile it
 * was on, nothing else from the request. With the profile in it, a decoy denial on a harmless
 * profile cannot silence the alert about one on a sensitive profile; profile names are the
 * deployed ones (no `/`), so a caller cannot mint keys.
 */
export function denialAlertKey(callerArn: string, profile: string): string {
  return `denied/${callerArn}/${profile}`;
}

/**
 * Whether a refused attempt by `callerArn` on `profile` is announced now, under the per-caller,
 * per-profile rate limit (every attempt is recorded regardless), and the event details that say
 * what was decided. One caller's flood never silences another's alerts, nor the same caller's on
 * another profile. Fails open: if the limiter cannot answer, the alert goes out (noise beats silence).
 */
export async function admitDenialAlert(
  ports: Pick<Ports, 'alertLimiter' | 'log'>,
  callerArn: string,
  profile: string,
  at: Date,
): Promise<{ announce: boolean; details: Record<string, string> }> {
  let admission;
  try {
    admission = await ports.alertLimiter.admit(denialAlertKey(callerArn, profile), at);
  } catch (error) {
    ports.log.error({ msg: 'could not check the denial alert rate limit; announcing', error: describeError(error) });
    return { announce: true, details: {} };
  }
  const window = String(admission.windowSeconds);
  if (!admission.announce)
    return {
      announce: false,
      details: {
        alert: `not announced: rate limit of one alert per caller and profile per ${window} s (counted in the next one)`,
      },
    };
  return {
    announce: true,
    details: {
      ...(admission.windowSeconds > 0 ? { alertWindowSeconds: window } : {}),
      ...(admission.suppressed > 0
        ? { alertsSuppressed: String(admission.suppressed), suppressedSince: admission.since ?? '?' }
        : {}),
    },
  };
}

/**
 * Records that an activation step failed: the grant becomes FAILED with an ACTIVATION_FAILED
 * event, plus ROLLBACK_FAILED when the policy could not be taken back; each is announced.
 */
export async function recordFailure(
  ports: LifecyclePorts,
  grant: Grant,
  step: string,
  error: unknown,
  options: { rolledBack: boolean; base: Pick<NewAuditEvent, 'actor' | 'requestId'> },
): Promise<void> {
  ports.log.error({
    msg: 'activation step failed',
    grantId: grant.id,
    step,
    rolledBack: options.rolledBack,
    error: describeError(error),
  });
  const now = ports.clock.now().toISOString();
  const failed = failureEvent('ACTIVATION_FAILED', now, step, error, options.base);
  const written = await appendEvent(ports, grant, failed, { status: 'FAILED', endedAt: now });
  const current = written ?? { ...grant, status: 'FAILED' as const };
  await announce(ports, current, failed);
  if (!options.rolledBack) {
    const rollback: NewAuditEvent = {
      ...failureEvent('ROLLBACK_FAILED', now, step, error, options.base),
      details: {
        step,
        policyName: grant.policyName,
        note: `policy may remain on ${grant.targetType} ${grant.targetName}; it stops working at ${grant.expiresAt}`,
      },
    };
    // The policy may have stayed usable until its expiry: a reviewer must look at this one too.
    const afterRollback = written ? await appendEvent(ports, written, rollback, { reviewState: 'DUE' }) : undefined;
    await announce(ports, afterRollback ?? current, rollback);
  }
}

export function failureEvent(
  type: EventType,
  at: string,
  step: string,
  error: unknown,
  base: Pick<NewAuditEvent, 'actor' | 'requestId'>,
): NewAuditEvent {
  return {
    actor: base.actor,
    ...(base.requestId ? { requestId: base.requestId } : {}),
    type,
    at,
    outcome: 'FAILURE',
    details: { step, error: describeError(error) },
  };
}
