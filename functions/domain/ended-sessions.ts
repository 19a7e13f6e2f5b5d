/**
 * Ended grants' sessions: when a profile-role grant whose credentials were issued ends (revoke,
 * revoke-all, expiry, the sweeper's expiry), removing its Allow is not enough. The session opened
 * for it (`bg-<grantId>`) lives until its STS expiration — at least 15 minutes, at most an hour
 * (issue-credentials.ts) — and keeps every Allow that does not come from that inline policy: "If
 * either the identity-based policy or the resource-based policy within the same account allows the
 * request and the other doesn't, the request is still allowed" (IAM User Guide, "Policy evaluation
 * for requests within a single account"). AWS's own answer for sessions that must end now is an
 * inline policy on the role that denies everything ("Revoke IAM role temporary security
 * credentials"); an explicit Deny in an identity policy overrides any Allow.
 *
 * So the grant's role gets a Deny `*` on `*` for that session only (`aws:userid` `*:bg-<grantId>`),
 * with `DateLessThan aws:CurrentTime` = the latest expiration of the grant's issued credentials
 * (recorded in CREDENTIALS_ISSUED): inert after that, and pruned on the next write.
 *
 * One policy per profile *slot* (`bg-ended-sessions-<slot>`), not per role: a slot is held by one
 * grant at a time and the Deny is written before the record that ends the grant frees it, so the
 * read-modify-write never races another writer (several slots share a role, and revoke-all may end
 * them at once). The name does not start with `breakglass-`, so the sweeper (which lists that
 * prefix) never takes it for an orphaned grant policy.
 *
 * Size: IAM caps a role's inline policies at 10,240 characters in total ("Role policy size cannot
 * exceed 10,240 characters", IAM User Guide, "IAM and AWS STS quotas"). A slot's policy holds at
 * most {@link MAX_ENDED_SESSIONS} statements; the pool sizing (profile-roles.ts) reserves
 * {@link endedSessionsReserve} per slot. Should more ended grants of one slot have live sessions at
 * once (grants ended and re-activated within the hour), the statements collapse into one Deny of
 * every session of the role issued before now (`aws:TokenIssueTime`, AWS's documented revocation),
 * until the latest expiration: it covers the ended ones, and the live grants of the role's other
 * slots must take new credentials (their old sessions are denied too). Fail closed.
 *
 * Caller mode (`grantTo: caller`): break-glass vends no credentials, so there is nothing to end.
 */
import { type Grant, grantTarget, isoSeconds } from './grant.js';
import { describeError } from './lifecycle.js';
import { iamPolicySize, type PolicyStatement, serializePolicy } from './policy-builder.js';
import type { Ports } from './ports.js';

/** The longest a session break-glass vends can last (STS's role-chaining cap, issue-credentials.ts). */
const SESSION_MAX_MS = 3600_000;

/** Inline policy names: one per profile slot (see the module comment). */
export const ENDED_SESSIONS_POLICY_PREFIX = 'bg-ended-sessions';
/** At most this many per-session statements in one slot's policy; more collapse into one. */
export const MAX_ENDED_SESSIONS = 2;

export function endedSessionsPolicyName(slot: number | undefined): string {
  return slot === undefined ? ENDED_SESSIONS_POLICY_PREFIX : `${ENDED_SESSIONS_POLICY_PREFIX}-${slot}`;
}

/** The Deny of one ended grant's session (`bg-<grantId>`, any role id: see grantSessionUserId), inert from `until` on. */
export function endedSessionStatement(sessionName: string, until: string): PolicyStatement {
  return {
    Effect: 'Deny',
    Action: ['*'],
    Resource: ['*'],
    Condition: {
      StringLike: { 'aws:userid': `*:${sessionName}` },
      DateLessThan: { 'aws:CurrentTime': until },
    },
  };
}

/** The Deny of every session of the role issued before `issuedBefore`, inert from `until` on. */
function collapsedStatement(issuedBefore: string, until: string): PolicyStatement {
  return {
    Effect: 'Deny',
    Action: ['*'],
    Resource: ['*'],
    Condition: { DateLessThan: { 'aws:TokenIssueTime': issuedBefore, 'aws:CurrentTime': until } },
  };
}

