/**
 * Hostile review (ended-sessions collapse, functions/domain/ended-sessions.ts).
 *
 * When a slot would hold more than MAX_ENDED_SESSIONS live per-session Denies, they collapse into one
 * Deny `DateLessThan aws:TokenIssueTime <now>`: every session of the *role* issued before now. Two
 * problems, both reachable by one eligible caller alone (activation needs no approver; slots are picked
 * at random among the free ones, so a few activate/revoke rounds land three grants on one slot):
 *
 * 1. (fixed) `<now>` was truncated to the whole second (isoSeconds). A session issued in the same second
 *    as the end (take credentials, then revoke at once: the revoke's `now` is a few hundred ms later) has
 *    an issue time that is not *less* than that value, so the collapsed Deny misses exactly the session
 *    that just ended, and the per-session statement that named it was dropped by the collapse: the session
 *    keeps every resource-policy Allow for up to an hour, while REVOKED records `sessionDeniedUntil`.
 *    `aws:TokenIssueTime` is "the date and time that temporary security credentials were issued"
 *    compared with the Date operators (IAM User Guide, "AWS global condition context keys",
 *    aws:TokenIssueTime; "Condition operators", DateLessThan: "Matches before the specified date").
 *    Fix: the collapse denies sessions issued before the next whole second after now.
 *
 * 2. (it.fails) The collapsed Deny is role-wide, and a role carries several slots: the live grants of
 *    the role's *other* slots (other responders, mid-incident) lose their sessions. The attacker repeats
 *    it (after a collapse, every second further end on the slot collapses again), so every other
 *    responder on the role must keep re-taking credentials for as long as the attacker keeps going.
 *    Fix described: the collapsed statement excludes the sessions of the grants holding the role's other
 *    slots (`StringNotLike aws:userid [*:bg-<id> …]`, read from the held slots, `ports.store.heldSlots`,
 *    before `now` is taken; a grant activated later is issued after now anyway), with the slot's reserve
 *    sized for grantsPerRole - 1 such entries; or merge the per-session statements into one statement
 *    with an `aws:userid` list (about 44 characters per ended session instead of about 190), so a collapse
 *    needs many more ended sessions in an hour and can alert as the anomaly it is.
 *
 * 3. (surfaced; retry still open) The kill switch answered `revoked` for a grant whose session could not be denied. Writing
 *    the Deny never blocks the end (by design), and revoke-all now runs 8 accounts × 4 grants at once, so
 *    IAM's per-account throttling ("Rate exceeded", after the SDK's retries) is likelier exactly when the
 *    kill switch is used; the fact is only in the REVOKED event's details (`sessionDenyFailed`,
 *    `sessionLiveUntil`), nothing retries it (the sweeper lists `breakglass-` policies only), and the
 *    person who pressed the kill switch sees every grant `revoked` while a leaked session keeps its
 *    resource-policy access for up to an hour. Fixed: `RevokeAllResult` carries `sessionLiveUntil`
 *    (read from the REVOKED event) and the CLI prints it beside the grant. Still open: retry a failed Deny
 *    with backoff (or from the sweeper, reading the REVOKED/EXPIRED details) before giving up.
 */
import { describe, expect, it } from 'vitest';
import { activateGrant } from '../../../functions/domain/activate-grant.js';
import { endedSessionsPolicyName, MAX_ENDED_SESSIONS } from '../../../functions/domain/ended-sessions.js';
import type { Grant } from '../../../functions/domain/grant.js';
import { issueCredentials } from '../../../functions/domain/issue-credentials.js';
import { revokeAll } from '../../../functions/domain/kill-switch.js';
import type { CredentialRequest } from '../../../functions/domain/ports.js';
import { revokeGrant } from '../../../functions/domain/revoke-grant.js';
import { ACCOUNT, fakePorts, SECURITY, testProfiles } from '../../support/fakes.js';

const SSO = (name: string) =>
  `arn:aws:sts::${ACCOUNT}:assumed-role/AWSReservedSSO_OnCall_0123456789abcdef/${name}@example.com`;
const profiles = testProfiles({
  grantTo: 'profileRole',
  maxActiveGrants: 4,
  eligible: [`arn:aws:iam::${ACCOUNT}:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_OnCall_*`],
});
const security = ['arn:aws:iam::123456789012:role/Security'];
type Ports = ReturnType<typeof fakePorts>;

interface Statement {
  Effect: string;
  Condition?: Record<string, Record<string, string | string[]>>;
}

/** A session as IAM sees it: its aws:userid and aws:TokenIssueTime (ms), at request time `at` (ms). */
interface Session {
  userid: string;
  issuedAt: number;
}

const like = (value: string, pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`).test(value);
const values = (v: string | string[]) => (Array.isArray(v) ? v : [v]);

/** Whether a Deny of the slot's policy applies to `session` at `at`, for the operators ended-sessions.ts writes. */
function denied(statements: Statement[], session: Session, at: number): boolean {
  return statements.some((s) =>
    Object.entries(s.Condition ?? {}).every(([operator, keys]) =>
      Object.entries(keys).every(([key, v]) => {
        const actual =
          key === 'aws:userid'
            ? session.userid
            : key === 'aws:TokenIssueTime'
              ? session.issuedAt
              : key === 'aws:CurrentTime'
                ? at
                : undefined;
        if (actual === undefined) throw new Error(`the test's evaluator does not know ${key}`);
        switch (operator) {
          case 'StringLike':
            return values(v).some((p) => like(String(actual), p));
          case 'StringNotLike':
            return !values(v).some((p) => like(String(actual), p));
          case 'DateLessThan':
            // DateLessThan on a whole-second value: the session's time as IAM has it is never *before* its second.
            return values(v).some((d) => Number(actual) < Date.parse(d));
          default:
            throw new Error(`the test's evaluator does not know ${operator}`);
        }
      }),
    ),
  );
}

