/**
 * Revocation: the requester ("I'm done") or a security principal ends a grant early.
 *
 * 1. authorize — the requesting person (`personOf`), or a configured security principal;
 * 2. detach — the access goes first: that is the point of revoking; then, if credentials were issued,
 *    a Deny of the grant's session until they expire (ended-sessions.ts: they would keep any Allow
 *    a resource policy gives the role);
 * 3. record — REVOKED with its event, conditional on the version read; if someone wrote in between
 *    (the holder taking credentials, or extending, which re-attaches) and the grant is still ACTIVE,
 *    re-read, detach again and retry (bounded), so the holder cannot make a revoke fail;
 * 4. cancel the schedule — best effort: if it survives, its expiry finds a REVOKED grant and does nothing;
 * 5. announce.
 */

import { spokeNote } from './accounts.js';
import type { Caller } from './activate-grant.js';
import type { NewAuditEvent } from './audit-event.js';
import { denyEndedSessions } from './ended-sessions.js';
import {
  ConcurrentUpdateError,
  ForbiddenError,
  GrantNotFoundError,
  InvalidTransitionError,
  StepFailedError,
} from './errors.js';
import { assertTransition, type Grant, grantPerson, grantTarget, isTerminal } from './grant.js';
import { announce, appendEvent, describeError, failureEvent } from './lifecycle.js';
import type { Ports } from './ports.js';
import { parsePrincipalArn, personOf, principalMatchesAny } from './principal.js';
import { checkGrantId, checkStopReason, parseRequest, revokeRequestSchema } from './requests.js';

export interface RevokeInput {
  readonly grantId: string | undefined;
  readonly caller: Caller;
  readonly body: unknown;
  readonly requestId?: string;
}

export async function revokeGrant(
  ports: Ports,
  securityPrincipals: readonly string[],
  input: RevokeInput,
): Promise<Grant> {
  const grantId = checkGrantId(input.grantId);
  const { reason: rawReason } = parseRequest(revokeRequestSchema, input.body);
  const reason = checkStopReason(rawReason, 'reason', 'say why the grant ends early (e.g. "incident resolved")');

  // 1. authorize
  let grant = await ports.store.get(grantId);
  if (!grant) throw new GrantNotFoundError(`No grant ${grantId}`);
  const caller = parsePrincipalArn(input.caller.arn);
  const isRequester = caller !== undefined && personOf(caller) === grantPerson(grant);
  const isSecurity = caller !== undefined && principalMatchesAny(securityPrincipals, caller);
  if (!isRequester && !isSecurity) {
    throw new ForbiddenError(
      `Only the requester (${grant.principalArn}) or a security principal may revoke grant ${grantId}`,
    );
  }
  assertTransition(grant, 'REVOKED');

  // 1b. mark it ending: from here no credentials are issued and no extension is made for it, and any such write
  // in flight conflicts (the mark moves the version on). Without it a holder taking credentials in a loop lands a
  // CREDENTIALS_ISSUED inside every attempt below and the revocation is never recorded. The mark is not
  // conditional on the version, so nothing can outrace it; it needs the grant ACTIVE.
  const marked = await ports.store.markEnding(grantId, ports.clock.now().toISOString());
  if (!marked) {
    const fresh = await ports.store.get(grantId);
    if (fresh) assertTransition(fresh, 'REVOKED');
    throw new InvalidTransitionError(`Grant ${grantId} is no longer ACTIVE`);
  }
  grant = marked;

  const base = { actor: input.caller.arn, ...(input.requestId ? { requestId: input.requestId } : {}) };
  // 2. detach
  const detach = async (current: Grant) => {
    try {
      await ports.access.detach(grantTarget(current), current.policyName);
    } catch (error) {
      const failed = {
        ...failureEvent('REVOKE_FAILED', ports.clock.now().toISOString(), 'DetachPolicy', error, base),
        reason,
      };
      const written = await appendEvent(ports, current, failed);
      await announce(ports, written ?? current, failed);
      throw new StepFailedError(
        'DetachPolicy',
        `${spokeNote(error)}Could not detach the policy; grant ${grantId} is still ACTIVE until ${current.expiresAt}. Retry, or ask security to remove ${current.policyName} from ${current.targetType} ${current.targetName}${current.account ? ` in account ${current.account}` : ''}.`,
        { cause: error },
      );
    }
  };
  await detach(grant);
  // Written before the record, while the grant still holds its slot (whose policy this is).
  let sessions = await denyEndedSessions(ports, grant);

  // 3. record
  const now = ports.clock.now().toISOString();
  const { policyName } = grant;
  const eventFor = (facts: Record<string, string>): NewAuditEvent => ({
    ...base,
    type: 'REVOKED',
    at: now,
    reason,
    outcome: 'SUCCESS',
    details: { by: isRequester ? 'requester' : 'security', policyName, ...facts },
  });
  let event = eventFor(sessions);
  for (let attempt = 0; ; attempt++) {
    try {
      event = eventFor(sessions);
      grant = await ports.store.append(grant, event, {
        status: 'REVOKED',
        endedAt: now,
        endedBy: input.caller.arn,
        endReason: reason,
        reviewState: 'DUE',
      });
      break;
    } catch (error) {
      if (!(error instanceof ConcurrentUpdateError)) throw error;
      const fresh = await ports.store.get(grantId);
      if (fresh && isTerminal(fresh.status))
        throw new InvalidTransitionError(
          `Grant ${grantId} became ${fresh.status} while it was being revoked; its policy is detached`,
        );
      if (!fresh || attempt >= 2) throw error;
      // Someone wrote in between (a CREDENTIALS_ISSUED, or an extension, which re-attaches before it
      // records): detach again, so the REVOKED record never stands beside a policy that still works.
      grant = fresh;
      await detach(grant);
      sessions = await denyEndedSessions(ports, grant);
    }
  }

  // 4. cancel the schedule
  await ports.scheduler.cancel(grant.scheduleName).catch((error: unknown) => {
    ports.log.warn({
      msg: 'could not delete the expiry schedule; its delivery will be a no-op',
      grantId,
      error: describeError(error),
    });
  });

  // 5. announce
  await announce(ports, grant, event);
  return grant;
}