/** The largest one slot's ended-sessions policy can be, as IAM counts it: what the pool reserves per slot. */
export function endedSessionsReserve(): number {
  return iamPolicySize(
    serializePolicy({
      Version: '2012-10-17',
      Statement: Array.from({ length: MAX_ENDED_SESSIONS }, () =>
        endedSessionStatement('bg-00000000-0000-0000-0000-000000000000', '2099-12-31T23:59:59Z'),
      ),
    }),
  );
}

type EndedSessionsPorts = Pick<Ports, 'access' | 'store' | 'clock' | 'log'>;

/**
 * The latest expiration of the grant's issued credentials; if the events cannot be read, the latest
 * any could have (an hour from now: STS's role-chaining cap).
 */
async function liveUntil(ports: EndedSessionsPorts, grant: Grant, now: Date): Promise<number> {
  const fallback = now.getTime() + SESSION_MAX_MS;
  try {
    const times = (await ports.store.events(grant.id))
      .filter((e) => e.type === 'CREDENTIALS_ISSUED')
      .map((e) => Date.parse(e.details?.expiration ?? ''));
    if (times.length === 0 || times.some(Number.isNaN)) return fallback;
    return Math.max(...times);
  } catch {
    return fallback;
  }
}

/** The statements of the slot's policy as stored; anything that is not one of ours is overwritten. */
function statementsOf(document: string | undefined): PolicyStatement[] {
  try {
    const statements = document ? (JSON.parse(document) as { Statement?: unknown }).Statement : undefined;
    return Array.isArray(statements) ? (statements as PolicyStatement[]) : [];
  } catch {
    return [];
  }
}

function untilOf(statement: PolicyStatement): number {
  return Date.parse(String(statement.Condition?.DateLessThan?.['aws:CurrentTime'] ?? ''));
}

/**
 * Puts (or refreshes) the Deny of an ending grant's session on its profile role, pruning the slot's
 * inert statements. Never throws: the grant's end goes on either way. Returns the facts for the
 * event that records the end: `sessionDeniedUntil`, or `sessionDenyFailed` with `sessionLiveUntil`;
 * nothing when there is no session to end (caller mode, no credentials taken, all expired).
 */
export async function denyEndedSessions(ports: EndedSessionsPorts, grant: Grant): Promise<Record<string, string>> {
  if (grant.grantTo !== 'profileRole' || !grant.sessionName || !(grant.credentialsIssued ?? 0)) return {};
  const now = ports.clock.now();
  const latest = await liveUntil(ports, grant, now);
  if (latest <= now.getTime()) return {};
  // Whole seconds, rounded up, so the Deny never ends before the credentials do.
  const until = isoSeconds(new Date(Math.ceil(latest / 1000) * 1000));
  const target = grantTarget(grant);
  const name = endedSessionsPolicyName(grant.slot);
  try {
    const existing = await ports.access.read(target, name);
    const userId = `*:${grant.sessionName}`;
    const kept = statementsOf(existing).filter(
      (s) => untilOf(s) > now.getTime() && s.Condition?.StringLike?.['aws:userid'] !== userId,
    );
    let statements = [...kept, endedSessionStatement(grant.sessionName, until)];
    if (statements.length > MAX_ENDED_SESSIONS) {
      const last = isoSeconds(new Date(Math.max(...statements.map(untilOf))));
      // The next whole second strictly after now: DateLessThan against a truncated `now` would miss a session
      // issued earlier in the same second (take credentials, end at once) — the very one ending here, whose own
      // statement the collapse drops ("aws:TokenIssueTime … the date and time that temporary security
      // credentials were issued", IAM User Guide, global condition keys; DateLessThan is strict). Sessions
      // issued in the rest of this second are denied too: only the other slots' live grants, which retake them.
      const issuedBefore = isoSeconds(new Date((Math.floor(now.getTime() / 1000) + 1) * 1000));
      statements = [collapsedStatement(issuedBefore, last)];
      ports.log.warn({
        msg: 'too many ended sessions on one slot: denying every session of the role issued before now',
        grantId: grant.id,
        role: target.name,
        until: last,
      });
    }
    await ports.access.attach(target, name, serializePolicy({ Version: '2012-10-17', Statement: statements }));
    return { sessionDeniedUntil: until };
  } catch (error) {
    ports.log.error({
      msg: 'could not deny the ended grant its session; it keeps resource-policy access until it expires',
      grantId: grant.id,
      role: target.name,
      until,
      error: describeError(error),
    });
    return { sessionDenyFailed: describeError(error), sessionLiveUntil: until };
  }
}