/** `who` activates and takes credentials now; returns the grant and the session's issue time. */
async function withSession(ports: Ports, who: string): Promise<{ grant: Grant; session: Session }> {
  const { grant } = await activateGrant(ports, profiles, {
    caller: { arn: SSO(who) },
    body: { profile: 'demo', reason: 'orders API returns 500s', durationMinutes: 60 },
  });
  const issuedAt = ports.clock.now().getTime();
  const vendor = {
    async assume(_request: CredentialRequest) {
      return {
        accessKeyId: 'ASIAFAKE',
        secretAccessKey: 's',
        sessionToken: 't',
        expiration: new Date(issuedAt + 3600_000).toISOString(),
      };
    },
  };
  await issueCredentials(
    { ...ports, vendor },
    profiles,
    { partition: 'aws', accountId: ACCOUNT },
    { grantId: grant.id, caller: { arn: SSO(who) } },
  );
  return { grant: ports.store.grants.get(grant.id)!, session: { userid: `AROAPROFILEROLE:bg-${grant.id}`, issuedAt } };
}

/** The slot's policy already holds MAX_ENDED_SESSIONS live Denies of earlier ended grants (the attacker's). */
function fillSlot(ports: Ports, grant: Grant): void {
  const until = new Date(ports.clock.now().getTime() + 50 * 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  ports.access.policies.set(
    `role/${grant.targetName}/${endedSessionsPolicyName(grant.slot)}`,
    JSON.stringify({
      Version: '2012-10-17',
      Statement: Array.from({ length: MAX_ENDED_SESSIONS }, (_, i) => ({
        Effect: 'Deny',
        Action: ['*'],
        Resource: ['*'],
        Condition: {
          StringLike: { 'aws:userid': `*:bg-earlier-${i}` },
          DateLessThan: { 'aws:CurrentTime': until },
        },
      })),
    }),
  );
}

function slotPolicy(ports: Ports, grant: Grant): Statement[] {
  return JSON.parse(ports.access.policies.get(`role/${grant.targetName}/${endedSessionsPolicyName(grant.slot)}`)!)
    .Statement as Statement[];
}

describe('the collapsed ended-sessions Deny', () => {
  it('denies the session that just ended even when it was issued in the same second as the end', async () => {
    // Prepare: the attacker's third ended grant on one slot; credentials taken at .300, revoked at .800.
    const ports = fakePorts();
    ports.clock.advance(300);
    const { grant, session } = await withSession(ports, 'mallory');
    fillSlot(ports, grant);
    ports.clock.advance(500);
    // Act
    await revokeGrant(ports, security, { grantId: grant.id, caller: { arn: SECURITY }, body: { reason: 'done' } });
    // Assess: one collapsed statement, and it covers the ended session (ten minutes on)
    const statements = slotPolicy(ports, grant);
    expect(statements).toHaveLength(1);
    expect(statements[0]!.Condition!.DateLessThan!['aws:TokenIssueTime']).toBeDefined();
    expect(denied(statements, session, ports.clock.now().getTime() + 10 * 60_000)).toBe(true);
  });

  it.fails("leaves the live sessions of the role's other slots alone (other responders, mid-incident)", async () => {
    // Prepare: alice works on the role through her grant; mallory's third ended grant lands on another slot of it.
    const ports = fakePorts();
    const alice = await withSession(ports, 'alice');
    ports.clock.advance(60_000);
    const mallory = await withSession(ports, 'mallory');
    expect(mallory.grant.targetName).toBe(alice.grant.targetName); // same role
    expect(mallory.grant.slot).not.toBe(alice.grant.slot);
    fillSlot(ports, mallory.grant);
    ports.clock.advance(60_000);
    // Act: mallory ends her grant
    await revokeGrant(ports, security, {
      grantId: mallory.grant.id,
      caller: { arn: SSO('mallory') },
      body: { reason: 'done' },
    });
    // Assess: mallory's session is denied, alice's (ACTIVE grant, credentials valid) is not
    const statements = slotPolicy(ports, mallory.grant);
    const later = ports.clock.now().getTime() + 60_000;
    expect(denied(statements, mallory.session, later)).toBe(true);
    expect(ports.store.grants.get(alice.grant.id)!.status).toBe('ACTIVE');
    expect(denied(statements, alice.session, later)).toBe(false);
  });

  it("revoke-all tells which grants' sessions could not be denied (they live on)", async () => {
    // Prepare: a grant with a live session; IAM throttles the ended-sessions write.
    const ports = fakePorts();
    const { grant } = await withSession(ports, 'alice');
    const attach = ports.access.attach.bind(ports.access);
    ports.access.attach = async (target, name, document) => {
      if (name.startsWith('bg-ended-sessions')) throw Object.assign(new Error('Rate exceeded'), { name: 'Throttling' });
      return attach(target, name, document);
    };
    // Act
    const results = await revokeAll(ports, security, {
      caller: { arn: SECURITY },
      body: { reason: 'credentials leaked' },
    });
    // Assess: the grant is revoked, its session is not denied, and the answer says so
    expect(ports.store.grants.get(grant.id)!.status).toBe('REVOKED');
    expect(ports.store.eventLog.get(grant.id)!.at(-1)!.details).toHaveProperty('sessionDenyFailed');
    const result = results.find((r) => r.id === grant.id)!;
    expect(JSON.stringify(result)).toContain('sessionLiveUntil');
  });
});
